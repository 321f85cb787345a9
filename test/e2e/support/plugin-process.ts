import { spawn } from 'node:child_process';
import { PLUGIN_BINARY } from './system.js';

export interface PluginCall {
  command: 'ADD' | 'DEL' | 'CHECK' | 'GC' | 'STATUS';
  containerId?: string;
  ifName?: string;
  netconf: Record<string, unknown>;
  hostConfig: string;
  env?: Record<string, string>;
  /** The executable to run; the built plugin by default. */
  binary?: string;
}

export interface PluginExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  json: Record<string, unknown> | undefined;
}

/** Spawns the built plugin; `killAfterMs` sends SIGKILL at that moment if it is still running. */
export function runPluginProcess(call: PluginCall, killAfterMs?: number): Promise<PluginExit> {
  return new Promise((resolve) => {
    const child = spawn(call.binary ?? PLUGIN_BINARY, [], {
      env: {
        PATH: process.env.PATH,
        LEASEHOLD_CONFIG_FILE: call.hostConfig,
        CNI_COMMAND: call.command,
        CNI_CONTAINERID: call.containerId ?? '',
        CNI_NETNS: call.containerId ? `/var/run/netns/${call.containerId}` : '',
        CNI_IFNAME: call.ifName ?? 'eth0',
        CNI_PATH: '/opt/cni/bin',
        CNI_ARGS: call.containerId ? `K8S_POD_NAMESPACE=default;K8S_POD_NAME=pod-${call.containerId};K8S_POD_UID=uid-${call.containerId}` : '',
        ...call.env,
      },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdin.end(JSON.stringify(call.netconf));
    const timer = killAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      let json: Record<string, unknown> | undefined;
      try {
        json = stdout.trim() ? JSON.parse(stdout) : undefined;
      } catch {
        json = undefined;
      }
      resolve({ code, signal, stdout, stderr, json });
    });
  });
}

/** The addresses of an ADD result, without prefix lengths. */
export function addressesOf(exit: PluginExit): string[] {
  const ips = (exit.json?.ips as Array<{ address: string }> | undefined) ?? [];
  return ips.map((ip) => ip.address.split('/')[0] as string);
}

/** Runs `tasks` with at most `limit` at a time, keeping their order in the result. */
export async function withConcurrency<T>(limit: number, tasks: Array<() => Promise<T>>): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, tasks.length) }, async () => {
    while (next < tasks.length) {
      const index = next++;
      results[index] = await (tasks[index] as () => Promise<T>)();
    }
  });
  await Promise.all(workers);
  return results;
}
