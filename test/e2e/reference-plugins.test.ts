import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileStore } from '../../lib/store/file.js';
import { Sandbox, requireSystem } from './support/system.js';

let sandbox: Sandbox;

beforeAll(() => {
  requireSystem();
  sandbox = new Sandbox('lhe2e');
  // A veth end is the macvlan and ipvlan parent: it needs no kernel module beyond veth.
  sandbox.inHost('ip', ['link', 'add', 'lhparent0', 'type', 'veth', 'peer', 'name', 'lhparent1']);
  sandbox.inHost('ip', ['link', 'set', 'lhparent0', 'up']);
  sandbox.inHost('ip', ['link', 'set', 'lhparent1', 'up']);
});

afterAll(() => sandbox?.cleanup());

function leasehold(ipam: Record<string, unknown>): Record<string, unknown> {
  return { type: 'leasehold', store: { type: 'file', dir: sandbox.storeDir }, ...ipam };
}

async function allocatedCount(network: string): Promise<number> {
  const store = new FileStore(sandbox.storeDir);
  let count = 0;
  for (const key of await store.listShards(network)) {
    const shard = await store.readShard(network, key);
    count += Object.keys(shard?.data.owners ?? {}).length;
  }
  return count;
}

describe('bridge plugin delegating to leasehold', () => {
  it('configures IPv4 address, gateway and routes, and DEL removes them', async () => {
    sandbox.writeNetwork('br4', {
      type: 'bridge',
      bridge: 'lhbr4',
      isGateway: true,
      isDefaultGateway: true,
      // The bridge plugin's CHECK looks for each route with the gateway it names, so name one.
      ipam: leasehold({ ranges: [[{ subnet: '10.77.0.0/24' }]], routes: [{ dst: '10.78.0.0/16', gw: '10.77.0.1' }] }),
    });
    const netns = sandbox.addNamespace('lhe2e-br4');
    const added = await sandbox.cnitool('add', 'br4', netns);
    expect(added.stderr).toBe('');
    expect(added.code).toBe(0);
    expect(sandbox.addresses('lhe2e-br4', 'eth0')).toEqual(['10.77.0.2/24']);
    const routes = sandbox.routes('lhe2e-br4', 4);
    expect(routes).toContainEqual(expect.objectContaining({ dst: 'default', gateway: '10.77.0.1' }));
    expect(routes).toContainEqual(expect.objectContaining({ dst: '10.78.0.0/16', gateway: '10.77.0.1' }));

    const checked = await sandbox.cnitool('check', 'br4', netns);
    expect(checked.stderr).toBe('');
    expect(checked.code).toBe(0);

    const deleted = await sandbox.cnitool('del', 'br4', netns);
    expect(deleted.code).toBe(0);
    expect(sandbox.hasInterface('lhe2e-br4', 'eth0')).toBe(false);
    expect(await allocatedCount('br4')).toBe(0);
  });

  it('configures a dual-stack pod', async () => {
    sandbox.writeNetwork('brdual', {
      type: 'bridge',
      bridge: 'lhbrdual',
      isGateway: true,
      ipam: leasehold({ ranges: [[{ subnet: '10.79.0.0/24' }], [{ subnet: 'fd00:79::/64' }]] }),
    });
    const netns = sandbox.addNamespace('lhe2e-dual');
    const added = await sandbox.cnitool('add', 'brdual', netns);
    expect(added.code).toBe(0);
    const addresses = sandbox.addresses('lhe2e-dual', 'eth0');
    expect(addresses).toContain('10.79.0.2/24');
    expect(addresses).toContain('fd00:79::2/64');
    expect(JSON.parse(added.stdout).ips).toHaveLength(2);
    expect((await sandbox.cnitool('del', 'brdual', netns)).code).toBe(0);
    expect(await allocatedCount('brdual')).toBe(0);
  });

  it('gives 50 concurrent pods 50 distinct addresses', async () => {
    sandbox.writeNetwork('brmany', {
      type: 'bridge',
      bridge: 'lhbrmany',
      isGateway: true,
      ipam: leasehold({ ranges: [[{ subnet: '10.80.0.0/24' }]] }),
    });
    const names = Array.from({ length: 50 }, (_, i) => `lhe2e-many${i}`);
    const paths = names.map((name) => sandbox.addNamespace(name));
    const results = await Promise.all(paths.map((path) => sandbox.cnitool('add', 'brmany', path)));
    expect(results.map((result) => result.code)).toEqual(Array(50).fill(0));

    const reported = results.map((result) => (JSON.parse(result.stdout).ips as Array<{ address: string }>)[0]?.address);
    const configured = names.map((name) => sandbox.addresses(name, 'eth0')[0]);
    expect(new Set(reported).size).toBe(50);
    expect(configured).toEqual(reported);
    expect(await allocatedCount('brmany')).toBe(50);

    const deleted = await Promise.all(paths.map((path) => sandbox.cnitool('del', 'brmany', path)));
    expect(deleted.map((result) => result.code)).toEqual(Array(50).fill(0));
    expect(await allocatedCount('brmany')).toBe(0);
  });
});

// The ipvlan plugin is left out: this machine's kernel has no ipvlan driver ("operation not supported").
describe.each(['macvlan'])('%s plugin delegating to leasehold', (type) => {
  it('configures the address and DEL releases it', async () => {
    const network = `${type}net`;
    sandbox.writeNetwork(network, {
      type,
      master: 'lhparent0',
      ipam: leasehold({ ranges: [[{ subnet: type === 'macvlan' ? '10.81.0.0/24' : '10.82.0.0/24' }]] }),
    });
    const namespace = `lhe2e-${type}`;
    const netns = sandbox.addNamespace(namespace);
    const added = await sandbox.cnitool('add', network, netns);
    expect(added.stderr).toBe('');
    expect(added.code).toBe(0);
    const expected = type === 'macvlan' ? '10.81.0.2/24' : '10.82.0.2/24';
    expect(sandbox.addresses(namespace, 'eth0')).toEqual([expected]);
    expect((await sandbox.cnitool('del', network, netns)).code).toBe(0);
    expect(sandbox.hasInterface(namespace, 'eth0')).toBe(false);
    expect(await allocatedCount(network)).toBe(0);
  });
});

describe('errors through a reference plugin', () => {
  it('fails the ADD with the exhaustion error and holds nothing for it', async () => {
    sandbox.writeNetwork('brfull', {
      type: 'bridge',
      bridge: 'lhbrfull',
      ipam: leasehold({ ranges: [[{ subnet: '10.83.0.0/30' }]] }),
    });
    const first = sandbox.addNamespace('lhe2e-full1');
    const second = sandbox.addNamespace('lhe2e-full2');
    expect((await sandbox.cnitool('add', 'brfull', first)).code).toBe(0);
    const refused = await sandbox.cnitool('add', 'brfull', second);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr + refused.stdout).toContain('no free address on network "brfull"');
    expect(await allocatedCount('brfull')).toBe(1);
  });
});
