import { LeaseholdError } from '../errors.js';
import { formatAddress } from '../ipam/address.js';
import { type Owner, type ShardData, blockFirst, placeFromShard, shardInconsistencies } from '../ipam/shard.js';
import type { ShardStore, Versioned } from '../store/types.js';

/** Findings of a scan of every shard of a network. */
export interface ConsistencyReport {
  network: string;
  shards: number;
  /** Every allocated address with its owner. */
  allocations: Array<{ address: string; shard: string; owner: Owner }>;
  /** Addresses recorded in more than one shard. */
  duplicates: string[];
  /** Set bits with no owner record: addresses that no DEL would release. */
  bitsWithoutOwner: string[];
  /** Owner records whose bit is clear: addresses that could be handed out twice. */
  ownersWithoutBit: string[];
  /** Shards whose data, subnet or block cannot be read. */
  unreadable: string[];
}

export function isConsistent(report: ConsistencyReport): boolean {
  return (
    report.duplicates.length === 0 &&
    report.bitsWithoutOwner.length === 0 &&
    report.ownersWithoutBit.length === 0 &&
    report.unreadable.length === 0
  );
}

/** Reads a shard; a damaged one is a finding of the check, not a reason to stop it. */
async function readOrUnreadable(store: ShardStore, network: string, key: string): Promise<Versioned<ShardData> | undefined | 'damaged'> {
  try {
    return await store.readShard(network, key);
  } catch (error) {
    if (error instanceof LeaseholdError && error.code === 'STORE_DATA_INVALID') return 'damaged';
    throw error;
  }
}

/** Returns a report of a network with no shard checked yet. */
export function emptyReport(network: string): ConsistencyReport {
  return { network, shards: 0, allocations: [], duplicates: [], bitsWithoutOwner: [], ownersWithoutBit: [], unreadable: [] };
}

/**
 * Adds one shard's allocations and mismatches to the report. `seen` contains the addresses found
 * in the shards added before, so an address recorded twice is reported.
 */
export function addShard(report: ConsistencyReport, seen: Set<string>, key: string, data: ShardData): void {
  report.shards++;
  const place = placeFromShard(data);
  if (!place) {
    report.unreadable.push(key);
    return;
  }
  const addressAt = (offset: number): string => formatAddress(place.family, blockFirst(place) + BigInt(offset));
  const { bitsWithoutOwner, ownersWithoutBit } = shardInconsistencies(data);
  report.bitsWithoutOwner.push(...bitsWithoutOwner.map(addressAt));
  report.ownersWithoutBit.push(...ownersWithoutBit.map(addressAt));
  for (const [offset, owner] of Object.entries(data.owners)) {
    const address = addressAt(Number(offset));
    if (seen.has(address)) report.duplicates.push(address);
    seen.add(address);
    report.allocations.push({ address, shard: key, owner });
  }
}

/** Reads every shard of a network and checks that bitmaps, owners and addresses agree. */
export async function checkConsistency(store: ShardStore, network: string): Promise<ConsistencyReport> {
  const report = emptyReport(network);
  const seen = new Set<string>();
  for (const key of await store.listShards(network)) {
    const shard = await readOrUnreadable(store, network, key);
    if (shard === 'damaged') report.unreadable.push(key);
    else if (shard) addShard(report, seen, key, shard.data);
  }
  return report;
}
