import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** The reference plugins from Debian's containernetworking-plugins package. */
export const REFERENCE_PLUGIN_DIR = process.env.LEASEHOLD_CNI_PLUGIN_DIR ?? '/usr/lib/cni';

export const PLUGIN_BINARY = resolve('dist/bin/leasehold');

export function toolDir(): string {
  return process.env.LEASEHOLD_TOOL_DIR ?? join(homedir(), '.cache', 'leasehold', 'bin');
}

/** Fails with the command that fixes it when something the end-to-end tests need is missing. */
export function requireSystem(): void {
  const missing: string[] = [];
  if (process.getuid?.() !== 0) missing.push('root (network namespaces need it)');
  if (!existsSync(join(REFERENCE_PLUGIN_DIR, 'bridge'))) missing.push(`${REFERENCE_PLUGIN_DIR}/bridge (apt-get install containernetworking-plugins)`);
  if (!existsSync(join(toolDir(), 'cnitool'))) missing.push(`${toolDir()}/cnitool (bash scripts/test-deps.sh)`);
  if (!existsSync(PLUGIN_BINARY)) missing.push(`${PLUGIN_BINARY} (npm run build)`);
  if (missing.length > 0) throw new Error(`end-to-end tests cannot run; missing: ${missing.join(', ')}`);
}

export function run(command: string, args: string[], options: { env?: NodeJS.ProcessEnv; input?: string } = {}): string {
  return execFileSync(command, args, { encoding: 'utf8', env: options.env ?? process.env, input: options.input ?? '', stdio: ['pipe', 'pipe', 'pipe'] });
}

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function runAsync(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<CommandResult> {
  return new Promise((resolvePromise) => {
    execFile(command, args, { env, encoding: 'utf8' }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolvePromise({ code, stdout, stderr });
    });
  });
}

/**
 * A sandbox for one test file: a "host" network namespace that holds the bridges and macvlan
 * parents, pod namespaces, a CNI bin directory with the reference plugins and Leasehold, a
 * configuration directory for cnitool and a file store. Nothing touches the machine's own
 * network namespace.
 */
export class Sandbox {
  readonly dir = mkdtempSync(join(tmpdir(), 'leasehold-e2e-'));
  readonly binDir = join(this.dir, 'bin');
  readonly confDir = join(this.dir, 'net.d');
  readonly storeDir = join(this.dir, 'store');
  readonly host: string;
  private readonly namespaces: string[] = [];

  constructor(readonly name: string) {
    this.host = `${name}-host`;
    mkdirSync(this.binDir);
    mkdirSync(this.confDir);
    for (const plugin of readdirSync(REFERENCE_PLUGIN_DIR)) symlinkSync(join(REFERENCE_PLUGIN_DIR, plugin), join(this.binDir, plugin));
    symlinkSync(PLUGIN_BINARY, join(this.binDir, 'leasehold'));
    this.addNamespace(this.host);
    run('ip', ['netns', 'exec', this.host, 'ip', 'link', 'set', 'lo', 'up']);
  }

  addNamespace(name: string): string {
    run('ip', ['netns', 'add', name]);
    this.namespaces.push(name);
    return `/var/run/netns/${name}`;
  }

  /** Runs a command inside the sandbox's host namespace. */
  inHost(command: string, args: string[]): string {
    return run('ip', ['netns', 'exec', this.host, command, ...args]);
  }

  /** Writes a network configuration list for cnitool. */
  writeNetwork(name: string, plugin: Record<string, unknown>, cniVersion = '1.0.0'): void {
    const list = { cniVersion, name, plugins: [plugin] };
    writeFileSync(join(this.confDir, `${name}.conflist`), JSON.stringify(list, null, 2));
  }

  /** Calls cnitool the way a runtime calls libcni, from the sandbox's host namespace. */
  cnitool(verb: 'add' | 'del' | 'check', network: string, netnsPath: string, extraEnv: Record<string, string> = {}): Promise<CommandResult> {
    const env = { ...process.env, NETCONFPATH: this.confDir, CNI_PATH: this.binDir, LEASEHOLD_CONFIG_FILE: join(this.dir, 'host.conf'), ...extraEnv };
    return runAsync('ip', ['netns', 'exec', this.host, join(toolDir(), 'cnitool'), verb, network, netnsPath], env);
  }

  /** Addresses of an interface inside a namespace, as "address/prefix". */
  addresses(namespace: string, ifName: string): string[] {
    const out = run('ip', ['-j', 'netns', 'exec', namespace, 'ip', '-j', 'addr', 'show', 'dev', ifName]);
    const links = JSON.parse(out) as Array<{ addr_info: Array<{ local: string; prefixlen: number; scope: string }> }>;
    return (links[0]?.addr_info ?? []).filter((a) => a.scope === 'global').map((a) => `${a.local}/${a.prefixlen}`);
  }

  routes(namespace: string, family: 4 | 6): Array<{ dst: string; gateway?: string }> {
    const out = run('ip', ['netns', 'exec', namespace, 'ip', `-${family}`, '-j', 'route', 'show']);
    return JSON.parse(out) as Array<{ dst: string; gateway?: string }>;
  }

  hasInterface(namespace: string, ifName: string): boolean {
    try {
      run('ip', ['netns', 'exec', namespace, 'ip', 'link', 'show', 'dev', ifName]);
      return true;
    } catch {
      return false;
    }
  }

  cleanup(): void {
    for (const name of this.namespaces.reverse()) {
      try {
        run('ip', ['netns', 'del', name]);
      } catch {
        // Already gone.
      }
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
