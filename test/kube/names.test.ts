import { describe, expect, it } from 'vitest';
import { parsePrefix } from '../../lib/ipam/address.js';
import { shardKey } from '../../lib/ipam/shard.js';
import { networkSlug } from '../../lib/store/names.js';

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

function keyOf(cidr: string, block = 0n): string {
  const prefix = parsePrefix(cidr);
  if (!prefix) throw new Error(cidr);
  return shardKey({ family: prefix.family, subnetFirst: prefix.address, prefixLength: prefix.length, block });
}

describe('object names', () => {
  it.each(['net1', 'Net_1', 'a.b.c', 'x'.repeat(300), 'über-net', '..', '-lead', 'UPPER', '0'])('makes %j a valid name', (network) => {
    const slug = networkSlug(network);
    const name = `lh-${slug}-${keyOf('fd00::/64', (1n << 54n) - 1n)}`;
    expect(name).toMatch(DNS_SUBDOMAIN);
    expect(name.length).toBeLessThanOrEqual(253);
    expect(slug).toMatch(LABEL_VALUE);
    expect(slug.length).toBeLessThanOrEqual(63);
  });

  it('keeps names that differ only in case apart', () => {
    expect(networkSlug('Net')).not.toBe(networkSlug('net'));
  });

  it('gives every spelling of an IPv6 subnet one key', () => {
    const keys = ['fd00:70::/64', 'FD00:0070:0000:0000::/64', 'fd00:70:0:0:0:0:0:0/64'].map((cidr) => keyOf(cidr));
    expect(new Set(keys).size).toBe(1);
    expect(keys[0]).toMatch(LABEL_VALUE);
  });
});
