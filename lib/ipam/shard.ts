import { type Family, type Interval, familyBits, formatAddress, formatPrefix, parsePrefix } from './address.js';
import type { AddressRange } from './network.js';

/**
 * Addresses per shard. A full shard contains 1024 owner records of about 300 bytes of JSON each
 * (a 64-character container ID, pod namespace, name and UID, interface and timestamp), so about
 * 300 KiB plus a 172-byte bitmap: far under the 1 MiB limit of a Kubernetes object.
 */
export const SHARD_SIZE = 1024;

const SHARD_SIZE_BIG = BigInt(SHARD_SIZE);

/** The owner of one allocated address. */
export interface Owner {
  containerId: string;
  ifName: string;
  podNamespace?: string;
  podName?: string;
  podUid?: string;
  /** The node that made the allocation, with the Kubernetes store. */
  node?: string;
  /** ISO 8601 time of the allocation. */
  allocatedAt: string;
  /**
   * Set on addresses that stay with a StatefulSet pod: `namespace/podName`. A DEL detaches such an
   * address instead of freeing it, and the next pod of that name gets it back.
   */
  sticky?: string;
  /** ISO 8601 time of the DEL that detached a sticky address; absent while a container owns it. */
  detachedAt?: string;
  /** Set by the reconciler when it first finds the owner gone; cleared when the owner is live again. */
  stale?: { since: string; reason: string };
}

/**
 * One fixed-size block of a subnet: a bitmap of its addresses and the owner of every set bit.
 * Stored as JSON by every backend.
 */
export interface ShardData {
  network: string;
  /** The subnet in canonical form, such as 10.0.0.0/16. */
  subnet: string;
  /** Block number within the subnet, in decimal. */
  block: string;
  /** Number of addresses the bitmap covers. */
  size: number;
  /** The bitmap, base64: bit i (least significant first within a byte) is address first + i. */
  bitmap: string;
  /** Offset of the most recent allocation; the next search starts after it. */
  last: number;
  /** Owner records keyed by offset within the block, in decimal. */
  owners: Record<string, Owner>;
}

/** Position of a shard: enough to name it and to turn offsets into addresses. */
export interface ShardPlace {
  family: Family;
  subnetFirst: bigint;
  prefixLength: number;
  block: bigint;
}

/**
 * Checks that stored JSON has the shape of a shard, so that damaged data fails loudly instead of
 * reading as an empty shard. Returns a description of the first problem, or undefined.
 */
export function shardProblem(value: unknown): string | undefined {
  const shard = value as Partial<ShardData> | null;
  if (shard === null || typeof shard !== 'object') return 'not an object';
  if (typeof shard.network !== 'string') return 'no network';
  if (typeof shard.subnet !== 'string' || !parsePrefix(shard.subnet)) return 'no valid subnet';
  if (typeof shard.block !== 'string' || !/^\d+$/.test(shard.block)) return 'no valid block';
  const size = shard.size;
  if (typeof size !== 'number' || !Number.isInteger(size) || size < 1 || size > SHARD_SIZE) return `invalid size ${String(size)}`;
  if (typeof shard.bitmap !== 'string' || Buffer.from(shard.bitmap, 'base64').length !== Math.ceil(size / 8)) return 'bitmap does not match the size';
  if (typeof shard.last !== 'number' || !Number.isInteger(shard.last) || shard.last < -1 || shard.last >= size) return 'invalid last offset';
  if (shard.owners === null || typeof shard.owners !== 'object') return 'no owners';
  for (const [offset, owner] of Object.entries(shard.owners)) {
    const index = Number(offset);
    if (!Number.isInteger(index) || index < 0 || index >= size) return `owner at invalid offset ${offset}`;
    if (typeof owner?.containerId !== 'string' || typeof owner.ifName !== 'string') return `owner at offset ${offset} lacks containerId or ifName`;
  }
  return undefined;
}

/** Reads the position of a stored shard from its own subnet and block fields. */
export function placeFromShard(shard: ShardData): ShardPlace | undefined {
  const prefix = parsePrefix(shard.subnet);
  if (!prefix || !/^\d+$/.test(shard.block)) return undefined;
  return { family: prefix.family, subnetFirst: prefix.address, prefixLength: prefix.length, block: BigInt(shard.block) };
}

export function placeOf(range: AddressRange, value: bigint): ShardPlace {
  return {
    family: range.family,
    subnetFirst: range.subnetFirst,
    prefixLength: range.prefixLength,
    block: (value - range.subnetFirst) / SHARD_SIZE_BIG,
  };
}

export function blockFirst(place: ShardPlace): bigint {
  return place.subnetFirst + place.block * SHARD_SIZE_BIG;
}

export function blockSize(place: ShardPlace): number {
  const subnet = 1n << BigInt(familyBits(place.family) - place.prefixLength);
  return subnet < SHARD_SIZE_BIG ? Number(subnet) : SHARD_SIZE;
}

/**
 * Returns a stable, DNS-1123-safe name for a shard within its network: family, subnet address in hex,
 * prefix length and block in hex. Every spelling of an IPv6 subnet gives the same name.
 */
export function shardKey(place: ShardPlace): string {
  const digits = place.family === 4 ? 8 : 32;
  const subnet = place.subnetFirst.toString(16).padStart(digits, '0');
  return `v${place.family}-${subnet}-${place.prefixLength}-${place.block.toString(16)}`;
}

export function newShard(network: string, place: ShardPlace): ShardData {
  const size = blockSize(place);
  return {
    network,
    subnet: formatPrefix(place.family, place.subnetFirst, place.prefixLength),
    block: place.block.toString(),
    size,
    bitmap: Buffer.alloc(Math.ceil(size / 8)).toString('base64'),
    last: -1,
    owners: {},
  };
}

