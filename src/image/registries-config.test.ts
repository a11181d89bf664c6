import { test } from 'node:test';
import assert from 'node:assert/strict';
import { endpointsFor, hostConfigFor, parseRegistriesConfig, pushEndpointFor, upstreamUrl } from './registries-config.js';
import { parseChallenge } from './registry.js';

const YAML = `
mirrors:
  docker.io:
    endpoint:
      - "http://127.0.0.1:5000"
      - "mirror.example.com:8443/v2/"
  "*":
    endpoint: ["https://all.example.com"]
configs:
  "mirror.example.com:8443":
    auth: { username: alice, password: secret }
    tls: { insecure_skip_verify: true }
  "https://registry.example.com":
    auth: { auth: "Ym9iOnB3" }
`;

test('parses a k3s registries.yaml', () => {
  const config = parseRegistriesConfig(YAML);
  assert.deepEqual(config.mirrors['docker.io']?.endpoint, ['http://127.0.0.1:5000', 'mirror.example.com:8443/v2/']);
  assert.deepEqual(config.configs['mirror.example.com:8443'], { auth: { username: 'alice', password: 'secret' }, tls: { insecure_skip_verify: true } });
  assert.deepEqual(config.configs['registry.example.com'], { auth: { auth: 'Ym9iOnB3' } }, 'a scheme in the key is dropped');
  assert.deepEqual(parseRegistriesConfig(''), { mirrors: {}, configs: {} });
});

test('endpoints: mirrors in order, then the registry itself', () => {
  const config = parseRegistriesConfig(YAML);
  const hub = endpointsFor(config, 'docker.io');
  assert.deepEqual(hub.map((e) => [e.url, e.mirror]), [
    ['http://127.0.0.1:5000', true],
    ['https://mirror.example.com:8443', true],
    ['https://registry-1.docker.io', false],
  ]);
  assert.equal(hub[1]?.config.auth?.username, 'alice');
  assert.deepEqual(endpointsFor(config, 'quay.io').map((e) => e.url), ['https://all.example.com', 'https://quay.io'], 'the * mirror applies to others');
  assert.deepEqual(endpointsFor({ mirrors: {}, configs: {} }, 'localhost:5000').map((e) => e.url), ['http://localhost:5000']);
  assert.equal(pushEndpointFor(config, 'docker.io').url, 'https://registry-1.docker.io', 'pushes skip mirrors');
  assert.equal(hostConfigFor(config, 'registry.example.com:443').auth?.auth, 'Ym9iOnB3');
});

test('plain HTTP only for loopback and insecure hosts', () => {
  assert.equal(upstreamUrl('127.0.0.1:5000'), 'http://127.0.0.1:5000');
  assert.equal(upstreamUrl('localhost'), 'http://localhost');
  assert.equal(upstreamUrl('[::1]:5000'), 'http://[::1]:5000');
  assert.equal(upstreamUrl('registry.lan:5000'), 'https://registry.lan:5000');
  assert.equal(upstreamUrl('registry.lan:5000', ['registry.lan:5000']), 'http://registry.lan:5000');
});

test('bad configuration names the problem', () => {
  assert.throws(() => parseRegistriesConfig('mirrors: [1]'), /"mirrors" must be a mapping/);
  assert.throws(() => parseRegistriesConfig('mirrors:\n  docker.io:\n    endpoint: http://x'), /endpoint must be a list/);
  assert.throws(() => parseRegistriesConfig('mirrors:\n  docker.io:\n    endpoint: ["ftp://x"]'), /must use http or https/);
  assert.throws(() => parseRegistriesConfig('configs:\n  h:\n    tls: { insecure_skip_verify: "yes" }'), /true or false/);
  assert.throws(() => parseRegistriesConfig('a: [', 'my.yaml'), /my.yaml is not valid YAML/);
});

test('WWW-Authenticate challenges', () => {
  assert.deepEqual(parseChallenge('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull"'), {
    scheme: 'bearer',
    params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/nginx:pull' },
  });
  assert.deepEqual(parseChallenge('Basic realm="Registry Realm"'), { scheme: 'basic', params: { realm: 'Registry Realm' } });
  assert.equal(parseChallenge('Negotiate'), undefined);
  assert.equal(parseChallenge(undefined), undefined);
});
