import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { StatusError } from './errors.js';
import {
  EVERYTHING_LABEL_SELECTOR,
  NOTHING_LABEL_SELECTOR,
  escapeFieldValue,
  fieldSelectorFromRequirements,
  formatLabelSelector,
  labelSelectorFromSet,
  labelSelectorFromSpec,
  labelSelectorToString,
  parseFieldSelector,
  parseLabelSelector,
  unknownFieldSelectorError,
} from './selectors.js';

/** Asserts `fn` throws a 400 BadRequest StatusError with exactly this message. */
function assertBadRequest(fn: () => unknown, message: string): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof StatusError, `expected a StatusError, got ${String(caught)}`);
  assert.equal(caught.code, 400);
  assert.equal(caught.reason, 'BadRequest');
  assert.equal(caught.message, message);
}

const NAME_PART_REGEX =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character " +
  "(e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const LABEL_VALUE_REGEX =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character " +
  "(e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

describe('parseLabelSelector', () => {
  const labels = { app: 'redis', tier: 'cache', version: '7', 'example.com/team': 'core' };

  const matching: Array<[string, boolean]> = [
    ['app=redis', true],
    ['app==redis', true],
    ['app!=redis', false],
    ['app=web', false],
    ['app in (web,redis)', true],
    ['app in (web)', false],
    ['app notin (web)', true],
    ['app notin (web, redis)', false],
    ['app', true],
    ['!app', false],
    ['missing', false],
    ['!missing', true],
    ['missing!=x', true],
    ['missing notin (x)', true],
    ['missing in (x)', false],
    ['version>5', true],
    ['version<5', false],
    ['version>7', false],
    ['app>1', false], // not an integer: never matches
    ['missing<9', false],
    ['  app = redis ,  tier in ( cache , db )  ', true],
    ['app=redis,tier=db', false],
    ['example.com/team=core', true],
    ['', true],
  ];
  for (const [text, expected] of matching) {
    it(`"${text}" ${expected ? 'matches' : 'does not match'}`, () => {
      assert.equal(parseLabelSelector(text).matches(labels), expected);
    });
  }

  it('treats missing labels as an empty set', () => {
    assert.equal(parseLabelSelector('!a').matches(undefined), true);
    assert.equal(parseLabelSelector('a').matches(undefined), false);
    assert.equal(parseLabelSelector('a!=b').matches(undefined), true);
    assert.equal(parseLabelSelector('').matches(undefined), true);
  });

  it('knows when it is empty', () => {
    assert.equal(parseLabelSelector('').empty, true);
    assert.equal(parseLabelSelector('a').empty, false);
  });

  it('prints the canonical form: sorted by key, set values sorted', () => {
    assert.equal(parseLabelSelector('b=1,a==2').toString(), 'a==2,b=1');
    assert.equal(parseLabelSelector('x in (foo,,baz),y,z notin ()').toString(), 'x in (,baz,foo),y,z notin ()');
    assert.equal(parseLabelSelector('!a, b>3, c<4, d in (y, x, y)').toString(), '!a,b>3,c<4,d in (x,y)');
  });

  it('exposes requirements with Kubernetes operator names', () => {
    assert.deepEqual(parseLabelSelector('b notin (y,x),a').requirements, [
      { key: 'a', operator: 'exists', values: [] },
      { key: 'b', operator: 'notin', values: ['x', 'y'] },
    ]);
  });

  it('in and notin are keywords only where an operator stands', () => {
    const selector = parseLabelSelector('in in (in,notin)');
    assert.deepEqual(selector.requirements, [{ key: 'in', operator: 'in', values: ['in', 'notin'] }]);
    assert.equal(selector.matches({ in: 'notin' }), true);
  });

  it('an empty value is allowed', () => {
    assert.equal(parseLabelSelector('a=').matches({ a: '' }), true);
    assert.equal(parseLabelSelector('a=,b').matches({ a: '', b: 'x' }), true);
  });

  it('requiresExactMatch', () => {
    const selector = parseLabelSelector('a=1,b in (2),c in (3,4),d!=5');
    assert.equal(selector.requiresExactMatch('a'), '1');
    assert.equal(selector.requiresExactMatch('b'), '2');
    assert.equal(selector.requiresExactMatch('c'), undefined);
    assert.equal(selector.requiresExactMatch('d'), undefined);
  });

  describe('errors (the messages kube-apiserver answers)', () => {
    const cases: Array<[string, string]> = [
      ['a b', "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt"],
      ['!', "unable to parse requirement: found '', expected: identifier"],
      ['a,', "found '', expected: identifier after ','"],
      [',a', "found ',', expected: !, identifier, or 'end of string'"],
      ['a=b c', "found 'c', expected: ',' or 'end of string'"],
      ['!a=b', "found '=', expected: ',' or 'end of string'"],
      ['a in x', "unable to parse requirement: found 'x' expected: '('"],
      ['a in (x', "unable to parse requirement: found '', expected: ',' or ')'"],
      ['a in (x y)', "unable to parse requirement: found 'y', expected: ',' or ')'"],
      ['a in (=)', "unable to parse requirement: found '=', expected: ',', ')' or identifier"],
      ['a=(', "unable to parse requirement: found '(', expected: identifier"],
      ['a>b', `unable to parse requirement: values[0]: Invalid value: "b": for 'Gt', 'Lt' operators, the value must be an integer`],
      ['*bar', `unable to parse requirement: <nil>: Invalid value: "*bar": ${NAME_PART_REGEX}`],
      ['a=b|c', `unable to parse requirement: values[0][a]: Invalid value: "b|c": ${LABEL_VALUE_REGEX}`],
      [
        `${'k'.repeat(64)}`,
        `unable to parse requirement: <nil>: Invalid value: "${'k'.repeat(64)}": name part must be no more than 63 characters`,
      ],
      [
        '/a',
        'unable to parse requirement: <nil>: Invalid value: "/a": prefix part must be non-empty',
      ],
      [
        'a>x1',
        `unable to parse requirement: values[0]: Invalid value: "x1": for 'Gt', 'Lt' operators, the value must be an integer`,
      ],
      [
        'a>-1',
        `unable to parse requirement: values[0][a]: Invalid value: "-1": ${LABEL_VALUE_REGEX}`,
      ],
    ];
    for (const [text, message] of cases) {
      it(JSON.stringify(text), () => assertBadRequest(() => parseLabelSelector(text), message));
    }

    it('aggregates several field errors like Go', () => {
      assertBadRequest(
        () => parseLabelSelector(`a in (${'v'.repeat(64)},-x)`),
        `unable to parse requirement: [values[0][a]: Invalid value: "-x": ${LABEL_VALUE_REGEX}, ` +
          `values[1][a]: Invalid value: "${'v'.repeat(64)}": must be no more than 63 characters]`,
      );
    });
  });
});

