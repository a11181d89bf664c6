import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DockerfileError, parseDockerfile } from './parser.js';

describe('Dockerfile parser', () => {
  it('parses the tutorial busybox Dockerfile', () => {
    const file = parseDockerfile('FROM scratch\nADD busybox.tar.xz /\nCMD ["sh"]\n');
    assert.equal(file.stages.length, 1);
    assert.equal(file.stages[0].baseRaw, 'scratch');
    const [add, cmd] = file.stages[0].instructions;
    assert.deepEqual([add.keyword, add.args, add.line], ['ADD', 'busybox.tar.xz /', 2]);
    assert.deepEqual(cmd.json, ['sh']);
  });

  it('handles comments, continuations (also across comments and blank lines), case-insensitive keywords', () => {
    const file = parseDockerfile(['# comment', 'from busybox', 'run echo a \\', '  # inner comment', '', '  && echo b', 'Cmd echo hi'].join('\n'));
    const [run, cmd] = file.stages[0].instructions;
    assert.equal(run.keyword, 'RUN');
    assert.equal(run.line, 3);
    assert.equal(run.args, 'echo a   && echo b');
    assert.equal(cmd.json, undefined);
    assert.equal(cmd.args, 'echo hi');
  });

  it('honours the escape directive', () => {
    const file = parseDockerfile('# escape=`\nFROM busybox\nRUN echo a `\n  b\nCOPY a\\b c\n');
    assert.equal(file.escape, '`');
    assert.equal(file.stages[0].instructions[0].args, 'echo a   b');
    assert.equal(file.stages[0].instructions[1].args, 'a\\b c');
  });

  it('reads stages, AS names, global ARGs and flags', () => {
    const file = parseDockerfile('ARG V=1\nFROM --platform=linux/amd64 busybox:${V} AS Build\nCOPY --from=build --chown=1:2 a b\nFROM scratch\nCOPY --from=0 /x /y\n');
    assert.equal(file.globalArgs.length, 1);
    assert.equal(file.stages[0].name, 'build');
    assert.equal(file.stages[0].from.flags.platform, 'linux/amd64');
    assert.deepEqual(file.stages[0].instructions[0].flags, { from: 'build', chown: '1:2' });
    assert.equal(file.stages[1].instructions[0].flags.from, '0');
  });

  it('treats a non-JSON bracket argument as the shell form', () => {
    const file = parseDockerfile('FROM busybox\nCMD [not json]\nENTRYPOINT ["a", 1]\n');
    assert.equal(file.stages[0].instructions[0].json, undefined);
    assert.equal(file.stages[0].instructions[1].json, undefined);
  });

  it('names the line of an unknown instruction', () => {
    assert.throws(
      () => parseDockerfile('FROM busybox\n\nCOPPY a b\n'),
      (e: unknown) => e instanceof DockerfileError && e.message === 'Dockerfile:3: unknown instruction: COPPY (did you mean COPY?)',
    );
    assert.throws(() => parseDockerfile('FROM busybox\nFROBNICATE x\n'), /^Error: Dockerfile:2: unknown instruction: FROBNICATE$/);
  });

  it('rejects instructions before FROM, unknown flags, duplicate stage names and a missing FROM', () => {
    assert.throws(() => parseDockerfile('RUN x\nFROM a\n'), /Dockerfile:1: RUN before the first FROM/);
    assert.throws(() => parseDockerfile('FROM a\nCOPY --nope=1 a b\n'), /Dockerfile:2: unknown flag for COPY: --nope/);
    assert.throws(() => parseDockerfile('FROM a AS x\nFROM b AS x\n'), /Dockerfile:2: duplicate stage name "x"/);
    assert.throws(() => parseDockerfile('# nothing\n'), /no FROM instruction/);
    assert.throws(() => parseDockerfile('FROM a\nRUN --mount=type=cache,target=/x true\n'), /Dockerfile:2: unknown flag for RUN: --mount/);
    assert.throws(() => parseDockerfile('FROM a\nRUN <<EOF\necho hi\nEOF\n'), /Dockerfile:2: RUN with a here-document/);
  });
});
