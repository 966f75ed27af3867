/**
 * `fristvagt deadlines`: one JSON record (or an array) on stdin → deadlines as JSON on stdout.
 * A contract: the output shape and exit code 2 for bad input are relied on by other tools.
 */
import { parseArgs } from 'node:util';
import { calendarFor, computeDeadlines, DomainError, formatPath, parseClosureDays, parseNow, type DeadlineSet, type Lang } from '../domain/index.js';
import { readStdin, UsageError } from './io.js';

export interface DeadlinesCommandDeps {
  stdin: () => Promise<string>;
  /** Where the JSON goes (stdout), in pieces of about a megabyte. */
  write: (text: string) => void;
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
  if (Array.isArray(input)) {
    // Exactly the bytes of JSON.stringify(results, null, 2), built a record at a time: `[x]` stringified
    // with the same indent is "[\n" + x as an array element + "\n]". Nothing is written before every
    // record is computed, so a bad record still leaves stdout empty (exit 2).
    const parts = input.map((r, i) => JSON.stringify([one(r, `[${i}]`)], null, 2).slice(2, -2));
    if (parts.length === 0) return '[]';
    writeJoined(parts, deps.write);
    return '';
  }
  if (typeof input !== 'object' || input === null) throw new UsageError('stdin: expected a JSON object (one record) or an array of records');
  return JSON.stringify(one(input, ''), null, 2);
}

const CHUNK_CHARS = 1 << 20;

/** Writes "[\n" + parts.join(",\n") + "\n]\n" in chunks: never one string of the whole output (34 MB for 10,000 incidents). */
function writeJoined(parts: readonly string[], write: (text: string) => void): void {
  let chunk = '[\n';
  parts.forEach((part, i) => {
    chunk += i === 0 ? part : `,\n${part}`;
    if (chunk.length >= CHUNK_CHARS) {
      write(chunk);
      chunk = '';
    }
  });
  write(`${chunk}\n]\n`);
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
  write: (text) => void process.stdout.write(text),
  now: () => Date.now(),
  defaultClosureDays,
});
