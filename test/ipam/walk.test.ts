import { describe, expect, it } from 'vitest';
import { SHARD_SIZE } from '../../lib/ipam/shard.js';
import { candidateBlocks } from '../../lib/ipam/walk.js';

const size = BigInt(SHARD_SIZE);

function take(generator: Generator<bigint>, count: number): bigint[] {
  const out: bigint[] = [];
  for (const block of generator) {
    out.push(block);
    if (out.length === count) break;
  }
  return out;
}

describe('candidateBlocks', () => {
  it('visits every block once from the start', () => {
    const blocks = [...candidateBlocks(0n, [{ first: 1n, last: 4n * size - 2n }], 2n)];
    expect(blocks).toEqual([2n, 3n, 0n, 1n]);
  });

  it('skips blocks that exclusions remove', () => {
    const available = [
      { first: 1n, last: 10n },
      { first: 7n * size, last: 7n * size + 5n },
    ];
    expect([...candidateBlocks(0n, available)]).toEqual([0n, 7n]);
  });

  it('starts at once in an IPv6 /64', () => {
    const first = 0xfd000000000000000000000000000000n;
    const available = [{ first: first + 1n, last: first + (1n << 64n) - 1n }];
    const start = 123456789012345n;
    expect(take(candidateBlocks(first, available, start), 3)).toEqual([start, start + 1n, start + 2n]);
  });

  it('yields nothing for no addresses', () => {
    expect([...candidateBlocks(0n, [])]).toEqual([]);
  });
});
