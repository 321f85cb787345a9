import { describe, expect, it } from 'vitest';
import {
  type Owner,
  countAllocated,
  findFree,
  newShard,
  offsetsOwnedBy,
  shardInconsistencies,
  shardKey,
  withReservation,
  withoutReservations,
} from '../../lib/ipam/shard.js';

const place = { family: 4 as const, subnetFirst: 0x0a000000n, prefixLength: 24, block: 0n };
const owner = (containerId: string): Owner => ({ containerId, ifName: 'eth0', allocatedAt: '2026-01-01T00:00:00Z' });

describe('shard', () => {
  it('sizes a small subnet to the subnet', () => {
    expect(newShard('net', place).size).toBe(256);
  });

  it('names IPv6 subnets one way', () => {
    const key = shardKey({ family: 6, subnetFirst: 0xfd000000000000000000000000000000n, prefixLength: 64, block: 0x1fn });
    expect(key).toBe('v6-fd000000000000000000000000000000-64-1f');
  });

  it('finds the first free offset', () => {
    const shard = newShard('net', place);
    expect(findFree(shard, [[2, 254]])).toBe(2);
  });

  it('searches after the last allocation', () => {
    let shard = newShard('net', place);
    shard = withReservation(shard, 2, owner('a'));
    shard = withReservation(shard, 3, owner('b'));
    shard = withoutReservations(shard, [2]);
    expect(findFree(shard, [[2, 254]])).toBe(4);
  });

  it('wraps around to freed offsets', () => {
    let shard = newShard('net', place);
    shard = withReservation(shard, 2, owner('a'));
    shard = withReservation(shard, 4, owner('b'));
    expect(findFree(shard, [[2, 4]])).toBe(3);
    shard = withReservation(shard, 3, owner('c'));
    expect(findFree(shard, [[2, 4]])).toBeUndefined();
  });

  it('keeps bits and owners together', () => {
    let shard = newShard('net', place);
    shard = withReservation(shard, 9, owner('a'));
    shard = withReservation(shard, 10, owner('a'));
    expect(countAllocated(shard)).toBe(2);
    expect(offsetsOwnedBy(shard, 'a', 'eth0')).toEqual([9, 10]);
    expect(shardInconsistencies(shard)).toEqual({ bitsWithoutOwner: [], ownersWithoutBit: [] });
    shard = withoutReservations(shard, [9, 10]);
    expect(countAllocated(shard)).toBe(0);
    expect(shard.owners).toEqual({});
  });

  it('reports bits without owners', () => {
    const shard = withReservation(newShard('net', place), 5, owner('a'));
    delete shard.owners['5'];
    expect(shardInconsistencies(shard).bitsWithoutOwner).toEqual([5]);
  });
});
