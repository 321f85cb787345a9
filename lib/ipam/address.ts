import { Address4, Address6 } from 'ip-address';

/** IP family, as the CNI result's `version` field names it. */
export type Family = 4 | 6;

/** An address as a family and an unsigned integer value. */
export interface IpAddress {
  family: Family;
  value: bigint;
}

/** A prefix: the address as written (host bits may be set) and the prefix length. */
export interface Prefix {
  family: Family;
  address: bigint;
  length: number;
}

const IPV4_PATTERN = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

export function familyBits(family: Family): number {
  return family === 4 ? 32 : 128;
}

/** Parses a bare IPv4 or IPv6 address; returns undefined for anything else (zones, prefixes). */
export function parseAddress(text: string): IpAddress | undefined {
  if (IPV4_PATTERN.test(text)) {
    return { family: 4, value: new Address4(text).bigInt() };
  }
  if (!text.includes(':') || text.includes('/') || text.includes('%')) return undefined;
  if (!Address6.isValid(text)) return undefined;
  return { family: 6, value: new Address6(text).bigInt() };
}

/** Parses `address/length`; the address part may have host bits set. */
export function parsePrefix(text: string): Prefix | undefined {
  const slash = text.indexOf('/');
  if (slash < 0) return undefined;
  const address = parseAddress(text.slice(0, slash));
  const lengthText = text.slice(slash + 1);
  if (!address || !/^\d{1,3}$/.test(lengthText)) return undefined;
  const length = Number(lengthText);
  if (length > familyBits(address.family)) return undefined;
  return { family: address.family, address: address.value, length };
}

/** Formats an address in its canonical form (RFC 5952 for IPv6). */
export function formatAddress(family: Family, value: bigint): string {
  return family === 4
    ? Address4.fromBigInt(value).correctForm()
    : Address6.fromBigInt(value).correctForm();
}

export function formatPrefix(family: Family, value: bigint, length: number): string {
  return `${formatAddress(family, value)}/${length}`;
}

/** Number of addresses in a prefix of this length. */
export function prefixSize(family: Family, length: number): bigint {
  return 1n << BigInt(familyBits(family) - length);
}

/** Returns the first address of the prefix that contains `value`. */
export function networkAddress(family: Family, value: bigint, length: number): bigint {
  const hostBits = BigInt(familyBits(family) - length);
  return (value >> hostBits) << hostBits;
}

/** An inclusive interval of address values. */
export interface Interval {
  first: bigint;
  last: bigint;
}

export function prefixInterval(prefix: Prefix): Interval {
  const first = networkAddress(prefix.family, prefix.address, prefix.length);
  return { first, last: first + prefixSize(prefix.family, prefix.length) - 1n };
}

export function intervalsOverlap(a: Interval, b: Interval): boolean {
  return a.first <= b.last && b.first <= a.last;
}

/** Orders intervals by their first address. */
export function compareIntervals(a: Interval, b: Interval): number {
  if (a.first === b.first) return 0;
  return a.first < b.first ? -1 : 1;
}

/**
 * Subtracts `holes` from `interval`, returning the remaining pieces in ascending order. Runs in
 * time linear in the number of holes, whatever their size.
 */
export function subtractIntervals(interval: Interval, holes: Interval[]): Interval[] {
  const sorted = holes
    .filter((hole) => intervalsOverlap(hole, interval))
    .sort(compareIntervals);
  const pieces: Interval[] = [];
  let next = interval.first;
  for (const hole of sorted) {
    if (hole.first > next) pieces.push({ first: next, last: hole.first - 1n });
    if (hole.last + 1n > next) next = hole.last + 1n;
    if (next > interval.last) return pieces;
  }
  if (next <= interval.last) pieces.push({ first: next, last: interval.last });
  return pieces;
}
