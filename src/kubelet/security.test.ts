/**
 * securityContext → CRI, and the runAsNonRoot verdicts with the kubelet's
 * exact messages (the tutorial's nginxsecure pod).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import {
  CreateContainerConfigError,
  DEFAULT_MASKED_PATHS,
  effectiveSecurityContext,
  linuxContainerSecurityContext,
  linuxSandboxSecurityContext,
  parseImageUser,
  verifyRunAsNonRoot,
} from './security.js';

const podWith = (podSc: NonNullable<Pod['spec']>['securityContext'], container: Container): Pod => ({
  metadata: { name: 'nginxsecure', namespace: 'default', uid: 'abc-123' },
  spec: { securityContext: podSc, containers: [container] },
});

describe('parseImageUser', () => {
  it('reads users as containerd reports them', () => {
    assert.deepEqual(parseImageUser(''), { uid: 0, username: '' });
    assert.deepEqual(parseImageUser(undefined), { uid: 0, username: '' });
    assert.deepEqual(parseImageUser('1000'), { uid: 1000, username: '' });
    assert.deepEqual(parseImageUser('101:101'), { uid: 101, username: '' });
    assert.deepEqual(parseImageUser('nginx:nginx'), { username: 'nginx' });
    assert.deepEqual(parseImageUser('root'), { username: 'root' });
  });
});

describe('verifyRunAsNonRoot', () => {
  const nginx: Container = { name: 'nginx', image: 'nginx', securityContext: { runAsNonRoot: true } };
  const verdict = (pod: Pod, user: string | undefined) => {
    try {
      verifyRunAsNonRoot(pod, pod.spec!.containers[0], parseImageUser(user));
      return 'ok';
    } catch (error) {
      assert.ok(error instanceof CreateContainerConfigError);
      return (error as Error).message;
    }
  };
  it('refuses an image that runs as root', () => {
    assert.equal(verdict(podWith(undefined, nginx), ''), 'container has runAsNonRoot and image will run as root (pod: "nginxsecure_default(abc-123)", container: nginx)');
    assert.equal(verdict(podWith(undefined, nginx), '0'), 'container has runAsNonRoot and image will run as root (pod: "nginxsecure_default(abc-123)", container: nginx)');
  });
  it('refuses a user name it cannot check', () => {
    assert.equal(
      verdict(podWith(undefined, nginx), 'www-data'),
      'container has runAsNonRoot and image has non-numeric user (www-data), cannot verify user is non-root (pod: "nginxsecure_default(abc-123)", container: nginx)',
    );
  });
  it('refuses runAsUser 0 and accepts a non-root uid from the spec or the image', () => {
    assert.equal(
      verdict(podWith({ runAsUser: 0 }, nginx), '1000'),
      `container's runAsUser breaks non-root policy (pod: "nginxsecure_default(abc-123)", container: nginx)`,
    );
    assert.equal(verdict(podWith({ runAsUser: 101 }, nginx), ''), 'ok');
    assert.equal(verdict(podWith(undefined, nginx), '101'), 'ok');
    assert.equal(verdict(podWith({ runAsNonRoot: true }, { name: 'nginx', securityContext: { runAsNonRoot: false } }), ''), 'ok');
    assert.equal(verdict(podWith({ runAsNonRoot: true }, { name: 'nginx' }), '').startsWith('container has runAsNonRoot'), true);
  });
});

describe('CRI security contexts', () => {
  it('merges pod and container settings', () => {
    const pod = podWith(
      { runAsUser: 1000, runAsGroup: 3000, fsGroup: 2000, supplementalGroups: [4000], sysctls: [{ name: 'net.ipv4.ip_unprivileged_port_start', value: '0' }] },
      {
        name: 'app',
        securityContext: {
          runAsUser: 1001,
          readOnlyRootFilesystem: true,
          allowPrivilegeEscalation: false,
          capabilities: { add: ['NET_ADMIN'], drop: ['ALL'] },
        },
      },
    );
    const container = pod.spec!.containers[0];
    assert.equal(effectiveSecurityContext(pod, container).runAsGroup, 3000);
    const sc = linuxContainerSecurityContext(pod, container, parseImageUser(''));
    assert.deepEqual(sc.runAsUser, { value: 1001 });
    assert.deepEqual(sc.runAsGroup, { value: 3000 });
    assert.equal(sc.readonlyRootfs, true);
    assert.equal(sc.noNewPrivs, true);
    assert.equal(sc.privileged, false);
    assert.deepEqual(sc.capabilities, { addCapabilities: ['NET_ADMIN'], dropCapabilities: ['ALL'] });
    assert.deepEqual(sc.supplementalGroups, [2000, 4000]);
    assert.deepEqual(sc.namespaceOptions, { network: 'POD', pid: 'CONTAINER', ipc: 'POD' });
    assert.deepEqual(sc.seccomp, { profileType: 'Unconfined' });
    assert.deepEqual(sc.maskedPaths, DEFAULT_MASKED_PATHS);
    const sandbox = linuxSandboxSecurityContext(pod);
    assert.deepEqual(sandbox.runAsUser, { value: 1000 });
    assert.deepEqual(sandbox.supplementalGroups, [2000, 4000]);
    assert.equal(sandbox.privileged, false);
  });

  it('takes the image user when the spec has none, and privileged/host namespaces', () => {
    const pod: Pod = {
      metadata: { name: 'p', namespace: 'default', uid: 'u' },
      spec: { hostNetwork: true, hostPID: true, containers: [{ name: 'c', securityContext: { privileged: true, procMount: 'Unmasked' } }] },
    };
    const container = pod.spec!.containers[0];
    const byName = linuxContainerSecurityContext(pod, container, parseImageUser('nginx'));
    assert.equal(byName.runAsUsername, 'nginx');
    assert.equal(byName.runAsUser, undefined);
    assert.deepEqual(byName.maskedPaths, []);
    assert.deepEqual(linuxContainerSecurityContext(pod, container, parseImageUser('33')).runAsUser, { value: 33 });
    assert.equal(byName.privileged, true);
    assert.deepEqual(byName.namespaceOptions, { network: 'NODE', pid: 'NODE', ipc: 'POD' });
    assert.equal(linuxSandboxSecurityContext(pod).privileged, true);
  });
});
