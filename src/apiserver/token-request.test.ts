/**
 * TokenRequest through the real API server in this process: a token is issued
 * for an existing ServiceAccount only, validated like kube-apiserver, and the
 * token then authenticates HTTPS requests as the ServiceAccount until the
 * ServiceAccount or the pod it is bound to goes away.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { ApiServer } from './api-server.js';
import { RESOURCES, type ApiClient } from '../client/types.js';
import { ApiClient as HttpsTestClient } from '../../test/helpers/api-client.js';
import { ServiceAccountTokenIssuer, SERVICE_ACCOUNT_ISSUER, type ServiceAccountClaims } from './token-request.js';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { loadOrCreatePki, writeKubeconfig } from './pki.js';
import { kubectlBinary } from '../../test/helpers/cluster.js';
import { startInProcessCluster, type InProcessCluster } from '../../test/helpers/in-process.js';

let cluster: InProcessCluster;
let dataDir: string;
let api: ApiServer;
let client: ApiClient;
let admin: HttpsTestClient;
let port: number;

before(async () => {
  cluster = await startInProcessCluster({ tmpPrefix: 'pilote-tokenrequest-', apiServer: (dir) => ({ serviceAccountKeyFile: join(dir, 'tls', 'service-account.key') }) });
  ({ dataDir, api, client, port } = cluster);
  admin = new HttpsTestClient(port, join(dataDir, 'tls'), 'cert');
  await client.resource(RESOURCES.serviceAccounts).create('default', { metadata: { name: 'robot' } });
});

after(async () => {
  await cluster?.stop();
});

function claimsOf(token: string): ServiceAccountClaims {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')) as ServiceAccountClaims;
}

/** The user name the server sees for a bearer token (SelfSubjectAccessReview names it), or the HTTP status. */
async function whoAmI(token: string): Promise<string | number> {
  const as = new HttpsTestClient(port, join(dataDir, 'tls'), { token });
  const res = await as.post('/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
    apiVersion: 'authorization.k8s.io/v1',
    kind: 'SelfSubjectAccessReview',
    spec: { resourceAttributes: { verb: 'get', resource: 'pods' } },
  });
  if (res.status !== 201) return res.status;
  return String(res.json.status.reason).split(' ')[0];
}

