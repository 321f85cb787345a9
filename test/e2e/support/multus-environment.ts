import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { KubeClient } from '../../../lib/kube/client.js';
import { KubeStore } from '../../../lib/kube/store.js';
import {
  type PodRuntime,
  type PodSandbox,
  type RuntimeSettings,
  errorMessage,
} from './cni-runtime.js';
import {
  type LocalCluster,
  createNamespace,
  scratchDir,
  simulatedNode,
  startCluster,
} from './cluster.js';
import { LoopbackRelay } from './loopback-relay.js';
import { applyNadCrd, createPod } from './pods.js';
import type { CommandResult } from './system.js';
import { Sandbox, run } from './system.js';

/** Namespace of the shard ConfigMaps and Leases. */
export const STORE_NAMESPACE = 'leasehold-multus';

/** The veth end in the sandbox's host namespace that macvlan networks use as their parent. */
export const MACVLAN_PARENT = 'lhmparent0';

/** Returns the cluster default network: a bridge with host-local addresses, attached as eth0. */
function defaultNetwork(root: string): Record<string, unknown> {
  const ipam = {
    type: 'host-local',
    ranges: [[{ subnet: '10.65.0.0/16' }]],
    dataDir: join(root, 'host-local'),
  };
  return {
    cniVersion: '1.0.0',
    name: 'cluster-default',
    plugins: [{ type: 'bridge', bridge: 'lhmbr0', ipam }],
  };
}

/**
 * One node of a cluster with Multus: the local API server with the NetworkAttachmentDefinition
 * CRD, a sandbox network namespace for the node's host side with a macvlan parent, and Leasehold
 * configured for the Kubernetes store through the host configuration file.
 */
export class MultusEnvironment {
  private constructor(
    readonly cluster: LocalCluster,
    readonly sandbox: Sandbox,
    readonly root: string,
    readonly settings: RuntimeSettings,
    private readonly relay: LoopbackRelay,
  ) {}

  /** Starts the environment on `cluster`, by default the local control plane. */
  static async start(cluster: LocalCluster = startCluster()): Promise<MultusEnvironment> {
    await createNamespace(cluster.client, STORE_NAMESPACE);
    await applyNadCrd(cluster.client);
    const root = scratchDir('leasehold-multus-');

    const sandbox = new Sandbox('lhmul');
    // A veth end is the macvlan parent: it needs no kernel module beyond veth.
    sandbox.inHost('ip', [
      'link',
      'add',
      MACVLAN_PARENT,
      'type',
      'veth',
      'peer',
      'name',
      'lhmparent1',
    ]);
    sandbox.inHost('ip', ['link', 'set', MACVLAN_PARENT, 'up']);
    sandbox.inHost('ip', ['link', 'set', 'lhmparent1', 'up']);
    // The plugins run in the sandbox's host namespace, whose loopback is not the machine's.
    const apiPort = Number(new URL(cluster.client.server).port);
    const relay = await LoopbackRelay.start(apiPort, sandbox.host, root);

    const node = simulatedNode(root, 'node-1', cluster.kubeconfig, STORE_NAMESPACE);
    const settings: RuntimeSettings = {
      hostNamespace: sandbox.host,
      binDir: sandbox.binDir,
      cacheDir: join(root, 'cache'),
      kubeconfig: cluster.kubeconfig,
      defaultNetwork: defaultNetwork(root),
      env: { LEASEHOLD_CONFIG_FILE: node.hostConfig },
    };
    return new MultusEnvironment(cluster, sandbox, root, settings, relay);
  }

  get client(): KubeClient {
    return this.cluster.client;
  }

  /** Opens a read-only view of the store, for checkConsistency. */
  inspector(): KubeStore {
    // The cache directory sits in the scratch directory, so stop() removes it.
    return new KubeStore({
      client: this.client,
      namespace: STORE_NAMESPACE,
      holder: 'test',
      cacheDir: join(this.root, 'inspector'),
    });
  }

  stop(): void {
    this.relay.stop();
    this.sandbox.cleanup();
    this.cluster.stop();
    rmSync(this.sandbox.dir, { recursive: true, force: true });
    rmSync(this.root, { recursive: true, force: true });
  }
}

/** Pods of one test run through one runtime, with what is needed to tear them down. */
export class PodHarness {
  private readonly started: PodSandbox[] = [];

  constructor(
    private readonly environment: MultusEnvironment,
    private readonly runtime: PodRuntime,
    private readonly netnsPrefix: string,
  ) {}

  /** Creates the pod through the API and its sandbox's network namespace, then calls ADD. */
  async start(
    namespace: string,
    name: string,
    networks: string,
  ): Promise<{ pod: PodSandbox; added: CommandResult }> {
    const ref = await createPod(this.environment.client, namespace, name, networks);
    const netns = this.environment.sandbox.addNamespace(`${this.netnsPrefix}-${name}`);
    const pod: PodSandbox = { ...ref, containerId: randomBytes(32).toString('hex'), netns };
    this.started.push(pod);
    return { pod, added: await this.runtime.add(pod) };
  }

  /** Calls DEL and removes the sandbox's network namespace; a failed DEL throws. */
  async stop(pod: PodSandbox): Promise<void> {
    const index = this.started.indexOf(pod);
    if (index < 0) return;
    this.started.splice(index, 1);
    const deleted = await this.runtime.del(pod);
    run('ip', ['netns', 'del', basename(pod.netns)]);
    if (deleted.code !== 0) {
      throw new Error(`DEL of pod ${pod.namespace}/${pod.name} failed: ${errorMessage(deleted)}`);
    }
  }

  /** Stops the pods a failed test left behind. */
  async stopAll(): Promise<void> {
    for (const pod of [...this.started]) await this.stop(pod);
  }
}
