import { spawn } from 'node:child_process';
import type { PodRef } from './pods.js';
import type { CommandResult } from './system.js';

/** A pod sandbox as a runtime passes it to CNI: the pod, its sandbox container and netns. */
export interface PodSandbox extends PodRef {
  containerId: string;
  /** Path of the sandbox's network namespace, such as /var/run/netns/NAME. */
  netns: string;
}

/** Something that attaches a pod sandbox to its networks, as the kubelet's runtime calls Multus. */
export interface PodRuntime {
  add(sandbox: PodSandbox): Promise<CommandResult>;
  del(sandbox: PodSandbox): Promise<CommandResult>;
}

/** Settings shared by both ways of attaching pods. */
export interface RuntimeSettings {
  /** Network namespace the plugins run in; the bridges and macvlan parents live there. */
  hostNamespace: string;
  /** CNI bin directory with the reference plugins and Leasehold. */
  binDir: string;
  /** Directory for cached delegate configurations and results. */
  cacheDir: string;
  kubeconfig: string;
  /** The cluster default network, a configuration list attached as eth0. */
  defaultNetwork: Record<string, unknown>;
  /** Extra environment for every plugin process, such as LEASEHOLD_CONFIG_FILE. */
  env: Record<string, string>;
}

/** Builds CNI_ARGS as CRI runtimes pass them to the CNI plugin for a pod sandbox. */
export function podCniArgs(sandbox: PodSandbox): string {
  return [
    'IgnoreUnknown=1',
    `K8S_POD_NAMESPACE=${sandbox.namespace}`,
    `K8S_POD_NAME=${sandbox.name}`,
    `K8S_POD_INFRA_CONTAINER_ID=${sandbox.containerId}`,
    `K8S_POD_UID=${sandbox.uid}`,
  ].join(';');
}

/** Builds the CNI_* environment of one call. */
export function cniEnvironment(
  command: 'ADD' | 'DEL',
  sandbox: PodSandbox,
  ifName: string,
  args: string,
  settings: RuntimeSettings,
): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    ...settings.env,
    CNI_COMMAND: command,
    CNI_CONTAINERID: sandbox.containerId,
    CNI_NETNS: sandbox.netns,
    CNI_IFNAME: ifName,
    CNI_PATH: settings.binDir,
    CNI_ARGS: args,
  };
}

/** Runs a CNI plugin inside the host network namespace with its configuration on stdin. */
export function invokePlugin(
  binary: string,
  env: NodeJS.ProcessEnv,
  config: unknown,
  hostNamespace: string,
): Promise<CommandResult> {
  return new Promise((resolve) => {
    const child = spawn('ip', ['netns', 'exec', hostNamespace, binary], { env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    child.stdin.end(JSON.stringify(config));
  });
}

/** Returns the message of a CNI error result with its details, or the whole output if not JSON. */
export function errorMessage(result: CommandResult): string {
  try {
    const error = JSON.parse(result.stdout) as { msg?: string; details?: string };
    return [error.msg, error.details].filter(Boolean).join(': ');
  } catch {
    return result.stdout + result.stderr;
  }
}
