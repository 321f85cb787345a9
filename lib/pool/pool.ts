import type { Log } from '../log.js';
import type { RequestedAddress } from '../config/load.js';
import { CniCode, ConflictError, HintUnreadableError, InvalidConfigError, LeaseholdError, StoreUnavailableError } from '../errors.js';
import { type Family, formatAddress } from '../ipam/address.js';
import {
  type AddressRange,
  type NetworkSpec,
  availableIntervals,
  definitionOf,
  describeRange,
  reservedAddresses,
  subnetLast,
} from '../ipam/network.js';
import {
  type Owner,
  type ShardData,
  type ShardPlace,
  blockFirst,
  findFree,
  newShard,
  offsetsInShard,
  offsetsKeptFor,
  offsetsOwnedBy,
  placeFromShard,
  placeOf,
  shardKey,
  withReleased,
} from '../ipam/shard.js';
import { blockSpan, candidateBlocks } from '../ipam/walk.js';
import { shortHash } from '../store/names.js';
import type { AttachmentHints, ShardStore, Versioned } from '../store/types.js';
import { addressInUse, addressNotAvailable } from './errors.js';
import { ReservationSession } from './reserve.js';

/** Upper bound on the time one command spends retrying write conflicts. */
export const CONFLICT_DEADLINE_MS = 15_000;

const FIRST_RETRY_DELAY_MS = 2;
const MAX_RETRY_DELAY_MS = 100;

/** The attachment CNI calls identify, with its pod when the runtime passes the pod's fields. */
export interface Attachment {
  containerId: string;
  ifName: string;
  podNamespace?: string;
  podName?: string;
  podUid?: string;
  /** `namespace/podName` when the address stays with a StatefulSet pod. */
  sticky?: string;
}

/** One address held by an attachment. */
export interface Allocation {
  /** The range set it was handed out from; -1 when no configured range contains it. */
  setIndex: number;
  range: AddressRange | undefined;
  family: Family;
  prefixLength: number;
  address: bigint;
  shardKey: string;
  owner: Owner;
}

export interface PoolOptions {
  store: ShardStore;
  hints: AttachmentHints;
  spec: NetworkSpec;
  log: Log;
  /**
   * Name of this node, which picks the block where its search starts. Distributed stores set it
   * so that nodes fill different shards; without it every search starts at the first block.
   */
  nodeName?: string;
  conflictDeadlineMs?: number;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Returns why a range cannot hand out this address, or undefined when it can. */
function unavailableReason(range: AddressRange, value: bigint): string | undefined {
  const where = describeRange(range);
  if (value < range.subnetFirst || value > subnetLast(range)) return 'outside-subnet';
  if (reservedAddresses(range).includes(value)) return `it is the network or broadcast address of ${where}`;
  if (value === range.gateway) return `it is the gateway of ${where}`;
  if (value < range.rangeStart || value > range.rangeEnd) return `it is outside the range ${where}`;
  if (!availableIntervals(range).some((piece) => piece.first <= value && value <= piece.last)) {
    return `it is excluded in ${where}`;
  }
  return undefined;
}

/** Allocation and release on one network, over any ShardStore. */
export class Pool {
  readonly store: ShardStore;
  readonly hints: AttachmentHints;
  readonly spec: NetworkSpec;
  readonly log: Log;
  readonly network: string;

  constructor(private readonly options: PoolOptions) {
    this.store = options.store;
    this.hints = options.hints;
    this.spec = options.spec;
    this.log = options.log;
    this.network = options.spec.name;
  }

  /**
   * Records the network's definition on first use, and rejects a configuration whose ranges
   * differ from the recorded ones, so two NADs can never carve one pool two ways.
   */
  async checkDefinition(): Promise<void> {
    const wanted = definitionOf(this.spec);
    const recorded = (await this.store.readDefinition(this.network)) ?? (await this.store.createDefinition(this.network, wanted));
    if (recorded.network !== undefined && recorded.network !== this.network) {
      throw new InvalidConfigError([
        {
          path: 'name',
          message: `network "${this.network}" maps to the same stored objects as network "${recorded.network}"; rename one of them (ipam.network_name)`,
        },
      ]);
    }
    const recordedSets = JSON.stringify(recorded.rangeSets);
    if (recordedSets !== JSON.stringify(wanted.rangeSets)) {
      throw new InvalidConfigError([
        {
          path: 'ipam.ranges',
          message: `network "${this.network}" is already defined with other ranges (${recordedSets}); this configuration has ${JSON.stringify(wanted.rangeSets)}. Use the same ranges, or another network_name for a separate pool`,
        },
      ]);
    }
  }

