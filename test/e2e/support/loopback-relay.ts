import { type ChildProcess, spawn } from 'node:child_process';
import { createConnection, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Runs as a child process: `unix-to-tcp SOCKET PORT` accepts on a Unix socket and connects to
 * 127.0.0.1:PORT; `tcp-to-unix PORT SOCKET` accepts on 127.0.0.1:PORT and connects to the Unix
 * socket. Prints "ready" once it listens. Bytes pass through unchanged, so TLS stays end to end.
 */
function relayMain(mode: string, from: string, to: string): void {
  const connect = (): Socket =>
    mode === 'unix-to-tcp' ? createConnection(Number(to), '127.0.0.1') : createConnection(to);
  const server = createServer((client) => {
    const upstream = connect();
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  const ready = (): void => void process.stdout.write('ready\n');
  if (mode === 'unix-to-tcp') server.listen(from, ready);
  else server.listen(Number(from), '127.0.0.1', ready);
}

const SELF = fileURLToPath(import.meta.url);

if (process.argv[1] === SELF) {
  const [mode = '', from = '', to = ''] = process.argv.slice(2);
  relayMain(mode, from, to);
}

/** Starts one half of the relay, behind `prefix` (such as `ip netns exec NAME`) when given. */
function startRelay(prefix: string[], args: string[]): Promise<ChildProcess> {
  const [file = '', ...rest] = [...prefix, process.execPath, '--import', 'tsx', SELF, ...args];
  const child = spawn(file, rest, { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout?.once('data', () => resolve(child));
    child.once('exit', (code) => reject(new Error(`relay ${args.join(' ')} exited with ${code}`)));
  });
}

/**
 * Makes a port on the machine's loopback reachable at the same port on the loopback of a
 * network namespace. Loopback addresses are per network namespace, so plugins that run in the
 * sandbox's host namespace cannot reach the local API server otherwise. The two halves meet on a
 * Unix socket, which is not scoped to a network namespace.
 */
export class LoopbackRelay {
  private constructor(private readonly children: ChildProcess[]) {}

  static async start(port: number, namespace: string, dir: string): Promise<LoopbackRelay> {
    const socket = join(dir, `relay-${port}.sock`);
    const outside = await startRelay([], ['unix-to-tcp', socket, String(port)]);
    try {
      const inside = await startRelay(
        ['ip', 'netns', 'exec', namespace],
        ['tcp-to-unix', String(port), socket],
      );
      return new LoopbackRelay([outside, inside]);
    } catch (error) {
      outside.kill();
      throw error;
    }
  }

  stop(): void {
    for (const child of this.children) child.kill();
  }
}
