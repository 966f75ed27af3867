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
import { getTableColumns, getTableName, inArray, sql } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
import { DomainError, parseRecord, scrubCpr } from '../domain/index.js';
import { appendAudit, entryHash, sealPersonal, wrapPersonal, type PersonalRow } from '../db/audit.js';
import { rowsOf, type Executor } from '../db/client.js';
import { auditLog, auditPersonal, deadlines, incidentDelayNotices, incidentReclassifications, institutions, paroleDecisions, planEvaluations, planTransfers, staff } from '../db/schema.js';
import { loadRulesInForce } from './calendar.js';
import { pgErrorInfo } from './errors.js';
import { KINDS, personalFields, previewChildOps, provisionalRow, type AnyRow, type ChildOp, type IncidentFull, type KindDescriptor, type PlanFull, type RecordTypeName } from './kinds.js';
import { computeForRecord, deadlineRows, engineIssues, placementRefusedAt, zodIssues, type ServiceContext } from './service.js';

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

const BOOLEAN_FIELDS = new Set(['mediaAttention', 'mechanicalRestraint', 'expelled', 'complaintInfoNoted']);
const DATE_LIST_FIELDS = new Set(['evaluations']);
const JSON_FIELDS = new Set(['transfers', 'paroleDecisions', 'delayNotices', 'reclassifications']);
const TRUE = new Set(['true', '1', 'yes', 'ja']);
const FALSE = new Set(['false', '0', 'no', 'nej']);

