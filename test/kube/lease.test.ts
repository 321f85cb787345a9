import { describe, expect, it } from 'vitest';
import { type Lease, isExpired } from '../../lib/kube/lease.js';

const NOW = Date.parse('2026-12-04T12:00:00Z');

function lease(renewedSecondsAgo: number, durationSeconds: number, holder = 'node-1'): Lease {
  const renewTime = new Date(NOW - renewedSecondsAgo * 1000).toISOString();
  return { metadata: { name: 'lh-x' }, spec: { ...(holder ? { holderIdentity: holder } : {}), renewTime, leaseDurationSeconds: durationSeconds } } as Lease;
}

describe('isExpired', () => {
  it.each([
    ['renewed within its duration', lease(2, 3), false],
    ['not renewed within its duration', lease(4, 3), true],
    ['without a holder', lease(0, 3, ''), true],
    ['with a long duration, renewed lately', lease(30, 100_000), false],
    ['with a long duration, silent past the cap', lease(61, 100_000), true],
    ['renewed in the future', lease(-10, 3), true],
  ])('%s', (_name, value, expected) => {
    expect(isExpired(value, NOW)).toBe(expected);
  });
});
