import { join } from 'node:path';
import { LockBusyError } from '../errors.js';
import type { KubeClient } from './client.js';
import { cacheScope, readCached, writeCached } from './local-cache.js';

/**
 * How long a shard Lease stays valid without renewal. A write takes milliseconds, and a node
 * that keeps a Lease after its write blocks other nodes' writes to that shard for at most this.
 */
export const LEASE_DURATION_SECONDS = 3;

/** Annotation a writer of another node sets to request that the holder give a Lease up. */
export const WANTED_BY_ANNOTATION = 'leasehold.io/wanted-by';

/**
 * After a node gives a Lease up, its own writers leave it alone this long, so that writers of
 * other nodes, polling every MAX_RETRY_DELAY_MS at most, get their turn.
 */
export const YIELD_MS = 500;

/** A cached Lease is trusted only while this much of its duration remains. */
const RENEW_MARGIN_MS = 1_500;

const FIRST_RETRY_DELAY_MS = 5;
const MAX_RETRY_DELAY_MS = 50;

/** The fields of a coordination.k8s.io/v1 Lease that Leasehold reads and writes. */
export interface Lease {
  metadata: { name: string; resourceVersion?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
}

/** A node's record of a Lease it holds. */
interface HeldLease {
  version: string;
  acquiredAt: number;
  renewedAt: number;
  transitions: number;
}

/** A node's record of a shard's Lease: held by it, given up at a time, or held elsewhere. */
type Remembered = HeldLease | { releasedAt: number } | { heldElsewhereUntil: number };

/** RFC 3339 time with microseconds, the MicroTime format Leases use. */
function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Upper bound on the duration a Lease is trusted for. Leasehold's writers renew every 1.5 s, so a
 * Lease not renewed for this long has no live holder, whatever leaseDurationSeconds it states (an
 * edit by hand or another tool).
 */
export const MAX_LEASE_DURATION_SECONDS = 60;

/** Returns the Lease's duration in milliseconds, at most MAX_LEASE_DURATION_SECONDS. */
export function trustedDurationMs(lease: Lease, fallbackSeconds = LEASE_DURATION_SECONDS): number {
  const seconds = lease.spec.leaseDurationSeconds ?? fallbackSeconds;
  return Math.min(seconds, MAX_LEASE_DURATION_SECONDS) * 1000;
}

/** Returns true when the Lease is free: it has no holder, or no renewal within its duration. */
export function isExpired(lease: Lease, now: number): boolean {
  const renewed = Date.parse(lease.spec.renewTime ?? lease.spec.acquireTime ?? '');
  const duration = trustedDurationMs(lease);
  // A renewal time further ahead than one duration is a wrong clock or an edit, not a holder.
  if (renewed > now + duration) return true;
  return !lease.spec.holderIdentity || !Number.isFinite(renewed) || renewed + duration < now;
}

export interface ShardLeasesOptions {
  client: KubeClient;
  namespace: string;
  /** The holder identity: the node name, shared by every plugin process of the node. */
  holder: string;
  /** Node-local directory where held Leases are remembered between processes. */
  cacheDir: string;
  durationSeconds?: number;
}

/**
 * coordination.k8s.io/v1 Leases scoped to one shard, held per node. Callers must already hold
 * the node-local lock of the shard, so one process of the node at a time uses a Lease.
 *
 * A node keeps a Lease across its writes and renews it while it writes, so a node writing to
 * its own shard pays no Lease request per write. A writer of another node that needs the shard
 * annotates the Lease. The holder's next renewal then fails its compare-and-swap, so the holder
 * deletes the Lease and waits YIELD_MS before it competes again. An idle holder's Lease
 * simply expires.
 *
 * NOTE: the hand-over is not fair. The holder may win the Lease back before a slow waiter polls
 * again, and a waiter gives up with code 11 after its wait.
 *
 * A Lease only keeps writers of different nodes from colliding. It is no fence, because a paused
 * holder can outlive it, so every shard write is a compare-and-swap on resourceVersion as well.
 */
export class ShardLeases {
  private readonly base: string;
  private readonly duration: number;

  constructor(private readonly options: ShardLeasesOptions) {
    this.base = `/apis/coordination.k8s.io/v1/namespaces/${options.namespace}/leases`;
    this.duration = options.durationSeconds ?? LEASE_DURATION_SECONDS;
  }

  private cachePath(name: string): string {
    return join(cacheScope(this.options.cacheDir, this.options.client.server, this.options.namespace), 'leases', `${name}.json`);
  }

  private remembered(name: string): Promise<Remembered | undefined> {
    return readCached<Remembered>(this.cachePath(name));
  }

  private remember(name: string, record: Remembered): Promise<void> {
    return writeCached(this.cachePath(name), record);
  }

  private spec(acquiredAt: number, now: number, transitions: number): Lease['spec'] {
    return {
      holderIdentity: this.options.holder,
      leaseDurationSeconds: this.duration,
      acquireTime: microTime(acquiredAt),
      renewTime: microTime(now),
      leaseTransitions: transitions,
    };
  }

