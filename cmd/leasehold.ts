import { versionReply } from '../lib/cni/version.js';

/** Upper bound on reading stdin; a network configuration is a few kilobytes. */
const MAX_STDIN_BYTES = 16 * 1024 * 1024;

/** Reads stdin; undefined when it is larger than MAX_STDIN_BYTES. */
async function readStdin(): Promise<string | undefined> {
  if (process.stdin.isTTY) return '';
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    size += (chunk as Buffer).length;
    if (size > MAX_STDIN_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

const TOO_LARGE = JSON.stringify({
  cniVersion: '1.1.0',
  code: 6,
  msg: `failed to decode the network configuration on stdin: it is larger than ${MAX_STDIN_BYTES / 1024 / 1024} MiB`,
});

async function main(): Promise<void> {
  const stdin = await readStdin();
  if (stdin === undefined) {
    process.stdout.write(`${TOO_LARGE}\n`);
    process.exitCode = 1;
    return;
  }
  // VERSION is answered without loading the rest of the plugin: runtimes call it often.
  if (process.env.CNI_COMMAND === 'VERSION') {
    process.stdout.write(`${versionReply(stdin)}\n`);
    return;
  }
  const { runPlugin } = await import('../lib/plugin/run.js');
  const outcome = await runPlugin(process.env, stdin);
  if (outcome.stdout !== '') process.stdout.write(`${outcome.stdout}\n`);
  process.exitCode = outcome.exitCode;
}

void main();
