import type { LevelWithSilent } from 'pino';

export type LogLevel = LevelWithSilent;

const SEVERITY: Record<LogLevel, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity };

export interface LogSettings {
  /** Log file; when unset, logs go to stderr. stdout carries only the CNI result. */
  file?: string;
  level?: LogLevel;
}

/** The logging calls the plugin makes: fields first, then a constant message. */
export interface Log {
  debug(fields: Record<string, unknown>, message: string): void;
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
  child(bindings: Record<string, unknown>): Log;
}

interface Entry {
  level: 'debug' | 'info' | 'warn' | 'error';
  fields: Record<string, unknown>;
  message: string;
  time: number;
}

/**
 * A logger for one short-lived plugin process. Entries at an enabled level are queued and written
 * through pino by flush(), which the command boundary awaits before exiting. pino is loaded only
 * when there is something to write, so a call that logs nothing never pays for loading it.
 */
export class PluginLog implements Log {
  private readonly entries: Entry[];
  private readonly threshold: number;

  constructor(
    private readonly settings: LogSettings,
    private readonly bindings: Record<string, unknown> = {},
    entries?: Entry[],
  ) {
    this.entries = entries ?? [];
    this.threshold = SEVERITY[settings.level ?? (settings.file ? 'info' : 'warn')];
  }

  private add(level: Entry['level'], fields: Record<string, unknown>, message: string): void {
    if (SEVERITY[level] < this.threshold) return;
    this.entries.push({ level, fields: { ...this.bindings, ...fields }, message, time: Date.now() });
  }

  debug(fields: Record<string, unknown>, message: string): void {
    this.add('debug', fields, message);
  }

  info(fields: Record<string, unknown>, message: string): void {
    this.add('info', fields, message);
  }

  warn(fields: Record<string, unknown>, message: string): void {
    this.add('warn', fields, message);
  }

  error(fields: Record<string, unknown>, message: string): void {
    this.add('error', fields, message);
  }

  child(bindings: Record<string, unknown>): PluginLog {
    return new PluginLog(this.settings, { ...this.bindings, ...bindings }, this.entries);
  }

  /** Writes the queued entries. Never throws: a logging failure must not change the CNI result. */
  async flush(): Promise<void> {
    if (this.entries.length === 0) return;
    const queued = this.entries.splice(0);
    try {
      const { pino } = await import('pino');
      const destination = pino.destination({ dest: this.settings.file ?? 2, sync: true, mkdir: this.settings.file !== undefined });
      const logger = pino({ level: 'trace', base: { pid: process.pid }, timestamp: false }, destination);
      for (const entry of queued) {
        logger[entry.level]({ time: entry.time, ...entry.fields }, entry.message);
      }
    } catch (error) {
      process.stderr.write(`leasehold: failed to write logs: ${(error as Error).message}\n`);
    }
  }
}

/** A logger that drops everything, for tests and callers that want no output. */
export const silentLog: Log = new PluginLog({ level: 'silent' });
