import { StoreUnavailableError } from '../errors.js';
import type { KubeClient } from './client.js';

/** How long a shard Lease stays valid without renewal. A write takes milliseconds. */
export const LEASE_DURATION_SECONDS = 10;

const FIRST_RETRY_DELAY_MS = 5;
const MAX_RETRY_DELAY_MS = 200;

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

export interface LeaseOptions {
  client: KubeClient;
  namespace: string;
  name: string;
  holder: string;
  labels: Record<string, string>;
  durationSeconds?: number;
  waitMs: number;
}

/**
 * Takes a coordination.k8s.io/v1 Lease: creates it, or takes it over by compare-and-swap once the
 * holder let it expire, waiting while another holder keeps it. Returns a function that deletes
 * it again, only if it is still ours. The Lease keeps writers from colliding; it is no fence,
 * because a paused holder can outlive it, so every shard write is a compare-and-swap as well.
 */
export async function acquireLease(options: LeaseOptions): Promise<() => Promise<void>> {
  const { client, namespace, name, holder } = options;
  const base = `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases`;
  const duration = options.durationSeconds ?? LEASE_DURATION_SECONDS;
  const deadline = Date.now() + options.waitMs;
  let delay = FIRST_RETRY_DELAY_MS;
  const spec = (now: number, transitions: number): Lease['spec'] => ({
    holderIdentity: holder,
    leaseDurationSeconds: duration,
    acquireTime: microTime(now),
    renewTime: microTime(now),
    leaseTransitions: transitions,
  });
  for (;;) {
    const now = Date.now();
    const created = await client.request<Lease>('POST', base, {
      body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, labels: options.labels }, spec: spec(now, 0) },
      expect: [409],
    });
    let held = created.status === 201 ? created.body : undefined;
    if (!held) {
      const current = await client.request<Lease>('GET', `${base}/${name}`, { expect: [404] });
      if (current.status === 200 && isExpired(current.body, now)) {
        const takeover = { ...current.body, spec: spec(now, (current.body.spec.leaseTransitions ?? 0) + 1) };
        const updated = await client.request<Lease>('PUT', `${base}/${name}`, { body: takeover, expect: [409] });
        if (updated.status === 200) held = updated.body;
      }
    }
    if (held) {
      const version = held.metadata.resourceVersion;
      return async () => {
        // Deleting with a precondition removes the Lease only if nobody took it over meanwhile.
        await client
          .request('DELETE', `${base}/${name}`, { body: { preconditions: { resourceVersion: version } }, expect: [404, 409] })
          .catch(() => undefined);
      };
    }
    if (Date.now() >= deadline) {
      throw new StoreUnavailableError(`timed out after ${options.waitMs} ms waiting for Lease ${namespace}/${name}, held by another writer; retry`);
    }
    await sleep(delay + Math.random() * delay);
    delay = Math.min(delay * 2, MAX_RETRY_DELAY_MS);
  }
}
