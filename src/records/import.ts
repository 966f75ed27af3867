/**
 * Bulk import of records from CSV (RFC 4180) or JSON Lines, one record type per file.
 *
 * Every row goes through the validation createRecord applies — the type's zod `create` schema,
 * `kind.columns`, the engine's cross-field checks (`parseRecord` with `now`) and the known
 * institutions and staff — and every accepted row is written the way createRecord writes it: the
 * record, its plan history, its materialised deadlines and a `<type>.create` audit entry, then the
 * change-feed trigger lets the worker plan its notifications. Only the batching differs:
 * createRecord spends about ten round trips per record, which is far too slow for a 100,000-row
 * file (see bench/import.ts), so rows are written in transactions of `batchSize` with multi-row
 * inserts. The audit log still gets one entry per record (a record's history must not depend on
 * how it arrived), chained in file order.
 *
 * A rejected row writes nothing. A batch the database refuses as a whole (a journal number stored
 * meanwhile by someone else) is retried row by row, so only the offending row is rejected.
 *
 * The natural key is the journal number (unique per type). A row whose journal number is stored
 * already is `unchanged` when every field it gives equals the stored value, and otherwise a
 * conflict: it is rejected and the stored record left alone. An import never overwrites: a record
 * corrected or anonymised since must not be reverted by re-running an old file.
 *
 * Nothing here ever puts a field value into a message, except dates and ids; messages are
 * scrubbed of anything shaped like a CPR number on top of that.
 */