/** A CSV cell → the JSON value the API would take; empty cells are left out (the field's default). */
function cellValue(column: string, text: string): { value?: unknown; issue?: string } {
  if (BOOLEAN_FIELDS.has(column)) {
    const t = text.toLowerCase();
    if (TRUE.has(t)) return { value: true };
    if (FALSE.has(t)) return { value: false };
    return { issue: 'not a boolean (true or false)' };
  }
  if (DATE_LIST_FIELDS.has(column)) return { value: text.split(';').map((s) => s.trim()).filter((s) => s.length > 0) };
  if (JSON_FIELDS.has(column)) {
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

// ------------------------------------------------------------------------------------ validation

interface Prepared {
  line: number;
  journalNumber: string;
  input: Record<string, unknown>;
  columns: Record<string, unknown>;
  /** Every column's value, defaults filled in: what the INSERT writes. */
  record: Record<string, unknown>;
  children: ChildOp[];
  areaId: string;
}

interface MasterData {
  areaOf: Map<string, string>;
  kindOf: Map<string, string>;
  /** Staff member → area, for the plan owner's area check. */
  staffAreaOf: Map<string, string>;
}

async function loadMasterData(db: Executor): Promise<MasterData> {
  const insts = await db.select({ id: institutions.id, areaId: institutions.areaId, kind: institutions.kind }).from(institutions);
  const people = await db.select({ id: staff.id, areaId: staff.areaId }).from(staff);
  return { areaOf: new Map(insts.map((i) => [i.id, i.areaId])), kindOf: new Map(insts.map((i) => [i.id, i.kind])), staffAreaOf: new Map(people.map((p) => [p.id, p.areaId])) };
}

function validateRow(kind: KindDescriptor, body: Record<string, unknown>, master: MasterData, now: Date): { issues: ImportIssue[] } | { prepared: Omit<Prepared, 'line'> } {
  const parsed = kind.create.safeParse(body);
  if (!parsed.success) {
    const issues: ImportIssue[] = zodIssues(parsed.error).map((i) => ({ field: i.path || null, reason: i.message.replace(/^Invalid option: /, '') }));
    const inst = body['institutionId'];
    if (typeof inst === 'string' && !issues.some((i) => i.field === 'institutionId') && !master.areaOf.has(inst)) issues.push({ field: 'institutionId', reason: `unknown institution "${inst}"` });
    return { issues };
  }
  const input = parsed.data;
  const issues: ImportIssue[] = [];
  const institutionId = input['institutionId'] as string;
  const areaId = master.areaOf.get(institutionId);
  if (areaId === undefined) issues.push({ field: 'institutionId', reason: `unknown institution "${institutionId}"` });
  const refused = placementRefusedAt(kind.type, master.kindOf.get(institutionId));
  if (refused) issues.push({ field: refused.path, reason: refused.message });
  const ownerId = input['ownerId'];
  if (typeof ownerId === 'string') {
    const ownerArea = master.staffAreaOf.get(ownerId);
    if (ownerArea === undefined) issues.push({ field: 'ownerId', reason: `unknown staff member ${ownerId}` });
    // The API's rule (service.ts requireOwnerInArea): the owner works in the plan's area.
    else if (areaId !== undefined && ownerArea !== areaId) issues.push({ field: 'ownerId', reason: `must be a staff member of area ${areaId} (the plan's area)` });
  }
  const transfers = (input['transfers'] as Array<{ toInstitutionId: string }> | undefined) ?? [];
  transfers.forEach((t, i) => {
    if (!master.areaOf.has(t.toInstitutionId)) issues.push({ field: `transfers[${i}].toInstitutionId`, reason: `unknown institution "${t.toInstitutionId}"` });
  });
  const columns = kind.columns(input);
  if (kind.type === 'incident') columns['registeredAt'] = now;
  const children = kind.createChildren?.(input) ?? [];
  // The columns repeating child rows go into what is written, not into what is compared with a stored record.
  const base = provisionalRow(kind, columns, now);
  const record = { ...base, ...kind.derivedColumns?.(previewChildOps(base, children)) } as AnyRow;
  try {
    parseRecord(kind.toEngine(previewChildOps(record, children)), now.getTime());
  } catch (err) {
    if (!(err instanceof DomainError)) throw err;
    issues.push(...engineIssues(kind, err).map((i) => ({ field: i.path, reason: i.message })));
  }
  if (issues.length > 0) return { issues };
  return { prepared: { journalNumber: input['journalNumber'] as string, input, columns, record: record as unknown as Record<string, unknown>, children, areaId: areaId as string } };
}

// ------------------------------------------------------------------------------------ comparison

function sameValue(a: unknown, b: unknown): boolean {
  if (a instanceof Date || b instanceof Date) return a instanceof Date && b instanceof Date && a.getTime() === b.getTime();
  return (a ?? null) === (b ?? null);
}

const ms = (d: Date | null | undefined): number | null => (d ? d.getTime() : null);

/** The fields a row gives whose values differ from the stored record (fields the row leaves out are not compared). */
function differingFields(kind: KindDescriptor, p: Prepared, stored: AnyRow): string[] {
  const s = stored as unknown as Record<string, unknown>;
  const out: string[] = [];
  // With a notice history given, the single delay fields are one of its notices: the history is compared instead.
  const skip = new Set(['registeredAt', ...(p.input['delayNotices'] !== undefined ? ['delayNotifiedAt', 'finalReportExpectedAt', 'delayReason'] : [])]);
  for (const [column, value] of Object.entries(p.columns)) {
    if (skip.has(column)) continue;
    if (!sameValue(value, s[column])) out.push(column);
  }
  if (kind.type === 'incident') return [...out, ...differingIncidentHistory(p, stored as IncidentFull)];
  if (kind.type !== 'action_plan') return out;
  const plan = stored as PlanFull;
  const want = { evaluations: [] as number[], transfers: [] as string[], paroleDecisions: [] as string[] };
  for (const op of p.children) {
    if (op.table === 'evaluations') want.evaluations.push(op.evaluatedAt.getTime());
    else if (op.table === 'transfers') want.transfers.push(`${op.transferredAt.getTime()}|${op.toInstitutionId}|null`);
    else if (op.table === 'transfers-update') want.transfers.push(`${want.transfers.pop()?.replace(/\|null$/, '') ?? ''}|${op.planUpdatedAt.getTime()}`);
    else if (op.table === 'parole') want.paroleDecisions.push(`${op.decidedAt.getTime()}|${op.outcome}|null`);
    else if (op.table === 'parole-update') want.paroleDecisions.push(`${want.paroleDecisions.pop()?.replace(/\|null$/, '') ?? ''}|${op.planUpdatedAt.getTime()}`);
  }
  const have = {
    evaluations: plan.evaluations.map((e) => e.evaluatedAt.getTime()),
    transfers: plan.transfers.map((t) => `${t.transferredAt.getTime()}|${t.toInstitutionId}|${ms(t.planUpdatedAt)}`),
    paroleDecisions: plan.paroleDecisions.map((d) => `${d.decidedAt.getTime()}|${d.outcome}|${ms(d.planUpdatedAt)}`),
  };
  for (const list of ['evaluations', 'transfers', 'paroleDecisions'] as const) {
    if (p.input[list] === undefined) continue;
    if (JSON.stringify(want[list]) !== JSON.stringify(have[list])) out.push(list);
  }
  return out;
}

function differingIncidentHistory(p: Prepared, stored: IncidentFull): string[] {
  const want = { delayNotices: [] as string[], reclassifications: [] as string[] };
  for (const op of p.children) {
    if (op.table === 'delay-notices') want.delayNotices.push(`${op.notifiedAt.getTime()}|${op.expectedDate}|${op.reason}`);
    else if (op.table === 'reclassifications') want.reclassifications.push(`${op.at.getTime()}|${op.fromKind}|${op.toKind}|${op.reason}`);
  }
  const have = {
    delayNotices: stored.delayNotices.map((n) => `${n.notifiedAt.getTime()}|${n.expectedDate}|${n.reason}`),
    reclassifications: stored.reclassifications.map((x) => `${x.at.getTime()}|${x.fromKind}|${x.toKind}|${x.reason}`),
  };
  const out: string[] = [];
  for (const list of ['delayNotices', 'reclassifications'] as const) {
    if (p.input[list] === undefined) continue;
    if (JSON.stringify(want[list].sort()) !== JSON.stringify(have[list].sort())) out.push(list);
  }
  return out;
}

// ------------------------------------------------------------------------------------ writing

/**
 * A multi-row INSERT with one parameter: the rows as a JSON array, expanded by
 * json_populate_recordset. Building a drizzle INSERT of 1,000 rows × 21 columns costs ~300 ms of
 * JavaScript (a query object per bound value); this costs a JSON.stringify. Keys are property
 * names; every row must carry the same keys (absent ones would become NULL, not the default).
 */
async function insertJson(tx: Executor, table: PgTable, rows: Array<Record<string, unknown>>, returning?: readonly string[]): Promise<Array<Record<string, unknown>>> {
  const first = rows[0];
  if (!first) return [];
  const columns = getTableColumns(table);
  const props = Object.keys(first);
  const names = props.map((p) => {
    const c = columns[p];
    if (!c) throw new Error(`insertJson: ${getTableName(table)} has no column ${p}`);
    return `"${c.name}"`;
  });
  const payload = JSON.stringify(rows.map((r) => props.map((p) => r[p] ?? null)));
  // Positional arrays keep the payload small; the SELECT names each position's column.
  const select = names.map((n, i) => `(r->>${i})::${castType(columns[props[i] as string]?.getSQLType() ?? 'text')} AS ${n}`).join(', ');
  const back = returning && returning.length > 0 ? ` RETURNING ${returning.map((p) => `"${columns[p]?.name ?? p}" AS "${p}"`).join(', ')}` : '';
  const query = `INSERT INTO "${getTableName(table)}" (${names.join(', ')}) SELECT ${select} FROM json_array_elements(`;
  return rowsOf<Record<string, unknown>>(await tx.execute(sql`${sql.raw(query)}${payload}::json) AS r${sql.raw(back)}`));
}

/** Serial pseudo-types are not types a value can be cast to. */
function castType(sqlType: string): string {
  return ({ serial: 'integer', bigserial: 'bigint', smallserial: 'smallint' } as Record<string, string>)[sqlType] ?? sqlType;
}


/** Child rows (every row of a table with the same keys): a `$last` update folds into the row it follows. */
function childRows(parentId: string, ops: ChildOp[]) {
  const evaluations: Array<Record<string, unknown>> = [];
  const transfers: Array<Record<string, unknown>> = [];
  const parole: Array<Record<string, unknown>> = [];
  const notices: Array<Record<string, unknown>> = [];
  const reclassifications: Array<Record<string, unknown>> = [];
  for (const op of ops) {
    if (op.table === 'evaluations') evaluations.push({ planId: parentId, evaluatedAt: op.evaluatedAt });
    else if (op.table === 'transfers') transfers.push({ planId: parentId, transferredAt: op.transferredAt, toInstitutionId: op.toInstitutionId, planUpdatedAt: null });
    else if (op.table === 'transfers-update') {
      const last = transfers[transfers.length - 1];
      if (last) last['planUpdatedAt'] = op.planUpdatedAt;
    } else if (op.table === 'parole') parole.push({ planId: parentId, decidedAt: op.decidedAt, outcome: op.outcome, planUpdatedAt: null });
    else if (op.table === 'parole-update') {
      const last = parole[parole.length - 1];
      if (last) last['planUpdatedAt'] = op.planUpdatedAt;
    } else if (op.table === 'delay-notices') notices.push({ incidentId: parentId, notifiedAt: op.notifiedAt, expectedDate: op.expectedDate, reason: op.reason });
    else if (op.table === 'reclassifications') reclassifications.push({ incidentId: parentId, at: op.at, fromKind: op.fromKind, toKind: op.toKind, reason: op.reason });
    // Updates and deletes of notices come from patches, never from a create.
  }
  return { evaluations, transfers, parole, notices, reclassifications };
}

interface AuditDraft {
  actor: string;
  action: string;
  entityType: string;
  entityId: string;
  after: unknown;
  personal: readonly string[];
}

/**
 * One audit entry per record, chained in order. The first goes through appendAudit, which takes
 * the chain's lock for the rest of the transaction; the others are hashed here from its hash and
 * inserted together, with ids drawn in order so that the chain's order is the id order.
 */
async function appendAuditBatch(tx: Executor, entries: AuditDraft[], now: Date): Promise<void> {
  const [first, ...rest] = entries;
  if (!first) return;
  await appendAudit(tx, { ...first, before: null }, now);
  if (rest.length === 0) return;
  const [last] = rowsOf<{ hash: string }>(await tx.execute(sql`SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1`));
  const ids = rowsOf<{ id: string | number }>(await tx.execute(sql`SELECT nextval(pg_get_serial_sequence('audit_log', 'id')) AS id FROM generate_series(1, ${rest.length}) ORDER BY 1`)).map((r) => Number(r.id));
  let prevHash = (last as { hash: string }).hash;
  const at = new Date(Math.floor(now.getTime()));
  const personal: Array<PersonalRow & { auditId: number }> = [];
  const values = rest.map((e, i) => {
    const id = ids[i] as number;
    // Sealed as appendAudit does: personal values out, their digests in, what is hashed is what jsonb gives back.
    const sealed = sealPersonal({ before: null, after: e.after, personal: e.personal });
    for (const p of sealed.personal) personal.push({ ...p, auditId: id });
    const hash = entryHash(prevHash, { at, actor: e.actor, action: e.action, entityType: e.entityType, entityId: e.entityId, before: null, after: sealed.after });
    const row = { id, at, actor: e.actor, action: e.action, entityType: e.entityType, entityId: e.entityId, before: null, after: sealed.after, prevHash, hash };
    prevHash = hash;
    return row;
  });
  await insertJson(tx, auditLog, values);
  // Stored wrapped, as insertPersonal does; insertJson casts `r->>i` (text) to jsonb, which an object's JSON text survives.
  await insertJson(tx, auditPersonal, personal.map((p) => ({ auditId: p.auditId, field: p.field, salt: p.salt, before: wrapPersonal(p.before), after: wrapPersonal(p.after) })));
}

/** Columns an insert leaves to the database: the key, and what the change-feed trigger stamps. */
const DB_MANAGED = new Set(['id', 'createdAt', 'updatedAt', 'changeSeq', 'version']);

/** `auditTurn` settles when the batch before has committed: audit entries stay in file order while the inserts overlap. */
async function writeRows(tx: Executor, kind: KindDescriptor, rows: Prepared[], actor: string, closureDays: readonly string[], now: Date, auditTurn: Promise<unknown>): Promise<void> {
  const insertable = Object.keys(getTableColumns(kind.table as PgTable)).filter((c) => !DB_MANAGED.has(c));
  const values = rows.map((r) => Object.fromEntries(insertable.map((c) => [c, r.record[c] ?? null])));
  const inserted = await insertJson(tx, kind.table as PgTable, values, ['id', 'journalNumber']);
  const idOf = new Map(inserted.map((r) => [r['journalNumber'] as string, r['id'] as string]));
  const ids = rows.map((r) => idOf.get(r.journalNumber) as string);
  const all = rows.map((r, i) => childRows(ids[i] as string, r.children));
  const children = (k: keyof ReturnType<typeof childRows>) => all.flatMap((c) => c[k]);
  await insertJson(tx, planEvaluations, children('evaluations'));
  await insertJson(tx, planTransfers, children('transfers'));
  await insertJson(tx, paroleDecisions, children('parole'));
  await insertJson(tx, incidentDelayNotices, children('notices'));
  await insertJson(tx, incidentReclassifications, children('reclassifications'));
  const loaded = new Map((await kind.load(tx, ids)).map((r) => [r.id, r]));
  const rules = await loadRulesInForce(tx, closureDays);
  const deadlineValues: Array<Record<string, unknown>> = [];
  const audit: AuditDraft[] = [];
  rows.forEach((r, i) => {
    const row = loaded.get(ids[i] as string) as AnyRow;
    // Exactly as materialiseDeadlines (service.ts) stores them for a new record.
    deadlineValues.push(...deadlineRows(kind, row, r.areaId, computeForRecord(kind, row, r.areaId, rules, now).deadlines, rules, now));
    audit.push({ actor, action: `${kind.type}.create`, entityType: kind.type, entityId: row.id, after: kind.toApi(row, { showCpr: false, verbatimText: true }), personal: personalFields(kind.type) });
  });
  await insertJson(tx, deadlines, deadlineValues);
  await auditTurn;
  await appendAuditBatch(tx, audit, now);
}

/** Connection trouble and the like: the import stops (exit 1); everything else is the row's fault. */
function isSystemError(err: unknown): boolean {
  const { code } = pgErrorInfo(err);
  // Class 42 (a query the server cannot even plan) is a bug here, never the row's fault.
  return code === undefined || /^(08|42|53|54|57|58|XX)/.test(code);
}

function rowIssueFromDb(err: unknown): ImportIssue {
  const { code, constraint } = pgErrorInfo(err);
  if (code === '23505' && constraint?.includes('journal')) return { field: 'journalNumber', reason: 'already exists (stored by someone else during the import)' };
  if (code === '23503') {
    const field = constraint?.includes('owner') ? 'ownerId' : constraint?.includes('institution') ? 'institutionId' : (constraint ?? null);
    return { field, reason: 'refers to something that does not exist' };
  }
  return { field: constraint ?? null, reason: `refused by the database (SQLSTATE ${code ?? '?'})` };
}

// ------------------------------------------------------------------------------------ the import

export interface ImportOptions {
  /** The record type; otherwise the first row's `type`, otherwise `fallbackType`. */
  type?: RecordTypeName | undefined;
  /** From the file name, used when neither --type nor a `type` value says. */
  fallbackType?: RecordTypeName | undefined;
  dryRun?: boolean;
  batchSize?: number;
  /** Audit actor name. */
  actor?: string;
  onProgress?: (p: ImportProgress) => void;
  onReject?: (r: Rejection) => void;
}

export interface ImportProgress {
  read: number;
  created: number;
  unchanged: number;
  rejected: number;
  bytes: number;
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
  /** Rows whose journal number is stored with other values (counted in `rejected`). */
  conflicts: number;
  byType: Partial<Record<RecordTypeName, TypeCounts>>;
  rejections: Rejection[];
  durationMs: number;
}

/** Batches written at once: Postgres works on as many cores, the audit chain waits its turn. */
const WRITERS = 2;

export async function importRows(ctx: ServiceContext, source: RowSource, opts: ImportOptions = {}): Promise<ImportSummary> {
  const started = performance.now();
  const now = ctx.clock();
  const batchSize = opts.batchSize ?? 500;
  const actor = opts.actor ?? 'import';
  const dryRun = opts.dryRun ?? false;
  const master = await loadMasterData(ctx.db);
  const counts = { read: 0, created: 0, unchanged: 0, rejected: 0, conflicts: 0 };
  const rejections: Rejection[] = [];
  const seen = new Map<string, number>();
  let type: RecordTypeName | undefined = opts.type;
  let kind: KindDescriptor | undefined;
  let batch: Prepared[] = [];
  const inflight = new Set<Promise<void>>();
  let lastWrite: Promise<void> = Promise.resolve();
  let failure: { err: unknown } | undefined;

  const reject = (line: number, issues: ImportIssue[]): void => {
    const r: Rejection = { line, issues: issues.map((i) => ({ field: i.field, reason: scrubCpr(i.reason) })) };
    counts.rejected++;
    rejections.push(r);
    opts.onReject?.(r);
  };
  const progress = (): void => opts.onProgress?.({ read: counts.read, created: counts.created, unchanged: counts.unchanged, rejected: counts.rejected, bytes: source.bytesRead() });

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

  const flush = async (rows: Prepared[], auditTurn: Promise<unknown>): Promise<void> => {
    if (rows.length === 0 || !kind) return;
    const k = kind;
    const existing = (await ctx.db.select({ id: k.table.id, journalNumber: k.table.journalNumber }).from(k.table).where(inArray(k.table.journalNumber, rows.map((r) => r.journalNumber)))) as Array<{ id: string; journalNumber: string }>;
    let fresh = rows;
    if (existing.length > 0) {
      const stored = new Map((await k.load(ctx.db, existing.map((e) => e.id))).map((r) => [(r as { journalNumber: string }).journalNumber, r]));
      fresh = [];
      for (const r of rows) {
        const s = stored.get(r.journalNumber);
        if (!s) {
          fresh.push(r);
          continue;
        }
        const diff = differingFields(k, r, s);
        if (diff.length === 0) {
          counts.unchanged++;
        } else {
          counts.conflicts++;
          reject(r.line, [{ field: 'journalNumber', reason: `a record with this journal number is stored already with other values in ${diff.join(', ')}; an import never changes stored records (correct them through the API)` }]);
        }
      }
    }
    if (fresh.length === 0) return;
    if (dryRun) {
      counts.created += fresh.length;
      return;
    }
    try {
      await ctx.db.transaction((tx) => writeRows(tx, k, fresh, actor, ctx.closureDays, now, auditTurn));
      counts.created += fresh.length;
    } catch (err) {
      if (isSystemError(err)) throw err;
      // Find the row the database refused; the others go in on their own.
      for (const r of fresh) {
        try {
          await ctx.db.transaction((tx) => writeRows(tx, k, [r], actor, ctx.closureDays, now, auditTurn));
          counts.created++;
        } catch (rowErr) {
          if (isSystemError(rowErr)) throw rowErr;
          reject(r.line, [rowIssueFromDb(rowErr)]);
        }
      }
    }
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
      const rawJournal = row.body?.['journalNumber'];
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
      const v = validateRow(kind, row.body, master, now);
      if ('issues' in v) {
        reject(row.line, v.issues);
        continue;
      }
      batch.push({ line: row.line, ...v.prepared });
      if (batch.length >= batchSize) {
        const full = batch;
        batch = [];
        // Parsing and validation go on while up to two batches are written, each on its own connection.
        while (inflight.size >= WRITERS) await Promise.race(inflight);
        if (failure) throw failure.err;
        const write: Promise<void> = flush(full, lastWrite).then(progress, (err: unknown) => {
          failure = { err };
        });
        lastWrite = write;
        inflight.add(write);
        void write.then(() => inflight.delete(write));
      }
    }
  } catch (err) {
    // Never leave a batch being written behind a failed read (the caller closes the database next).
    await Promise.all(inflight);
    throw err;
  }
  await Promise.all(inflight);
  if (failure) throw failure.err;
  if (!kind) {
    // A file with a header and no rows: still check the header (and say which type it would be).
    kind = resolveType({ line: 0 });
  }
  await flush(batch, lastWrite);
  progress();
  rejections.sort((a, b) => a.line - b.line);
  const t = kind.type;
  return {
    format: source.format,
    type: t,
    dryRun,
    read: counts.read,
    created: counts.created,
    unchanged: counts.unchanged,
    rejected: counts.rejected,
    conflicts: counts.conflicts,
    byType: { [t]: { read: counts.read, created: counts.created, unchanged: counts.unchanged, rejected: counts.rejected } },
    rejections,
    durationMs: Math.round(performance.now() - started),
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
