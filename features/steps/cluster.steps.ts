import assert from 'node:assert/strict';
import { Given, Then, When } from '@cucumber/cucumber';
import { formatPrefix, parseAddress, parsePrefix, prefixInterval } from '../../lib/ipam/address.js';
import { ensureNadCrd } from '../../test/e2e/support/pods.js';
import { kubeClient } from '../support/kube.js';
import type { PluginWorld } from '../support/world.js';

type Kube = NonNullable<PluginWorld['kube']>;

function kubeOf(world: PluginWorld): Kube {
  assert.ok(world.kube, 'this step needs a @kubernetes scenario');
  return world.kube;
}

/** Creates an object and remembers it for deletion after the scenario; an existing one is kept. */
async function create(world: PluginWorld, collection: string, body: { metadata: { name: string } }): Promise<Record<string, unknown>> {
  const response = await kubeClient().client.request<Record<string, unknown>>('POST', collection, { body, expect: [409] });
  if (response.status !== 409) kubeOf(world).created.push(`${collection}/${body.metadata.name}`);
  return response.body;
}

async function ensureNamespace(world: PluginWorld, name: string): Promise<void> {
  await create(world, '/api/v1/namespaces', { metadata: { name } });
  // Pods need the namespace's default ServiceAccount, which no controller makes on the local control plane.
  await kubeClient().client.request('POST', `/api/v1/namespaces/${name}/serviceaccounts`, { body: { metadata: { name: 'default' } }, expect: [409] });
}

function addressIn(world: PluginWorld, container: string, network: string): string {
  const json = world.results.get(`${container}/${network}/eth0`)?.json;
  assert.ok(json, `no ADD result for ${container} on ${network}`);
  const ips = json.ips as Array<{ address: string }>;
  return (ips[0] as { address: string }).address.split('/')[0] as string;
}

// The cluster's own networks

Given('a node {string} with pod CIDRs {string}', async function (this: PluginWorld, node: string, cidrs: string) {
  const podCIDRs = cidrs.split(',').map((cidr) => cidr.trim()).filter((cidr) => cidr !== '');
  const spec = podCIDRs.length > 0 ? { podCIDR: podCIDRs[0], podCIDRs } : {};
  await create(this, '/api/v1/nodes', { metadata: { name: this.nodeName(node) }, spec } as never);
});

When('the controller-manager assigns node {string} the pod CIDRs {string}', async function (this: PluginWorld, node: string, cidrs: string) {
  const podCIDRs = cidrs.split(',').map((cidr) => cidr.trim());
  const path = `/api/v1/nodes/${this.nodeName(node)}`;
  const client = kubeClient().client;
  const current = await client.request<{ spec?: Record<string, unknown> }>('GET', path);
  await client.request('PUT', path, { body: { ...current.body, spec: { ...current.body.spec, podCIDR: podCIDRs[0], podCIDRs } } });
});

Given("a network {string} inside the cluster's service range", async function (this: PluginWorld, network: string) {
  const response = await kubeClient().client.request<{ items: Array<{ spec: { cidrs: string[] } }> }>('GET', '/apis/networking.k8s.io/v1/servicecidrs');
  const cidr = response.body.items.flatMap((item) => item.spec.cidrs).find((text) => parsePrefix(text)?.family === 4);
  assert.ok(cidr, 'the API server lists no IPv4 ServiceCIDR');
  const prefix = parsePrefix(cidr);
  assert.ok(prefix);
  // The last /28 of the service range: service addresses are handed out from its start.
  const last = prefixInterval(prefix).last;
  this.networks.set(network, { ranges: [[{ subnet: formatPrefix(4, last - 15n, 28) }]] });
});

Given('the network {string} opts in to overlapping the cluster', function (this: PluginWorld, network: string) {
  const ipam = this.networks.get(network);
  assert.ok(ipam);
  ipam.allowClusterOverlap = true;
});