import { createReadStream, statSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import type { z } from 'zod';
import { scrubCpr } from '../domain/index.js';
import { KINDS, type KindDescriptor, type RecordTypeName } from './kinds.js';
import { createRecords, type Actor, type ServiceContext } from './service.js';

export const RECORD_TYPES: readonly RecordTypeName[] = ['incident', 'security_cell_placement', 'force_use', 'action_plan'];
export type ImportFormat = 'csv' | 'jsonl';

export interface ImportIssue {
  /** The field (API name), or null for a row that could not be read at all. */
  field: string | null;
  reason: string;
}

export interface Rejection {
  line: number;
  issues: ImportIssue[];
}

/** The file as a whole cannot be imported (no type, unknown column, broken header): nothing is written. */
export class ImportFileError extends Error {
  constructor(message: string) {
    super(scrubCpr(message));
    this.name = 'ImportFileError';
  }
}

// ------------------------------------------------------------------------------------ CSV

export type CsvItem = { line: number; fields: string[] } | { line: number; error: string };

const enum S {
  FieldStart,
  Unquoted,
  Quoted,
  QuoteInQuoted,
  Skip,
}

/**
 * An incremental RFC 4180 parser: fields separated by commas, records by CRLF (LF and a lone CR
 * are accepted too), fields in double quotes may hold commas, line breaks and doubled quotes.
 * A leading byte-order mark is dropped; empty lines are skipped. A malformed record is reported
 * with the line it starts on and skipped up to the next line break, so one stray quote costs one
 * row, not the file.
 */
export class CsvParser {
  private state = S.FieldStart;
  private field = '';
  private fields: string[] = [];
  /** The physical line of the character being read (1-based). */
  private line = 1;
  private recordLine = 1;
  private quoteLine = 1;
  private pendingCr = false;
  private atStart = true;
  private error = '';
  private out: CsvItem[] = [];

  push(chunk: string): CsvItem[] {
    this.out = [];
    let i = 0;
    if (this.atStart && chunk.length > 0) {
      this.atStart = false;
      if (chunk.charCodeAt(0) === 0xfeff) i = 1;
    }
    for (; i < chunk.length; i++) {
      const c = chunk[i] as string;
      if (this.pendingCr) {
        this.pendingCr = false;
        // The LF of a CRLF: the line break was already counted (and, inside quotes, kept).
        if (c === '\n') {
          if (this.state === S.Quoted) this.field += '\n';
          continue;
        }
      }
      const newline = c === '\n' || c === '\r';
      switch (this.state) {
        case S.FieldStart:
          if (c === '"') {
            this.state = S.Quoted;
            this.quoteLine = this.line;
          } else if (c === ',') {
            this.fields.push('');
          } else if (newline) {
            if (this.fields.length > 0) {
              this.fields.push('');
              this.emit();
            }
          } else {
            this.field = c;
            this.state = S.Unquoted;
          }
          break;
        case S.Unquoted:
          if (c === ',') {
            this.fields.push(this.field);
            this.field = '';
            this.state = S.FieldStart;
          } else if (newline) {
            this.fields.push(this.field);
            this.emit();
          } else if (c === '"') {
            this.fail(`a double quote inside an unquoted field (field ${this.fields.length + 1}): quote the whole field and double the quote`);
          } else {
            this.field += c;
          }
          break;
        case S.Quoted:
          if (c === '"') this.state = S.QuoteInQuoted;
          else this.field += c;
          break;
        case S.QuoteInQuoted:
          if (c === '"') {
            this.field += '"';
            this.state = S.Quoted;
          } else if (c === ',') {
            this.fields.push(this.field);
            this.field = '';
            this.state = S.FieldStart;
          } else if (newline) {
            this.fields.push(this.field);
            this.emit();
          } else {
            this.fail(`text after the closing quote of field ${this.fields.length + 1} (a quote inside a quoted field must be doubled)`);
          }
          break;
        case S.Skip:
          if (newline) this.emitError();
          break;
      }
      if (newline) {
        this.line++;
        if (c === '\r') this.pendingCr = true;
        if (this.state === S.FieldStart && this.fields.length === 0) this.recordLine = this.line;
      }
    }
    return this.out;
  }

  end(): CsvItem[] {
    this.out = [];
    switch (this.state) {
      case S.Quoted:
        this.out.push({ line: this.recordLine, error: `the quoted field opened on line ${this.quoteLine} is never closed: lines ${this.recordLine}–${this.line} could not be read` });
        break;
      case S.Unquoted:
      case S.QuoteInQuoted:
        this.fields.push(this.field);
        this.emit();
        break;
      case S.FieldStart:
        if (this.fields.length > 0) {
          this.fields.push('');
          this.emit();
        }
        break;
      case S.Skip:
        this.emitError();
        break;
    }
    this.reset();
    return this.out;
  }

  private fail(message: string): void {
    this.error = message;
    this.state = S.Skip;
  }

  private emit(): void {
    this.out.push({ line: this.recordLine, fields: this.fields });
    this.reset();
  }

  private emitError(): void {
    this.out.push({ line: this.recordLine, error: this.error });
    this.reset();
  }

  private reset(): void {
    this.fields = [];
    this.field = '';
    this.error = '';
    this.state = S.FieldStart;
    // The record after this one starts on the next line (the caller advances `line` past the break).
    this.recordLine = this.line + 1;
  }
}

/** Parses a whole CSV text (tests, small inputs). */
export function parseCsv(text: string): CsvItem[] {
  const p = new CsvParser();
  return [...p.push(text), ...p.end()];
}

// ------------------------------------------------------------------------------------ sources

/** One row as read, before validation: the request body it stands for, or why it cannot be read. */
export interface RawRow {
  line: number;
  body?: Record<string, unknown>;
  /** The row's own `type` value, when it has one. */
  type?: string;
  issues?: ImportIssue[];
}

export interface RowSource {
  format: ImportFormat;
  /** CSV: the header's column names, known once the first row is out. */
  columns?: string[];
  rows: AsyncIterable<RawRow>;
  bytesRead(): number;
}

type CellKind = 'text' | 'boolean' | 'list' | 'json';

/** The schema under optional, nullable, defaults and transforms: what a value must be. */
function innerDef(schema: z.ZodType): { type: string; element?: z.ZodType } {
  let def = schema._zod.def as { type: string; innerType?: z.ZodType; in?: z.ZodType; element?: z.ZodType };
  for (;;) {
    const next = def.type === 'pipe' ? def.in : ['optional', 'nullable', 'default', 'prefault', 'readonly', 'nonoptional', 'catch'].includes(def.type) ? def.innerType : undefined;
    if (!next) return def;
    def = next._zod.def as typeof def;
  }
}

/**
 * How a CSV cell of each create field is read, derived from the record types' create schemas (a
 * new field needs no edit here): booleans as `true/false/1/0/yes/no/ja/nej`, lists of dates as
 * `;`-separated values, lists of objects as a JSON array, everything else as text. A field name
 * means the same in every type that has it.
 */
export const CELL_KINDS: ReadonlyMap<string, CellKind> = (() => {
  const out = new Map<string, CellKind>();
  for (const kind of Object.values(KINDS)) {
    for (const [field, schema] of Object.entries((kind.create as unknown as { shape: Record<string, z.ZodType> }).shape)) {
      const def = innerDef(schema);
      const cell: CellKind = def.type === 'boolean' ? 'boolean' : def.type === 'array' ? (def.element && innerDef(def.element).type === 'object' ? 'json' : 'list') : 'text';
      if (out.has(field) && out.get(field) !== cell) throw new Error(`import: field ${field} is ${out.get(field)} in one record type and ${cell} in another`);
      out.set(field, cell);
    }
  }
  return out;
})();
const TRUE = new Set(['true', '1', 'yes', 'ja']);
const FALSE = new Set(['false', '0', 'no', 'nej']);

/** A CSV cell → the JSON value the API would take; empty cells are left out (the field's default). */
function cellValue(column: string, text: string): { value?: unknown; issue?: string } {
  const cell = CELL_KINDS.get(column);
  if (cell === 'boolean') {
    const t = text.toLowerCase();
    if (TRUE.has(t)) return { value: true };
    if (FALSE.has(t)) return { value: false };
    return { issue: 'not a boolean (true or false)' };
  }
  if (cell === 'list') return { value: text.split(';').map((s) => s.trim()).filter((s) => s.length > 0) };
  if (cell === 'json') {
    try {
      const v = JSON.parse(text) as unknown;
      if (Array.isArray(v)) return { value: v };
    } catch {
      // fall through: the message below never repeats the cell
    }
    return { issue: 'not a JSON array (e.g. [{"at":"2026-01-05","toInstitutionId":"vestre"}])' };
  }
  return { value: text };
}

async function* decodedChunks(path: string, counter: { bytes: number }): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8');
  for await (const chunk of createReadStream(path, { highWaterMark: 256 * 1024 })) {
    const buf = chunk as Buffer;
    counter.bytes += buf.length;
    yield decoder.write(buf);
  }
  const rest = decoder.end();
  if (rest) yield rest;
}

