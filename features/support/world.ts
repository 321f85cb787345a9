import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { After, Before, World, setWorldConstructor } from '@cucumber/cucumber';

export const BINARY = resolve('dist/bin/leasehold');

/** Output and exit code of one invocation of the built binary. */
export interface Invocation {
  exitCode: number;
  stdout: string;
  stderr: string;
  json: Record<string, unknown> | undefined;
}

/** State of one scenario: a scratch store, the networks defined, and the last invocations. */
export class PluginWorld extends World {
  dir = '';
  cniVersion = '1.1.0';
  networks = new Map<string, Record<string, unknown>>();
  last: Invocation | undefined;
  results = new Map<string, Invocation>();
  /** Extra top-level configuration keys for the next call, such as runtimeConfig. */
  extra: Record<string, unknown> = {};
  cniArgs = '';
  /** Set by Kubernetes scenarios: host configuration files of the simulated nodes. */
  kube:
    | {
        kubeconfig: string;
        namespace: string;
        suffix: string;
        nodes: Map<string, string>;
        /** Pods created through the API, by their name in the scenario. */
        pods: Map<string, { namespace: string; name: string; uid: string }>;
        /** API paths of objects the scenario created, deleted after it. */
        created: string[];
      }
    | undefined;
  node = 'node-1';
  /** The plugin executable of each node that the installer set up; others run BINARY. */
  installed = new Map<string, string>();

  /** Returns the network name as stored: Kubernetes scenarios share a cluster, so names get a suffix. */
  storedName(network: string): string {
    return this.kube ? `${network}-${this.kube.suffix}` : network;
  }

  /** Returns a simulated node's name in the API server, unique per scenario because Node objects are cluster-wide. */
  nodeName(node = this.node): string {
    return this.kube ? `${node}-${this.kube.suffix}` : node;
  }

  /** CNI_ARGS as a Kubernetes runtime passes them for a pod of the scenario. */
  podArgs(pod: string): string {
    const known = this.kube?.pods.get(pod);
    if (known) return `K8S_POD_NAMESPACE=${known.namespace};K8S_POD_NAME=${known.name};K8S_POD_UID=${known.uid}`;
    if (this.kube) return `K8S_POD_NAMESPACE=${this.kube.namespace};K8S_POD_NAME=${pod}-${this.kube.suffix};K8S_POD_UID=uid-${pod}`;
    return `K8S_POD_NAMESPACE=default;K8S_POD_NAME=${pod};K8S_POD_UID=uid-${pod}`;
  }

  hostConfig(): string {
    if (!this.kube) return join(this.dir, 'host.conf');
    let path = this.kube.nodes.get(this.node);
    if (!path) {
      const stateDir = join(this.dir, this.node);
      mkdirSync(stateDir, { recursive: true });
      path = join(stateDir, 'leasehold.conf');
      const store = { type: 'kubernetes', kubeconfig: this.kube.kubeconfig, namespace: this.kube.namespace };
      writeFileSync(path, JSON.stringify({ store, nodeName: this.nodeName(), stateDir }));
      this.kube.nodes.set(this.node, path);
    }
    return path;
  }

  netconf(network: string): Record<string, unknown> {
    const ipam = this.networks.get(network);
    if (!ipam) throw new Error(`network "${network}" is not defined in this scenario`);
    const store = this.kube ? {} : { store: { type: 'file', dir: join(this.dir, 'store') } };
    return {
      cniVersion: this.cniVersion,
      name: this.storedName(network),
      type: 'bridge',
      ...this.extra,
      ipam: { type: 'leasehold', ...store, ...ipam },
    };
  }

  /** Runs the built binary the way a runtime does: environment, stdin, stdout. */
  call(command: string, stdin: string, env: Record<string, string | undefined>): Invocation {
    const result = spawnSync(this.installed.get(this.node) ?? BINARY, [], {
      input: stdin,
      encoding: 'utf8',
      timeout: 30_000,
      env: {
        PATH: process.env.PATH,
        LEASEHOLD_CONFIG_FILE: this.hostConfig(),
        CNI_COMMAND: command,
        CNI_PATH: '/opt/cni/bin',
        ...env,
      },
    });
    let json: Record<string, unknown> | undefined;
    try {
      json = result.stdout.trim() === '' ? undefined : JSON.parse(result.stdout);
    } catch {
      json = undefined;
    }
    this.last = { exitCode: result.status ?? -1, stdout: result.stdout, stderr: result.stderr, json };
    return this.last;
  }

  callFor(command: string, container: string, network: string, ifName = 'eth0', pod = container): Invocation {
    return this.callWith(command, container, network, JSON.stringify(this.netconf(network)), ifName, pod);
  }

  /** Calls the plugin with a given network configuration, for a container of a pod. */
  callWith(command: string, container: string, network: string, stdin: string, ifName = 'eth0', pod = container): Invocation {
    const invocation = this.call(command, stdin, {
      CNI_CONTAINERID: container,
      CNI_NETNS: `/var/run/netns/${container}`,
      CNI_IFNAME: ifName,
      CNI_ARGS: this.cniArgs || this.podArgs(pod),
    });
    if (command === 'ADD') this.results.set(`${container}/${network}/${ifName}`, invocation);
    return invocation;
  }
}

setWorldConstructor(PluginWorld);

Before(function (this: PluginWorld) {
  this.dir = mkdtempSync(join(tmpdir(), 'leasehold-feature-'));
});

After(function (this: PluginWorld) {
  rmSync(this.dir, { recursive: true, force: true });
});
