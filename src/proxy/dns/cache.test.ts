/** The forwarded-answer cache: TTL ageing, negative caching, limits. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as dnsPacket from 'dns-packet';
import type { Answer } from 'dns-packet';
import { ResponseCache } from './cache.js';

function response(rcode: number, answers: Answer[], authorities: Answer[] = [], flags = 0): Buffer {
  return dnsPacket.encode({ type: 'response', id: 7, flags: flags | rcode, questions: [{ type: 'A', name: 'x.test' }], answers, authorities });
}

describe('DNS response cache', () => {
  it('serves hits with the asking id and aged TTLs until they expire (at most 30 s)', () => {
    let now = 1_000_000;
    const cache = new ResponseCache(10, () => now);
    const key = ResponseCache.key('X.test.', 'A');
    cache.put(key, response(0, [{ type: 'A', name: 'x.test', ttl: 300, data: '192.0.2.1' }]));
    now += 10_500;
    const hit = dnsPacket.decode(cache.get(key, 99)!);
    assert.equal(hit.id, 99);
    assert.equal((hit.answers![0] as { ttl: number }).ttl, 290);
    now += 20_000;
    assert.equal(cache.get(key, 1), undefined, 'capped at 30 s');
  });

  it('caches NXDOMAIN for the SOA minimum, and skips SERVFAIL, truncated and SOA-less negative answers', () => {
    let now = 0;
    const cache = new ResponseCache(10, () => now);
    const soa: Answer = { type: 'SOA', name: 'test', ttl: 60, data: { mname: 'ns.test', rname: 'h.test', minimum: 5 } };
    cache.put('nx', response(3, [], [soa]));
    cache.put('servfail', response(2, []));
    cache.put('tc', response(0, [{ type: 'A', name: 'x.test', ttl: 60, data: '192.0.2.1' }], [], dnsPacket.TRUNCATED_RESPONSE));
    cache.put('nosoa', response(3, []));
    assert.equal(cache.size, 1);
    assert.equal(dnsPacket.decode(cache.get('nx', 1)!).flags! & 0xf, 3);
    now += 5000;
    assert.equal(cache.get('nx', 1), undefined);
  });

  it('drops the oldest entry beyond its size', () => {
    const cache = new ResponseCache(2);
    for (const name of ['a', 'b', 'c']) cache.put(name, response(0, [{ type: 'A', name: 'x.test', ttl: 60, data: '192.0.2.1' }]));
    assert.equal(cache.size, 2);
    assert.equal(cache.get('a', 1), undefined);
    assert.ok(cache.get('c', 1));
  });
});