export function csvSource(chunks: AsyncIterable<string>, bytesRead: () => number = () => 0): RowSource {
  const source: RowSource = {
    format: 'csv',
    bytesRead,
    rows: (async function* () {
      const parser = new CsvParser();
      let header: string[] | undefined;
      const handle = function* (items: CsvItem[]): Generator<RawRow> {
        for (const item of items) {
          if (!header) {
            if ('error' in item) throw new ImportFileError(`line ${item.line} (the header): ${item.error}`);
            header = item.fields.map((f) => f.trim());
            header.forEach((name, i) => {
              if (name === '') throw new ImportFileError(`line ${item.line} (the header): column ${i + 1} has no name`);
              if (header?.indexOf(name) !== i) throw new ImportFileError(`line ${item.line} (the header): column "${name}" appears twice`);
            });
            source.columns = header;
            continue;
          }
          if ('error' in item) {
            yield { line: item.line, issues: [{ field: null, reason: `malformed CSV: ${item.error}` }] };
            continue;
          }
          if (item.fields.length !== header.length) {
            yield { line: item.line, issues: [{ field: null, reason: `malformed CSV: ${item.fields.length} fields, the header has ${header.length}` }] };
            continue;
          }
          const body: Record<string, unknown> = {};
          const issues: ImportIssue[] = [];
          let type: string | undefined;
          header.forEach((column, i) => {
            const text = (item.fields[i] as string).trim();
            if (text === '') return;
            if (column === 'type') {
              type = text;
              return;
            }
            const v = cellValue(column, text);
            if (v.issue) issues.push({ field: column, reason: v.issue });
            else body[column] = v.value;
          });
          const row: RawRow = { line: item.line, body };
          if (type !== undefined) row.type = type;
          if (issues.length > 0) row.issues = issues;
          yield row;
        }
      };
      for await (const chunk of chunks) yield* handle(parser.push(chunk));
      yield* handle(parser.end());
      if (!header) throw new ImportFileError('the file is empty: a CSV import needs a header line with the field names');
    })(),
  };
  return source;
}

