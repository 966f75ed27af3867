/**
 * `fristvagt deadlines`: one JSON record (or an array) on stdin → deadlines as JSON on stdout.
 * A contract: the output shape and exit code 2 for bad input are relied on by other tools.
 */
import { parseArgs } from 'node:util';
import { calendarFor, computeDeadlines, DomainError, formatPath, parseClosureDays, parseNow, type DeadlineSet, type Lang } from '../domain/index.js';
import { readStdin, UsageError } from './io.js';

export interface DeadlinesCommandDeps {
  stdin: () => Promise<string>;
  /** The clock, injectable so tests can drive the default `--now`. */
  now: () => number;
  defaultClosureDays: readonly string[];
}

function splitList(value: string): string[] {
  return value.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
}

export async function deadlinesCommand(argv: string[], deps: DeadlinesCommandDeps): Promise<string> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        now: { type: 'string' },
        'closure-days': { type: 'string' },
        lang: { type: 'string', default: 'da' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new UsageError((err as Error).message, { cause: err });
  }
  const lang = values.lang;
  if (lang !== 'da' && lang !== 'en') throw new UsageError(`--lang: "${lang}" is not supported (use da or en)`);
  const now = values.now === undefined ? deps.now() : wrapOption('--now', () => parseNow(values.now as string, '--now'));
  const closureDays = values['closure-days'] === undefined ? [...deps.defaultClosureDays] : splitList(values['closure-days']);
  wrapOption('--closure-days', () => parseClosureDays(closureDays, '--closure-days'));
  const calendar = calendarFor(closureDays);

  const text = await deps.stdin();
  let input: unknown;
  try {
    input = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`stdin: not valid JSON (${(err as Error).message})`, { cause: err });
  }
  const one = (record: unknown, prefix: string): DeadlineSet => {
    try {
      return computeDeadlines(record, { now, calendar, lang: lang as Lang });
    } catch (err) {
      if (err instanceof DomainError) {
        const first = err.issues[0];
        const path = first ? formatPath(first.path) : '';
        const field = `${prefix}${path && prefix ? (path.startsWith('[') ? path : `.${path}`) : path}`;
        const msg = first ? first.message.replace(/^Invalid input: /, '') : err.message;
        const more = err.issues.length > 1 ? ` (and ${err.issues.length - 1} more)` : '';
        throw new UsageError(`${field || 'record'}: ${msg}${more}`, { cause: err });
      }
      throw err;
    }
  };
  if (Array.isArray(input)) return JSON.stringify(input.map((r, i) => one(r, `[${i}]`)), null, 2);
  if (typeof input !== 'object' || input === null) throw new UsageError('stdin: expected a JSON object (one record) or an array of records');
  return JSON.stringify(one(input, ''), null, 2);
}

function wrapOption<T>(name: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof DomainError) throw new UsageError(err.message.startsWith(name) ? err.message : `${name}: ${err.message}`, { cause: err });
    throw err;
  }
}

export const defaultDeadlinesDeps = (defaultClosureDays: readonly string[] = []): DeadlinesCommandDeps => ({
  stdin: () => readStdin(),
  now: () => Date.now(),
  defaultClosureDays,
});
