import { ConflictError, StoreUnavailableError } from '../errors.js';
import { type Owner, type ShardData, withoutReservations } from '../ipam/shard.js';
import type { KubeStore } from '../kube/store.js';
import type { Change } from './plan.js';

/** Compare-and-swap attempts per shard before the run counts it as an error. */
export const MAX_WRITE_ATTEMPTS = 5;

/** Counts of the changes a write applied. */
export interface Applied {
  marked: number;
  cleared: number;
  freed: Array<{ offset: number; owner: Owner }>;
}

/** Returns true when both records are one allocation; a record with other values is a new one. */
function sameAllocation(a: Owner, b: Owner): boolean {
  return (
    a.containerId === b.containerId && a.ifName === b.ifName && a.allocatedAt === b.allocatedAt
  );
}

/**
 * Applies the planned changes to the shard as it is now. A change whose owner record is not the
 * scanned one any more is dropped: the address was released or re-used since the scan. A free
 * also needs the stale mark still in place, so a mark another run cleared stops it.
 */
export function applyChanges(
  data: ShardData,
  changes: Change[],
  now: number,
): { data: ShardData; applied: Applied } {
  const owners = { ...data.owners };
  const applied: Applied = { marked: 0, cleared: 0, freed: [] };
  for (const change of changes) {
    const current = owners[String(change.offset)];
    if (!current || !sameAllocation(current, change.owner)) continue;
    if (change.action === 'mark') {
      owners[String(change.offset)] = {
        ...current,
        stale: { since: new Date(now).toISOString(), reason: change.reason },
      };
      applied.marked++;
    } else if (change.action === 'clear' && current.stale) {
      const { stale: _cleared, ...rest } = current;
      owners[String(change.offset)] = rest;
      applied.cleared++;
    } else if (change.action === 'free' && current.stale) {
      applied.freed.push({ offset: change.offset, owner: current });
    }
  }
  const marked = { ...data, owners };
  const offsets = applied.freed.map((entry) => entry.offset);
  return { data: offsets.length > 0 ? withoutReservations(marked, offsets) : marked, applied };
}

/**
 * Writes the changes to one shard under its Lease, by compare-and-swap on a fresh read. The
 * Lease keeps the plugin's writers out of the way, but the compare-and-swap is the fence: a
 * conflict means the shard changed, so it is read again and every change checked again.
 */
export async function writeChanges(
  store: KubeStore,
  network: string,
  key: string,
  changes: Change[],
  now: number,
): Promise<Applied> {
  const none: Applied = { marked: 0, cleared: 0, freed: [] };
  const lock = await store.lockShard(network, key);
  try {
    for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
      const current = await store.readShard(network, key);
      if (!current) return none;
      const { data, applied } = applyChanges(current.data, changes, now);
      if (applied.marked + applied.cleared + applied.freed.length === 0) return none;
      try {
        await store.writeShard(network, key, data, current.version);
        return applied;
      } catch (error) {
        if (!(error instanceof ConflictError)) throw error;
      }
    }
  } finally {
    await lock.release();
  }
  throw new StoreUnavailableError(
    `shard ${store.shardName(network, key)} kept changing over ${MAX_WRITE_ATTEMPTS} writes; the next run tries again`,
  );
}