  /**
   * Holds the shard's Lease for one write. `waitMs` 0 tries once; when another node holds it,
   * this throws LockBusyError, also once `waitMs` has passed. The returned function ends the
   * write and keeps the Lease for the node's next writer.
   */
  async hold(name: string, labels: Record<string, string>, waitMs: number): Promise<() => Promise<void>> {
    const deadline = Date.now() + waitMs;
    const remembered = await this.remembered(name);
    let renewable: HeldLease | undefined;
    if (remembered && 'heldElsewhereUntil' in remembered) {
      // Seen held by another node a moment ago: a caller that will not wait skips it unasked.
      if (waitMs === 0 && remembered.heldElsewhereUntil > Date.now()) throw new LockBusyError(`Lease ${this.options.namespace}/${name} is held by another node`);
    } else if (remembered && 'releasedAt' in remembered) {
      await this.standBack(name, remembered.releasedAt, deadline);
    } else if (remembered) {
      if (remembered.renewedAt + this.duration * 1000 - RENEW_MARGIN_MS > Date.now()) return async () => undefined;
      renewable = remembered;
    }
    const held = await this.acquire(name, labels, deadline, waitMs, renewable);
    await this.remember(name, held);
    return async () => undefined;
  }

  private async standBack(name: string, releasedAt: number, deadline: number): Promise<void> {
    const wait = releasedAt + YIELD_MS - Date.now();
    if (wait <= 0) return;
    if (Date.now() + wait > deadline) throw new LockBusyError(`Lease ${this.options.namespace}/${name} was just given up by this node; other nodes go first`);
    await sleep(wait);
  }

  /** Gives the Lease up because another node asked for it; only if it is still ours. */
  private async yieldLease(name: string, lease: Lease): Promise<void> {
    await this.remember(name, { releasedAt: Date.now() });
    await this.options.client.request('DELETE', `${this.base}/${name}`, {
      body: { preconditions: { resourceVersion: lease.metadata.resourceVersion } },
      expect: [404, 409],
    });
  }

  /** Requests that the holder give the Lease up at its next renewal. */
  private async askFor(name: string, lease: Lease): Promise<void> {
    if (lease.metadata.annotations?.[WANTED_BY_ANNOTATION] === this.options.holder) return;
    const annotations = { ...lease.metadata.annotations, [WANTED_BY_ANNOTATION]: this.options.holder };
    const body = { ...lease, metadata: { ...lease.metadata, annotations } };
    await this.options.client.request('PUT', `${this.base}/${name}`, { body, expect: [404, 409] });
  }

  private async acquire(name: string, labels: Record<string, string>, deadline: number, waitMs: number, cached: HeldLease | undefined): Promise<HeldLease> {
    const client = this.options.client;
    let delay = FIRST_RETRY_DELAY_MS;
    let renewable = cached;
    for (;;) {
      const now = Date.now();
      if (renewable) {
        // This node has it: renew by compare-and-swap, without reading it first. A conflict
        // means another node has annotated it, or taken it over after it expired.
        const body = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, labels, resourceVersion: renewable.version }, spec: this.spec(renewable.acquiredAt, now, renewable.transitions) };
        const renewed = await client.request<Lease>('PUT', `${this.base}/${name}`, { body, expect: [404, 409] });
        if (renewed.status === 200) return { ...renewable, version: renewed.body.metadata.resourceVersion ?? '', renewedAt: now };
        renewable = undefined;
      }
      const created = await client.request<Lease>('POST', this.base, {
        body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, labels }, spec: this.spec(now, now, 0) },
        expect: [409],
      });
      if (created.status === 201) return { version: created.body.metadata.resourceVersion ?? '', acquiredAt: now, renewedAt: now, transitions: 0 };

      const current = await client.request<Lease>('GET', `${this.base}/${name}`, { expect: [404] });
      if (current.status === 200) {
        const lease = current.body;
        const ours = lease.spec.holderIdentity === this.options.holder;
        const wanted = lease.metadata.annotations?.[WANTED_BY_ANNOTATION];
        if (ours && wanted && wanted !== this.options.holder) {
          await this.yieldLease(name, lease);
          await this.standBack(name, Date.now(), deadline);
        } else if (ours || isExpired(lease, now)) {
          const transitions = (lease.spec.leaseTransitions ?? 0) + (ours ? 0 : 1);
          const annotations = { ...lease.metadata.annotations };
          delete annotations[WANTED_BY_ANNOTATION];
          const takeover = { ...lease, metadata: { ...lease.metadata, annotations }, spec: this.spec(now, now, transitions) };
          const updated = await client.request<Lease>('PUT', `${this.base}/${name}`, { body: takeover, expect: [409] });
          if (updated.status === 200) return { version: updated.body.metadata.resourceVersion ?? '', acquiredAt: now, renewedAt: now, transitions };
        } else {
          // A caller that will not wait moves on to another shard, so it does not ask.
          if (waitMs === 0) {
            const renewed = Date.parse(lease.spec.renewTime ?? '') || now;
            await this.remember(name, { heldElsewhereUntil: Math.min(renewed, now) + trustedDurationMs(lease, this.duration) });
            throw new LockBusyError(`Lease ${this.options.namespace}/${name} is held by ${lease.spec.holderIdentity}`);
          }
          await this.askFor(name, lease);
        }
      }
      if (Date.now() >= deadline) {
        throw new LockBusyError(`timed out after ${waitMs} ms waiting for Lease ${this.options.namespace}/${name}, held by another node; retry`);
      }
      await sleep(delay + Math.random() * delay);
      delay = Math.min(delay * 2, MAX_RETRY_DELAY_MS);
    }
  }
}
