import type { RequestedAddress } from '../config/load.js';
import { type Interval, formatAddress } from '../ipam/address.js';
import { type AddressRange, availableIntervals, describeRange } from '../ipam/network.js';
import {
  type Owner,
  type ShardData,
  type ShardPlace,
  blockFirst,
  findFree,
  isTaken,
  offsetsInShard,
  placeOf,
  shardKey,
  withReservation,
  withoutReservations,
} from '../ipam/shard.js';
import { candidateBlocks } from '../ipam/walk.js';
import { LockBusyError } from '../errors.js';
import { addressInUse, describeOwner, poolExhausted, shardTooLarge } from './errors.js';
import type { Allocation, Pool } from './pool.js';

/**
 * Tells whether a kept address's holder is another attached container of the pod that `owner`
 * belongs to. Without a pod UID on the holder, the address is taken over.
 */
function isLiveSibling(holder: Owner, owner: Owner): boolean {
  if (holder.detachedAt !== undefined || holder.podUid === undefined) return false;
  return holder.podUid === owner.podUid && holder.containerId !== owner.containerId;
}

/**
 * Largest shard, as JSON, that a reservation writes: the Kubernetes store keeps a shard in one
 * ConfigMap, whose data the API server limits to 1 MiB. Only long names reach it:
 * 1024 owners of about 300 bytes each take 300 KiB.
 */
export const MAX_SHARD_BYTES = 900 * 1024;

function fits(shard: ShardData): boolean {
  return Buffer.byteLength(JSON.stringify(shard)) <= MAX_SHARD_BYTES;
}

/** Busy shards remembered for the second, waiting pass of reserveAny. */
const MAX_SKIPPED_SHARDS = 16;

/**
 * How long the second pass waits for one busy shard before it tries the next: longer than a
 * holder takes to notice a request for its Lease (its renewal period, 1.5 s).
 */
const BUSY_SHARD_WAIT_MS = 2_000;

/** How long the second pass goes on before the ADD fails with code 11. */
const SKIPPED_SHARDS_WAIT_MS = 45_000;

/** The reservations of one ADD, so that a failure can undo them. */
export class ReservationSession {
  private readonly done: Array<{ allocation: Allocation; previous?: Owner }> = [];

  constructor(
    private readonly pool: Pool,
    private readonly owner: Owner,
    private readonly hintKeys: Set<string>,
  ) {}

  /** Adds the shard to the attachment's hint before the shard is written, never after. */
  private async noteShard(key: string): Promise<void> {
    if (this.hintKeys.has(key)) return;
    this.hintKeys.add(key);
    await this.pool.hints.write(this.pool.network, this.owner.containerId, this.owner.ifName, [...this.hintKeys]);
  }

  /**
   * Reserves any free address of the set. The first pass skips shards locked by another writer,
   * so concurrent callers spread over shards instead of queueing. A second pass waits for the
   * skipped shards, in case they contain the only free addresses.
   */
  async reserveAny(setIndex: number, set: AddressRange[]): Promise<Allocation> {
    const skipped: Array<{ range: AddressRange; available: Interval[]; place: ShardPlace }> = [];
    for (const range of set) {
      const available = availableIntervals(range);
      for (const block of candidateBlocks(range.subnetFirst, available, this.pool.startBlock(range))) {
        const place = { ...placeOf(range, range.subnetFirst), block };
        try {
          const allocation = await this.tryShard(setIndex, range, available, place, 0);
          if (allocation) return allocation;
        } catch (error) {
          if (!(error instanceof LockBusyError)) throw error;
          if (skipped.length < MAX_SKIPPED_SHARDS) skipped.push({ range, available, place });
        }
      }
    }
    // Rotate over the busy shards with short waits rather than queue behind one of them.
    const deadline = Date.now() + SKIPPED_SHARDS_WAIT_MS;
    while (skipped.length > 0) {
      for (const entry of [...skipped]) {
        try {
          const allocation = await this.tryShard(setIndex, entry.range, entry.available, entry.place, BUSY_SHARD_WAIT_MS);
          if (allocation) return allocation;
          skipped.splice(skipped.indexOf(entry), 1);
        } catch (error) {
          if (!(error instanceof LockBusyError) || Date.now() > deadline) throw error;
        }
      }
    }
    throw poolExhausted(this.pool.network, setIndex, set.map(describeRange).join(', '));
  }

