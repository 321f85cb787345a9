import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SUPPORTED_VERSIONS, compareVersions } from '../../lib/cni/version.js';
import { PluginHarness } from '../support/plugin.js';

const dualStack = {
  ranges: [[{ subnet: '10.1.0.0/24' }], [{ subnet: 'fd00:1::/64' }]],
  routes: [{ dst: '0.0.0.0/0' }, { dst: '::/0' }],
  dns: { nameservers: ['10.1.0.53'] },
};

let harness: PluginHarness;
beforeEach(() => {
  harness = new PluginHarness();
});
afterEach(() => harness.cleanup());

describe.each(SUPPORTED_VERSIONS)('cniVersion %s', (version) => {
  const atLeast = (other: string): boolean => compareVersions(version, other) >= 0;

  it('ADD returns the layout of the version', async () => {
    const { exitCode, json } = await harness.call('ADD', harness.netconf(version, dualStack));
    expect(exitCode).toBe(0);
    expect(json?.cniVersion).toBe(version);
    expect(json).not.toHaveProperty('interfaces');
    if (!atLeast('0.3.0')) {
      expect(json?.ip4).toEqual({ ip: '10.1.0.2/24', gateway: '10.1.0.1', routes: [{ dst: '0.0.0.0/0' }] });
      expect(json?.ip6).toEqual({ ip: 'fd00:1::2/64', gateway: 'fd00:1::1', routes: [{ dst: '::/0' }] });
    } else if (!atLeast('1.0.0')) {
      expect(json?.ips).toEqual([
        { version: '4', address: '10.1.0.2/24', gateway: '10.1.0.1' },
        { version: '6', address: 'fd00:1::2/64', gateway: 'fd00:1::1' },
      ]);
    } else {
      expect(json?.ips).toEqual([
        { address: '10.1.0.2/24', gateway: '10.1.0.1' },
        { address: 'fd00:1::2/64', gateway: 'fd00:1::1' },
      ]);
    }
    expect(json?.dns).toEqual({ nameservers: ['10.1.0.53'] });
  });

  it('ADD twice returns the same addresses', async () => {
    const first = await harness.call('ADD', harness.netconf(version, dualStack));
    const second = await harness.call('ADD', harness.netconf(version, dualStack));
    expect(second.exitCode).toBe(0);
    expect(second.json).toEqual(first.json);
  });

  it('DEL frees the address for the next ADD', async () => {
    const ipam = { ranges: [[{ subnet: '10.1.0.0/30' }]] };
    await harness.call('ADD', harness.netconf(version, ipam), { containerId: 'a' });
    const full = await harness.call('ADD', harness.netconf(version, ipam), { containerId: 'b' });
    expect(full.exitCode).toBe(1);
    expect(full.json?.code).toBe(100);
    expect(full.json?.cniVersion).toBe(version);
    const del = await harness.call('DEL', harness.netconf(version, ipam), { containerId: 'a' });
    expect(del).toEqual({ exitCode: 0, json: undefined });
    const again = await harness.call('ADD', harness.netconf(version, ipam), { containerId: 'b' });
    expect(again.exitCode).toBe(0);
  });

  it('DEL of an unknown attachment succeeds', async () => {
    const del = await harness.call('DEL', harness.netconf(version, dualStack), { containerId: 'never-added' });
    expect(del.exitCode).toBe(0);
  });

  it('CHECK follows the version', async () => {
    const added = await harness.call('ADD', harness.netconf(version, dualStack));
    const netconf = harness.netconf(version, dualStack, { prevResult: added.json });
    const checked = await harness.call('CHECK', netconf);
    if (!atLeast('0.4.0')) {
      expect(checked.exitCode).toBe(1);
      expect(checked.json?.code).toBe(1);
      return;
    }
    expect(checked.exitCode).toBe(0);
    await harness.call('DEL', netconf);
    const missing = await harness.call('CHECK', netconf);
    expect(missing.json?.code).toBe(103);
  });

  it('GC and STATUS need 1.1.0', async () => {
    const gcConf = harness.netconf(version, dualStack, { 'cni.dev/valid-attachments': [] });
    const gc = await harness.call('GC', gcConf);
    const status = await harness.call('STATUS', harness.netconf(version, dualStack));
    if (atLeast('1.1.0')) {
      expect(gc.exitCode).toBe(0);
      expect(status.exitCode).toBe(0);
    } else {
      expect(gc.json?.code).toBe(1);
      expect(status.json?.code).toBe(1);
    }
  });

  it('reports invalid config with code 7 in the version', async () => {
    const { exitCode, json } = await harness.call('ADD', harness.netconf(version, { ranges: [[{ subnet: '10.1.0.1/24' }]] }));
    expect(exitCode).toBe(1);
    expect(json?.code).toBe(7);
    expect(json?.cniVersion).toBe(version);
    expect(json?.msg).toContain('ipam.ranges[0][0].subnet');
  });
});

describe('VERSION', () => {
  it('lists every supported version', async () => {
    const { exitCode, json } = await harness.call('VERSION', '{"cniVersion":"0.4.0"}');
    expect(exitCode).toBe(0);
    expect(json).toEqual({ cniVersion: '0.4.0', supportedVersions: SUPPORTED_VERSIONS });
  });

  it('answers without stdin', async () => {
    const { json } = await harness.call('VERSION', '');
    expect(json?.supportedVersions).toEqual(SUPPORTED_VERSIONS);
  });
});
