import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { GO_ZERO_TIME_SECONDS, formatGoDuration, formatGoTime, parseGoDuration, parseGoTime } from './gotypes.js';

describe('Go durations', () => {
  it('format as time.Duration.String()', () => {
    const cases: Array<[bigint, string]> = [
      [0n, '0s'],
      [1n, '1ns'],
      [999n, '999ns'],
      [1_500n, '1.5µs'],
      [1_000_000n, '1ms'],
      [300_000_000n, '300ms'],
      [1_500_000_000n, '1.5s'],
      [90_000_000_000n, '1m30s'],
      [3_600_000_000_000n, '1h0m0s'],
      [3_723_000_000_001n, '1h2m3.000000001s'],
      [-1_500_000_000n, '-1.5s'],
      [(1n << 63n) - 1n, '2562047h47m16.854775807s'],
      [-(1n << 63n), '-2562047h47m16.854775808s'],
    ];
    for (const [ns, text] of cases) assert.equal(formatGoDuration(ns), text, `${ns}`);
  });

  it('parse as time.ParseDuration', () => {
    const cases: Array<[string, bigint]> = [
      ['0', 0n],
      ['1h30m', 5_400_000_000_000n],
      ['1.5h', 5_400_000_000_000n],
      ['300ms', 300_000_000n],
      ['-1.5s', -1_500_000_000n],
      ['+2s', 2_000_000_000n],
      ['1µs', 1_000n],
      ['1μs', 1_000n],
      ['1us', 1_000n],
      ['.5s', 500_000_000n],
      ['2562047h47m16.854775807s', (1n << 63n) - 1n],
    ];
    for (const [text, ns] of cases) assert.equal(parseGoDuration(text), ns, text);
    for (const bad of ['', '1', 'h', '1x', '1h-2m', '.s', '9999999999h', '--1s']) assert.equal(parseGoDuration(bad), undefined, bad);
  });

  it('round-trip through each other', () => {
    for (const ns of [0n, 7n, 123_456n, 59_999_999_999n, 86_400_000_000_000n, -42n]) assert.equal(parseGoDuration(formatGoDuration(ns)), ns);
  });
});

describe('Go times', () => {
  it('format metav1.Time (seconds) and MicroTime (microseconds) in UTC', () => {
    assert.equal(formatGoTime(0, 0, false), '1970-01-01T00:00:00Z');
    assert.equal(formatGoTime(1_704_164_645, 123_456_789, false), '2024-01-02T03:04:05Z');
    assert.equal(formatGoTime(1_704_164_645, 123_456_789, true), '2024-01-02T03:04:05.123456Z');
    assert.equal(formatGoTime(1_704_164_645, 0, true), '2024-01-02T03:04:05.000000Z');
    assert.equal(formatGoTime(GO_ZERO_TIME_SECONDS, 0, false), '0001-01-01T00:00:00Z');
    assert.equal(formatGoTime(253_402_300_800, 0, false), undefined); // year 10000
  });

  it('parse RFC 3339 with offsets and fractions', () => {
    assert.deepEqual(parseGoTime('2024-01-02T03:04:05Z'), { seconds: 1_704_164_645, nanos: 0 });
    assert.deepEqual(parseGoTime('2024-01-02T05:04:05.5+02:00'), { seconds: 1_704_164_645, nanos: 500_000_000 });
    assert.deepEqual(parseGoTime('2024-01-01T22:04:05.123456789-05:00'), { seconds: 1_704_164_645, nanos: 123_456_789 });
    assert.deepEqual(parseGoTime('0001-01-01T00:00:00Z'), { seconds: GO_ZERO_TIME_SECONDS, nanos: 0 });
    for (const bad of ['', '2024-01-02', '2024-01-02T03:04:05', '2024-02-30T00:00:00Z', '2024-13-01T00:00:00Z', 'yesterday']) {
      assert.equal(parseGoTime(bad), undefined, bad);
    }
  });
});
