import { describe, expect, it } from 'vitest';
import { loadConfig, requestedAddresses } from '../../lib/config/load.js';
import { InvalidConfigError } from '../../lib/errors.js';
import { formatAddress } from '../../lib/ipam/address.js';

function load(ipam: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return loadConfig({ cniVersion: '1.0.0', name: 'net', ipam: { type: 'leasehold', ...ipam }, ...extra }, {});
}

function problemsOf(ipam: Record<string, unknown>, extra: Record<string, unknown> = {}): string[] {
  try {
    load(ipam, extra);
  } catch (error) {
    if (error instanceof InvalidConfigError) return error.problems.map((p) => `${p.path}: ${p.message}`);
    throw error;
  }
  return [];
}

describe('range validation', () => {
  it.each([
    [{ ranges: [[{ subnet: '10.0.0.1/24' }]] }, 'ipam.ranges[0][0].subnet: subnet "10.0.0.1/24" has host bits set'],
    [{ ranges: [[{ subnet: '10.0.0.0/24', rangeStart: '10.0.1.1' }]] }, 'ipam.ranges[0][0].rangeStart: "10.0.1.1" is outside subnet'],
    [{ ranges: [[{ subnet: '10.0.0.0/24', rangeEnd: 'fd00::1' }]] }, 'ipam.ranges[0][0].rangeEnd: "fd00::1" is IPv6'],
    [{ ranges: [[{ subnet: '10.0.0.0/24', rangeStart: '10.0.0.9', rangeEnd: '10.0.0.3' }]] }, 'ipam.ranges[0][0].rangeStart: range start 10.0.0.9 is after range end 10.0.0.3'],
    [{ ranges: [[{ subnet: '10.0.0.0/24', rangeStart: '10.0.0.255' }]] }, 'range start 10.0.0.255 is after range end 10.0.0.254'],
    [{ ranges: [[{ subnet: '10.0.0.0/24', gateway: '10.0.9.1' }]] }, 'ipam.ranges[0][0].gateway: "10.0.9.1" is outside subnet'],
    [{ ranges: [[{ subnet: '10.0.0.0/24' }, { subnet: 'fd00::/64' }]] }, 'ipam.ranges[0][1]: IPv6 range in a set that starts with IPv4'],
    [{ ranges: [[{ subnet: '10.0.0.0/24' }], [{ subnet: '10.0.0.128/25' }]] }, 'ipam.ranges[1][0]: range 10.0.0.128/25'],
    [{ ranges: [[{ subnet: '10.0.0.0/24' }, { subnet: '10.0.0.0/16' }]] }, 'overlaps ipam.ranges[0][0]'],
    [{ ranges: [[{ subnet: '10.0.0.0/24' }]], exclude: ['10.0.0.0/33'] }, 'ipam.exclude[0]: invalid exclusion "10.0.0.0/33"'],
    [{ ranges: [[{ subnet: 'banana' }]] }, 'ipam.ranges[0][0].subnet: invalid subnet "banana"'],
    [{ ranges: [] }, 'ipam.ranges: empty'],
    [{ ranges: [[]] }, 'ipam.ranges[0]: empty range set'],
    [{}, 'ipam.ranges: missing'],
    [{ ranges: [[{ subnet: 5 }]] }, 'ipam.ranges[0][0].subnet: invalid value: expected string, got number'],
    [{ ranges: [[{ subnet: '10.0.0.0/30', gateway: '10.0.0.1', exclude: ['10.0.0.2'] }]] }, 'has no usable address'],
    [{ ranges: [[{ subnet: '10.0.0.0/24' }]], routes: [{ dst: '10.9.0.0/16', gw: 'fd00::1' }] }, 'ipam.routes[0].gw: invalid gateway "fd00::1"'],
    [{ ranges: [[{ subnet: '10.0.0.0/24' }]], dns: { nameservers: ['dns.example'] } }, 'ipam.dns.nameservers[0]: invalid nameserver'],
    [{ ranges: [[{ subnet: '10.0.0.0/24' }]], resolvConf: '/nonexistent/resolv.conf' }, 'ipam.resolvConf: failed to read'],
    [{ ranges: [[{ subnet: '10.0.0.0/24' }]], store: { type: 'etcd' } }, 'ipam.store.type: invalid value'],
    [{ ranges: [[{ subnet: '10.0.0.0/24' }]], range: '10.1.0.0/24' }, 'keep one of them'],
    [{ ranges: [[{ subnet: '10.0.0.0/24' }]], store: { type: 'file', dir: 'relative/dir' } }, 'ipam.store.dir: "relative/dir" is relative'],
    [{ ranges: [[{ subnet: '10.0.0.0/24' }]], store: { type: 'file', dir: '/proc/x' } }, 'kernel file system'],
    [{ ranges: [[{ subnet: '10.0.0.0/24' }]], store: { type: 'kubernetes', kubeconfig: 'kc' } }, 'ipam.store.kubeconfig: "kc" is relative'],
  ])('rejects %j', (ipam, expected) => {
    expect(problemsOf(ipam).join('\n')).toContain(expected);
  });

  it('reports every problem at once', () => {
    const problems = problemsOf({
      ranges: [[{ subnet: '10.0.0.1/24', rangeEnd: '10.1.0.1' }], [{ subnet: 'x' }]],
      routes: [{ dst: 'y' }],
    });
    expect(problems.map((p) => p.split(':')[0])).toEqual([
      'ipam.ranges[0][0].subnet',
      'ipam.ranges[0][0].rangeEnd',
      'ipam.ranges[1][0].subnet',
      'ipam.routes[0].dst',
    ]);
  });

  it.each(['a/b', ' ', '-lead', 'net work'])('rejects the network name %j', (name) => {
    expect(problemsOf({ ranges: [[{ subnet: '10.0.0.0/24' }]] }, { name }).join('\n')).toContain('name: invalid network name');
  });

  it('rejects two IPv4 sets for 0.2.0 results', () => {
    const problems = problemsOf({ ranges: [[{ subnet: '10.0.0.0/24' }], [{ subnet: '10.1.0.0/24' }]] }, { cniVersion: '0.2.0' });
    expect(problems[0]).toContain('use cniVersion 0.3.0 or later');
  });
});

