/**
 * The one way an error leaves the process (log line, CLI stderr, stored last error): its kind,
 * its codes and a message, never what the failed query carried. drizzle's DrizzleQueryError has
 * "Failed query: <sql>\nparams: <values>" as its message and the values in `params`; postgres.js's
 * PostgresError carries `query`, `parameters`, `detail` ("Key (x)=(value) already exists"),
 * `where` and `hint`. Only the name, the codes (SQLSTATE or driver code), the constraint, table
 * and column names and a cleaned message are kept; CPR-shaped numbers are masked.
 */
import { scrubCpr } from './domain/index.js';

export interface SafeError {
  name: string;
  message: string;
  /** SQLSTATE, a driver code (CONNECTION_CLOSED) or a Node/library code. */
  code?: string;
  constraint?: string;
  table?: string;
  column?: string;
  /** Stack frames only (the first line of a stack repeats the message). */
  stack?: string;
  cause?: SafeError;
}

const MAX_MESSAGE = 500;
const MAX_FRAMES = 8;

/**
 * Text fit for a log line: drizzle's parameter list cut off, values that a data-exception message
 * quotes (SQLSTATE class 22: `invalid input syntax for type uuid: "…"`) withheld, CPR-shaped
 * numbers masked, one line, bounded.
 */
export function safeText(text: string, sqlState?: string): string {
  let t = text.replace(/\n\s*params: [\s\S]*$/, ' [parameters withheld]');
  // A bulk update's rows travel as a dollar-quoted literal (src/db/bulk.ts jsonLiteral).
  t = t.replace(/(\$j[0-9]*\$)[\s\S]*?(\1|$)/g, '[payload withheld]');
  if (sqlState?.startsWith('22')) t = t.replace(/"[^"]*"/g, '"[withheld]"');
  // Mail addresses name staff (firstname.lastname@…): an SMTP reply quotes them back.
  t = scrubCpr(t.replace(/\s*\n\s*/g, ' ').trim()).replace(/[^\s<>"'(),;:[\]]+@[^\s<>"'(),;:[\]]+/g, '[address]');
  return t.length > MAX_MESSAGE ? `${t.slice(0, MAX_MESSAGE)}…` : t;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** An error (or anything thrown) as it may be logged or printed. */
export function safeError(err: unknown, depth = 0): SafeError {
  if (err === null || typeof err !== 'object') return { name: typeof err, message: safeText(String(err)) };
  const e = err as Record<string, unknown>;
  const code = str(e['code']);
  // DrizzleQueryError leaves `name` at "Error"; its class says more. A plain object is just an error.
  const own = str(e['name']);
  const ctor = str((err as { constructor?: { name?: unknown } }).constructor?.name);
  const name = own && own !== 'Error' ? own : ctor && ctor !== 'Object' ? ctor : 'Error';
  const out: SafeError = { name, message: safeText(str(e['message']) ?? '', code) };
  if (code) out.code = code;
  const constraint = str(e['constraint_name']) ?? str(e['constraint']);
  if (constraint) out.constraint = constraint;
  const table = str(e['table_name']);
  if (table) out.table = table;
  const column = str(e['column_name']);
  if (column) out.column = column;
  const stack = str(e['stack']);
  if (stack) {
    const frames = stack.split('\n').filter((l) => /^\s+at /.test(l)).slice(0, MAX_FRAMES);
    if (frames.length > 0) out.stack = frames.map((l) => scrubCpr(l.trim())).join('\n');
  }
  if (e['cause'] !== undefined && depth < 4) out.cause = safeError(e['cause'], depth + 1);
  return out;
}

/** One line for a person (CLI stderr): the messages of the error and its causes. */
export function describeError(err: unknown): string {
  const parts: string[] = [];
  for (let e: SafeError | undefined = safeError(err); e; e = e.cause) {
    if (e.message && !parts.some((p) => p.includes(e?.message ?? ''))) parts.push(e.code && !e.message.includes(e.code) ? `${e.message} (${e.code})` : e.message);
  }
  return parts.join(': ') || 'unknown error';
}

/**
 * Rewrites a thrown error's message and stack in place to their safe forms, for errors stored
 * where the serialisation is not ours (BullMQ keeps a failed job's message and stack in Redis and
 * shows them on /admin/queues). The object and its class stay, so `instanceof` checks still work.
 */
export function redactInPlace<T>(err: T): T {
  if (!(err instanceof Error)) return err;
  const safe = safeError(err);
  const message = describeError(err);
  err.message = message;
  err.stack = `${safe.name}: ${message}${safe.stack ? `\n    ${safe.stack.split('\n').join('\n    ')}` : ''}`;
  return err;
}
