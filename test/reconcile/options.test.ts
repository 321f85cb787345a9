import { describe, expect, it } from 'vitest';
import { commandConnection } from '../../lib/kube/connection.js';
import { InvalidFlagError } from '../../lib/errors.js';
import { parseDuration } from '../../lib/cli/flags.js';
import { parseFlags } from '../../lib/reconcile/options.js';

describe('parseDuration', () => {
  const table: Array<[string, number | undefined]> = [
    ['30s', 30_000],
    ['10m', 600_000],
    ['1h30m', 5_400_000],
    ['250ms', 250],
    ['0s', 0],
    ['10', undefined],
    ['1.5m', undefined],
    ['-1s', undefined],
    ['10x', undefined],
    ['', undefined],
  ];
  for (const [text, expected] of table) {
    it(`parses "${text}"`, () => expect(parseDuration(text)).toBe(expected));
  }
});

describe('parseFlags', () => {
  it('applies the defaults', () => {
    const options = parseFlags([]);
    expect(options.namespace).toBe('leasehold');
    expect(options.gracePeriodMs).toBe(600_000);
    expect(options.minAgeMs).toBe(300_000);
    expect(options.once).toBe(false);
    expect(options.dryRun).toBe(false);
  });

  it('reads every flag', () => {
    const options = parseFlags([
      '--kubeconfig',
      '/k',
      '--namespace',
      'lh',
      '--once',
      '--dry-run',
      '--grace-period',
      '1s',
      '--min-age',
      '0s',
      '--interval',
      '2m',
    ]);
    expect(options).toMatchObject({
      kubeconfig: '/k',
      namespace: 'lh',
      once: true,
      dryRun: true,
      gracePeriodMs: 1_000,
      minAgeMs: 0,
      intervalMs: 120_000,
    });
  });

  it('names flag and value of a bad duration', () => {
    expect(() => parseFlags(['--min-age', '5 minutes'])).toThrow(
      /"5 minutes" for --min-age: give a whole number with a unit/,
    );
  });

  it('rejects a zero interval', () =>
    expect(() => parseFlags(['--interval', '0s'])).toThrow(
      /--interval: it must be longer than 0s/,
    ));
  it('rejects an unknown flag', () =>
    expect(() => parseFlags(['--force'])).toThrow(InvalidFlagError));
  it('rejects an invalid namespace', () =>
    expect(() => parseFlags(['--namespace', 'Bad_NS'])).toThrow(/"Bad_NS" for --namespace/));
  it('rejects a flag without its value', () =>
    expect(() => parseFlags(['--grace-period'])).toThrow(/--help/));
});

describe('commandConnection', () => {
  it('names --kubeconfig for a missing file', () => {
    expect(() => commandConnection('/nonexistent/kubeconfig', {})).toThrow(/\/nonexistent\/kubeconfig named by --kubeconfig/);
  });

  it('names KUBECONFIG for a missing file', () => {
    expect(() => commandConnection(undefined, { KUBECONFIG: '/nonexistent/a:/b' })).toThrow(/\/nonexistent\/a named by \$KUBECONFIG/);
  });
});
