/**
 * Leader election through a coordination.k8s.io Lease (as client-go's
 * leaderelection): a candidate takes the Lease when it is free or expired and
 * renews it; it leads only while its renewals succeed, so two servers never
 * run the same controllers at once.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { KubeObject } from '../../apimachinery/types.js';
import { StatusError } from '../../apimachinery/errors.js';
import { RESOURCES, type ApiClient } from '../../client/types.js';
import { logger } from '../../util/log.js';

const log = logger('leader-election');

export interface LeaderElectionOptions {
  namespace?: string;
  name: string;
  identity?: string;
  leaseDurationSeconds?: number;
  renewIntervalMs?: number;
  /** Called when this candidate becomes leader. */
  onStartedLeading(): void | Promise<void>;
  /** Called when it loses the lease (the process should stop leading at once). */
  onStoppedLeading(): void | Promise<void>;
}

/** Micro-second timestamps, as Lease's MicroTime fields carry them. */
function microTime(date = new Date()): string {
  return date.toISOString().replace('Z', '000Z');
}

/** Runs for the lease until stop() is called. */
export class LeaderElector {
  readonly identity: string;
  private timer?: NodeJS.Timeout;
  private leading = false;
  private stopped = false;

  constructor(
    private readonly client: ApiClient,
    private readonly options: LeaderElectionOptions,
  ) {
    this.identity = options.identity ?? `${hostname()}_${randomBytes(4).toString('hex')}`;
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /** Tries at once, then every renew interval. */
  start(): void {
    void this.tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.leading) {
      this.leading = false;
      await this.options.onStoppedLeading();
      // Release the lease so another candidate can take over at once.
      await this.leases()
        .patch(this.namespace, this.options.name, 'merge', { spec: { holderIdentity: null } })
        .catch(() => undefined);
    }
  }

  private get namespace(): string {
    return this.options.namespace ?? 'kube-system';
  }

  private leases() {
    return this.client.resource(RESOURCES.leases);
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    const held = await this.tryAcquireOrRenew().catch((error: Error) => {
      log.warn('lease update failed', { error: error.message });
      return false;
    });
    if (held && !this.leading && !this.stopped) {
      this.leading = true;
      log.info('became leader', { lease: this.options.name, identity: this.identity });
      await this.options.onStartedLeading();
    } else if (!held && this.leading) {
      this.leading = false;
      log.warn('lost leadership', { lease: this.options.name });
      await this.options.onStoppedLeading();
    }
    if (!this.stopped) {
      this.timer = setTimeout(() => void this.tick(), this.options.renewIntervalMs ?? 2000);
      this.timer.unref();
    }
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const duration = this.options.leaseDurationSeconds ?? 15;
    const now = new Date();
    let lease: KubeObject;
    try {
      lease = await this.leases().get(this.namespace, this.options.name);
    } catch (error) {
      if (!(error instanceof StatusError && error.code === 404)) throw error;
      await this.leases().create(this.namespace, {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: this.options.name, namespace: this.namespace },
        spec: { holderIdentity: this.identity, leaseDurationSeconds: duration, acquireTime: microTime(now), renewTime: microTime(now), leaseTransitions: 0 },
      });
      return true;
    }
    const spec = (lease.spec ?? {}) as { holderIdentity?: string; renewTime?: string; leaseDurationSeconds?: number; leaseTransitions?: number; acquireTime?: string };
    const renewed = spec.renewTime ? Date.parse(spec.renewTime) : 0;
    const expired = renewed + (spec.leaseDurationSeconds ?? duration) * 1000 < now.getTime();
    const ours = spec.holderIdentity === this.identity;
    if (!ours && spec.holderIdentity && !expired) return false;
    const next = {
      ...lease,
      spec: {
        ...spec,
        holderIdentity: this.identity,
        leaseDurationSeconds: duration,
        renewTime: microTime(now),
        acquireTime: ours ? spec.acquireTime : microTime(now),
        leaseTransitions: ours ? (spec.leaseTransitions ?? 0) : (spec.leaseTransitions ?? 0) + 1,
      },
    };
    // The resourceVersion makes this a compare-and-swap: two candidates cannot both win.
    await this.leases().update(this.namespace, next);
    return true;
  }
}
