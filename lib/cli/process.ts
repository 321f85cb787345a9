import { pino } from 'pino';
import type { Log } from '../log.js';

/** Returns a command's logger: JSON lines on stdout, at LEASEHOLD_LOG_LEVEL or info. */
export function commandLog(component: string, env: NodeJS.ProcessEnv): Log {
  const level = env.LEASEHOLD_LOG_LEVEL ?? 'info';
  return pino(
    { base: { component }, level },
    pino.destination({ dest: 1, sync: true }),
  ) as unknown as Log;
}

/** Runs `work` with a signal that SIGTERM or SIGINT aborts, and removes the handlers after. */
export async function untilSignal<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  try {
    return await work(stop.signal);
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
}
