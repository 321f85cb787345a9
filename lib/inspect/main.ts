import { EXIT_USAGE } from '../cli/flags.js';
import { InvalidFlagError, toLeaseholdError } from '../errors.js';
import { KubeClient } from '../kube/client.js';
import { commandConnection } from '../kube/connection.js';
import { Inventory, collectFromDir, collectFromKube } from './collect.js';
import { allConsistent, formatText } from './format.js';
import { type InspectOptions, USAGE, parseInspectFlags } from './options.js';

async function collect(options: InspectOptions, env: NodeJS.ProcessEnv): Promise<Inventory> {
  const inventory = new Inventory();
  if (options.storeDir !== undefined) {
    await collectFromDir(options.storeDir, inventory, options.network);
    return inventory;
  }
  const client = new KubeClient(commandConnection(options.kubeconfig, env));
  try {
    await collectFromKube(client, options.namespace, inventory);
  } finally {
    client.close();
  }
  return inventory;
}

/**
 * Runs `leasehold-inspect`: prints the allocations and returns the exit status, 0 when every
 * shard is consistent, 1 when a problem was found or the store could not be read, 2 on invalid
 * flags.
 */
export async function runInspect(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  let options: InspectOptions;
  try {
    options = parseInspectFlags(argv);
    if (options.help) {
      process.stdout.write(USAGE);
      return 0;
    }
    const networks = (await collect(options, env)).list(options.network);
    process.stdout.write(options.json ? `${JSON.stringify({ consistent: allConsistent(networks), networks }, null, 2)}\n` : formatText(networks));
    return allConsistent(networks) ? 0 : 1;
  } catch (error) {
    process.stderr.write(`leasehold-inspect: ${toLeaseholdError(error).message}\n`);
    return error instanceof InvalidFlagError ? EXIT_USAGE : 1;
  }
}