  /** Rejects a shard of another network that maps to the same stored object. */
  private owned(key: string, shard: Versioned<ShardData> | undefined): Versioned<ShardData> | undefined {
    if (shard && shard.data.network !== this.network) {
      throw new LeaseholdError('STORE_DATA_INVALID', CniCode.STORE_DATA_INVALID, `shard ${key} stored for network "${this.network}" belongs to network "${shard.data.network}"; rename one of the networks (ipam.network_name)`);
    }
    return shard;
  }

  /** Finds the addresses an attachment holds, through its hint or, failing that, a scan. */
  async find(attachment: Attachment, scanWithoutHint: boolean): Promise<Allocation[]> {
    const keys = await this.hintedOrAll(attachment, scanWithoutHint);
    const found: Allocation[] = [];
    for (const key of keys) {
      const shard = this.owned(key, await this.store.readShard(this.network, key));
      if (shard) found.push(...this.allocationsIn(key, shard.data, attachment));
    }
    return found.filter((allocation) => allocation.setIndex >= 0).sort((a, b) => a.setIndex - b.setIndex);
  }

  private async hintedOrAll(attachment: Attachment, scanWithoutHint: boolean): Promise<string[]> {
    const hinted = await this.readHint(attachment);
    if (hinted === 'damaged') return this.store.listShards(this.network);
    if (hinted) return hinted;
    return scanWithoutHint ? this.store.listShards(this.network) : [];
  }

  /** Reads the attachment's hint; a damaged hint is logged and reported as 'damaged'. */
  private async readHint(attachment: Attachment): Promise<string[] | undefined | 'damaged'> {
    try {
      return await this.hints.read(this.network, attachment.containerId, attachment.ifName);
    } catch (error) {
      if (!(error instanceof HintUnreadableError)) throw error;
      this.log.warn({ err: error }, 'attachment hint damaged, scanning the network instead');
      return 'damaged';
    }
  }

  private allocationsIn(key: string, shard: ShardData, attachment: Attachment): Allocation[] {
    const offsets = offsetsOwnedBy(shard, attachment.containerId, attachment.ifName);
    return offsets.flatMap((offset) => {
      const allocation = this.locate(key, shard, offset);
      return allocation ? [allocation] : [];
    });
  }

  /** Turns a shard offset back into an address and, when configured, its range set. */
  locate(key: string, shard: ShardData, offset: number): Allocation | undefined {
    const place = placeFromShard(shard);
    if (!place) {
      this.log.warn({ shard: key }, 'shard names no valid subnet or block');
      return undefined;
    }
    const address = blockFirst(place) + BigInt(offset);
    const allocation: Allocation = {
      setIndex: -1,
      range: undefined,
      family: place.family,
      prefixLength: place.prefixLength,
      address,
      shardKey: key,
      owner: shard.owners[String(offset)] as Owner,
    };
    for (const [setIndex, set] of this.spec.rangeSets.entries()) {
      for (const range of set) {
        if (range.family !== place.family || range.subnetFirst !== place.subnetFirst) continue;
        if (range.prefixLength !== place.prefixLength) continue;
        if (address < range.rangeStart || address > range.rangeEnd) continue;
        return { ...allocation, setIndex, range };
      }
    }
    return allocation;
  }