describe('TokenRequest', () => {
  it('issues a signed token with Kubernetes claims over HTTPS', async () => {
    const res = await admin.post('/api/v1/namespaces/default/serviceaccounts/robot/token', {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: { expirationSeconds: 1200 },
    });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.json.kind, 'TokenRequest');
    assert.equal(res.json.apiVersion, 'authentication.k8s.io/v1');
    assert.deepEqual(res.json.spec.audiences, [SERVICE_ACCOUNT_ISSUER]);
    const token: string = res.json.status.token;
    const header = JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString());
    assert.equal(header.alg, 'RS256');
    assert.ok(header.kid);
    const claims = claimsOf(token);
    const sa = await client.resource(RESOURCES.serviceAccounts).get('default', 'robot');
    assert.equal(claims.sub, 'system:serviceaccount:default:robot');
    assert.equal(claims.iss, SERVICE_ACCOUNT_ISSUER);
    assert.deepEqual(claims['kubernetes.io'].serviceaccount, { name: 'robot', uid: sa.metadata.uid });
    assert.equal(claims.exp - claims.iat, 1200);
    const expires = Date.parse(res.json.status.expirationTimestamp);
    assert.ok(Math.abs(expires - (claims.iat + 1200) * 1000) < 1000);
    assert.equal(await whoAmI(token), 'system:serviceaccount:default:robot');
  });

  it('answers 404 for a missing ServiceAccount and 422 for a short lifetime', async () => {
    const missing = await admin.post('/api/v1/namespaces/default/serviceaccounts/ghost/token', { spec: {} });
    assert.equal(missing.status, 404);
    assert.equal(missing.json.message, 'serviceaccounts "ghost" not found');
    const short = await admin.post('/api/v1/namespaces/default/serviceaccounts/robot/token', { spec: { expirationSeconds: 100 } });
    assert.equal(short.status, 422);
    assert.equal(
      short.json.message,
      'TokenRequest.authentication.k8s.io "robot" is invalid: spec.expirationSeconds: Invalid value: 100: may not specify a duration less than 10 minutes',
    );
  });

  it('binds a token to a pod (through the in-process client) and stops accepting it when the pod is deleted', async () => {
    const pods = client.resource(RESOURCES.pods);
    const pod = await pods.create('default', {
      metadata: { name: 'bound' },
      spec: { serviceAccountName: 'robot', containers: [{ name: 'c', image: 'busybox' }] },
    });
    const answer = (await client
      .resource(RESOURCES.serviceAccounts)
      .createSubresource('default', 'robot', 'token', {
        metadata: {},
        spec: { expirationSeconds: 3607, boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'bound', uid: pod.metadata.uid } },
      } as never)) as { status: { token: string; expirationTimestamp: string } };
    const claims = claimsOf(answer.status.token);
    assert.deepEqual(claims['kubernetes.io'].pod, { name: 'bound', uid: pod.metadata.uid });
    // The admission plugin's 3607 s pod tokens are extended to a year with a warnafter claim.
    assert.equal(claims['kubernetes.io'].warnafter, claims.iat + 3607);
    assert.ok(claims.exp - claims.iat > 300 * 24 * 3600);
    assert.equal(await whoAmI(answer.status.token), 'system:serviceaccount:default:robot');

    const wrongUid = await admin.post('/api/v1/namespaces/default/serviceaccounts/robot/token', {
      spec: { boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'bound', uid: 'not-the-uid' } },
    });
    assert.equal(wrongUid.status, 409);

    await pods.delete('default', 'bound', { gracePeriodSeconds: 0 });
    assert.equal(await whoAmI(answer.status.token), 401);
  });

  it('rejects tampered tokens, tokens of another key and tokens of a deleted ServiceAccount', async () => {
    const res = await admin.post('/api/v1/namespaces/default/serviceaccounts/robot/token', { spec: {} });
    const token: string = res.json.status.token;
    const [h, p, s] = token.split('.');
    const forged = { ...claimsOf(token), sub: 'system:serviceaccount:kube-system:admin' };
    assert.equal(await whoAmI(`${h}.${Buffer.from(JSON.stringify(forged)).toString('base64url')}.${s}`), 401);
    const stranger = new ServiceAccountTokenIssuer().sign(claimsOf(token));
    assert.equal(await whoAmI(stranger), 401);
    assert.equal(await whoAmI(`${h}.${p}.${s}`), 'system:serviceaccount:default:robot');
    await client.resource(RESOURCES.serviceAccounts).delete('default', 'robot');
    assert.equal(await whoAmI(token), 401);
  });

  it('serves `kubectl create token` (real kubectl) and the token works as a kubeconfig credential', async () => {
    const pki = await loadOrCreatePki(dataDir);
    const kubeconfig = writeKubeconfig(dataDir, pki, `https://127.0.0.1:${port}`);
    const env = { ...process.env, KUBECONFIG: kubeconfig, HOME: dataDir };
    const run = promisify(execFile);
    await client.resource(RESOURCES.serviceAccounts).create('default', { metadata: { name: 'builder' } });
    const { stdout } = await run(kubectlBinary(), ['create', 'token', 'builder', '--duration=20m', '--audience=https://kubernetes.default.svc.cluster.local'], { env });
    const token = stdout.trim();
    const claims = claimsOf(token);
    assert.equal(claims.exp - claims.iat, 1200);
    assert.equal(claims.sub, 'system:serviceaccount:default:builder');
    const { stdout: pods } = await run(kubectlBinary(), ['get', 'serviceaccounts', '--token', token, '--kubeconfig', kubeconfig, '-o', 'name'], { env: { ...env, KUBECONFIG: '' } });
    assert.match(pods, /serviceaccount\/builder/);
    const missing = await run(kubectlBinary(), ['create', 'token', 'ghost'], { env }).catch((error: { stderr: string }) => error);
    assert.match((missing as { stderr: string }).stderr, /serviceaccounts "ghost" not found/);
  });

  it('keeps its signing key across restarts (same file, same key id)', () => {
    const file = join(dataDir, 'tls', 'service-account.key');
    const a = new ServiceAccountTokenIssuer(file).publicKeyPem();
    const b = new ServiceAccountTokenIssuer(file).publicKeyPem();
    assert.equal(a, b);
    assert.equal(a, api.tokenIssuer.publicKeyPem());
  });
});