export function jsonlSource(chunks: AsyncIterable<string>, bytesRead: () => number = () => 0): RowSource {
  return {
    format: 'jsonl',
    bytesRead,
    rows: (async function* () {
      let rest = '';
      let line = 0;
      let first = true;
      const handle = (text: string): RawRow | undefined => {
        line++;
        let t = text.endsWith('\r') ? text.slice(0, -1) : text;
        if (first) {
          first = false;
          if (t.charCodeAt(0) === 0xfeff) t = t.slice(1);
        }
        if (t.trim() === '') return undefined;
        let value: unknown;
        try {
          value = JSON.parse(t);
        } catch (err) {
          // JSON.parse quotes the offending text in its message: give the position only.
          const pos = /position (\d+)/.exec((err as Error).message)?.[1];
          return { line, issues: [{ field: null, reason: `not valid JSON${pos ? ` (at character ${Number(pos) + 1})` : ''}` }] };
        }
        if (typeof value !== 'object' || value === null || Array.isArray(value)) return { line, issues: [{ field: null, reason: 'not a JSON object' }] };
        const { type, ...body } = value as Record<string, unknown>;
        const row: RawRow = { line, body };
        if (type !== undefined && type !== null) row.type = String(type);
        return row;
      };
      for await (const chunk of chunks) {
        const parts = (rest + chunk).split('\n');
        rest = parts.pop() ?? '';
        for (const p of parts) {
          const row = handle(p);
          if (row) yield row;
        }
      }
      if (rest !== '') {
        const row = handle(rest);
        if (row) yield row;
      }
    })(),
  };
}

export function formatFromPath(path: string): ImportFormat | undefined {
  const ext = extname(path).toLowerCase();
  if (ext === '.csv') return 'csv';
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl';
  return undefined;
}

const NAME_PREFIXES: Array<[string, RecordTypeName]> = [
  ['security_cell_placement', 'security_cell_placement'],
  ['security-cell-placement', 'security_cell_placement'],
  ['force_use', 'force_use'],
  ['force-use', 'force_use'],
  ['action_plan', 'action_plan'],
  ['action-plan', 'action_plan'],
  ['incident', 'incident'],
];

/** `incidents-2026.csv`, `action_plans.jsonl`, `force-uses_q3.csv` → the type their name starts with. */
export function typeFromFileName(path: string): RecordTypeName | undefined {
  const name = basename(path).toLowerCase();
  return NAME_PREFIXES.find(([prefix]) => name.startsWith(prefix))?.[1];
}

export function isRecordType(s: string): s is RecordTypeName {
  return (RECORD_TYPES as readonly string[]).includes(s);
}

// ------------------------------------------------------------------------------------ the import

/** A planning call for imported records: `planRecords` (src/worker/planner.ts) with the worker's settings. */
export type PlanBatch = (refs: Array<{ type: RecordTypeName; id: string }>) => Promise<{ records: number; refused: ReadonlyArray<unknown> }>;

