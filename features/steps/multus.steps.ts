import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import { After, Before, Given, Then, When } from '@cucumber/cucumber';
import { checkConsistency, isConsistent } from '../../lib/pool/consistency.js';
import { type PodRuntime, type PodSandbox, errorMessage } from '../../test/e2e/support/cni-runtime.js';
import { createNamespace } from '../../test/e2e/support/cluster.js';
import { MultusRuntime, multusBinary } from '../../test/e2e/support/multus.js';
import { MultusDriver } from '../../test/e2e/support/multus-driver.js';
import { MACVLAN_PARENT, type MultusEnvironment, PodHarness } from '../../test/e2e/support/multus-environment.js';
import { createNad, networkStatus } from '../../test/e2e/support/pods.js';
import type { CommandResult } from '../../test/e2e/support/system.js';
import { kubeClient } from '../support/kube.js';
import { multusEnvironment, multusUnavailable } from '../support/multus.js';
import type { PluginWorld } from '../support/world.js';

/** Namespaces, networks and pods that one Multus scenario set up. */
interface MultusScenario {
  env: MultusEnvironment;
  namespaces: string[];
  /** Network name and first three octets of its /24, by NetworkAttachmentDefinition name. */
  networks: Map<string, { network: string; prefix: string }>;
  pods: Map<string, { pod: PodSandbox; added: CommandResult }>;
  harnesses: Map<string, PodHarness>;
}

const scenarios = new WeakMap<PluginWorld, MultusScenario>();
let prefixes = 0;

function scenarioOf(world: PluginWorld): MultusScenario {
  const scenario = scenarios.get(world);
  assert.ok(scenario, 'this step needs a @multus scenario');
  return scenario;
}

Before({ tags: '@multus', timeout: 900_000 }, async function (this: PluginWorld) {
  if (multusUnavailable()) return 'skipped';
  const env = await multusEnvironment();
  const suffix = this.kube?.suffix ?? Date.now().toString(36);
  const namespaces = [`mul-${suffix}`, `mul-${suffix}-b`];
  for (const namespace of namespaces) await createNamespace(env.client, namespace);
  scenarios.set(this, { env, namespaces, networks: new Map(), pods: new Map(), harnesses: new Map() });
  return undefined;
});

After({ tags: '@multus', timeout: 120_000 }, async function (this: PluginWorld) {
  const scenario = scenarios.get(this);
  if (!scenario) return;
  for (const harness of scenario.harnesses.values()) await harness.stopAll();
  for (const namespace of scenario.namespaces) await kubeClient().client.request('DELETE', `/api/v1/namespaces/${namespace}`, { expect: [404] });
});

function harnessFor(world: PluginWorld, path: string): PodHarness {
  const scenario = scenarioOf(world);
  let harness = scenario.harnesses.get(path);
  if (harness) return harness;
  let runtime: PodRuntime;
  if (path === 'Multus') {
    assert.ok(existsSync(multusBinary()), `${multusBinary()} is missing; build it with bash scripts/test-deps.sh`);
    runtime = new MultusRuntime(scenario.env.settings);
  } else {
    runtime = new MultusDriver(scenario.env.settings, scenario.env.client);
  }
  harness = new PodHarness(scenario.env, runtime, `lhf-${world.kube?.suffix ?? ''}`.slice(0, 12));
  scenario.harnesses.set(path, harness);
  return harness;
}

async function defineNad(world: PluginWorld, nad: string, ipam: (prefix: string) => Record<string, unknown>, extra: Record<string, unknown> = {}): Promise<void> {
  const scenario = scenarioOf(world);
  const prefix = `10.67.${(prefixes++ % 250) + 1}`;
  const network = world.storedName(`mul-${nad}`);
  const config = { cniVersion: '1.0.0', name: network, type: 'macvlan', master: MACVLAN_PARENT, mode: 'bridge', ipam: ipam(prefix), ...extra };
  for (const namespace of scenario.namespaces) await createNad(scenario.env.client, namespace, nad, config);
  scenario.networks.set(nad, { network, prefix });
}

function networkOf(world: PluginWorld, nad: string): { network: string; prefix: string } {
  const entry = scenarioOf(world).networks.get(nad);
  assert.ok(entry, `no NetworkAttachmentDefinition "${nad}" in this scenario`);
  return entry;
}

Given('a macvlan NetworkAttachmentDefinition {string} in two namespaces', async function (this: PluginWorld, nad: string) {
  await defineNad(this, nad, (prefix) => ({ type: 'leasehold', ranges: [[{ subnet: `${prefix}.0/24` }]] }));
});

Given('a macvlan NetworkAttachmentDefinition {string} with the ips capability', async function (this: PluginWorld, nad: string) {
  await defineNad(this, nad, (prefix) => ({ type: 'leasehold', ranges: [[{ subnet: `${prefix}.0/24` }]] }), { capabilities: { ips: true } });
});