  /**
   * Reserves one address per range set for the attachment. Sets that already hold an address
   * for it keep that address, so a repeated ADD allocates nothing new. If any set fails, what
   * this call reserved in the others is released again.
   */
  async allocate(attachment: Attachment, requested: RequestedAddress[]): Promise<Allocation[]> {
    const wanted = this.matchRequested(requested);
    const read = await this.readHint(attachment);
    // A damaged hint is rewritten from a scan: the shards that already hold the attachment.
    const existing = await this.find(attachment, read === 'damaged');
    const hinted = read === 'damaged' ? [...new Set(existing.map((allocation) => allocation.shardKey))] : read;
    const hintKeys = new Set(hinted ?? []);
    await this.checkRequestedFree(wanted, existing, attachment);
    const owner: Owner = { containerId: attachment.containerId, ifName: attachment.ifName, allocatedAt: new Date().toISOString() };
    if (this.options.nodeName) owner.node = this.options.nodeName;
    for (const key of ['podNamespace', 'podName', 'podUid', 'sticky'] as const) {
      if (attachment[key]) owner[key] = attachment[key];
    }
    const missing = this.spec.rangeSets.some((_, setIndex) => !existing.some((allocation) => allocation.setIndex === setIndex));
    const keptAllocations = attachment.sticky && missing ? await this.keptFor(attachment) : [];
    const session = new ReservationSession(this, owner, hintKeys);
    const result: Allocation[] = [];
    // Sets with a requested address go first: the request that can fail on a taken address then
    // fails before any other set has written anything.
    const order = [...this.spec.rangeSets.entries()].sort(([a], [b]) => Number(!wanted.has(a)) - Number(!wanted.has(b)) || a - b);
    try {
      for (const [setIndex, set] of order) {
        const held = existing.find((allocation) => allocation.setIndex === setIndex);
        const request = wanted.get(setIndex);
        if (held) {
          if (request && request.address.value !== held.address) {
            throw addressNotAvailable(this.network, request.address, `container ${attachment.containerId} interface ${attachment.ifName} already has ${formatAddress(held.family, held.address)} from this range set; DEL the attachment before requesting another address`);
          }
          result.push(held);
          continue;
        }
        // TODO: a requested address wins over the kept one, which then stays kept, unused, until the
        // StatefulSet loses the pod's ordinal.
        const keep = request ? undefined : keptAllocations.find((allocation) => allocation.setIndex === setIndex);
        const takenOver = keep ? await session.takeOver(keep) : undefined;
        const allocation =
          takenOver ??
          (request ? await session.reserveExact(setIndex, request.range, request.address) : await session.reserveAny(setIndex, set));
        result.push(allocation);
      }
    } catch (error) {
      await session.rollback();
      // After a store failure a write may have been applied without a response. The hint keeps
      // pointing at that shard, so the runtime's retry finds the address.
      if (!(error instanceof StoreUnavailableError)) await this.restoreHint(attachment, hinted, hintKeys.size);
      throw error;
    }
    if (read === 'damaged') await this.hints.write(this.network, attachment.containerId, attachment.ifName, [...hintKeys]);
    return result.sort((a, b) => a.setIndex - b.setIndex);
  }

  /**
   * Finds the addresses kept for a StatefulSet pod's interface by an earlier pod of the same
   * name, on any node. Kept addresses have no hint on this node, so every shard that may have a
   * StatefulSet owner is read.
   */
  private async keptFor(attachment: Attachment): Promise<Allocation[]> {
    const found: Allocation[] = [];
    for (const key of await this.store.listShards(this.network, { sticky: true })) {
      const shard = this.owned(key, await this.store.readShard(this.network, key));
      if (!shard) continue;
      for (const offset of offsetsKeptFor(shard.data, attachment.sticky as string, attachment.ifName)) {
        const allocation = this.locate(key, shard.data, offset);
        if (allocation && allocation.setIndex >= 0) found.push(allocation);
      }
    }
    return found;
  }

  /** Fails before any write when a requested address is already held by another attachment. */
  private async checkRequestedFree(
    wanted: Map<number, { range: AddressRange; address: RequestedAddress }>,
    existing: Allocation[],
    attachment: Attachment,
  ): Promise<void> {
    for (const [setIndex, { range, address }] of wanted) {
      if (existing.some((allocation) => allocation.setIndex === setIndex)) continue;
      const place = placeOf(range, address.value);
      const shard = this.owned(shardKey(place), await this.store.readShard(this.network, shardKey(place)));
      const holder = shard?.data.owners[String(Number(address.value - blockFirst(place)))];
      if (holder && (holder.containerId !== attachment.containerId || holder.ifName !== attachment.ifName)) {
        throw addressInUse(this.network, address, holder);
      }
    }
  }

  /** Puts the hint back as it was before a failed ADD, so a failure leaves no trace. */
  private async restoreHint(attachment: Attachment, before: string[] | undefined, sizeNow: number): Promise<void> {
    if ((before?.length ?? 0) === sizeNow) return;
    try {
      if (before) await this.hints.write(this.network, attachment.containerId, attachment.ifName, before);
      else await this.hints.remove(this.network, attachment.containerId, attachment.ifName);
    } catch (error) {
      this.log.warn({ err: error }, 'failed to restore the attachment hint after a failed ADD');
    }
  }