describe('range defaults', () => {
  it('fills start, end and gateway as host-local does', () => {
    const range = load({ ranges: [[{ subnet: '10.0.0.0/24' }]] }).spec.rangeSets[0]?.[0];
    expect(formatAddress(4, range?.rangeStart ?? 0n)).toBe('10.0.0.1');
    expect(formatAddress(4, range?.rangeEnd ?? 0n)).toBe('10.0.0.254');
    expect(formatAddress(4, range?.gateway ?? 0n)).toBe('10.0.0.1');
  });

  it('accepts the single-range host-local form', () => {
    const config = load({ subnet: '10.0.0.0/24', rangeStart: '10.0.0.10', rangeEnd: '10.0.0.20' });
    expect(config.spec.rangeSets).toHaveLength(1);
  });

  it('names the pool after network_name', () => {
    expect(load({ ranges: [[{ subnet: '10.0.0.0/24' }]], network_name: 'shared' }).spec.name).toBe('shared');
  });
});

describe('whereabouts syntax', () => {
  it('reads range, range_start, range_end and exclude', () => {
    const config = load({
      range: '192.168.2.0/24',
      range_start: '192.168.2.10',
      range_end: '192.168.2.20',
      exclude: ['192.168.2.12/31'],
      kubernetes: { kubeconfig: '/etc/cni/net.d/whereabouts.d/whereabouts.kubeconfig' },
    });
    const range = config.spec.rangeSets[0]?.[0];
    expect(formatAddress(4, range?.rangeStart ?? 0n)).toBe('192.168.2.10');
    expect(formatAddress(4, range?.rangeEnd ?? 0n)).toBe('192.168.2.20');
    expect(range?.gateway).toBeUndefined();
    expect(range?.exclude).toHaveLength(1);
    expect(config.warnings[0]).toContain('ipam.kubernetes');
  });

  it('reads a range with host bits as its start', () => {
    const range = load({ range: '192.168.2.225/28' }).spec.rangeSets[0]?.[0];
    expect(formatAddress(4, range?.rangeStart ?? 0n)).toBe('192.168.2.225');
    expect(formatAddress(4, range?.rangeEnd ?? 0n)).toBe('192.168.2.238');
  });

  it('reads first-last/prefix ranges', () => {
    const range = load({ range: '10.5.0.10-10.5.0.20/24' }).spec.rangeSets[0]?.[0];
    expect(formatAddress(4, range?.rangeStart ?? 0n)).toBe('10.5.0.10');
    expect(formatAddress(4, range?.rangeEnd ?? 0n)).toBe('10.5.0.20');
  });

  it('makes one range set per ipRanges entry', () => {
    const config = load({ ipRanges: [{ range: '10.6.0.0/24' }, { range: 'fd00:6::/64', exclude: ['fd00:6::/120'] }] });
    expect(config.spec.rangeSets.map((set) => set[0]?.family)).toEqual([4, 6]);
  });
});

describe('requestedAddresses', () => {
  const base = load({ ranges: [[{ subnet: '10.0.0.0/24' }]] }).netconf;

  it('merges runtimeConfig and args', () => {
    const netconf = { ...base, runtimeConfig: { ips: ['10.0.0.5/24'] }, args: { cni: { ips: ['fd00::5'] } } };
    const addresses = requestedAddresses(netconf, new Map([['IP', '10.0.0.9']]));
    expect(addresses.map((a) => a.source)).toEqual(['runtimeConfig.ips[0]', 'args.cni.ips[0]']);
  });

  it('reads CNI_ARGS IP when args are absent', () => {
    const addresses = requestedAddresses(base, new Map([['IP', '10.0.0.9,10.0.0.10']]));
    expect(addresses.map((a) => formatAddress(a.family, a.value))).toEqual(['10.0.0.9', '10.0.0.10']);
  });

  it('rejects an invalid address with its source', () => {
    expect(() => requestedAddresses({ ...base, runtimeConfig: { ips: ['10.0.0'] } }, new Map())).toThrow(
      'runtimeConfig.ips[0]: invalid requested address "10.0.0"',
    );
  });
});