describe('labelSelectorFromSpec', () => {
  it('null selects nothing, {} selects everything', () => {
    const nothing = labelSelectorFromSpec(null);
    assert.equal(nothing, NOTHING_LABEL_SELECTOR);
    assert.equal(nothing.matches({}), false);
    assert.equal(nothing.empty, false);
    assert.equal(labelSelectorFromSpec(undefined).matches({ a: 'b' }), false);
    const everything = labelSelectorFromSpec({});
    assert.equal(everything, EVERYTHING_LABEL_SELECTOR);
    assert.equal(everything.matches({ a: 'b' }), true);
    assert.equal(everything.matches(undefined), true);
    assert.equal(everything.empty, true);
    assert.equal(labelSelectorFromSpec({ matchLabels: {}, matchExpressions: [] }).empty, true);
  });

  it('ANDs matchLabels and matchExpressions', () => {
    const selector = labelSelectorFromSpec({
      matchLabels: { app: 'redis' },
      matchExpressions: [
        { key: 'env', operator: 'In', values: ['prod', 'dev'] },
        { key: 'tier', operator: 'Exists' },
        { key: 'gone', operator: 'DoesNotExist' },
        { key: 'zone', operator: 'NotIn', values: ['b'] },
      ],
    });
    assert.equal(selector.matches({ app: 'redis', env: 'dev', tier: 'x', zone: 'a' }), true);
    assert.equal(selector.matches({ app: 'redis', env: 'dev', tier: 'x', zone: 'b' }), false);
    assert.equal(selector.matches({ app: 'redis', env: 'dev', tier: 'x', gone: '' }), false);
    assert.equal(selector.matches({ app: 'redis', env: 'qa', tier: 'x' }), false);
    assert.equal(selector.matches({ app: 'redis', env: 'dev' }), false);
    assert.equal(selector.toString(), 'app=redis,env in (dev,prod),!gone,tier,zone notin (b)');
  });

  it('rejects bad operators and values with Kubernetes messages', () => {
    assertBadRequest(
      () => labelSelectorFromSpec({ matchExpressions: [{ key: 'a', operator: 'Equals', values: ['b'] }] }),
      '"Equals" is not a valid label selector operator',
    );
    assertBadRequest(
      () => labelSelectorFromSpec({ matchExpressions: [{ key: 'a', operator: 'In' }] }),
      "values: Invalid value: null: for 'in', 'notin' operators, values set can't be empty",
    );
    assertBadRequest(
      () => labelSelectorFromSpec({ matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] }),
      'values: Invalid value: ["x"]: values set must be empty for exists and does not exist',
    );
    assertBadRequest(
      () => labelSelectorFromSpec({ matchLabels: { 'a b': 'c' } }),
      `key: Invalid value: "a b": ${NAME_PART_REGEX}`,
    );
  });
});

