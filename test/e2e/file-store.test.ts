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
});