  private async tryShard(
    setIndex: number,
    range: AddressRange,
    available: Interval[],
    place: ShardPlace,
    lockWaitMs: number | undefined,
  ): Promise<Allocation | undefined> {
    const key = shardKey(place);
    const pieces = offsetsInShard(place, available);
    const offset = await this.pool.updateShard(
      key,
      place,
      (shard) => {
        const free = findFree(shard, pieces);
        if (free === undefined) return undefined;
        const data = withReservation(shard, free, this.owner);
        // A shard without room for another owner record counts as full, so the walk goes on.
        if (!fits(data)) return undefined;
        return { data, value: free };
      },
      () => this.noteShard(key),
      lockWaitMs,
    );
    return offset === undefined ? undefined : this.record(setIndex, range, place, key, offset);
  }

  async reserveExact(setIndex: number, range: AddressRange, requested: RequestedAddress): Promise<Allocation> {
    const place = placeOf(range, requested.value);
    const key = shardKey(place);
    const offset = Number(requested.value - blockFirst(place));
    await this.pool.updateShard(key, place, (shard) => {
      if (isTaken(shard, offset)) {
        const holder = shard.owners[String(offset)];
        if (holder && holder.containerId === this.owner.containerId && holder.ifName === this.owner.ifName) return { value: offset };
        throw addressInUse(this.pool.network, requested, holder ?? { containerId: 'unknown', ifName: 'unknown', allocatedAt: '' });
      }
      const data = withReservation(shard, offset, this.owner);
      if (!fits(data)) throw shardTooLarge(this.pool.network, requested, key);
      return { data, value: offset };
    }, () => this.noteShard(key));
    return this.record(setIndex, range, place, key, offset);
  }

  /**
   * Attaches a StatefulSet pod's kept address to this container. Returns undefined when the
   * address is no longer kept for the pod (freed or taken since it was found), or when another
   * container of the same pod UID still owns it.
   */
  async takeOver(keptAllocation: Allocation): Promise<Allocation | undefined> {
    const range = keptAllocation.range as AddressRange;
    const place = placeOf(range, keptAllocation.address);
    const offset = Number(keptAllocation.address - blockFirst(place));
    const previous = await this.pool.updateShard(keptAllocation.shardKey, place, (shard) => {
      const holder = shard.owners[String(offset)];
      if (!holder || holder.sticky !== this.owner.sticky || holder.ifName !== this.owner.ifName) return undefined;
      // The address passes only to a later pod of the name. Two live containers of one pod (racing
      // ADDs) would otherwise both be handed it, while the store records only the last.
      if (isLiveSibling(holder, this.owner)) return undefined;
      return { data: withReservation(shard, offset, this.owner), value: holder };
    }, () => this.noteShard(keptAllocation.shardKey));
    return previous ? this.record(keptAllocation.setIndex, range, place, keptAllocation.shardKey, offset, previous) : undefined;
  }

  private record(setIndex: number, range: AddressRange, place: ShardPlace, key: string, offset: number, previous?: Owner): Allocation {
    const allocation: Allocation = {
      setIndex,
      range,
      family: range.family,
      prefixLength: range.prefixLength,
      address: blockFirst(place) + BigInt(offset),
      shardKey: key,
      owner: this.owner,
    };
    this.done.push(previous ? { allocation, previous } : { allocation });
    return allocation;
  }

  /** Releases what this session reserved; logs and keeps going if a release fails. */
  async rollback(): Promise<void> {
    for (const { allocation, previous } of this.done) {
      const place = placeOf(allocation.range as AddressRange, allocation.address);
      const offset = Number(allocation.address - blockFirst(place));
      try {
        await this.pool.updateShard(allocation.shardKey, place, (shard) => {
          const holder = shard.owners[String(offset)];
          if (!holder || holder.containerId !== this.owner.containerId || holder.ifName !== this.owner.ifName) return undefined;
          // A kept address that was taken over goes back to its pod rather than to the pool.
          const data = previous ? withReservation(shard, offset, previous) : withoutReservations(shard, [offset]);
          return { data, value: offset };
        });
      } catch (error) {
        const address = formatAddress(allocation.family, allocation.address);
        this.pool.log.error({ err: error, address, owner: describeOwner(this.owner) }, 'failed to release an address after a failed ADD');
      }
    }
  }
}
