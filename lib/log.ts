import { pino, type Logger, type LevelWithSilent } from 'pino';

export interface LogSettings {
  /** Log file; when unset, logs go to stderr. stdout carries only the CNI result. */
  file?: string;
  level?: LevelWithSilent;
}

/**
 * Creates the process logger. Writes are synchronous so that every line is out before the
 * process exits, which a CNI plugin does right after printing its result.
 */
export function createLogger(settings: LogSettings): Logger {
  const destination = pino.destination({ dest: settings.file ?? 2, sync: true, mkdir: settings.file !== undefined });
  const level = settings.level ?? (settings.file ? 'info' : 'warn');
  return pino({ level, base: { pid: process.pid } }, destination);
}
