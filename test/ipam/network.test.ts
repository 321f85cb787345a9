import { describe, expect, it } from 'vitest';
import { parsePrefix } from '../../lib/ipam/address.js';
import {
  type AddressRange,
  availableIntervals,
  defaultRangeEnd,
  defaultRangeStart,
  reservedAddresses,
} from '../../lib/ipam/network.js';

function rangeOf(cidr: string, gateway?: bigint): AddressRange {
  const prefix = parsePrefix(cidr);
  if (!prefix) throw new Error(cidr);
  const start = defaultRangeStart(prefix.family, prefix.address, prefix.length);
  const end = defaultRangeEnd(prefix.family, prefix.address, prefix.length);
  return {
    family: prefix.family,
    subnetFirst: prefix.address,
    prefixLength: prefix.length,
    rangeStart: start,
    rangeEnd: end,
    gateway,
    exclude: [],
    path: 'test',
  };
}

describe('reservedAddresses', () => {
  it.each([
    ['10.0.0.0/24', [0x0a000000n, 0x0a0000ffn]],
    ['10.0.0.0/30', [0x0a000000n, 0x0a000003n]],
    ['10.0.0.0/31', []],
    ['10.0.0.7/32', []],
    ['fd00::/64', [0xfd000000000000000000000000000000n]],
    ['fd00::/127', []],
    ['fd00::1/128', []],
  ])('for %s', (cidr, expected) => {
    expect(reservedAddresses(rangeOf(cidr))).toEqual(expected);
  });
});

describe('availableIntervals', () => {
  it('uses both addresses of a /31', () => {
    const pieces = availableIntervals(rangeOf('10.0.0.0/31'));
    expect(pieces).toEqual([{ first: 0x0a000000n, last: 0x0a000001n }]);
  });

  it('uses the one address of a /32', () => {
    expect(availableIntervals(rangeOf('10.0.0.7/32'))).toEqual([{ first: 0x0a000007n, last: 0x0a000007n }]);
  });

  it('skips gateway, network and broadcast of a /24', () => {
    const pieces = availableIntervals(rangeOf('10.0.0.0/24', 0x0a000001n));
    expect(pieces).toEqual([{ first: 0x0a000002n, last: 0x0a0000fen }]);
  });

  it('skips exclusions without scanning them', () => {
    const range = rangeOf('10.0.0.0/8');
    range.exclude = [{ first: 0x0a000000n, last: 0x0a7fffffn }];
    expect(availableIntervals(range)).toEqual([{ first: 0x0a800000n, last: 0x0afffffen }]);
  });

  it('skips the IPv6 all-zeros address', () => {
    const pieces = availableIntervals(rangeOf('fd00::/120'));
    expect(pieces[0]?.first).toBe(0xfd000000000000000000000000000001n);
    expect(pieces[0]?.last).toBe(0xfd0000000000000000000000000000ffn);
  });
});
