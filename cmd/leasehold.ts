import { runPlugin } from '../lib/plugin/run.js';

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

const outcome = await runPlugin(process.env, await readStdin());
if (outcome.stdout !== '') process.stdout.write(`${outcome.stdout}\n`);
process.exitCode = outcome.exitCode;
