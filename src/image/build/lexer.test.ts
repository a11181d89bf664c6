import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { processWord, processWords, splitRawWords, SubstitutionError } from './lexer.js';

const vars: Record<string, string> = { A: 'apple', EMPTY: '', SPACED: 'one two' };
const lookup = (name: string) => vars[name];

describe('Dockerfile variable substitution (Docker shell lexer rules)', () => {
  it('expands $VAR and ${VAR}, unset to empty', () => {
    assert.equal(processWord('$A-${A}-$NOPE-x', lookup), 'apple-apple--x');
  });
  it('supports :- - :+ + with set, empty and unset variables', () => {
    assert.equal(processWord('${A:-d}|${EMPTY:-d}|${NOPE:-d}', lookup), 'apple|d|d');
    assert.equal(processWord('${A-d}|${EMPTY-d}|${NOPE-d}', lookup), 'apple||d');
    assert.equal(processWord('${A:+alt}|${EMPTY:+alt}|${NOPE:+alt}', lookup), 'alt||');
    assert.equal(processWord('${EMPTY+alt}|${NOPE+alt}', lookup), 'alt|');
    assert.equal(processWord('${NOPE:-$A}', lookup), 'apple');
  });
  it('fails ${VAR:?msg} on unset with the message', () => {
    assert.throws(() => processWord('${NOPE:?must be set}', lookup), (e: unknown) => e instanceof SubstitutionError && /NOPE: must be set/.test(e.message));
  });
  it('keeps single-quoted text literal, expands in double quotes, removes quotes', () => {
    assert.equal(processWord(`'$A' "$A" "a 'b'"`, lookup), '$A apple a \'b\'');
  });
  it('escapes: \\$ is a literal dollar, backtick escape too', () => {
    assert.equal(processWord('\\$A', lookup), '$A');
    assert.equal(processWord('`$A', lookup, '`'), '$A');
    assert.equal(processWord('"\\"q\\""', lookup), '"q"');
  });
  it('splits words on unquoted whitespace, also inside unquoted values, not in quoted ones', () => {
    assert.deepEqual(processWords('a  "b c" $SPACED "$SPACED"', lookup), ['a', 'b c', 'one', 'two', 'one two']);
    assert.deepEqual(processWords('my\\ file dest/', lookup), ['my file', 'dest/']);
  });
  it('splitRawWords keeps quotes for key=value parsing', () => {
    assert.deepEqual(splitRawWords('a=1 b="x y" c=\'$z\''), ['a=1', 'b="x y"', "c='$z'"]);
  });
  it('rejects unknown modifiers', () => {
    assert.throws(() => processWord('${A/x/y}', lookup), SubstitutionError);
  });
});