Given('a macvlan NetworkAttachmentDefinition {string} with only {int} addresses', async function (this: PluginWorld, nad: string, count: number) {
  await defineNad(this, nad, (prefix) => ({ type: 'leasehold', ranges: [[{ subnet: `${prefix}.0/24`, rangeStart: `${prefix}.10`, rangeEnd: `${prefix}.${9 + count}` }]] }));
});

async function startPod(world: PluginWorld, pod: string, networks: string, path: string, namespaceIndex = 0): Promise<void> {
  const scenario = scenarioOf(world);
  const started = await harnessFor(world, path).start(scenario.namespaces[namespaceIndex] as string, pod, networks);
  scenario.pods.set(pod, started);
}

When('pod {string} starts with networks {string} through {word}', async function (this: PluginWorld, pod: string, networks: string, path: string) {
  await startPod(this, pod, networks, path);
});

When('pod {string} starts in the second namespace with networks {string} through {word}', async function (this: PluginWorld, pod: string, networks: string, path: string) {
  await startPod(this, pod, networks, path, 1);
});

When('pod {string} starts requesting address {int} of {string} through {word}', async function (this: PluginWorld, pod: string, host: number, nad: string, path: string) {
  const { prefix } = networkOf(this, nad);
  await startPod(this, pod, JSON.stringify([{ name: nad, ips: [`${prefix}.${host}/24`] }]), path);
});

When('pod {string} stops', async function (this: PluginWorld, pod: string) {
  const scenario = scenarioOf(this);
  const started = scenario.pods.get(pod);
  assert.ok(started);
  for (const harness of scenario.harnesses.values()) await harness.stop(started.pod);
});

function podOf(world: PluginWorld, pod: string): { pod: PodSandbox; added: CommandResult } {
  const started = scenarioOf(world).pods.get(pod);
  assert.ok(started, `pod "${pod}" was not started in this scenario`);
  return started;
}

Then('pod {string} started', function (this: PluginWorld, pod: string) {
  const { added } = podOf(this, pod);
  assert.equal(added.code, 0, errorMessage(added));
});

Then('pod {string} failed to start with a message containing {string}', function (this: PluginWorld, pod: string, text: string) {
  const { added } = podOf(this, pod);
  assert.notEqual(added.code, 0);
  assert.ok(errorMessage(added).includes(text), errorMessage(added));
});

async function statusAddresses(world: PluginWorld, pod: string, nad: string): Promise<Map<string, string[]>> {
  const { pod: sandbox } = podOf(world, pod);
  const statuses = await networkStatus(scenarioOf(world).env.client, sandbox);
  const byInterface = new Map<string, string[]>();
  for (const entry of statuses.filter((status) => status.name === `${sandbox.namespace}/${nad}`)) {
    byInterface.set(entry.interface ?? '', entry.ips ?? []);
  }
  return byInterface;
}

function interfaceAddresses(world: PluginWorld, pod: string, ifName: string): string[] {
  const { pod: sandbox } = podOf(world, pod);
  return scenarioOf(world).env.sandbox.addresses(basename(sandbox.netns), ifName);
}

Then('the network-status of pod {string} lists on {string} the address of {string} configured in the pod', async function (this: PluginWorld, pod: string, ifName: string, nad: string) {
  const listed = (await statusAddresses(this, pod, nad)).get(ifName) ?? [];
  assert.equal(listed.length, 1, JSON.stringify(listed));
  assert.ok(listed[0]?.startsWith(`${networkOf(this, nad).prefix}.`), String(listed[0]));
  assert.deepEqual(interfaceAddresses(this, pod, ifName), [`${listed[0]}/24`]);
});

Then('pod {string} has different addresses of {string} on {string} and {string}', async function (this: PluginWorld, pod: string, nad: string, first: string, second: string) {
  const listed = await statusAddresses(this, pod, nad);
  const a = listed.get(first)?.[0];
  const b = listed.get(second)?.[0];
  assert.ok(a);
  assert.ok(b);
  assert.notEqual(a, b);
});

Then('pod {string} has address {int} of {string} on {string}', async function (this: PluginWorld, pod: string, host: number, nad: string, ifName: string) {
  const address = `${networkOf(this, nad).prefix}.${host}`;
  assert.deepEqual((await statusAddresses(this, pod, nad)).get(ifName), [address]);
  assert.deepEqual(interfaceAddresses(this, pod, ifName), [`${address}/24`]);
});

Then('the network of {string} is consistent and holds {int} addresses', async function (this: PluginWorld, nad: string, count: number) {
  const report = await checkConsistency(scenarioOf(this).env.inspector(), networkOf(this, nad).network);
  assert.ok(isConsistent(report), JSON.stringify(report));
  assert.equal(report.allocations.length, count);
});
