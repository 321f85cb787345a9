import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkConsistency, isConsistent } from '../../lib/pool/consistency.js';
import { FileStore } from '../../lib/store/file.js';
import {
  type PluginExit,
  addressesOf,
  runPluginProcess,
  withConcurrency,
} from './support/plugin-process.js';

const dir = mkdtempSync(join(tmpdir(), 'leasehold-mixed-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const NETWORK = 'mixed';
const STORE = join(dir, 'store');
const HOST_CONFIG = join(dir, 'none');
const ATTACHMENTS = 24;
const ROUNDS = 8;

/**
 * Dual-stack with 13 IPv4 and 11 IPv6 addresses for 24 attachments: both sets run out, and an
 * ADD that gets an IPv4 address but no IPv6 one must give the IPv4 address back.
 */
const RANGES = [
  [{ subnet: '10.33.0.0/28' }],
  [{ subnet: 'fd00:33::/120', rangeStart: 'fd00:33::10', rangeEnd: 'fd00:33::1a' }],
];

/**
 * The runtime's record of one attachment: `idle` (never added, or deleted), `attached` (its last
 * ADD succeeded) or `unknown` (its last command was killed, so only a DEL or ADD settles it).
 */
interface Attachment {
  containerId: string;
  state: 'idle' | 'attached' | 'unknown';
  addresses: string[];
}

function netconf(extra: Record<string, unknown> = {}): Record<string, unknown> {
  // GC here gets a list from the moment of the call, so it may free allocations of any age.
  const ipam = { type: 'leasehold', ranges: RANGES, store: { type: 'file', dir: STORE }, gcMinAgeSeconds: 0 };
  return { cniVersion: '1.1.0', name: NETWORK, type: 'bridge', ipam, ...extra };
}

function call(
  command: 'ADD' | 'DEL' | 'CHECK',
  attachment: Attachment,
  extra: Record<string, unknown> = {},
  killAfterMs?: number,
): Promise<PluginExit> {
  const request = { command, containerId: attachment.containerId, ifName: 'net1' };
  return runPluginProcess(
    { ...request, netconf: netconf(extra), hostConfig: HOST_CONFIG },
    killAfterMs,
  );
}

/** A failed call that was not killed must print CNI error JSON and exit non-zero. */
function expectCniError(exit: PluginExit): void {
  expect(exit.code, exit.stderr).toBe(1);
  expect(typeof exit.json?.code, exit.stdout).toBe('number');
}

function prevResult(attachment: Attachment): Record<string, unknown> {
  const ips = attachment.addresses.map((address) => ({
    address: address.includes(':') ? `${address}/120` : `${address}/28`,
  }));
  return { cniVersion: '1.1.0', ips };
}

/** Runs the command a runtime might send next for the attachment, and updates its state. */
async function step(attachment: Attachment, killAfterMs: number | undefined): Promise<void> {
  const roll = Math.random();
  if (attachment.state === 'attached' && roll < 0.3) {
    const exit = await call(
      'CHECK',
      attachment,
      { prevResult: prevResult(attachment) },
      killAfterMs,
    );
    if (exit.signal === null) expect(exit.stdout).toBe('');
    return;
  }

  if (attachment.state !== 'idle' && roll < 0.7) {
    const exit = await call('DEL', attachment, {}, killAfterMs);
    if (exit.signal !== null) attachment.state = 'unknown';
    else expect(exit.stdout).toBe('');
    if (exit.code === 0) attachment.state = 'idle';
    return;
  }

  // A first or retried ADD sometimes requests a fixed IPv4 address, which may be taken.
  const requested = `10.33.0.${2 + Math.floor(Math.random() * 13)}`;
  const extra =
    attachment.state === 'idle' && roll < 0.9 ? {} : { runtimeConfig: { ips: [requested] } };
  const repeated = attachment.state === 'attached';
  const exit = await call('ADD', attachment, repeated ? {} : extra, killAfterMs);
  if (exit.signal !== null) {
    if (!repeated) attachment.state = 'unknown';
    return;
  }

  if (exit.code !== 0) {
    // A refused ADD leaves the store as it was, so the attachment keeps its state.
    expectCniError(exit);
    return;
  }
  if (repeated) expect(addressesOf(exit)).toEqual(attachment.addresses);
  attachment.addresses = addressesOf(exit);
  attachment.state = 'attached';
}

/** Runs GC listing every attachment the runtime has not deleted, while attached ones are checked. */
async function collectGarbage(attachments: Attachment[]): Promise<void> {
  const listed = attachments.filter((attachment) => attachment.state !== 'idle');
  const valid = listed.map((attachment) => ({
    containerID: attachment.containerId,
    ifname: 'net1',
  }));
  const gc = runPluginProcess({
    command: 'GC',
    netconf: netconf({ 'cni.dev/valid-attachments': valid }),
    hostConfig: HOST_CONFIG,
  });
  const attached = attachments.filter((attachment) => attachment.state === 'attached');
  const checks = attached.map((attachment) =>
    call('CHECK', attachment, { prevResult: prevResult(attachment) }),
  );
  for (const exit of await Promise.all(checks)) expect(exit.stdout).toBe('');
  expect((await gc).stdout).toBe('');
}

/** Checks the store against the results the runtime received. */
async function expectStoreMatches(attachments: Attachment[]): Promise<void> {
  const report = await checkConsistency(new FileStore(STORE), NETWORK);
  expect(isConsistent(report), JSON.stringify(report)).toBe(true);
  const owners = new Map(
    report.allocations.map((entry) => [entry.address, entry.owner.containerId]),
  );
  const attached = attachments.filter((attachment) => attachment.state === 'attached');
  for (const attachment of attached) {
    for (const address of attachment.addresses)
      expect(owners.get(address), address).toBe(attachment.containerId);
  }
  const attachedAddresses = attached.flatMap((attachment) => attachment.addresses);
  expect(new Set(attachedAddresses).size).toBe(attachedAddresses.length);
  const idle = new Set(attachments.filter((a) => a.state === 'idle').map((a) => a.containerId));
  expect(report.allocations.filter((entry) => idle.has(entry.owner.containerId))).toEqual([]);
}

describe('mixed commands on a small dual-stack range', () => {
  it('keeps one holder per address through kills and GC', { timeout: 300_000 }, async () => {
    const attachments: Attachment[] = Array.from({ length: ATTACHMENTS }, (_, i) => ({
      containerId: `m${i}`,
      state: 'idle',
      addresses: [],
    }));
    for (let round = 0; round < ROUNDS; round++) {
      const killAt = (): number | undefined =>
        Math.random() < 0.1 ? Math.floor(Math.random() * 300) : undefined;
      await withConcurrency(
        12,
        attachments.map((attachment) => () => step(attachment, killAt())),
      );
      await expectStoreMatches(attachments);
      await collectGarbage(attachments);
      await expectStoreMatches(attachments);
    }

    const dels = await withConcurrency(
      12,
      attachments.map((attachment) => () => call('DEL', attachment)),
    );
    expect(dels.filter((exit) => exit.code !== 0).map((exit) => exit.stdout)).toEqual([]);
    expect((await checkConsistency(new FileStore(STORE), NETWORK)).allocations).toEqual([]);
  });
});