  /**
   * Maps each requested address to the range set and range that can hand it out. Pure, so ADD
   * calls it before anything is written.
   */
  matchRequested(requested: RequestedAddress[]): Map<number, { range: AddressRange; address: RequestedAddress }> {
    const matches = new Map<number, { range: AddressRange; address: RequestedAddress }>();
    for (const address of requested) {
      let match: { setIndex: number; range: AddressRange } | undefined;
      let reason = `it is outside every range (${this.describeAll(address.family)})`;
      for (const [setIndex, set] of this.spec.rangeSets.entries()) {
        for (const range of set) {
          if (range.family !== address.family) continue;
          const why = unavailableReason(range, address.value);
          if (why === undefined) match = { setIndex, range };
          else if (why !== 'outside-subnet') reason = why;
        }
      }
      if (!match) throw addressNotAvailable(this.network, address, reason);
      if (address.prefixLength !== undefined && address.prefixLength !== match.range.prefixLength) {
        throw addressNotAvailable(this.network, address, `it is requested with prefix length /${address.prefixLength}, but its range ${describeRange(match.range)} has /${match.range.prefixLength}; drop the prefix length or use /${match.range.prefixLength}`);
      }
      if (matches.has(match.setIndex)) {
        throw addressNotAvailable(this.network, address, `another requested address already takes range set ${match.setIndex}, which hands out one address per attachment`);
      }
      matches.set(match.setIndex, { range: match.range, address });
    }
    return matches;
  }

  private describeAll(family: number): string {
    const ranges = this.spec.rangeSets.flat().filter((range) => range.family === family);
    return ranges.length === 0 ? `no IPv${family} range is configured` : ranges.map(describeRange).join(', ');
  }

  /**
   * Returns the block where this node starts its search in a range. With a node name the block
   * comes from its hash, so nodes of a cluster write to different shards; without one it is the
   * range's first block.
   */
  startBlock(range: AddressRange): bigint {
    const span = blockSpan(range.subnetFirst, availableIntervals(range));
    if (!this.options.nodeName || span.count <= 1n) return span.first;
    const hash = BigInt(`0x${shortHash(this.options.nodeName, 12)}`);
    return span.first + (hash % span.count);
  }

  /**
   * Runs `change` on the current content of a shard and writes the result by compare-and-swap
   * under the shard's lock, retrying conflicts until the deadline. `change` returns undefined
   * to leave the shard as it is.
   */
  async updateShard<T>(
    key: string,
    place: ShardPlace,
    change: (shard: ShardData) => { data: ShardData; value: T } | { value: T } | undefined,
    beforeWrite?: () => Promise<void>,
    lockWaitMs?: number,
  ): Promise<T | undefined> {
    const peek = this.store.readShardCached ?? this.store.readShard;
    let current: Versioned<ShardData> | undefined = this.owned(key, await peek.call(this.store, this.network, key));
    let first: ReturnType<typeof change>;
    let staleDecision = false;
    try {
      first = change(current?.data ?? newShard(this.network, place));
    } catch (error) {
      if (!this.store.readShardCached) throw error;
      staleDecision = true;
    }
    if (this.store.readShardCached && (staleDecision || first === undefined || !('data' in first))) {
      // A local copy may be stale: "full", "taken" or "nothing to release" must come from the store.
      current = this.owned(key, await this.store.readShard(this.network, key));
      first = change(current?.data ?? newShard(this.network, place));
    }
    if (first === undefined || !('data' in first)) return first?.value;

    const lock = await this.store.lockShard(this.network, key, lockWaitMs);
    const deadline = Date.now() + (this.options.conflictDeadlineMs ?? CONFLICT_DEADLINE_MS);
    let delay = FIRST_RETRY_DELAY_MS;
    let conflicts = 0;
    try {
      let outcome: { data: ShardData; value: T } | { value: T } | undefined = first;
      for (;;) {
        if (outcome === undefined || !('data' in outcome)) return outcome?.value;
        await beforeWrite?.();
        try {
          await this.store.writeShard(this.network, key, outcome.data, current?.version);
          return outcome.value;
        } catch (error) {
          if (!(error instanceof ConflictError)) throw error;
          if (Date.now() > deadline) {
            throw new StoreUnavailableError(`gave up after ${this.options.conflictDeadlineMs ?? CONFLICT_DEADLINE_MS} ms of write conflicts on shard ${key} of network "${this.network}"; retry`, { cause: error });
          }
          this.log.debug({ shard: key }, 'write conflict, retrying');
        }
        // The first conflict only means another writer finished before this one got the lock:
        // read again at once. Later ones mean the lock did not exclude a writer, so back off.
        if (conflicts++ > 0) {
          await sleep(delay + Math.random() * delay);
          delay = Math.min(delay * 2, MAX_RETRY_DELAY_MS);
        }
        current = this.owned(key, await this.store.readShard(this.network, key));
        outcome = change(current?.data ?? newShard(this.network, place));
      }
    } finally {
      await lock.release();
    }
  }

