import {
  type Family,
  type Interval,
  compareIntervals,
  familyBits,
  formatAddress,
  formatPrefix,
  prefixSize,
  subtractIntervals,
} from './address.js';

/** One range of a range set, resolved to address values. */
export interface AddressRange {
  family: Family;
  /** Network address of the subnet. */
  subnetFirst: bigint;
  prefixLength: number;
  rangeStart: bigint;
  rangeEnd: bigint;
  gateway: bigint | undefined;
  /** Excluded addresses, as intervals, in this range's family. */
  exclude: Interval[];
  /** Configuration path of this range, for messages. */
  path: string;
}

/** A network's address space: what it hands out, independent of how the config spelled it. */
export interface NetworkSpec {
  /** The address space's name: `ipam.network_name`, or the configuration's `name`. */
  name: string;
  /** One address is handed out from each range set. */
  rangeSets: AddressRange[][];
}

export function subnetSize(range: AddressRange): bigint {
  return prefixSize(range.family, range.prefixLength);
}

export function subnetLast(range: AddressRange): bigint {
  return range.subnetFirst + subnetSize(range) - 1n;
}

/**
 * Addresses of the subnet that are never handed out: the IPv4 network and broadcast addresses
 * and the IPv6 all-zeros (subnet-router anycast) address. Point-to-point prefixes (/31 and /127)
 * and single-address prefixes (/32 and /128) have none, as RFC 3021 and RFC 6164 allow.
 */
export function reservedAddresses(range: AddressRange): bigint[] {
  const hostBits = familyBits(range.family) - range.prefixLength;
  if (hostBits <= 1) return [];
  if (range.family === 6) return [range.subnetFirst];
  return [range.subnetFirst, subnetLast(range)];
}

/** Returns the default first address of a range: the first address that is not reserved. */
export function defaultRangeStart(family: Family, subnetFirst: bigint, prefixLength: number): bigint {
  return familyBits(family) - prefixLength <= 1 ? subnetFirst : subnetFirst + 1n;
}

/** Returns the default last address: the broadcast address less one for IPv4, the last for IPv6. */
export function defaultRangeEnd(family: Family, subnetFirst: bigint, prefixLength: number): bigint {
  const last = subnetFirst + prefixSize(family, prefixLength) - 1n;
  if (family === 6 || familyBits(family) - prefixLength <= 1) return last;
  return last - 1n;
}

/**
 * Returns the addresses this range may hand out, as ascending disjoint intervals: rangeStart to rangeEnd
 * less the reserved addresses, the gateway and the exclusions. Its size is bounded by the number
 * of exclusions, never by the size of the range.
 */
export function availableIntervals(range: AddressRange): Interval[] {
  const holes: Interval[] = [...range.exclude];
  for (const value of reservedAddresses(range)) holes.push({ first: value, last: value });
  if (range.gateway !== undefined) holes.push({ first: range.gateway, last: range.gateway });
  return subtractIntervals({ first: range.rangeStart, last: range.rangeEnd }, holes);
}

export function isAvailable(range: AddressRange, value: bigint): boolean {
  return availableIntervals(range).some((piece) => piece.first <= value && value <= piece.last);
}

/** Total number of addresses the range can hand out. */
export function availableCount(range: AddressRange): bigint {
  let total = 0n;
  for (const piece of availableIntervals(range)) total += piece.last - piece.first + 1n;
  return total;
}

export function describeRange(range: AddressRange): string {
  const subnet = formatPrefix(range.family, range.subnetFirst, range.prefixLength);
  const start = formatAddress(range.family, range.rangeStart);
  const end = formatAddress(range.family, range.rangeEnd);
  return `${subnet} (${start} to ${end})`;
}

/** The definition stored once per network and compared on every ADD: addresses only, no paths. */
export interface NetworkDefinition {
  /** The exact network name, as stores record it; checked because object names hash it. */
  network?: string;
  rangeSets: Array<
    Array<{ subnet: string; rangeStart: string; rangeEnd: string; gateway?: string; exclude: string[] }>
  >;
}

/** Sorts intervals and merges overlapping and adjacent ones, so equal sets compare equal. */
export function mergeIntervals(intervals: Interval[]): Interval[] {
  const sorted = [...intervals].sort(compareIntervals);
  const merged: Interval[] = [];
  for (const piece of sorted) {
    const previous = merged.at(-1);
    if (previous && piece.first <= previous.last + 1n) {
      if (piece.last > previous.last) previous.last = piece.last;
    } else {
      merged.push({ ...piece });
    }
  }
  return merged;
}

export function definitionOf(spec: NetworkSpec): NetworkDefinition {
  return {
    rangeSets: spec.rangeSets.map((set) =>
      set.map((range) => {
        const entry: NetworkDefinition['rangeSets'][number][number] = {
          subnet: formatPrefix(range.family, range.subnetFirst, range.prefixLength),
          rangeStart: formatAddress(range.family, range.rangeStart),
          rangeEnd: formatAddress(range.family, range.rangeEnd),
          exclude: mergeIntervals(range.exclude).map(
            (piece) =>
              `${formatAddress(range.family, piece.first)}-${formatAddress(range.family, piece.last)}`,
          ),
        };
        if (range.gateway !== undefined) entry.gateway = formatAddress(range.family, range.gateway);
        return entry;
      }),
    ),
  };
}