function readBitmap(shard: ShardData): Buffer {
  return Buffer.from(shard.bitmap, 'base64');
}

export function isSet(bits: Buffer, offset: number): boolean {
  return ((bits[offset >> 3] ?? 0) & (1 << (offset & 7))) !== 0;
}

function setBit(bits: Buffer, offset: number, value: boolean): void {
  const index = offset >> 3;
  const mask = 1 << (offset & 7);
  bits[index] = value ? (bits[index] ?? 0) | mask : (bits[index] ?? 0) & ~mask;
}

/** Returns the pieces of `available` inside this shard, as offsets within the block. */
export function offsetsInShard(place: ShardPlace, available: Interval[]): Array<[number, number]> {
  const first = blockFirst(place);
  const last = first + BigInt(blockSize(place)) - 1n;
  const pieces: Array<[number, number]> = [];
  for (const piece of available) {
    if (piece.last < first || piece.first > last) continue;
    const from = piece.first > first ? piece.first : first;
    const to = piece.last < last ? piece.last : last;
    pieces.push([Number(from - first), Number(to - first)]);
  }
  return pieces;
}

/**
 * Finds a free offset within `pieces`, searching from just after the most recent allocation and
 * wrapping, so that a just-released address is not handed out again at once.
 */
export function findFree(shard: ShardData, pieces: Array<[number, number]>): number | undefined {
  const bits = readBitmap(shard);
  const scan = (from: number, to: number): number | undefined => {
    for (const [low, high] of pieces) {
      for (let offset = Math.max(low, from); offset <= Math.min(high, to); offset++) {
        // An owner record without its bit still marks the address as taken.
        if (!isSet(bits, offset) && shard.owners[String(offset)] === undefined) return offset;
      }
    }
    return undefined;
  };
  const start = shard.last + 1;
  return scan(start, shard.size - 1) ?? scan(0, start - 1);
}

export function isTaken(shard: ShardData, offset: number): boolean {
  return isSet(readBitmap(shard), offset) || shard.owners[String(offset)] !== undefined;
}

/** Returns a copy of the shard with `offset` set and owned by `owner`. */
export function withReservation(shard: ShardData, offset: number, owner: Owner): ShardData {
  const bits = readBitmap(shard);
  setBit(bits, offset, true);
  return {
    ...shard,
    bitmap: bits.toString('base64'),
    last: offset,
    owners: { ...shard.owners, [String(offset)]: owner },
  };
}

/** Returns a copy of the shard with the given offsets cleared and their owners removed. */
export function withoutReservations(shard: ShardData, offsets: number[]): ShardData {
  const bits = readBitmap(shard);
  const owners = { ...shard.owners };
  for (const offset of offsets) {
    setBit(bits, offset, false);
    delete owners[String(offset)];
  }
  return { ...shard, bitmap: bits.toString('base64'), owners };
}

/**
 * Returns a copy of the shard where the given offsets are released: sticky addresses stay set and
 * are marked detached at `at`, the others are cleared.
 */
export function withReleased(shard: ShardData, offsets: number[], at: string): ShardData {
  const sticky = offsets.filter((offset) => shard.owners[String(offset)]?.sticky !== undefined);
  const plain = offsets.filter((offset) => !sticky.includes(offset));
  const cleared = withoutReservations(shard, plain);
  const owners = { ...cleared.owners };
  for (const offset of sticky) {
    const { stale: _stale, ...owner } = owners[String(offset)] as Owner;
    owners[String(offset)] = { ...owner, detachedAt: at };
  }
  return { ...cleared, owners };
}

/** Offsets held for a StatefulSet pod's interface, attached to a container or not. */
export function offsetsKeptFor(shard: ShardData, sticky: string, ifName: string): number[] {
  return Object.entries(shard.owners)
    .filter(([, owner]) => owner.sticky === sticky && owner.ifName === ifName)
    .map(([offset]) => Number(offset));
}

/**
 * Offsets owned by this attachment: the pair (containerId, ifName) that CNI calls identify. A
 * detached sticky address belongs to no container any more.
 */
export function offsetsOwnedBy(shard: ShardData, containerId: string, ifName: string): number[] {
  return Object.entries(shard.owners)
    .filter(([, owner]) => owner.containerId === containerId && owner.ifName === ifName && owner.detachedAt === undefined)
    .map(([offset]) => Number(offset));
}

export function addressAt(place: ShardPlace, offset: number): string {
  return formatAddress(place.family, blockFirst(place) + BigInt(offset));
}

/** Number of set bits. */
export function countAllocated(shard: ShardData): number {
  let count = 0;
  for (const byte of readBitmap(shard)) {
    let rest = byte;
    while (rest !== 0) {
      rest &= rest - 1;
      count++;
    }
  }
  return count;
}

/** Differences between the bitmap and the owner records: each must account for the other. */
export function shardInconsistencies(shard: ShardData): { bitsWithoutOwner: number[]; ownersWithoutBit: number[] } {
  const bits = readBitmap(shard);
  const bitsWithoutOwner: number[] = [];
  for (let offset = 0; offset < shard.size; offset++) {
    if (isSet(bits, offset) && shard.owners[String(offset)] === undefined) bitsWithoutOwner.push(offset);
  }
  const ownersWithoutBit = Object.keys(shard.owners)
    .map(Number)
    .filter((offset) => !isSet(bits, offset));
  return { bitsWithoutOwner, ownersWithoutBit };
}