  /** Releases every address of the attachment; succeeds when it holds none. */
  async release(attachment: Attachment): Promise<Allocation[]> {
    const keys = await this.hintedOrAll(attachment, true);
    const released: Allocation[] = [];
    for (const key of keys) {
      const place = await this.placeOfKey(key);
      if (!place) continue;
      const freed = await this.updateShard(key, place, (shard) => {
        const offsets = offsetsOwnedBy(shard, attachment.containerId, attachment.ifName);
        if (offsets.length === 0) return { value: [] as Allocation[] };
        const allocations = this.allocationsIn(key, shard, attachment);
        return { data: withReleased(shard, offsets, new Date().toISOString()), value: allocations };
      });
      released.push(...(freed ?? []));
    }
    await this.hints.remove(this.network, attachment.containerId, attachment.ifName);
    return released;
  }

  private async placeOfKey(key: string): Promise<ShardPlace | undefined> {
    const shard = await this.store.readShard(this.network, key);
    return shard ? placeFromShard(shard.data) : undefined;
  }

  /**
   * Releases every allocation whose attachment is not in `valid` (keys "containerId/ifName") and
   * that is at least `minAgeMs` old. Carries on past a failing shard and reports the failures at
   * the end.
   *
   * NOTE: `valid` is the runtime's list from before the call, so it misses an ADD that finished
   * after the list was built. Such an allocation is younger than `minAgeMs` unless the runtime
   * waited longer than that between building the list and calling GC; then it is released, and
   * a later ADD can hand its address out again.
   */
  async garbageCollect(valid: Set<string>, minAgeMs = 0): Promise<{ released: Allocation[]; failures: Error[] }> {
    const newest = Date.now() - minAgeMs;
    const released: Allocation[] = [];
    const failures: Error[] = [];
    for (const key of await this.store.listShards(this.network)) {
      try {
        const place = await this.placeOfKey(key);
        if (!place) continue;
        const freed = await this.updateShard(key, place, (shard) => {
          // A runtime's list names only its own node's attachments, so with a shared store GC
          // frees only what this node allocated.
          const stale = Object.entries(shard.owners).filter(
            ([, owner]) =>
              owner.detachedAt === undefined &&
              this.isLocal(owner) &&
              !valid.has(`${owner.containerId}/${owner.ifName}`) &&
              // An unreadable time counts as old, so a damaged record cannot pin its address.
              !(Date.parse(owner.allocatedAt) > newest),
          );
          if (stale.length === 0) return { value: [] as Allocation[] };
          const offsets = stale.map(([offset]) => Number(offset));
          const allocations = offsets.flatMap((offset) => this.locate(key, shard, offset) ?? []);
          return { data: withReleased(shard, offsets, new Date().toISOString()), value: allocations };
        });
        for (const allocation of freed ?? []) {
          released.push(allocation);
          await this.hints.remove(this.network, allocation.owner.containerId, allocation.owner.ifName);
        }
      } catch (error) {
        this.log.warn({ shard: key, err: error }, 'garbage collection failed on a shard, continuing');
        failures.push(error as Error);
      }
    }
    return { released, failures };
  }

  private isLocal(owner: Owner): boolean {
    return this.options.nodeName === undefined || owner.node === this.options.nodeName;
  }

  /** Whether each range set still has a free address; returns the sets that have none. */
  async exhaustedSets(): Promise<number[]> {
    const exhausted: number[] = [];
    for (const [setIndex, set] of this.spec.rangeSets.entries()) {
      let free = false;
      for (const range of set) {
        free = await this.hasFreeAddress(range);
        if (free) break;
      }
      if (!free) exhausted.push(setIndex);
    }
    return exhausted;
  }

  private async hasFreeAddress(range: AddressRange): Promise<boolean> {
    const available = availableIntervals(range);
    for (const block of candidateBlocks(range.subnetFirst, available, this.startBlock(range))) {
      const place = { ...placeOf(range, range.subnetFirst), block };
      const shard = await this.store.readShard(this.network, shardKey(place));
      if (!shard || findFree(shard.data, offsetsInShard(place, available)) !== undefined) return true;
    }
    return false;
  }

}