export interface ImportOptions {
  /** The record type; otherwise the first row's `type`, otherwise `fallbackType`. */
  type?: RecordTypeName | undefined;
  /** From the file name, used when neither --type nor a `type` value says. */
  fallbackType?: RecordTypeName | undefined;
  dryRun?: boolean;
  /**
   * `--historical`: closed history for statistics only. Every row must carry `closedAt` (a row
   * without it is rejected, naming the field): closed records get their deadlines (for the
   * compliance figures) and no notification and no backlog entry at all, so nothing is mailed.
   */
  historical?: boolean;
  batchSize?: number;
  /** Audit actor name. */
  actor?: string;
  /**
   * Plans the created records in batches while the import goes on; the import returns once every
   * created record is planned. Without it the worker plans them (change feed).
   */
  plan?: PlanBatch | undefined;
  /** Records per planning call (default 1,000). */
  planBatchSize?: number;
  onProgress?: (p: ImportProgress) => void;
  onReject?: (r: Rejection) => void;
}

export interface ImportProgress {
  /** `writing` while rows are read and written; `planning` once only planning is left (absent: writing). */
  phase?: 'writing' | 'planning';
  read: number;
  created: number;
  unchanged: number;
  rejected: number;
  bytes: number;
  /** Created records planned so far (0 or absent without `plan`). */
  planned?: number;
}

export interface TypeCounts {
  read: number;
  created: number;
  unchanged: number;
  rejected: number;
}

export interface ImportSummary extends TypeCounts {
  format: ImportFormat;
  type: RecordTypeName;
  dryRun: boolean;
  /** Closed history only (`--historical`): nothing mailed. */
  historical: boolean;
  /** Rows whose journal number is stored with other values (counted in `rejected`). */
  conflicts: number;
  byType: Partial<Record<RecordTypeName, TypeCounts>>;
  rejections: Rejection[];
  /** The whole import, planning included. */
  durationMs: number;
  /** Reading, validating and writing. */
  writeMs: number;
  /** Rows read per second of `durationMs`. */
  rowsPerSecond: number;
  /** Created records planned by the import (0 when it did not plan: `planning` false). */
  planned: number;
  /** Planned records the rules in force refused (their deadlines stay as written). */
  planRefused: number;
  /** From the end of writing to the last plan (0 when planning kept up or did not run). */
  planTailMs: number;
  planning: boolean;
}

/** Batches written at once: Postgres works on as many cores, the audit chain waits its turn. */
const WRITERS = 2;

const HISTORICAL_NEEDS_CLOSED = 'is required with --historical (closed history only; import open cases without --historical, where what is already overdue goes into the backlog summary)';

interface Pending {
  line: number;
  body: Record<string, unknown>;
}

/**
 * Feeds planning calls one after another from a queue of created records, while the import goes
 * on; `drain` waits for the queue to empty (and rethrows a planning failure).
 */
function planningQueue(plan: PlanBatch | undefined, batchSize: number, onPlanned: () => void) {
  const queue: Array<{ type: RecordTypeName; id: string }> = [];
  let running: Promise<void> | undefined;
  let failure: { err: unknown } | undefined;
  const state = { planned: 0, refused: 0 };
  const pump = (): void => {
    if (!plan || running || failure || queue.length === 0) return;
    const refs = queue.splice(0, batchSize);
    running = plan(refs).then(
      (r) => {
        state.planned += refs.length;
        state.refused += r.refused.length;
        running = undefined;
        onPlanned();
        pump();
      },
      (err: unknown) => {
        failure = { err };
        running = undefined;
      },
    );
  };
  return {
    state,
    add(refs: Array<{ type: RecordTypeName; id: string }>): void {
      if (!plan) return;
      queue.push(...refs);
      // Full batches while writing goes on; the rest at the end.
      if (queue.length >= batchSize) pump();
    },
    async drain(): Promise<void> {
      pump();
      while (running) await running;
      if (failure) throw failure.err;
    },
    failed: (): unknown => failure?.err,
  };
}

