import { versionReply } from '../lib/cni/version.js';

/** Upper bound on reading stdin; a network configuration is a few kilobytes. */
const MAX_STDIN_BYTES = 16 * 1024 * 1024;

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) return '';
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    size += (chunk as Buffer).length;
    if (size > MAX_STDIN_BYTES) break;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function main(): Promise<void> {
  const stdin = await readStdin();
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
