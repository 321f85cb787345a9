import { join } from 'node:path';
import {
  type PodRuntime,
  type PodSandbox,
  type RuntimeSettings,
  cniEnvironment,
  invokePlugin,
  podCniArgs,
} from './cni-runtime.js';
import { type CommandResult, toolDir } from './system.js';

/** Returns the path of the Multus thin plugin that scripts/test-deps.sh builds. */
export function multusBinary(): string {
  return join(toolDir(), 'multus');
}

/**
 * The real Multus thin plugin, called as a CRI runtime calls the cluster's CNI network: the pod
 * sandbox's eth0 on the cluster default network, and every network of the pod's annotation
 * after it.
 *
 * NOTE: only the thin plugin is tested. The thick plugin (multus-shim, which forwards each call
 * to multus-daemon) is not.
 */
export class MultusRuntime implements PodRuntime {
  constructor(private readonly settings: RuntimeSettings) {}

  /** Builds the configuration a Multus installation writes to the CNI configuration directory. */
  config(): Record<string, unknown> {
    return {
      cniVersion: '1.0.0',
      name: 'multus-cni-network',
      type: 'multus',
      kubeconfig: this.settings.kubeconfig,
      cniDir: join(this.settings.cacheDir, 'multus'),
      binDir: this.settings.binDir,
      logToStderr: true,
      logLevel: 'error',
      delegates: [this.settings.defaultNetwork],
    };
  }

  add(sandbox: PodSandbox): Promise<CommandResult> {
    return this.call('ADD', sandbox);
  }

  del(sandbox: PodSandbox): Promise<CommandResult> {
    return this.call('DEL', sandbox);
  }

  private call(command: 'ADD' | 'DEL', sandbox: PodSandbox): Promise<CommandResult> {
    const env = cniEnvironment(command, sandbox, 'eth0', podCniArgs(sandbox), this.settings);
    return invokePlugin(multusBinary(), env, this.config(), this.settings.hostNamespace);
  }
}
