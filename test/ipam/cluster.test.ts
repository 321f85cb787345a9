import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/config/load.js';
import { type ClusterNetworks, clusterOverlaps } from '../../lib/ipam/cluster.js';

const cluster: ClusterNetworks = {
  services: [{ cidr: '10.96.0.0/12', source: 'ServiceCIDR "kubernetes"' }, { cidr: 'fd00:96::/108', source: 'ServiceCIDR "kubernetes"' }],
  pods: [
    { cidr: '10.244.0.0/24', source: 'spec.podCIDRs of node a' },
    { cidr: '10.244.1.0/24', source: 'spec.podCIDRs of node b' },
  ],
};

function specOf(ranges: unknown): ReturnType<typeof loadConfig>['spec'] {
  return loadConfig({ cniVersion: '1.1.0', name: 'net', ipam: { type: 'leasehold', ranges } }, {}).spec;
}

describe('clusterOverlaps', () => {
  const cases: Array<[string, unknown, string[]]> = [
    ['a range apart from the cluster', [[{ subnet: '192.168.10.0/24' }]], []],
    ['a subnet inside the service range', [[{ subnet: '10.100.0.0/24' }]], ['ipam.ranges[0][0].subnet: subnet 10.100.0.0/24 overlaps the cluster\'s service range 10.96.0.0/12 (ServiceCIDR "kubernetes")']],
    ['a subnet around one pod CIDR', [[{ subnet: '10.244.1.0/25' }]], ['ipam.ranges[0][0].subnet: subnet 10.244.1.0/25 overlaps the cluster\'s pod CIDR 10.244.1.0/24 (spec.podCIDRs of node b)']],
    ['a subnet over every pod CIDR', [[{ subnet: '10.244.0.0/16' }]], ['ipam.ranges[0][0].subnet: subnet 10.244.0.0/16 overlaps the cluster\'s pod CIDR 10.244.0.0/24 (spec.podCIDRs of node a) and 1 more pod CIDRs']],
    ['an IPv6 subnet in the IPv6 service range', [[{ subnet: 'fd00:96::/120' }]], ['ipam.ranges[0][0].subnet: subnet fd00:96::/120 overlaps the cluster\'s service range fd00:96::/108 (ServiceCIDR "kubernetes")']],
    ['an IPv6 subnet beside an IPv4 one', [[{ subnet: 'fd00:97::/120' }]], []],
  ];
  it.each(cases)('%s', (_name, ranges, expected) => {
    const problems = clusterOverlaps(specOf(ranges), cluster).map((problem) => `${problem.path}: ${problem.message}`);
    expect(problems.map((line) => line.replace(/; choose.*$/, ''))).toEqual(expected);
    for (const line of problems) expect(line).toContain('set ipam.allowClusterOverlap to true');
  });

  it('skips pod CIDRs for a network built from them', () => {
    expect(clusterOverlaps(specOf([[{ subnet: '10.244.1.0/24' }]]), cluster, { ignorePods: true })).toEqual([]);
  });
});
