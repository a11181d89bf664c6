/**
 * spec.podFailurePolicy: the first rule matching a failed pod (by the exit
 * code of a terminated container, or by a pod condition) decides whether the
 * failure fails the whole Job (FailJob), fails its index (FailIndex), is not
 * counted against backoffLimit (Ignore) or is counted as usual (Count).
 */
import type { PodFailurePolicy, PodFailurePolicyOnExitCodesRequirement } from 'kubernetes-types/batch/v1.js';
import type { ContainerStatus } from 'kubernetes-types/core/v1.js';
import type { Pod } from './job-util.js';

export type PodFailurePolicyAction = 'FailJob' | 'FailIndex' | 'Ignore' | 'Count';

/** What the policy says about one failed pod. */
export interface PolicyMatch {
  /** Set when a FailJob rule matched: the Job's failure message. */
  failJobMessage?: string;
  /** False when an Ignore rule matched. */
  countFailed: boolean;
  action?: PodFailurePolicyAction;
}

/** matchPodFailurePolicy. */
export function matchPodFailurePolicy(policy: PodFailurePolicy | undefined | null, pod: Pod): PolicyMatch {
  if (!policy) return { countFailed: true };
  const namespace = pod.metadata.namespace ?? '';
  const name = pod.metadata.name ?? '';
  for (const [index, rule] of (policy.rules ?? []).entries()) {
    if (rule.onExitCodes) {
      const container = matchOnExitCodes(pod, rule.onExitCodes);
      if (!container) continue;
      switch (rule.action) {
        case 'Ignore':
          return { countFailed: false, action: 'Ignore' };
        case 'FailIndex':
          return { countFailed: true, action: 'FailIndex' };
        case 'Count':
          return { countFailed: true, action: 'Count' };
        case 'FailJob':
          return {
            countFailed: true,
            action: 'FailJob',
            failJobMessage: `Container ${container.name} for pod ${namespace}/${name} failed with exit code ${container.state?.terminated?.exitCode} matching FailJob rule at index ${index}`,
          };
      }
    } else if (rule.onPodConditions) {
      const condition = (pod.status?.conditions ?? []).find((c) => rule.onPodConditions!.some((p) => p.type === c.type && (p.status ?? 'True') === c.status));
      if (!condition) continue;
      switch (rule.action) {
        case 'Ignore':
          return { countFailed: false, action: 'Ignore' };
        case 'FailIndex':
          return { countFailed: true, action: 'FailIndex' };
        case 'Count':
          return { countFailed: true, action: 'Count' };
        case 'FailJob':
          return {
            countFailed: true,
            action: 'FailJob',
            failJobMessage: `Pod ${namespace}/${name} has condition ${condition.type} matching FailJob rule at index ${index}`,
          };
      }
    }
  }
  return { countFailed: true };
}

function matchOnExitCodes(pod: Pod, requirement: PodFailurePolicyOnExitCodesRequirement): ContainerStatus | undefined {
  return matchingContainer(pod.status?.containerStatuses, requirement) ?? matchingContainer(pod.status?.initContainerStatuses, requirement);
}

/** The first terminated container with a non-zero exit code the requirement matches. */
function matchingContainer(statuses: readonly ContainerStatus[] | undefined, requirement: PodFailurePolicyOnExitCodesRequirement): ContainerStatus | undefined {
  for (const status of statuses ?? []) {
    const terminated = status.state?.terminated;
    if (!terminated) continue;
    if (requirement.containerName && requirement.containerName !== status.name) continue;
    if (terminated.exitCode === 0) continue;
    const listed = requirement.values.includes(terminated.exitCode);
    if (requirement.operator === 'In' ? listed : requirement.operator === 'NotIn' ? !listed : false) return status;
  }
  return undefined;
}