describe('labelSelectorToString / formatLabelSelector', () => {
  it('prints what kubectl shows and Scale.status.selector holds', () => {
    assert.equal(
      labelSelectorToString({ matchLabels: { 'pod-template-hash': 'abc', app: 'redis' } }),
      'app=redis,pod-template-hash=abc',
    );
    assert.equal(labelSelectorToString({ matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['b', 'a'] }] }), 'env notin (a,b)');
    assert.equal(labelSelectorToString({}), '');
    assert.equal(labelSelectorToString(null), '');
  });

  it('formatLabelSelector says <none> and <error> like the printers', () => {
    assert.equal(formatLabelSelector(null), '<none>');
    assert.equal(formatLabelSelector({}), '<none>');
    assert.equal(formatLabelSelector({ matchLabels: { app: 'web' } }), 'app=web');
    assert.equal(formatLabelSelector({ matchExpressions: [{ key: 'a', operator: 'Bad' }] }), '<error>');
  });

  it('labelSelectorFromSet matches exactly the set', () => {
    const selector = labelSelectorFromSet({ run: 'web', app: 'x' });
    assert.equal(selector.toString(), 'app=x,run=web');
    assert.equal(selector.matches({ run: 'web', app: 'x', extra: '1' }), true);
    assert.equal(selector.matches({ run: 'web' }), false);
    assert.equal(labelSelectorFromSet(undefined).empty, true);
  });
});

