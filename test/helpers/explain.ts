/**
 * What `kubectl explain` prints against a real Kubernetes 1.32 cluster, kept in
 * test/fixtures/explain/<args>.txt, and what Pilote is known to print differently.
 *
 * The fixtures are kubectl 1.32's own rendering of schemas whose texts were checked
 * field by field against k8s.io/api v0.32.5 (its Go comments put through openapi-gen's
 * description rules, its `+enum` types); pods.spec.txt was rendered from a document
 * carrying the 1.32 texts of the fields listed below.
 *
 * Pilote's schema comes from kubernetes-types 1.30 (scripts/gen-schema.mjs), plus the
 * enums of k8s.io/api 1.32 (scripts/gen-enums.mjs). Where the 1.32 API changed a field
 * after 1.30, or kubernetes-types lost a character, the text differs; each such
 * difference is listed below with its cause, so the comparison stays exact everywhere
 * else and a fixed difference shows up as a failure to remove it from the list.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'test', 'fixtures', 'explain');

/** A difference: [text on a real 1.32 cluster, text Pilote prints, why]. */
type Deviation = readonly [real: string, pilote: string, why: string];

const DEVIATIONS: Record<string, readonly Deviation[]> = {
  'pods.spec': [
    [
      '    NodeName indicates in which node this pod is scheduled. If empty, this pod\n' +
        '    is a candidate for scheduling by the scheduler defined in schedulerName.\n' +
        '    Once this field is set, the kubelet for this node becomes responsible for\n' +
        '    the lifecycle of this pod. This field should not be used to express a desire\n' +
        '    for the pod to be scheduled on a specific node.\n' +
        '    https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#nodename\n',
      '    NodeName is a request to schedule this pod onto a specific node. If it is\n' +
        '    non-empty, the scheduler simply schedules this pod onto that node, assuming\n' +
        '    that it fits resource requirements.\n',
      'spec.nodeName was reworded in Kubernetes 1.31',
    ],
    [
      ' spec.securityContext.supplementalGroups -\n    spec.securityContext.supplementalGroupsPolicy -\n',
      ' spec.securityContext.supplementalGroups -\n',
      'securityContext.supplementalGroupsPolicy is new in Kubernetes 1.31',
    ],
    [
      '  resources\t<ResourceRequirements>\n' +
        '    Resources is the total amount of CPU and Memory resources required by all\n' +
        '    containers in the pod. It supports specifying Requests and Limits for "cpu"\n' +
        '    and "memory" resource names only. ResourceClaims are not supported.\n' +
        '    \n' +
        '    This field enables fine-grained control over resource allocation for the\n' +
        '    entire pod, allowing resource sharing among containers in a pod.\n' +
        '    \n' +
        '    This is an alpha field and requires enabling the PodLevelResources feature\n' +
        '    gate.\n' +
        '\n',
      '',
      'spec.resources (pod-level resources, alpha) is new in Kubernetes 1.32',
    ],
    [
      '    HKEY_LOCAL_MACHINE\\\\SYSTEM\\\\CurrentControlSet\\\\Services\\\\Tcpip\\\\Parameters\n' +
        '    to FQDN. If a pod does not have FQDN, this has no effect. Default to false.\n',
      '    HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\Tcpip\\Parameters to\n' +
        '    FQDN. If a pod does not have FQDN, this has no effect. Default to false.\n',
      'kubernetes-types unescaped the doubled backslashes of the Go comment',
    ],
  ],
};

/** The fixture's text: kubectl 1.32 against a real 1.32 cluster. */
export function realExplain(args: string): string {
  return readFileSync(join(fixtures, `${args}.txt`), 'utf8');
}

/**
 * What kubectl 1.<minor> should print against Pilote for `kubectl explain <args>`
 * (args joined by spaces, e.g. "deployment.spec.strategy.rollingUpdate --recursive"
 * is the fixture "deployment.spec.strategy.rollingUpdate--recursive").
 */
export function expectedExplain(args: string, minor: number): string {
  let text = realExplain(args.replace(/ /g, ''));
  for (const [real, pilote, why] of DEVIATIONS[args.split(' ')[0]!] ?? []) {
    const at = text.indexOf(real);
    if (at < 0 || text.indexOf(real, at + 1) >= 0) throw new Error(`explain fixture ${args}: the difference "${why}" does not match exactly once`);
    text = text.slice(0, at) + pilote + text.slice(at + real.length);
  }
  if (minor < 30) {
    // Before 1.30 kubectl's template printed no `enum:` line and one blank line fewer after `FIELD:`.
    text = text.replace(/^ *enum: .*\n/gm, '').replace(/^(FIELD: .*\n)\n\n/m, '$1\n');
  }
  return text;
}
