import { mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LockBusyError } from '../errors.js';
import type { KubeClient } from './client.js';

/**
 * How long a shard Lease stays valid without renewal. A write takes milliseconds, and a node
 * that keeps a Lease after its write blocks other nodes' writes to that shard for at most this.
 */
export const LEASE_DURATION_SECONDS = 3;

/**
 * How long a node keeps a shard's Lease across consecutive writes before it deletes it to give
 * writers on other nodes their turn. Within it, a node's writes cost no Lease requests.
 */
export const MAX_HOLD_MS = 1_000;

/**
 * After a node gives a Lease up, its own writers leave it alone this long, so that writers of
 * other nodes, polling every MAX_RETRY_DELAY_MS at most, get their turn.
 */
export const YIELD_MS = 500;

/** A cached Lease is trusted only while this much of its duration remains. */
const RENEW_MARGIN_MS = 1_500;

const FIRST_RETRY_DELAY_MS = 5;
const MAX_RETRY_DELAY_MS = 50;

interface Lease {
  metadata: { name: string; resourceVersion?: string; labels?: Record<string, string> };
  spec: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
}

/** What a node remembers of a Lease it holds. */
interface HeldLease {
  version: string;
  acquiredAt: number;
  renewedAt: number;
  transitions: number;
}

/** What a node remembers of a shard's Lease: held, or given up at a time. */
type Remembered = HeldLease | { releasedAt: number };

/** RFC 3339 time with microseconds, the MicroTime format Leases use. */
function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function isExpired(lease: Lease, now: number): boolean {
  const renewed = Date.parse(lease.spec.renewTime ?? lease.spec.acquireTime ?? '');
  const duration = (lease.spec.leaseDurationSeconds ?? LEASE_DURATION_SECONDS) * 1000;
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
    return join(this.options.cacheDir, 'kube-cache', 'leases', `${this.options.namespace}.${name}.json`);
  }

  private async remembered(name: string): Promise<Remembered | undefined> {
    try {
      return JSON.parse(await readFile(this.cachePath(name), 'utf8')) as Remembered;
    } catch {
      return undefined;
    }
  }

  private async remember(name: string, held: Remembered | undefined): Promise<void> {
    const path = this.cachePath(name);
    try {
      if (!held) return await unlink(path);
      await mkdir(join(path, '..'), { recursive: true });
      await writeFile(`${path}.${process.pid}.tmp`, JSON.stringify(held));
      await rename(`${path}.${process.pid}.tmp`, path);
    } catch {
      // A lost memory costs one request next time, nothing more.
    }
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
   * Holds the shard's Lease for one write. `waitMs` 0 tries once and throws LockBusyError when
   * another node holds it; otherwise waits up to `waitMs`, then throws StoreUnavailableError.
   * The returned function ends the write; it deletes the Lease once the node has held it for
   * MAX_HOLD_MS.
   */
  async hold(name: string, labels: Record<string, string>, waitMs: number): Promise<() => Promise<void>> {
    const now = Date.now();
    const remembered = await this.remembered(name);
    let cached: HeldLease | undefined;
    if (remembered && 'releasedAt' in remembered) {
      const wait = remembered.releasedAt + YIELD_MS - now;
      if (wait > 0) {
        if (waitMs < wait) throw new LockBusyError(`Lease ${this.options.namespace}/${name} was just given up by this node; other nodes go first`);
        await sleep(wait);
      }
    } else if (remembered) {
      cached = remembered;
      if (cached.renewedAt + this.duration * 1000 - RENEW_MARGIN_MS > now) return () => this.finish(name, remembered);
    }
    const held = await this.acquire(name, labels, waitMs, cached);
    await this.remember(name, held);
    return () => this.finish(name, held);
  }

  private async finish(name: string, held: HeldLease): Promise<void> {
    if (Date.now() - held.acquiredAt < MAX_HOLD_MS) return;
    await this.remember(name, { releasedAt: Date.now() });
    // Deleting with a precondition removes the Lease only if nobody took it over meanwhile.
    await this.options.client
      .request('DELETE', `${this.base}/${name}`, { body: { preconditions: { resourceVersion: held.version } }, expect: [404, 409] })
      .catch(() => undefined);
  }

  private async acquire(name: string, labels: Record<string, string>, waitMs: number, cached: HeldLease | undefined): Promise<HeldLease> {
    const client = this.options.client;
    const deadline = Date.now() + waitMs;
    let delay = FIRST_RETRY_DELAY_MS;
    let renewable = cached;
    for (;;) {
      const now = Date.now();
      if (renewable) {
        // This node held it a moment ago: renew by compare-and-swap, without reading it first.
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
        const ours = current.body.spec.holderIdentity === this.options.holder;
        if (ours || isExpired(current.body, now)) {
          const transitions = (current.body.spec.leaseTransitions ?? 0) + (ours ? 0 : 1);
          const takeover = { ...current.body, spec: this.spec(now, now, transitions) };
          const updated = await client.request<Lease>('PUT', `${this.base}/${name}`, { body: takeover, expect: [409] });
          if (updated.status === 200) return { version: updated.body.metadata.resourceVersion ?? '', acquiredAt: now, renewedAt: now, transitions };
        } else if (waitMs === 0) {
          throw new LockBusyError(`Lease ${this.options.namespace}/${name} is held by ${current.body.spec.holderIdentity}`);
        }
      }
      if (waitMs === 0) throw new LockBusyError(`Lease ${this.options.namespace}/${name} is held by another node`);
      if (Date.now() >= deadline) {
        throw new LockBusyError(`timed out after ${waitMs} ms waiting for Lease ${this.options.namespace}/${name}, held by another node; retry`);
      }
      await sleep(delay + Math.random() * delay);
      delay = Math.min(delay * 2, MAX_RETRY_DELAY_MS);
    }
  }
}