export async function importRows(ctx: ServiceContext, source: RowSource, opts: ImportOptions = {}): Promise<ImportSummary> {
  const started = performance.now();
  const batchSize = opts.batchSize ?? 500;
  const importer: Actor = { id: opts.actor ?? 'import', name: opts.actor ?? 'import', role: 'admin' };
  const dryRun = opts.dryRun ?? false;
  const counts = { read: 0, created: 0, unchanged: 0, rejected: 0, conflicts: 0 };
  const rejections: Rejection[] = [];
  const seen = new Map<string, number>();
  let type: RecordTypeName | undefined = opts.type;
  let kind: KindDescriptor | undefined;
  let batch: Pending[] = [];
  const inflight = new Set<Promise<void>>();
  let lastWrite: Promise<void> = Promise.resolve();
  let failure: { err: unknown } | undefined;
  let phase: 'writing' | 'planning' = 'writing';
  const progress = (): void => opts.onProgress?.({ phase, read: counts.read, created: counts.created, unchanged: counts.unchanged, rejected: counts.rejected, bytes: source.bytesRead(), planned: planning.state.planned });
  const planning = planningQueue(dryRun ? undefined : opts.plan, opts.planBatchSize ?? 1000, progress);

  const reject = (line: number, issues: ImportIssue[]): void => {
    const r: Rejection = { line, issues: issues.map((i) => ({ field: i.field, reason: scrubCpr(i.reason) })) };
    counts.rejected++;
    rejections.push(r);
    opts.onReject?.(r);
  };

  const resolveType = (row: RawRow): KindDescriptor => {
    type ??= row.type !== undefined && isRecordType(row.type) ? row.type : opts.fallbackType;
    if (!type) throw new ImportFileError('cannot tell the record type: give --type, a `type` column or field, or a file name starting with the type (e.g. incident-2026.csv)');
    const k = KINDS[type];
    if (source.columns) {
      const known = new Set(['type', ...Object.keys((k.create as unknown as { shape: Record<string, unknown> }).shape)]);
      const unknown = source.columns.filter((c) => !known.has(c));
      if (unknown.length > 0) throw new ImportFileError(`unknown column${unknown.length > 1 ? 's' : ''} ${unknown.map((c) => `"${c}"`).join(', ')} for ${type} records (columns are the API's field names: ${[...known].join(', ')})`);
    }
    return k;
  };

  /** One batch through the service's write path; `auditAfter` settles when the batch before has committed. */
  const flush = async (all: Pending[], auditAfter: Promise<unknown>): Promise<void> => {
    // --historical loads closed records only: an open one would be watched, reminded and escalated.
    const rows: Pending[] = [];
    for (const r of all) {
      const closed = typeof r.body['closedAt'] === 'string' && r.body['closedAt'] !== '';
      if (opts.historical === true && !closed) reject(r.line, [{ field: 'closedAt', reason: HISTORICAL_NEEDS_CLOSED }]);
      else rows.push(r);
    }
    if (rows.length === 0 || !kind) return;
    const t = kind.type;
    const outcomes = await createRecords(ctx, t, rows.map((r) => r.body), importer, { mode: 'each', existing: 'compare', dryRun, auditAfter });
    const created: Array<{ type: RecordTypeName; id: string }> = [];
    outcomes.forEach((o, i) => {
      const line = (rows[i] as Pending).line;
      if (o.status === 'created') {
        counts.created++;
        if (o.id !== null) created.push({ type: t, id: o.id });
      } else if (o.status === 'unchanged' || o.status === 'present') counts.unchanged++;
      else if (o.status === 'conflict') {
        counts.conflicts++;
        reject(line, [{ field: 'journalNumber', reason: `a record with this journal number is stored already with other values in ${o.fields.join(', ')}; an import never changes stored records (correct them through the API)` }]);
      } else reject(line, o.issues.map((x) => ({ field: x.path || null, reason: x.message.replace(/^Invalid option: /, '') })));
    });
    planning.add(created);
  };

  try {
    for await (const row of source.rows) {
      counts.read++;
      if (counts.read % 1000 === 0) progress();
      if (!row.body) {
        // Unreadable (malformed CSV, not JSON): needs no type to be reported.
        reject(row.line, row.issues ?? [{ field: null, reason: 'empty row' }]);
        continue;
      }
      kind ??= resolveType(row);
      const issues: ImportIssue[] = [...(row.issues ?? [])];
      if (row.type !== undefined && row.type !== kind.type) issues.push({ field: 'type', reason: `is "${row.type}", but this file holds ${kind.type} records (one type per file)` });
      const rawJournal = row.body['journalNumber'];
      if (typeof rawJournal === 'string' && rawJournal.trim() !== '') {
        const j = rawJournal.trim();
        const first = seen.get(j);
        if (first !== undefined) {
          reject(row.line, [{ field: 'journalNumber', reason: `duplicate: line ${first} of this file has the same journal number` }]);
          continue;
        }
        seen.set(j, row.line);
      }
      if (issues.length > 0) {
        reject(row.line, issues);
        continue;
      }
      batch.push({ line: row.line, body: row.body });
      if (batch.length >= batchSize) {
        const full = batch;
        batch = [];
        // Reading goes on while up to two batches are validated and written, each on its own connection.
        while (inflight.size >= WRITERS) await Promise.race(inflight);
        if (failure) throw failure.err;
        if (planning.failed()) throw planning.failed();
        const write: Promise<void> = flush(full, lastWrite).then(progress, (err: unknown) => {
          failure = { err };
        });
        lastWrite = write;
        inflight.add(write);
        void write.then(() => inflight.delete(write));
      }
    }
  } catch (err) {
    // Never leave a batch being written or planned behind a failed read (the caller closes the database next).
    await Promise.all(inflight);
    await planning.drain().catch(() => undefined);
    throw err;
  }
  await Promise.all(inflight);
  if (failure) {
    await planning.drain().catch(() => undefined);
    throw failure.err;
  }
  if (!kind) {
    // A file with a header and no rows: still check the header (and say which type it would be).
    kind = resolveType({ line: 0 });
  }
  await flush(batch, lastWrite);
  const writeMs = performance.now() - started;
  phase = 'planning';
  progress();
  await planning.drain();
  const durationMs = performance.now() - started;
  rejections.sort((a, b) => a.line - b.line);
  const t = kind.type;
  return {
    format: source.format,
    type: t,
    dryRun,
    historical: opts.historical === true,
    read: counts.read,
    created: counts.created,
    unchanged: counts.unchanged,
    rejected: counts.rejected,
    conflicts: counts.conflicts,
    byType: { [t]: { read: counts.read, created: counts.created, unchanged: counts.unchanged, rejected: counts.rejected } },
    rejections,
    durationMs: Math.round(durationMs),
    writeMs: Math.round(writeMs),
    rowsPerSecond: durationMs > 0 ? Math.round(counts.read / (durationMs / 1000)) : 0,
    planning: opts.plan !== undefined && !dryRun,
    planned: planning.state.planned,
    planRefused: planning.state.refused,
    planTailMs: Math.round(durationMs - writeMs),
  };
}

export interface ImportFileOptions extends Omit<ImportOptions, 'fallbackType'> {
  format?: ImportFormat;
}

/** Imports one file; the format comes from its extension (.csv, .jsonl, .ndjson) unless given. */
export async function importFile(ctx: ServiceContext, path: string, opts: ImportFileOptions = {}): Promise<ImportSummary & { file: string; bytes: number }> {
  const format = opts.format ?? formatFromPath(path);
  if (!format) throw new ImportFileError(`${basename(path)}: unknown format; name the file .csv, .jsonl or .ndjson`);
  const bytes = statSync(path).size;
  const counter = { bytes: 0 };
  const chunks = decodedChunks(path, counter);
  const source = format === 'csv' ? csvSource(chunks, () => counter.bytes) : jsonlSource(chunks, () => counter.bytes);
  const fallbackType = typeFromFileName(path);
  const summary = await importRows(ctx, source, { ...opts, ...(fallbackType ? { fallbackType } : {}) });
  return { file: basename(path), bytes, ...summary };
}