describe('parseFieldSelector', () => {
  const fields = { 'metadata.name': 'web-1', 'metadata.namespace': 'default', 'status.phase': 'Running', 'spec.nodeName': '' };

  const matching: Array<[string, boolean]> = [
    ['metadata.name=web-1', true],
    ['metadata.name==web-1', true],
    ['metadata.name!=web-1', false],
    ['metadata.name=web-2', false],
    ['metadata.name=web-1,status.phase!=Pending', true],
    ['metadata.name=web-1,status.phase=Pending', false],
    ['spec.nodeName=', true],
    ['spec.nodeName!=', false],
    ['involvedObject.uid=', true], // a missing field reads as ""
    ['', true],
  ];
  for (const [text, expected] of matching) {
    it(`"${text}" ${expected ? 'matches' : 'does not match'}`, () => {
      assert.equal(parseFieldSelector(text).matches(fields), expected);
    });
  }

  it('exposes requirements in Kubernetes order with == normalized', () => {
    assert.deepEqual(parseFieldSelector('status.phase!=Failed,metadata.name==x').requirements, [
      { field: 'metadata.name', operator: '=', value: 'x' },
      { field: 'status.phase', operator: '!=', value: 'Failed' },
    ]);
  });

  it('kubectl describe events selector', () => {
    const selector = parseFieldSelector('involvedObject.name=web-1,involvedObject.namespace=default,involvedObject.uid=123');
    assert.equal(selector.requirements.length, 3);
    assert.equal(selector.requiresExactMatch('involvedObject.uid'), '123');
    assert.equal(selector.requiresExactMatch('reason'), undefined);
  });

  it('handles escapes both ways', () => {
    const selector = parseFieldSelector('metadata.name=a\\,b\\=c\\\\d');
    assert.deepEqual(selector.requirements, [{ field: 'metadata.name', operator: '=', value: 'a,b=c\\d' }]);
    assert.equal(selector.toString(), 'metadata.name=a\\,b\\=c\\\\d');
    assert.equal(escapeFieldValue('x,y=z'), 'x\\,y\\=z');
  });

  it('empty terms are skipped; an empty selector is empty', () => {
    assert.equal(parseFieldSelector('').empty, true);
    assert.equal(parseFieldSelector(',,').empty, true);
    assert.equal(parseFieldSelector('a=b').empty, false);
  });

  it('fieldSelectorFromRequirements builds one for a single-object watch', () => {
    const selector = fieldSelectorFromRequirements([{ field: 'metadata.name', operator: '=', value: 'x' }]);
    assert.equal(selector.toString(), 'metadata.name=x');
    assert.equal(selector.matches({ 'metadata.name': 'x' }), true);
  });

  describe('errors', () => {
    it('a term without operator', () =>
      assertBadRequest(() => parseFieldSelector('a=b,foo'), "invalid selector: 'a=b,foo'; can't understand 'foo'"));
    it('an unescaped = in a value (Go prints the code point)', () =>
      assertBadRequest(() => parseFieldSelector('a=b=c'), 'invalid field selector: unescaped character in value: 61'));
    it('an unknown escape', () =>
      assertBadRequest(() => parseFieldSelector('a=b\\x'), 'invalid field selector: invalid escape sequence: \\x'));
    it('a trailing backslash', () =>
      assertBadRequest(() => parseFieldSelector('a=b\\'), 'invalid field selector: invalid escape sequence: \\'));
  });
});

describe('unknownFieldSelectorError', () => {
  it('default conversion message', () => {
    const err = unknownFieldSelectorError('spec.foo', 'Deployment');
    assert.equal(err.code, 400);
    assert.equal(err.reason, 'BadRequest');
    assert.equal(err.message, '"spec.foo" is not a known field selector: only "metadata.name", "metadata.namespace"');
    assert.equal(unknownFieldSelectorError('spec.foo').message, err.message);
  });

  it('kinds with their own conversion', () => {
    assert.equal(unknownFieldSelectorError('spec.foo', 'Pod').message, 'field label not supported: spec.foo');
    assert.equal(unknownFieldSelectorError('x', 'Event', '').message, 'field label not supported: x');
    assert.equal(unknownFieldSelectorError('status.succeeded', 'Job').message, 'field label "status.succeeded" not supported for batchv1.Job');
    assert.equal(
      unknownFieldSelectorError('x', 'Event', 'events.k8s.io').message,
      '"x" is not a known field selector: only "metadata.name", "metadata.namespace"',
    );
  });
});