Given("a network {string} that takes its ranges from the node's pod CIDRs", function (this: PluginWorld, network: string) {
  this.networks.set(network, { rangesFrom: 'nodePodCIDRs' });
});

Then('container {string} on {string} gets an address in {string}', function (this: PluginWorld, container: string, network: string, cidr: string) {
  const address = parseAddress(addressIn(this, container, network));
  const prefix = parsePrefix(cidr);
  assert.ok(address);
  assert.ok(prefix);
  const { first, last } = prefixInterval(prefix);
  assert.equal(address.family, prefix.family);
  assert.ok(address.value >= first, `${addressIn(this, container, network)} is below ${cidr}`);
  assert.ok(address.value <= last, `${addressIn(this, container, network)} is above ${cidr}`);
});

// StatefulSet pods

function statefulSetName(world: PluginWorld, name: string): string {
  return `${name}-${kubeOf(world).suffix}`;
}

Given('a StatefulSet {string} with {int} replicas', async function (this: PluginWorld, name: string, replicas: number) {
  const kube = kubeOf(this);
  await ensureNamespace(this, kube.namespace);
  const labels = { app: statefulSetName(this, name) };
  await create(this, `/apis/apps/v1/namespaces/${kube.namespace}/statefulsets`, {
    metadata: { name: statefulSetName(this, name) },
    spec: { replicas, serviceName: name, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: 'app', image: 'registry.invalid/app' }] } } },
  } as never);
});

async function createPod(world: PluginWorld, pod: string, owner?: { name: string; uid: string }): Promise<void> {
  const kube = kubeOf(world);
  await ensureNamespace(world, kube.namespace);
  const name = owner ? pod.replace(/^([a-z0-9-]+?)-(\d+)$/, (_all, base: string, ordinal: string) => `${statefulSetName(world, base)}-${ordinal}`) : `${pod}-${kube.suffix}`;
  const ownerReferences = owner ? [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: owner.name, uid: owner.uid, controller: true }] : [];
  const body = await create(world, `/api/v1/namespaces/${kube.namespace}/pods`, {
    metadata: { name, ownerReferences },
    spec: { automountServiceAccountToken: false, containers: [{ name: 'app', image: 'registry.invalid/app' }] },
  } as never);
  const uid = (body.metadata as { uid: string }).uid;
  kube.pods.set(pod, { namespace: kube.namespace, name, uid });
}

async function statefulSetOf(world: PluginWorld, pod: string): Promise<{ name: string; uid: string }> {
  const base = pod.replace(/-\d+$/, '');
  const name = statefulSetName(world, base);
  const response = await kubeClient().client.request<{ metadata: { uid: string } }>('GET', `/apis/apps/v1/namespaces/${kubeOf(world).namespace}/statefulsets/${name}`);
  return { name, uid: response.body.metadata.uid };
}

Given('the StatefulSet pod {string} exists', async function (this: PluginWorld, pod: string) {
  await createPod(this, pod, await statefulSetOf(this, pod));
});

Given('a pod {string} that no StatefulSet controls', async function (this: PluginWorld, pod: string) {
  await createPod(this, pod);
});

When('the pod {string} is deleted and created again', async function (this: PluginWorld, pod: string) {
  const known = kubeOf(this).pods.get(pod);
  assert.ok(known);
  await kubeClient().client.request('DELETE', `/api/v1/namespaces/${known.namespace}/pods/${known.name}?gracePeriodSeconds=0`, { expect: [404] });
  await createPod(this, pod, await statefulSetOf(this, pod));
  assert.notEqual(kubeOf(this).pods.get(pod)?.uid, known.uid);
});

When('node {string} calls {word} for pod {string} as container {string} on {string}', function (this: PluginWorld, node: string, command: string, pod: string, container: string, network: string) {
  this.node = node;
  this.callFor(command, container, network, 'eth0', pod);
});

Then('containers {string} and {string} on {string} got the same address', function (this: PluginWorld, a: string, b: string, network: string) {
  assert.equal(addressIn(this, b, network), addressIn(this, a, network));
});

