import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PluginHarness } from '../support/plugin.js';

let harness: PluginHarness;
beforeEach(() => {
  harness = new PluginHarness();
});
afterEach(() => harness.cleanup());

/** Lists every stored file with its content: the whole state of the store. */
function snapshot(dir: string): string {
  const walk = (path: string): string[] =>
    readdirSync(path, { withFileTypes: true })
      .sort((a, b) => a.name.localeCompare(b.name))
      .flatMap((entry) => (entry.isDirectory() ? walk(join(path, entry.name)) : [`${join(path, entry.name)}\n${readFileSync(join(path, entry.name), 'utf8')}`]));
  return walk(dir).join('\n');
}

function shardFiles(dir: string): string[] {
  const network = readdirSync(dir).find((name) => !name.startsWith('.')) as string;
  return readdirSync(join(dir, network, 'shards')).map((name) => join(dir, network, 'shards', name));
}

describe('stored state after bad requests', () => {
  const dual = { ranges: [[{ subnet: '10.20.0.0/24' }], [{ subnet: 'fd00:20::/64' }]] };

  it('stays unchanged when a requested address is taken', async () => {
    const taken = harness.netconf('1.1.0', dual, { runtimeConfig: { ips: ['fd00:20::9'] } });
    expect((await harness.call('ADD', taken, { containerId: 'a' })).exitCode).toBe(0);
    const before = snapshot(harness.dir);
    const refused = await harness.call('ADD', taken, { containerId: 'b' });
    expect(refused.json?.code).toBe(101);
    expect(snapshot(harness.dir)).toBe(before);
  });

  it('stays empty when stickyStatefulSets meets the file store', async () => {
    const conf = harness.netconf('1.1.0', { ranges: [[{ subnet: '10.20.0.0/24' }]], stickyStatefulSets: true });
    const refused = await harness.call('ADD', conf, { containerId: 'a' });
    expect(refused.json?.code).toBe(7);
    expect(String(refused.json?.msg)).toContain('ipam.stickyStatefulSets');
    expect(readdirSync(harness.dir).filter((name) => !name.startsWith('.'))).toEqual([]);
  });

  it('rejects a requested prefix length that differs from the range', async () => {
    const conf = harness.netconf('1.1.0', dual, { runtimeConfig: { ips: ['10.20.0.9/8'] } });
    const refused = await harness.call('ADD', conf);
    expect(refused.json?.code).toBe(102);
    expect(String(refused.json?.msg)).toContain('/8');
  });
});

describe('damaged store data', () => {
  const ipam = { ranges: [[{ subnet: '10.21.0.0/24' }]] };

  it('reports a shard without data as code 104 and writes nothing', async () => {
    await harness.call('ADD', harness.netconf('1.1.0', ipam), { containerId: 'a' });
    const [shard] = shardFiles(harness.dir);
    writeFileSync(shard as string, '{"version":1}');
    const result = await harness.call('ADD', harness.netconf('1.1.0', ipam), { containerId: 'b' });
    expect(result.json?.code).toBe(104);
    expect(readFileSync(shard as string, 'utf8')).toBe('{"version":1}');
  });

  it('falls back to a scan when a hint is damaged', async () => {
    const first = await harness.call('ADD', harness.netconf('1.1.0', ipam), { containerId: 'a' });
    const network = readdirSync(harness.dir).find((name) => !name.startsWith('.')) as string;
    const hints = join(harness.dir, network, 'hints');
    for (const name of readdirSync(hints)) writeFileSync(join(hints, name), 'garbage');
    const again = await harness.call('ADD', harness.netconf('1.1.0', ipam), { containerId: 'a' });
    expect(again.json).toEqual(first.json);
    expect((await harness.call('DEL', harness.netconf('1.1.0', ipam), { containerId: 'a' })).exitCode).toBe(0);
  });
});

describe('configuration edge cases', () => {
  it('applies a top-level exclude to whereabouts ipRanges', async () => {
    const conf = harness.netconf('0.3.1', { ipRanges: [{ range: '10.22.1.0/24' }], exclude: ['10.22.1.1/32', '10.22.1.2/31'] });
    const result = await harness.call('ADD', conf);
    expect((result.json?.ips as Array<{ address: string }>)[0]?.address).toBe('10.22.1.4/24');
  });

  it('treats reordered exclusions as the same network', async () => {
    const one = harness.netconf('1.1.0', { ranges: [[{ subnet: '10.23.0.0/24' }]], exclude: ['10.23.0.9', '10.23.0.5'] });
    const two = harness.netconf('1.1.0', { ranges: [[{ subnet: '10.23.0.0/24' }]], exclude: ['10.23.0.5', '10.23.0.9/32', '10.23.0.9'] });
    expect((await harness.call('ADD', one, { containerId: 'a' })).exitCode).toBe(0);
    expect((await harness.call('ADD', two, { containerId: 'b' })).exitCode).toBe(0);
  });

  it('lets DEL through with ranges of the wrong type', async () => {
    const good = harness.netconf('1.1.0', { ranges: [[{ subnet: '10.24.0.0/24' }]] });
    await harness.call('ADD', good, { containerId: 'a' });
    const broken = harness.netconf('1.1.0', { ranges: '10.24.0.0/24' });
    expect((await harness.call('DEL', broken, { containerId: 'a' })).exitCode).toBe(0);
    const again = await harness.call('ADD', harness.netconf('1.1.0', { ranges: [[{ subnet: '10.24.0.0/24' }]] }), { containerId: 'b' });
    expect((again.json?.ips as Array<{ address: string }>)[0]?.address).toBe('10.24.0.3/24');
  });

  it.each([
    [{ ranges: [[{ subnet: '10.25.0.0/24', rangestart: '10.25.0.9' }]] }, 'ipam.ranges[0][0]', 'unknown keys "rangestart"'],
    [{ ranges: [[{ subnet: '10.25.0.0/24' }]], subnet: '10.26.0.0/24' }, 'ipam.subnet', 'ignored next to ipam.ranges'],
    [{ range: '10.25.0.0-10.25.9.9/24' }, 'ipam.range', 'outside subnet'],
    [{ ranges: [[{ subnet: '10.25.0.0/24', gateway: '10.25.0.255' }]] }, 'ipam.ranges[0][0].gateway', 'broadcast'],
  ])('rejects %j', async (ipam, path, text) => {
    const result = await harness.call('ADD', harness.netconf('1.1.0', ipam));
    expect(result.json?.code).toBe(7);
    expect(String(result.json?.msg)).toContain(path);
    expect(String(result.json?.msg)).toContain(text);
  });

  it('asks for a string cniVersion', async () => {
    const result = await harness.call('ADD', { ...harness.netconf('1.1.0', { ranges: [[{ subnet: '10.25.0.0/24' }]] }), cniVersion: 1.0 });
    expect(result.json?.code).toBe(1);
    expect(String(result.json?.msg)).toContain('as a string');
  });

  it.each([
    ['CNI_IFNAME', 'a-very-long-interface-name'],
    ['CNI_IFNAME', 'eth/0'],
    ['CNI_CONTAINERID', '../escape'],
  ])('rejects %s %j with code 4', async (variable, value) => {
    const result = await harness.call('ADD', harness.netconf('1.1.0', { ranges: [[{ subnet: '10.25.0.0/24' }]] }), { env: { [variable]: value } });
    expect(result.json?.code).toBe(4);
    expect(String(result.json?.msg)).toContain(variable);
  });
});
