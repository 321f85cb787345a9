import type { Interval } from './address.js';
import { SHARD_SIZE } from './shard.js';

const SIZE = BigInt(SHARD_SIZE);

/** Yields, in ascending order and each once, the blocks in [from, to) that hold available addresses. */
function* blocksBetween(subnetFirst: bigint, available: Interval[], from: bigint, to: bigint): Generator<bigint> {
  let previous = -1n;
  for (const piece of available) {
    const firstBlock = (piece.first - subnetFirst) / SIZE;
    const lastBlock = (piece.last - subnetFirst) / SIZE;
    if (lastBlock < from || firstBlock >= to) continue;
    let block = firstBlock > from ? firstBlock : from;
    if (block <= previous) block = previous + 1n;
    for (; block <= lastBlock && block < to; block++) {
      previous = block;
      yield block;
    }
  }
}

/**
 * Yields the blocks that hold available addresses, starting at `start` and wrapping around once.
 * Lazy, so a walk over an IPv6 /64 costs only the blocks actually visited, and a block that
 * exclusions remove entirely is never visited.
 */
export function* candidateBlocks(subnetFirst: bigint, available: Interval[], start = 0n): Generator<bigint> {
  const end = (available.at(-1)?.last ?? subnetFirst) - subnetFirst;
  const beyond = end / SIZE + 1n;
  yield* blocksBetween(subnetFirst, available, start, beyond);
  yield* blocksBetween(subnetFirst, available, 0n, start);
}

/** The number of blocks [first, last] spans, for spreading writers across them. */
export function blockSpan(subnetFirst: bigint, available: Interval[]): { first: bigint; count: bigint } {
  const head = available[0];
  const tail = available.at(-1);
  if (!head || !tail) return { first: 0n, count: 0n };
  const first = (head.first - subnetFirst) / SIZE;
  return { first, count: (tail.last - subnetFirst) / SIZE - first + 1n };
}
