import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileStore } from '../../lib/store/file.js';
import { checkConsistency, isConsistent } from '../../lib/pool/consistency.js';
import { addressesOf, runPluginProcess, withConcurrency } from './support/plugin-process.js';

const dir = mkdtempSync(join(tmpdir(), 'leasehold-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function netconf(name: string, storeDir: string, subnet: string): Record<string, unknown> {
  return { cniVersion: '1.1.0', name, type: 'bridge', ipam: { type: 'leasehold', ranges: [[{ subnet }]], store: { type: 'file', dir: storeDir } } };
}

describe('file store through the plugin binary', () => {
  it('shares locks across every spelling of the store directory', { timeout: 300_000 }, async () => {
    const store = join(dir, 'spelled');
    symlinkSync(dir, join(dir, 'link'));
    const spellings = [store, `${store}/`, join(dir, '.', 'spelled'), join(dir, 'link', 'spelled')];
    const exits = await withConcurrency(
      32,
      Array.from({ length: 100 }, (_, i) => () => runPluginProcess({ command: 'ADD', containerId: `c${i}`, netconf: netconf('spelled', spellings[i % 4] as string, '10.30.0.0/24'), hostConfig: join(dir, 'none') })),
    );
    expect(exits.filter((exit) => exit.code !== 0).map((exit) => exit.stdout)).toEqual([]);
    expect(new Set(exits.flatMap(addressesOf)).size).toBe(100);
    const report = await checkConsistency(new FileStore(store), 'spelled');
    expect(isConsistent(report)).toBe(true);
    expect(report.allocations).toHaveLength(100);
  });

  it('serializes overlapping ADDs of one attachment', { timeout: 300_000 }, async () => {
    const conf = netconf('overlap', join(dir, 'overlap'), '10.31.0.0/24');
    const tasks = Array.from({ length: 30 }, (_, i) => [
      () => runPluginProcess({ command: 'ADD', containerId: `o${i}`, netconf: conf, hostConfig: join(dir, 'none') }),
      () => runPluginProcess({ command: 'ADD', containerId: `o${i}`, netconf: conf, hostConfig: join(dir, 'none') }),
    ]).flat();
    const exits = await withConcurrency(32, tasks);
    for (let i = 0; i < 30; i++) expect(addressesOf(exits[2 * i] as never)).toEqual(addressesOf(exits[2 * i + 1] as never));
    const report = await checkConsistency(new FileStore(join(dir, 'overlap')), 'overlap');
    expect(isConsistent(report)).toBe(true);
    expect(report.allocations).toHaveLength(30);
  });

  it('survives SIGKILL at random points without duplicates or stuck locks', { timeout: 300_000 }, async () => {
    const store = join(dir, 'killed');
    const conf = netconf('killed', store, '10.32.0.0/22');
    const ids = Array.from({ length: 120 }, (_, i) => `k${i}`);
    const killAt = (): number => Math.floor(Math.random() * 250);
    await withConcurrency(24, ids.map((id) => () => runPluginProcess({ command: 'ADD', containerId: id, netconf: conf, hostConfig: join(dir, 'none') }, killAt())));
    const afterKills = await checkConsistency(new FileStore(store), 'killed');
    expect(isConsistent(afterKills)).toBe(true);

    // Retried ADDs succeed at once (no lock left behind) and keep what a killed ADD reserved.
    const retried = await withConcurrency(24, ids.map((id) => () => runPluginProcess({ command: 'ADD', containerId: id, netconf: conf, hostConfig: join(dir, 'none') })));
    expect(retried.filter((exit) => exit.code !== 0).map((exit) => exit.stdout)).toEqual([]);
    const settled = await checkConsistency(new FileStore(store), 'killed');
    expect(isConsistent(settled)).toBe(true);
    expect(settled.allocations.map((entry) => entry.owner.containerId).sort()).toEqual([...ids].sort());

    await withConcurrency(24, ids.map((id) => () => runPluginProcess({ command: 'DEL', containerId: id, netconf: conf, hostConfig: join(dir, 'none') }, killAt())));
    const dels = await withConcurrency(24, ids.map((id) => () => runPluginProcess({ command: 'DEL', containerId: id, netconf: conf, hostConfig: join(dir, 'none') })));
    expect(dels.filter((exit) => exit.code !== 0).map((exit) => exit.stdout)).toEqual([]);
    expect((await checkConsistency(new FileStore(store), 'killed')).allocations).toEqual([]);
  });
});
