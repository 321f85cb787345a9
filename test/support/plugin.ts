import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runPlugin } from '../../lib/plugin/run.js';

/** A scratch file store and a way to call the plugin in-process against it. */
export class PluginHarness {
  readonly dir = mkdtempSync(join(tmpdir(), 'leasehold-test-'));

  /** A network configuration using this harness's store. */
  netconf(version: string, ipam: Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, unknown> {
    return {
      cniVersion: version,
      name: 'testnet',
      type: 'bridge',
      ...extra,
      ipam: { type: 'leasehold', store: { type: 'file', dir: this.dir }, ...ipam },
    };
  }

  async call(
    command: string,
    netconf: Record<string, unknown> | string,
    options: { containerId?: string; ifName?: string; args?: string; env?: Record<string, string> } = {},
  ): Promise<{ exitCode: number; json: Record<string, unknown> | undefined }> {
    const env: NodeJS.ProcessEnv = {
      CNI_COMMAND: command,
      CNI_CONTAINERID: options.containerId ?? 'container-1',
      CNI_NETNS: '/var/run/netns/test',
      CNI_IFNAME: options.ifName ?? 'eth0',
      CNI_PATH: '/opt/cni/bin',
      LEASEHOLD_CONFIG_FILE: join(this.dir, 'no-host-config'),
      LEASEHOLD_LOG_LEVEL: 'silent',
      ...(options.args !== undefined ? { CNI_ARGS: options.args } : {}),
      ...options.env,
    };
    const stdin = typeof netconf === 'string' ? netconf : JSON.stringify(netconf);
    const outcome = await runPlugin(env, stdin);
    return { exitCode: outcome.exitCode, json: outcome.stdout === '' ? undefined : JSON.parse(outcome.stdout) };
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
