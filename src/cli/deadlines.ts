/**
 * `fristvagt deadlines`: one JSON record (or an array) on stdin → deadlines as JSON on stdout.
 * A contract: the output shape and exit code 2 for bad input are relied on by other tools.
 */
import { parseArgs } from 'node:util';
import { calendarFor, computeDeadlinesForRecord, DomainError, formatPath, parseClosureDays, parseNow, parseRecord, type DeadlineSet, type EngineOptions, type FristRecord, type Lang } from '../domain/index.js';
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
  // Validation first, for every record: a bad one is exit 2 with nothing on stdout, before any output.
  const valid = (record: unknown, prefix: string): FristRecord => {
    try {
      return parseRecord(record, now);
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
  // computeDeadlines(record, …) is parseRecord + computeDeadlinesForRecord; the engine itself refuses
  // nothing without a policy, so once every record is valid the output can stream.
  const engine: EngineOptions = { now, calendar, lang: lang as Lang };
  if (Array.isArray(input)) {
    const records = input.map((r, i) => valid(r, `[${i}]`));
    if (records.length === 0) return '[]';
    writeArray(records, (r) => computeDeadlinesForRecord(r, engine), deps.write);
    return '';
  }
  if (typeof input !== 'object' || input === null) throw new UsageError('stdin: expected a JSON object (one record) or an array of records');
  return JSON.stringify(computeDeadlinesForRecord(valid(input, ''), engine), null, 2);
}

const CHUNK_CHARS = 1 << 20;

/**
 * Writes exactly the bytes of JSON.stringify(records.map(compute), null, 2) + "\n", a record at a
 * time in pieces of about a megabyte: `[x]` stringified with the same indent is "[\n" + x as an
 * array element + "\n]". Neither the results nor the whole text (34 MB for 10,000 incidents) are
 * ever held at once.
 */
function writeArray(records: readonly FristRecord[], compute: (r: FristRecord) => DeadlineSet, write: (text: string) => void): void {
  let chunk = '[\n';
  records.forEach((record, i) => {
    const element = JSON.stringify([compute(record)], null, 2).slice(2, -2);
    chunk += i === 0 ? element : `,\n${element}`;
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