Then('container {string} on {string} and container {string} on {string} got the same address', function (this: PluginWorld, a: string, first: string, b: string, second: string) {
  assert.equal(addressIn(this, b, second), addressIn(this, a, first));
});

Then('containers {string} and {string} on {string} got different addresses', function (this: PluginWorld, a: string, b: string, network: string) {
  assert.notEqual(addressIn(this, b, network), addressIn(this, a, network));
});

// Events

Then('the pod {string} has a Warning Event {string} whose message contains {string}', async function (this: PluginWorld, pod: string, reason: string, text: string) {
  const kube = kubeOf(this);
  const name = kube.pods.get(pod)?.name ?? `${pod}-${kube.suffix}`;
  const selector = encodeURIComponent(`involvedObject.name=${name}`);
  const response = await kubeClient().client.request<{ items: Array<{ reason: string; type: string; message: string }> }>('GET', `/api/v1/namespaces/${kube.namespace}/events?fieldSelector=${selector}`);
  const event = response.body.items.find((item) => item.reason === reason);
  assert.ok(event, `no Event ${reason} on pod ${name}: ${JSON.stringify(response.body.items.map((item) => item.reason))}`);
  assert.equal(event.type, 'Warning');
  assert.ok(event.message.includes(text), event.message);
});

Given('pods run in a namespace that does not exist', function (this: PluginWorld) {
  this.cniArgs = `K8S_POD_NAMESPACE=absent-${kubeOf(this).suffix};K8S_POD_NAME=ghost;K8S_POD_UID=uid-ghost`;
});

// NetworkAttachmentDefinitions

function nadNamespace(world: PluginWorld, namespace: string): string {
  return `${namespace}-${kubeOf(world).suffix}`;
}

Given('a NetworkAttachmentDefinition {string} in namespace {string} for network {string} with the range set {string}', async function (this: PluginWorld, nad: string, namespace: string, network: string, subnets: string) {
  await ensureNadCrd(kubeClient().client);
  await ensureNamespace(this, nadNamespace(this, namespace));
  const ranges = [subnets.split(',').map((subnet) => ({ subnet: subnet.trim() }))];
  const config = { cniVersion: '1.0.0', name: this.storedName(network), type: 'macvlan', master: 'eth1', ipam: { type: 'leasehold', ranges } };
  await create(this, `/apis/k8s.cni.cncf.io/v1/namespaces/${nadNamespace(this, namespace)}/network-attachment-definitions`, {
    apiVersion: 'k8s.cni.cncf.io/v1',
    kind: 'NetworkAttachmentDefinition',
    metadata: { name: nad },
    spec: { config: JSON.stringify(config) },
  } as never);
});

When('node {string} calls ADD for container {string} through {string} in namespace {string}', async function (this: PluginWorld, node: string, container: string, nad: string, namespace: string) {
  this.node = node;
  const path = `/apis/k8s.cni.cncf.io/v1/namespaces/${nadNamespace(this, namespace)}/network-attachment-definitions/${nad}`;
  const response = await kubeClient().client.request<{ spec: { config: string } }>('GET', path);
  const config = JSON.parse(response.body.spec.config) as { name: string };
  // The network is named after the configuration, as Multus passes it, whatever the namespace.
  const network = config.name.replace(`-${kubeOf(this).suffix}`, '');
  this.cniArgs = `K8S_POD_NAMESPACE=${nadNamespace(this, namespace)};K8S_POD_NAME=${container};K8S_POD_UID=uid-${container}`;
  this.callWith('ADD', container, network, response.body.spec.config);
  this.cniArgs = '';
});

When('the NetworkAttachmentDefinition {string} in namespace {string} is deleted', async function (this: PluginWorld, nad: string, namespace: string) {
  const path = `/apis/k8s.cni.cncf.io/v1/namespaces/${nadNamespace(this, namespace)}/network-attachment-definitions/${nad}`;
  await kubeClient().client.request('DELETE', path);
});
