/**
 * The record service: create, update, complete and read records, for the API, the CLI and the
 * importer alike. Every write validates first (zod, then the engine's cross-field rules), then in
 * one transaction stores the record, materialises its deadlines, appends to the audit log and
 * remembers the idempotency key — so a refused request changes nothing.
 */
import { createHash } from 'node:crypto';
import { and, eq, getTableColumns, inArray, sql, type SQL } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
import type { z } from 'zod';
import { computeDeadlinesForRecord, DomainError, formatPath, isInFuture, parseRecord, parseWhen, scrubCpr, type Deadline, type DeadlineSet, type Lang } from '../domain/index.js';
import { appendAudit, appendAuditEntries, canonicalJson, type AuditEntry } from '../db/audit.js';
import { insertJson } from '../db/bulk.js';
import type { Db, Executor } from '../db/client.js';
import { idempotencyKeys, institutions, staff } from '../db/schema.js';
import { loadRulesInForce, type RulesInForce } from './calendar.js';
import { storeDeadlines, type DeadlinesOf } from './deadline-store.js';
import { pgErrorInfo, ServiceError, validationError, type FieldIssue } from './errors.js';
import { iso } from './values.js';
import { correctBody, eventChanges, loadEventChain, loadEventChains, lockedBy, parseEventId, recordedValues, revertEvent, shownValue, undoBody } from './corrections.js';
import { applyChildOps, assignAll, createChildRows, KINDS, personalFields, previewChildOps, provisionalRow, registrationIssues, type AnyRow, type ChildOp, type IncidentFull, type KindDescriptor, type PlanFull, type RecordTypeName } from './kinds.js';

export type Role = 'admin' | 'area' | 'institution' | 'reader';

export interface Actor {
  /** Token id, or a fixed name for the environment admin token and the CLI. */
  id: string;
  name: string;
  role: Role;
  areaId?: string | null;
  institutionId?: string | null;
  /**
   * The staff member this actor is (a person linked to a plan owner): the work queue's "mine" for
   * roles without an institution or area of their own.
   */
  staffId?: string | null;
  /** Who acts: a person (a user), a machine (an API token, FRISTVAGT_ADMIN_TOKEN) or the system itself (CLI, worker). */
  kind?: 'user' | 'token' | 'system';
  /** A person's name and title, for signatures and the header; never for logs. */
  person?: { name: string; title: string | null; email: string };
}

/** What a log line may say about an actor: its id for a person, never the name. */
export function actorLogId(actor: Actor | undefined): string | undefined {
  if (!actor) return undefined;
  return actor.kind === 'user' ? `user:${actor.id}` : actor.name;
}

export interface ServiceContext {
  db: Db;
  clock: () => Date;
  closureDays: readonly string[];
}

export interface WriteOptions {
  idempotencyKey?: string | undefined;
  /** Method and path, part of what an idempotency key must match. */
  requestTarget?: string;
}

export interface WriteResult {
  id: string;
  created: boolean;
  replayed: boolean;
  /** A batched create of more than one record: every new id, in order. */
  ids?: string[];
}

/** Roles that file the legal notices and so may see CPR numbers. */
export function mayseeCpr(actor: Actor): boolean {
  return actor.role === 'area' || actor.role === 'institution';
}

export function zodIssues(error: z.ZodError, prefix: Array<string | number> = []): FieldIssue[] {
  return error.issues.flatMap((i) => {
    const path = [...prefix, ...i.path.map((p) => (typeof p === 'number' ? p : String(p)))];
    if (i.code === 'unrecognized_keys') return i.keys.map((k) => ({ path: formatPath([...path, k]), message: 'unknown field' }));
    if (i.code === 'invalid_type' && /received undefined/.test(i.message)) return [{ path: formatPath(path), message: 'is required' }];
    return [{ path: formatPath(path), message: i.message.replace(/^Invalid input: /, '') }];
  });
}

export function parseBody<T>(schema: z.ZodType<T>, body: unknown): T {
  const r = schema.safeParse(body ?? {});
  if (!r.success) throw validationError(zodIssues(r.error));
  return r.data;
}

/** Institution → area and kind, and whether the actor may write there. */
async function institutionScope(db: Executor, institutionId: string): Promise<{ areaId: string; kind: string } | undefined> {
  const [row] = await db.select({ areaId: institutions.areaId, kind: institutions.kind }).from(institutions).where(eq(institutions.id, institutionId));
  return row;
}

/**
 * 000: "Personalet i pensionerne må som hidtil efter direktoratets beslutning ikke anvende
 * sikringsmidler": a security-cell placement at a halfway house is refused, whoever writes it.
 */
export function placementRefusedAt(type: RecordTypeName, institutionKind: string | undefined): FieldIssue | undefined {
  if (type !== 'security_cell_placement' || institutionKind !== 'halfway_house') return undefined;
  return { path: 'institutionId', message: 'is a halfway house (pension): "Personalet i pensionerne må som hidtil efter direktoratets beslutning ikke anvende sikringsmidler" (cirkulæreskrivelse om sikringsmidler, 2022); no security-cell placement can be registered there' };
}

export function canRead(actor: Actor, scope: { institutionId: string; areaId: string }): boolean {
  if (actor.role === 'admin' || actor.role === 'reader') return true;
  if (actor.role === 'area') return actor.areaId === scope.areaId;
  return actor.institutionId === scope.institutionId;
}

export function canWrite(actor: Actor, scope: { institutionId: string; areaId: string }): boolean {
  return actor.role !== 'reader' && canRead(actor, scope);
}

async function requireScope(db: Executor, actor: Actor, institutionId: string, mode: 'read' | 'write', field = 'institutionId'): Promise<{ areaId: string; kind: string }> {
  const scope = await institutionScope(db, institutionId);
  if (!scope) throw validationError([{ path: field, message: `unknown institution "${institutionId}"` }]);
  const ok = mode === 'read' ? canRead(actor, { institutionId, areaId: scope.areaId }) : canWrite(actor, { institutionId, areaId: scope.areaId });
  if (!ok) throw new ServiceError('FORBIDDEN', `${actor.role} token may not ${mode} records of institution ${institutionId}`);
  return scope;
}

/**
 * A plan's owner works in the plan's area: the owner receives the plan's reminders and calendar
 * feed, so an owner from another area would carry the plan's deadlines out of its scope.
 */
async function requireOwnerInArea(db: Executor, ownerId: unknown, areaId: string): Promise<void> {
  if (typeof ownerId !== 'string') return;
  const [row] = await db.select({ areaId: staff.areaId }).from(staff).where(eq(staff.id, ownerId));
  if (row?.areaId !== areaId) throw validationError([{ path: 'ownerId', message: `must be a staff member of area ${areaId} (the plan's area)` }]);
}

/** The engine's issues under the API's field names (the API, the UI and the importer alike). */
export function engineIssues(kind: KindDescriptor, err: DomainError): FieldIssue[] {
  return err.issues.map((i) => {
    const [head, ...rest] = i.path;
    const mapped = typeof head === 'string' && kind.engineFieldToApi?.[head] ? [kind.engineFieldToApi[head], ...rest] : i.path;
    let message = i.message;
    for (const [engine, api] of Object.entries(kind.engineFieldToApi ?? {})) message = message.replaceAll(engine, api);
    return { path: formatPath(mapped as Array<string | number>), message };
  });
}

/** The engine's cross-field validation of a would-be row, before anything is written. */
function validateWithEngine(kind: KindDescriptor, row: AnyRow, now: Date) {
  try {
    return parseRecord(kind.toEngine(row), now.getTime());
  } catch (err) {
    if (err instanceof DomainError) throw validationError(engineIssues(kind, err));
    throw err;
  }
}

function translateDbError(err: unknown): never {
  const { code, constraint } = pgErrorInfo(err);
  if (code === '23505' && constraint?.includes('journal')) {
    throw new ServiceError('CONFLICT', 'journalNumber: a record with this journal number exists already', { issues: [{ path: 'journalNumber', message: 'already exists' }], cause: err });
  }
  if (code === '23503') {
    const field = constraint?.includes('owner') ? 'ownerId' : constraint?.includes('institution') ? 'institutionId' : constraint ?? 'reference';
    throw validationError([{ path: field, message: 'refers to something that does not exist' }]);
  }
  if (code === '23514' || code === '23502' || code === '22007' || code === '22008') {
    throw validationError([{ path: constraint ?? 'record', message: 'refused by the database constraint' }]);
  }
  throw err;
}

function requestHash(target: string, body: unknown): string {
  return createHash('sha256').update(target).update('\n').update(canonicalJson(body)).digest('hex');
}

async function replayIdempotent(db: Executor, actor: Actor, key: string, hash: string): Promise<WriteResult | undefined> {
  const [row] = await db.select().from(idempotencyKeys).where(and(eq(idempotencyKeys.actor, actor.id), eq(idempotencyKeys.key, key)));
  if (!row) return undefined;
  if (row.requestHash !== hash) {
    throw new ServiceError('IDEMPOTENCY_MISMATCH', 'Idempotency-Key was used before for a different request', { issues: [{ path: 'Idempotency-Key', message: 'reused with a different request' }] });
  }
  const stored = row.response as { id: string; ids?: string[] };
  return { id: stored.id, created: row.statusCode === 201, replayed: true, ...(stored.ids ? { ids: stored.ids } : {}) };
}

/**
 * The first result for a retried write, before anything else is checked: a retry must not fail on
 * what the first attempt changed (a `version` it bumped, an event it recorded).
 */
async function replayFirst(ctx: ServiceContext, actor: Actor, opts: WriteOptions, body: unknown): Promise<WriteResult | undefined> {
  const key = opts.idempotencyKey;
  if (key === undefined) return undefined;
  if (key.length < 1 || key.length > 200) throw validationError([{ path: 'Idempotency-Key', message: 'must be 1–200 characters' }]);
  return replayIdempotent(ctx.db, actor, key, requestHash(opts.requestTarget ?? '', body));
}

/** Runs a write once per idempotency key; a retry returns the first result (also src/records/escalations.ts). */
export async function idempotent(ctx: ServiceContext, actor: Actor, opts: WriteOptions, body: unknown, run: (tx: Executor) => Promise<WriteResult>): Promise<WriteResult> {
  const key = opts.idempotencyKey;
  const early = await replayFirst(ctx, actor, opts, body);
  if (early) return early;
  const hash = key ? requestHash(opts.requestTarget ?? '', body) : '';
  try {
    return await ctx.db.transaction(async (tx) => {
      if (key) {
        // Concurrent retries with one key queue here; the later ones then find the first's result.
        await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtext(${`idempotency:${actor.id}:${key}`}))`);
        const replay = await replayIdempotent(tx, actor, key, hash);
        if (replay) return replay;
      }
      const result = await run(tx);
      if (key) {
        await tx.insert(idempotencyKeys).values({ actor: actor.id, key, method: (opts.requestTarget ?? '').split(' ')[0] ?? '', path: opts.requestTarget ?? '', requestHash: hash, statusCode: result.created ? 201 : 200, response: { id: result.id, ...(result.ids && result.ids.length > 1 ? { ids: result.ids } : {}) } });
      }
      return result;
    });
  } catch (err) {
    // Whatever failed, a request whose key has a result by now gets that result.
    if (key) {
      const replay = await replayIdempotent(ctx.db, actor, key, hash).catch(() => undefined);
      if (replay) return replay;
    }
    if (err instanceof ServiceError) throw err;
    return translateDbError(err);
  }
}

/** The engine's deadlines and findings of a stored record, under the policy of its area. */
export function computeForRecord(kind: KindDescriptor, row: AnyRow, areaId: string, rules: RulesInForce, now: Date, lang: Lang = 'da'): DeadlineSet {
  return computeDeadlinesForRecord(parseRecord(kind.toEngine(row)), { now: now.getTime(), calendar: rules.calendar, policy: rules.policyFor(areaId), lang });
}

/** Recomputes and stores a record's deadlines inside the caller's transaction (deadline-store.ts); returns the engine's whole set. */
export async function materialiseDeadlines(tx: Executor, ctx: { closureDays: readonly string[]; now: Date }, kind: KindDescriptor, row: AnyRow, areaId: string): Promise<DeadlineSet> {
  const rules = await loadRulesInForce(tx, ctx.closureDays);
  const set = computeForRecord(kind, row, areaId, rules, ctx.now);
  await storeDeadlines(tx, [{ kind, row, areaId, set }], rules, ctx.now);
  return set;
}

/** Columns repeating the child rows, from the record as it will be (merged into both). */
function withDerived(kind: KindDescriptor, columns: Record<string, unknown>, provisional: AnyRow): AnyRow {
  const derived = kind.derivedColumns?.(provisional);
  if (!derived) return provisional;
  Object.assign(columns, derived);
  return { ...provisional, ...derived } as AnyRow;
}

export async function loadOne(db: Executor, kind: KindDescriptor, id: string): Promise<AnyRow> {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) throw new ServiceError('NOT_FOUND', `no ${kind.type} with id ${id}`);
  const [row] = await kind.load(db, [id]);
  if (!row) throw new ServiceError('NOT_FOUND', `no ${kind.type} with id ${id}`);
  return row;
}

function auditView(kind: KindDescriptor, row: AnyRow): Record<string, unknown> {
  return kind.toApi(row, { showCpr: false, verbatimText: true });
}

// ------------------------------------------------------------------------------------ creating

/** What a batch's validation needs of the institutions and staff it names, read once per batch. */
interface MasterLookup {
  institutions: Map<string, { areaId: string; kind: string }>;
  staffArea: Map<string, string>;
}

async function loadLookup(db: Executor, institutionIds: ReadonlySet<string>, staffIds: ReadonlySet<string>): Promise<MasterLookup> {
  const insts = institutionIds.size > 0 ? await db.select({ id: institutions.id, areaId: institutions.areaId, kind: institutions.kind }).from(institutions).where(inArray(institutions.id, [...institutionIds])) : [];
  const people = staffIds.size > 0 ? await db.select({ id: staff.id, areaId: staff.areaId }).from(staff).where(inArray(staff.id, [...staffIds])) : [];
  return { institutions: new Map(insts.map((i) => [i.id, { areaId: i.areaId, kind: i.kind }])), staffArea: new Map(people.map((p) => [p.id, p.areaId])) };
}

/** A create body that passed every check: what is written. */
interface PreparedCreate {
  index: number;
  journalNumber: string;
  input: Record<string, unknown>;
  columns: Record<string, unknown>;
  /** Every column's value, defaults and the columns repeating the child rows filled in: what the INSERT writes. */
  record: Record<string, unknown>;
  children: ChildOp[];
  areaId: string;
}

interface Refusal {
  code: 'VALIDATION' | 'FORBIDDEN';
  issues: FieldIssue[];
  message?: string;
}

/**
 * Every check of a create body, in the order the API reports them: the zod schema, the engine's
 * cross-field rules on the row as it would be stored, the institution (known, writable by the
 * actor, not a halfway house for a security-cell placement), the plan owner's area and the
 * transfers' institutions. `collect` (the importer) gathers every stage's issues at once; without
 * it the first failing stage is the answer, as one request gets it.
 */
function prepareCreate(kind: KindDescriptor, body: unknown, parsed: ReturnType<KindDescriptor['create']['safeParse']>, lookup: MasterLookup, actor: Actor, now: Date, collect: boolean): Omit<PreparedCreate, 'index'> | Refusal {
  const unknownInstitution = (id: string): FieldIssue => ({ path: 'institutionId', message: `unknown institution "${id}"` });
  if (!parsed.success) {
    const issues = zodIssues(parsed.error);
    const inst = (body as Record<string, unknown> | null | undefined)?.['institutionId'];
    if (collect && typeof inst === 'string' && !issues.some((i) => i.path === 'institutionId') && !lookup.institutions.has(inst)) issues.push(unknownInstitution(inst));
    return { code: 'VALIDATION', issues };
  }
  const input = parsed.data;
  const columns = kind.columns(input);
  const children = kind.createChildren?.(input) ?? [];
  const base = provisionalRow(kind, columns, now);
  const derived = kind.derivedColumns?.(previewChildOps(base, children));
  const record = (derived ? assignAll({}, base as unknown as Record<string, unknown>, derived) : base) as AnyRow;
  const stages: Array<() => FieldIssue[] | Refusal> = [
    () => registrationIssues(kind.type, input, now.getTime()),
    () => {
      try {
        parseRecord(kind.toEngine(previewChildOps(record, children)), now.getTime());
        return [];
      } catch (err) {
        if (err instanceof DomainError) return engineIssues(kind, err);
        throw err;
      }
    },
    () => {
      const institutionId = input['institutionId'] as string;
      const scope = lookup.institutions.get(institutionId);
      if (!scope) return [unknownInstitution(institutionId)];
      if (!canWrite(actor, { institutionId, areaId: scope.areaId })) return { code: 'FORBIDDEN', issues: [], message: `${actor.role} token may not write records of institution ${institutionId}` };
      const refused = placementRefusedAt(kind.type, scope.kind);
      return refused ? [refused] : [];
    },
    () => {
      // A plan's owner works in the plan's area: the owner receives the plan's reminders and
      // calendar feed, so an owner from another area would carry its deadlines out of its scope.
      const ownerId = input['ownerId'];
      const areaId = lookup.institutions.get(input['institutionId'] as string)?.areaId;
      if (typeof ownerId !== 'string') return [];
      const ownerArea = lookup.staffArea.get(ownerId);
      if (ownerArea === undefined) return [{ path: 'ownerId', message: `unknown staff member ${ownerId}` }];
      return areaId !== undefined && ownerArea !== areaId ? [{ path: 'ownerId', message: `must be a staff member of area ${areaId} (the plan's area)` }] : [];
    },
    () => ((input['transfers'] as Array<{ toInstitutionId: string }> | undefined) ?? []).flatMap((t, i) => (lookup.institutions.has(t.toInstitutionId) ? [] : [{ path: `transfers[${i}].toInstitutionId`, message: `unknown institution "${t.toInstitutionId}"` }])),
  ];
  const issues: FieldIssue[] = [];
  for (const stage of stages) {
    const found = stage();
    if (!Array.isArray(found)) return found;
    issues.push(...found);
    if (!collect && issues.length > 0) break;
  }
  if (issues.length > 0) return { code: 'VALIDATION', issues };
  const areaId = lookup.institutions.get(input['institutionId'] as string)?.areaId as string;
  return { journalNumber: input['journalNumber'] as string, input, columns, record: record as unknown as Record<string, unknown>, children, areaId };
}

export type CreateOutcome =
  | { status: 'created'; id: string | null; replayed?: boolean }
  /** The journal number is stored with the same values (`existing: 'compare'`). */
  | { status: 'unchanged'; id: string }
  /** The journal number is stored with other values in `fields` (`existing: 'compare'`): nothing was changed. */
  | { status: 'conflict'; id: string; fields: string[] }
  /** The journal number is stored already (`existing: 'skip'`): nothing was compared or changed. */
  | { status: 'present'; id: string }
  | { status: 'rejected'; code: 'VALIDATION' | 'FORBIDDEN' | 'CONFLICT'; issues: FieldIssue[] };

export interface CreateOptions extends WriteOptions {
  /**
   * `all` (default): any refused body refuses the whole batch with a ServiceError naming the body
   * (`[i].field` beyond a batch of one) and nothing is written. `each`: the others go in, every
   * refused body is reported in its outcome.
   */
  mode?: 'all' | 'each';
  /**
   * A journal number stored already: `conflict` (default) refuses the body, as the unique key does;
   * `compare` (the importer) reports it `unchanged` when every field it gives equals the stored
   * value, otherwise `conflict`; `skip` (the demo seed) reports it `present`. Stored records are never changed.
   */
  existing?: 'conflict' | 'compare' | 'skip';
  /** Check only: nothing is written (created outcomes carry no id). */
  dryRun?: boolean;
  /** The audit entries are appended once this settles: batches written side by side keep their order in the chain. */
  auditAfter?: Promise<unknown>;
}

function refusalError(r: Refusal, prefix: string): ServiceError {
  const issues = r.issues.map((i) => ({ path: prefix && i.path ? `${prefix}.${i.path}` : prefix || i.path, message: i.message }));
  return r.code === 'FORBIDDEN' ? new ServiceError('FORBIDDEN', r.message ?? 'forbidden', { issues }) : validationError(issues);
}

/**
 * Creates many records of one type: the one write path of the API (a batch of one), the importer
 * and the demo seed. Every body is validated (zod, the engine, institutions and staff read once
 * for the batch); the accepted ones are written in one transaction with multi-row inserts of the
 * records, their child rows and their materialised deadlines, and one batched audit append (one
 * `<type>.create` entry per record, in the given order). Outcomes are in the order of `bodies`.
 */
export async function createRecords(ctx: ServiceContext, type: RecordTypeName, bodies: readonly unknown[], actor: Actor, opts: CreateOptions = {}): Promise<CreateOutcome[]> {
  const kind = KINDS[type];
  const mode = opts.mode ?? 'all';
  if (actor.role === 'reader') throw new ServiceError('FORBIDDEN', 'reader tokens may not write');
  const idemBody = bodies.length === 1 ? bodies[0] : bodies;
  const early = await replayFirst(ctx, actor, opts, idemBody);
  if (early) return replayedOutcomes(early);
  const now = ctx.clock();
  const prefixOf = (i: number): string => (bodies.length === 1 ? '' : `[${i}]`);
  const parsed = bodies.map((b) => kind.create.safeParse(b ?? {}));
  if (mode === 'all') {
    const bad = parsed.findIndex((p) => !p.success);
    if (bad >= 0) throw refusalError({ code: 'VALIDATION', issues: zodIssues((parsed[bad] as { error: z.ZodError }).error) }, prefixOf(bad));
  }
  const instIds = new Set<string>();
  const staffIds = new Set<string>();
  parsed.forEach((p, i) => {
    const src = (p.success ? p.data : bodies[i]) as Record<string, unknown> | null | undefined;
    if (typeof src?.['institutionId'] === 'string') instIds.add(src['institutionId']);
    if (!p.success) return;
    if (typeof src?.['ownerId'] === 'string') staffIds.add(src['ownerId']);
    for (const t of (src?.['transfers'] as Array<{ toInstitutionId: string }> | undefined) ?? []) instIds.add(t.toInstitutionId);
  });
  const lookup = await loadLookup(ctx.db, instIds, staffIds);
  const outcomes: Array<CreateOutcome | undefined> = bodies.map(() => undefined);
  let accepted: PreparedCreate[] = [];
  parsed.forEach((p, index) => {
    const r = prepareCreate(kind, bodies[index], p, lookup, actor, now, mode === 'each');
    if ('code' in r) {
      if (mode === 'all') throw refusalError(r, prefixOf(index));
      outcomes[index] = { status: 'rejected', code: r.code, issues: r.issues };
    } else accepted.push({ index, ...r });
  });
  if ((opts.existing ?? 'conflict') !== 'conflict' && accepted.length > 0) accepted = await settleExisting(ctx.db, kind, accepted, opts.existing === 'compare', outcomes);
  if (opts.dryRun) {
    for (const p of accepted) outcomes[p.index] = { status: 'created', id: null };
    return outcomes as CreateOutcome[];
  }
  if (accepted.length === 0) return outcomes as CreateOutcome[];

  const write = (rows: PreparedCreate[]) => async (tx: Executor): Promise<WriteResult & { ids: string[] }> => {
    const ids = await writeCreates(tx, kind, rows, actor.name, ctx.closureDays, now, opts.auditAfter);
    return { id: ids[0] as string, ids, created: true, replayed: false };
  };
  if (mode === 'all') {
    const res = await idempotent(ctx, actor, opts, idemBody, write(accepted));
    if (res.replayed) return replayedOutcomes(res);
    accepted.forEach((p, i) => (outcomes[p.index] = { status: 'created', id: (res as { ids: string[] }).ids[i] as string }));
    return outcomes as CreateOutcome[];
  }
  try {
    const { ids } = await ctx.db.transaction(write(accepted));
    accepted.forEach((p, i) => (outcomes[p.index] = { status: 'created', id: ids[i] as string }));
  } catch (err) {
    if (isSystemError(err)) throw err;
    // The database refused the batch as a whole (a journal number stored meanwhile by someone
    // else): each row on its own, so only the offending one is refused.
    for (const p of accepted) {
      try {
        const { ids } = await ctx.db.transaction(write([p]));
        outcomes[p.index] = { status: 'created', id: ids[0] as string };
      } catch (rowErr) {
        if (isSystemError(rowErr)) throw rowErr;
        outcomes[p.index] = { status: 'rejected', code: 'CONFLICT', issues: [rowIssueFromDb(rowErr)] };
      }
    }
  }
  return outcomes as CreateOutcome[];
}

function replayedOutcomes(res: WriteResult): CreateOutcome[] {
  return (res.ids ?? [res.id]).map((id) => ({ status: 'created', id, replayed: true }));
}

export async function createRecord(ctx: ServiceContext, type: RecordTypeName, body: unknown, actor: Actor, opts: WriteOptions = {}): Promise<WriteResult> {
  const [outcome] = await createRecords(ctx, type, [body], actor, opts);
  if (outcome?.status !== 'created' || outcome.id === null) throw new Error('createRecords: a batch of one gave no record');
  return { id: outcome.id, created: true, replayed: outcome.replayed === true };
}

/** Bodies whose journal number is stored already get their outcome here; the others are returned. */
async function settleExisting(db: Executor, kind: KindDescriptor, rows: PreparedCreate[], compare: boolean, outcomes: Array<CreateOutcome | undefined>): Promise<PreparedCreate[]> {
  const existing = (await db.select({ id: kind.table.id, journalNumber: kind.table.journalNumber }).from(kind.table).where(inArray(kind.table.journalNumber, rows.map((r) => r.journalNumber)))) as Array<{ id: string; journalNumber: string }>;
  if (existing.length === 0) return rows;
  const idOf = new Map(existing.map((e) => [e.journalNumber, e.id]));
  const stored = compare ? new Map((await kind.load(db, existing.map((e) => e.id))).map((r) => [(r as { journalNumber: string }).journalNumber, r])) : new Map<string, AnyRow>();
  return rows.filter((r) => {
    const id = idOf.get(r.journalNumber);
    if (id === undefined) return true;
    const s = stored.get(r.journalNumber);
    if (!s) outcomes[r.index] = { status: 'present', id };
    else {
      const fields = differingFields(kind, r, s);
      outcomes[r.index] = fields.length === 0 ? { status: 'unchanged', id } : { status: 'conflict', id, fields };
    }
    return false;
  });
}

/** Columns an insert leaves to the database: the key, and what the change-feed trigger stamps. */
// created_at is written from the service's clock: it is the record's arrival, which the planner
// judges the backlog by (README "Go-live"), and must agree with every other instant of the write.
const DB_MANAGED = new Set(['id', 'updatedAt', 'changeSeq', 'version']);

/**
 * Writes accepted creates inside the caller's transaction: the records (one INSERT), their child
 * rows (one INSERT per child table), their deadlines (storeDeadlines, as every write and the
 * planner store them) and one batched audit append.
 * Returns the new ids in the order of `rows`.
 */
async function writeCreates(tx: Executor, kind: KindDescriptor, rows: readonly PreparedCreate[], actorName: string, closureDays: readonly string[], now: Date, auditAfter?: Promise<unknown>): Promise<string[]> {
  const insertable = Object.keys(getTableColumns(kind.table as PgTable)).filter((c) => !DB_MANAGED.has(c));
  const values = rows.map((r) => {
    const v: Record<string, unknown> = {};
    for (const c of insertable) v[c] = r.record[c] ?? null;
    return v;
  });
  const inserted = await insertJson(tx, kind.table as PgTable, values, { returning: ['id', 'journalNumber'] });
  const idOf = new Map(inserted.map((r) => [r['journalNumber'] as string, r['id'] as string]));
  const ids = rows.map((r) => idOf.get(r.journalNumber) as string);
  const children = createChildRows(rows.map((r, i) => ({ parentId: ids[i] as string, ops: r.children })));
  for (const [table, list] of children) await insertJson(tx, table, list);
  const loaded = new Map((await kind.load(tx, ids)).map((r) => [r.id, r]));
  const rules = await loadRulesInForce(tx, closureDays);
  const computed: DeadlinesOf[] = [];
  const audit: AuditEntry[] = [];
  const personal = personalFields(kind.type);
  rows.forEach((r, i) => {
    const row = loaded.get(ids[i] as string) as AnyRow;
    computed.push({ kind, row, areaId: r.areaId, set: computeForRecord(kind, row, r.areaId, rules, now) });
    audit.push({ actor: actorName, action: `${kind.type}.create`, entityType: kind.type, entityId: row.id, before: null, after: auditView(kind, row), personal });
  });
  await storeDeadlines(tx, computed, rules, now);
  await auditAfter;
  await appendAuditEntries(tx, audit, now);
  return ids;
}

/** Connection trouble and the like: not a body's fault (a batch in `each` mode stops). */
function isSystemError(err: unknown): boolean {
  const { code } = pgErrorInfo(err);
  // Class 42 (a query the server cannot even plan) is a bug here, never the row's fault.
  return code === undefined || /^(08|42|53|54|57|58|XX)/.test(code);
}

function rowIssueFromDb(err: unknown): FieldIssue {
  const { code, constraint } = pgErrorInfo(err);
  if (code === '23505' && constraint?.includes('journal')) return { path: 'journalNumber', message: 'already exists (stored by someone else meanwhile)' };
  if (code === '23503') {
    const field = constraint?.includes('owner') ? 'ownerId' : constraint?.includes('institution') ? 'institutionId' : (constraint ?? '');
    return { path: field, message: 'refers to something that does not exist' };
  }
  return { path: constraint ?? '', message: `refused by the database (SQLSTATE ${code ?? '?'})` };
}

// ------------------------------------------------------------------------------------ comparison

function sameValue(a: unknown, b: unknown): boolean {
  if (a instanceof Date || b instanceof Date) return a instanceof Date && b instanceof Date && a.getTime() === b.getTime();
  return (a ?? null) === (b ?? null);
}

const ms = (d: Date | null | undefined): number | null => (d ? d.getTime() : null);

/** The fields a body gives whose values differ from the stored record (fields it leaves out are not compared). */
function differingFields(kind: KindDescriptor, p: PreparedCreate, stored: AnyRow): string[] {
  const s = stored as unknown as Record<string, unknown>;
  const out: string[] = [];
  // With a notice history given, the single delay fields are one of its notices: the history is compared instead.
  // registeredAt left out of the body is "now": not a difference from the stored record.
  const skip = new Set([...(p.input['registeredAt'] === undefined ? ['registeredAt'] : []), ...(p.input['delayNotices'] !== undefined ? ['delayNotifiedAt', 'finalReportExpectedAt', 'delayReason'] : [])]);
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

function differingIncidentHistory(p: PreparedCreate, stored: IncidentFull): string[] {
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

/** What a change computes from the stored record: its column values, child-row operations and the version it expects. */
interface Computed {
  columns: Record<string, unknown>;
  children: ChildOp[];
  expectedVersion?: number | undefined;
  /** The audit action, when only the stored record tells it (a correction names the event it corrects). */
  action?: string;
}

/** One write to a stored record (a patch, an event, a correction or undo of an event), checked by `prepareChange`. */
interface ChangeSpec {
  kind: KindDescriptor;
  id: string;
  /** The request body: what an idempotency key must match, and the registration check reads. */
  body: unknown;
  action: string;
  compute: (row: AnyRow, now: Date) => Computed | Promise<Computed>;
  /** Keys added to the audit entry's `after` (a correction's reason and the entry it corrects), and which of them are personal. */
  auditExtra?: { after: Record<string, unknown>; personal: readonly string[] };
}

interface PreparedChange {
  now: Date;
  before: AnyRow;
  columns: Record<string, unknown>;
  children: ChildOp[];
  /** The record as it would be stored: what the engine validated and the preview computes. */
  provisional: AnyRow;
  areaId: string;
  action: string;
}

/** Every check of a change, in order, against the stored record; nothing is written. */
async function prepareChange(ctx: ServiceContext, actor: Actor, spec: ChangeSpec): Promise<PreparedChange> {
  const { kind, id, body } = spec;
  if (actor.role === 'reader') throw new ServiceError('FORBIDDEN', 'reader tokens may not write');
  const now = ctx.clock();
  const before = await loadOne(ctx.db, kind, id);
  await requireScope(ctx.db, actor, (before as { institutionId: string }).institutionId, 'write');
  const { columns, children, expectedVersion, action } = await spec.compute(before, now);
  if (expectedVersion !== undefined && expectedVersion !== (before as { version: number }).version) {
    throw new ServiceError('CONFLICT', `version: the record is at version ${(before as { version: number }).version}, not ${expectedVersion}`, { issues: [{ path: 'version', message: 'stale version' }] });
  }
  const provisional = withDerived(kind, columns, previewChildOps({ ...before, ...columns } as AnyRow, children));
  const registration = registrationIssues(kind.type, { ...(before as unknown as Record<string, unknown>), ...columns, ...(body !== null && typeof body === 'object' ? body : {}) }, now.getTime());
  if (registration.length > 0) throw validationError(registration);
  validateWithEngine(kind, provisional, now);
  // A transfer moves the plan to another area, which the sending side cannot otherwise write to:
  // writing the current institution is what authorises it; the target only has to exist.
  const newInstitution = columns['institutionId'] as string | undefined;
  const scope = newInstitution ? await institutionScope(ctx.db, newInstitution) : await institutionScope(ctx.db, (before as { institutionId: string }).institutionId);
  if (!scope) throw validationError([{ path: 'institutionId', message: `unknown institution "${newInstitution ?? ''}"` }]);
  const refused = newInstitution ? placementRefusedAt(kind.type, scope.kind) : undefined;
  if (refused) throw validationError([refused]);
  if (kind.type === 'action_plan') await requireOwnerInArea(ctx.db, columns['ownerId'], scope.areaId);
  return { now, before, columns, children, provisional, areaId: scope.areaId, action: action ?? spec.action };
}

async function change(ctx: ServiceContext, actor: Actor, opts: WriteOptions, spec: ChangeSpec): Promise<WriteResult> {
  if (actor.role === 'reader') throw new ServiceError('FORBIDDEN', 'reader tokens may not write');
  const replay = await replayFirst(ctx, actor, opts, spec.body);
  if (replay) return replay;
  const { kind, id } = spec;
  const { now, before, columns, children, areaId, action } = await prepareChange(ctx, actor, spec);

  return idempotent(ctx, actor, opts, spec.body, async (tx) => {
    // Optimistic lock: the row must still be the version we validated against.
    const version = (before as { version: number }).version;
    const updated = await tx.update(kind.table).set(Object.keys(columns).length > 0 ? columns : { updatedAt: now }).where(and(eq(kind.table.id, id), eq(kind.table.version, version))).returning({ id: kind.table.id });
    if (updated.length === 0) throw new ServiceError('CONFLICT', 'the record changed meanwhile; reload and try again');
    if (children.length > 0) await applyChildOps(tx, id, children);
    const after = await loadOne(tx, kind, id);
    await materialiseDeadlines(tx, { closureDays: ctx.closureDays, now }, kind, after, areaId);
    const extra = spec.auditExtra;
    await appendAudit(tx, { actor: actor.name, action, entityType: kind.type, entityId: id, before: auditView(kind, before), after: assignAll(auditView(kind, after), extra?.after), personal: [...personalFields(kind.type), ...(extra?.personal ?? [])] }, now);
    return { id, created: false, replayed: false };
  });
}

/**
 * The deadlines (and findings) a change would give the record, from the engine on the record as
 * it would be stored, after every check the write itself makes; nothing is written.
 */
async function previewChange(ctx: ServiceContext, actor: Actor, spec: ChangeSpec, lang: Lang): Promise<DeadlineSet> {
  const p = await prepareChange(ctx, actor, spec);
  const rules = await loadRulesInForce(ctx.db, ctx.closureDays);
  return maskTexts(computeForRecord(spec.kind, p.provisional, p.areaId, rules, p.now, lang), mayseeCpr(actor));
}

function updateSpec(type: RecordTypeName, id: string, body: unknown): ChangeSpec {
  const kind = KINDS[type];
  const input = parseBody(kind.patch, body);
  const { version, ...rest } = input as { version?: number } & Record<string, unknown>;
  return {
    kind, id, body, action: `${type}.update`,
    compute: (row) => {
      const columns = kind.columns(rest);
      const effect = kind.patchEffect?.(row, rest, columns) ?? { columns };
      if (effect.refuse) throw validationError([{ path: effect.refuse.path.join('.'), message: effect.refuse.message }]);
      return { columns: effect.columns, children: effect.children ?? [], expectedVersion: version };
    },
  };
}

/**
 * An event records a step that was done: one dated later than now is refused (a typo would leave
 * the deadline quietly open), by the same rule for the API and the UI's forms.
 */
function parseEvent(ctx: ServiceContext, kind: KindDescriptor, body: unknown, prefix: string[] = []): { type: string } & Record<string, unknown> {
  const r = kind.event.safeParse(body ?? {});
  if (!r.success) throw validationError(zodIssues(r.error, prefix));
  const event = r.data;
  const at = typeof event['at'] === 'string' ? parseWhen(event['at']) : undefined;
  if (at && isInFuture(at, ctx.clock().getTime())) throw validationError([{ path: formatPath([...prefix, 'at']), message: 'is in the future' }]);
  return event;
}

function applyEffect(kind: KindDescriptor, row: AnyRow, event: { type: string } & Record<string, unknown>, now: Date, prefix: string[] = []): Computed {
  const effect = kind.applyEvent(row, event, now);
  if (effect.refuse) throw validationError([{ path: formatPath([...prefix, ...effect.refuse.path]), message: effect.refuse.message }]);
  return { columns: effect.columns, children: effect.children ?? [] };
}

function eventSpec(ctx: ServiceContext, type: RecordTypeName, id: string, body: unknown): ChangeSpec {
  const kind = KINDS[type];
  const event = parseEvent(ctx, kind, body);
  return { kind, id, body, action: `${type}.event.${event.type}`, compute: (row, now) => applyEffect(kind, row, event, now) };
}

/** Undoing a recorded event (`{ reason }`) or correcting it (`{ reason, event }`): corrections.ts works out what to revert. */
function correctionSpec(ctx: ServiceContext, type: RecordTypeName, id: string, eventId: string, body: unknown, mode: 'undo' | 'correct'): ChangeSpec {
  const kind = KINDS[type];
  const input = parseBody(mode === 'undo' ? undoBody : correctBody, body) as { reason: string; event?: unknown };
  const event = mode === 'correct' ? parseEvent(ctx, kind, input.event, ['event']) : undefined;
  const rootId = parseEventId(eventId);
  return {
    kind, id, body, action: `${type}.event.${mode}`,
    compute: async (row, now) => {
      const chain = await loadEventChain(ctx.db, kind, id, rootId);
      if (event && event.type !== chain.type) throw validationError([{ path: 'event.type', message: `a correction keeps the event's type (${chain.type}); undo it and record the right one` }]);
      const revert = revertEvent(kind, row, chain, auditView(kind, row));
      const action = `${type}.event.${chain.type}.${mode}`;
      if (!event && Object.keys(revert.columns).length === 0 && revert.children.length === 0) {
        throw new ServiceError('CONFLICT', `event ${rootId}: the audit log shows no change by this event that could be put back`, { issues: [{ path: 'eventId', message: 'the event changed nothing that can be put back' }] });
      }
      if (!event) return { ...revert, action };
      const reverted = previewChildOps({ ...row, ...revert.columns } as AnyRow, revert.children);
      const applied = applyEffect(kind, reverted, event, now, ['event']);
      return { columns: { ...revert.columns, ...applied.columns }, children: [...revert.children, ...applied.children], action };
    },
    auditExtra: { after: { correctionOf: rootId, correctionReason: input.reason }, personal: ['correctionReason'] },
  };
}

export function updateRecord(ctx: ServiceContext, type: RecordTypeName, id: string, body: unknown, actor: Actor, opts: WriteOptions = {}): Promise<WriteResult> {
  return change(ctx, actor, opts, updateSpec(type, id, body));
}

export function recordEvent(ctx: ServiceContext, type: RecordTypeName, id: string, body: unknown, actor: Actor, opts: WriteOptions = {}): Promise<WriteResult> {
  return change(ctx, actor, opts, eventSpec(ctx, type, id, body));
}

/**
 * Undoes a recorded event (`eventId`: the audit entry that recorded it, as listEvents gives it):
 * what it changed goes back to what it was, with a reason; audited (before/after, the reason, the
 * entry undone) and the deadlines re-planned in the same transaction, as every write.
 */
export function undoEvent(ctx: ServiceContext, type: RecordTypeName, id: string, eventId: string, body: unknown, actor: Actor, opts: WriteOptions = {}): Promise<WriteResult> {
  return change(ctx, actor, opts, correctionSpec(ctx, type, id, eventId, body, 'undo'));
}

/** Corrects a recorded event: undone and recorded again as `event` (same type) in one write, with a reason. */
export function correctEvent(ctx: ServiceContext, type: RecordTypeName, id: string, eventId: string, body: unknown, actor: Actor, opts: WriteOptions = {}): Promise<WriteResult> {
  return change(ctx, actor, opts, correctionSpec(ctx, type, id, eventId, body, 'correct'));
}

/** The deadlines a patch would give the record; nothing is written. */
export function previewUpdate(ctx: ServiceContext, type: RecordTypeName, id: string, body: unknown, actor: Actor, lang: Lang = 'da'): Promise<DeadlineSet> {
  return previewChange(ctx, actor, updateSpec(type, id, body), lang);
}

/** The deadlines an event would give the record; nothing is written. */
export function previewEvent(ctx: ServiceContext, type: RecordTypeName, id: string, body: unknown, actor: Actor, lang: Lang = 'da'): Promise<DeadlineSet> {
  return previewChange(ctx, actor, eventSpec(ctx, type, id, body), lang);
}

/** The deadlines an undo (`mode` undo) or a correction would give the record; nothing is written. */
export function previewCorrection(ctx: ServiceContext, type: RecordTypeName, id: string, eventId: string, body: unknown, actor: Actor, mode: 'undo' | 'correct', lang: Lang = 'da'): Promise<DeadlineSet> {
  return previewChange(ctx, actor, correctionSpec(ctx, type, id, eventId, body, mode), lang);
}

/**
 * The deadlines a new record would get: every check createRecord makes (schema, engine,
 * institution and scope, owner), then the engine on the record as it would be stored; nothing is
 * written.
 */
export async function previewCreate(ctx: ServiceContext, type: RecordTypeName, body: unknown, actor: Actor, lang: Lang = 'da'): Promise<DeadlineSet> {
  const kind = KINDS[type];
  if (actor.role === 'reader') throw new ServiceError('FORBIDDEN', 'reader tokens may not write');
  const now = ctx.clock();
  const parsed = kind.create.safeParse(body ?? {});
  if (!parsed.success) throw refusalError({ code: 'VALIDATION', issues: zodIssues(parsed.error) }, '');
  const src = parsed.data;
  const insts = new Set<string>([src['institutionId'] as string, ...((src['transfers'] as Array<{ toInstitutionId: string }> | undefined) ?? []).map((t) => t.toInstitutionId)]);
  const lookup = await loadLookup(ctx.db, insts, new Set(typeof src['ownerId'] === 'string' ? [src['ownerId']] : []));
  const r = prepareCreate(kind, body, parsed, lookup, actor, now, false);
  if ('code' in r) throw refusalError(r, '');
  const rules = await loadRulesInForce(ctx.db, ctx.closureDays);
  return maskTexts(computeForRecord(kind, previewChildOps(r.record as unknown as AnyRow, r.children), r.areaId, rules, now, lang), mayseeCpr(actor));
}

export interface RecordView extends Record<string, unknown> {
  deadlines: Deadline[];
}

export async function getRecord(ctx: ServiceContext, type: RecordTypeName, id: string, actor: Actor, lang: Lang = 'da'): Promise<RecordView> {
  const kind = KINDS[type];
  const row = await loadOne(ctx.db, kind, id);
  const scope = await requireScope(ctx.db, actor, (row as { institutionId: string }).institutionId, 'read');
  const rules = await loadRulesInForce(ctx.db, ctx.closureDays);
  const set = computeForRecord(kind, row, scope.areaId, rules, ctx.clock(), lang);
  const showCpr = mayseeCpr(actor);
  return {
    ...kind.toApi(row, { showCpr }),
    areaId: scope.areaId,
    // Beside the deadlines: rules not yet in force for the record, data or notes missing.
    ...maskTexts(set, showCpr),
  };
}

/** Explanations and messages quote the record's free text (a postponement's reason): masked like the text itself. */
function maskTexts(set: DeadlineSet, showCpr: boolean): DeadlineSet {
  if (showCpr) return set;
  const mask = <T extends object>(x: T): T => {
    const out: Record<string, unknown> = { ...(x as Record<string, unknown>) };
    for (const k of ['explanation', 'suspendedReason', 'message']) if (typeof out[k] === 'string') out[k] = scrubCpr(out[k]);
    return out as T;
  };
  return { deadlines: set.deadlines.map(mask), immediate: set.immediate.map(mask), notInForce: set.notInForce.map(mask), incomplete: set.incomplete.map(mask), warnings: set.warnings.map(mask) };
}

/** A recorded event with its corrections, as the API and the UI list them. */
export interface EventView {
  /** The audit entry that recorded it: the id to undo or correct it by. */
  id: number;
  type: string;
  status: 'recorded' | 'corrected' | 'undone';
  /** When the step was done, as it stands (the instant it set, or its history row's time). */
  at: string | null;
  recordedAt: string;
  recordedBy: string;
  /** The record's fields it changed (before the event → after its latest version). */
  changes: Array<{ field: string; before: unknown; after: unknown }>;
  /** History rows it added (a delay notice, a transfer, …). */
  added: Array<{ list: string; item: Record<string, unknown> }>;
  /** The event's own fields as recorded (latest version), for a correction to start from. */
  values: Record<string, unknown>;
  /** The registration, then every correction and undo, each with its reason. */
  history: Array<{ id: number; mode: 'record' | 'correct' | 'undo'; at: string; actor: string; reason: string | null }>;
  /** Whether it may still be undone or corrected; `locked` says why not when it is not undone. */
  changeable: boolean;
  locked?: 'notice_sent';
}

/** Strings with CPR-shaped numbers masked, deep (the roles that may not see CPR). */
function scrubDeep<T>(v: T): T {
  if (typeof v === 'string') return scrubCpr(v) as T;
  if (Array.isArray(v)) return v.map(scrubDeep) as T;
  if (v !== null && typeof v === 'object' && !(v instanceof Date)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, scrubDeep(x)])) as T;
  return v;
}

/** The recorded events of a record, oldest first (`GET …/:id/events`); read scope as the record itself. */
export async function listEvents(ctx: ServiceContext, type: RecordTypeName, id: string, actor: Actor): Promise<EventView[]> {
  const kind = KINDS[type];
  const row = await loadOne(ctx.db, kind, id);
  await requireScope(ctx.db, actor, (row as { institutionId: string }).institutionId, 'read');
  const chains = await loadEventChains(ctx.db, kind, id);
  const out: EventView[] = [];
  for (const c of chains) {
    const { fields, added } = eventChanges(kind, row, c);
    const values = recordedValues(kind, row, c);
    const locked = await lockedBy(ctx.db, kind, id, c);
    const root = c.entries[0] as (typeof c.entries)[number];
    const view: EventView = {
      id: c.id, type: c.type, status: c.status, at: typeof values['at'] === 'string' ? values['at'] : null,
      recordedAt: iso(root.at) as string, recordedBy: root.actor,
      changes: fields.map((f) => ({ field: f.field, before: shownValue(f.before), after: shownValue(f.after) })), added, values,
      history: c.entries.map((e) => ({ id: e.auditId, mode: e.mode, at: iso(e.at) as string, actor: e.actor, reason: e.reason })),
      changeable: c.status !== 'undone' && !locked && actor.role !== 'reader',
      ...(locked ? { locked } : {}),
    };
    out.push(mayseeCpr(actor) ? view : scrubDeep(view));
  }
  return out;
}

export interface ListOptions {
  limit: number;
  offset: number;
  institutionId?: string | undefined;
  areaId?: string | undefined;
}

export async function listRecords(ctx: ServiceContext, type: RecordTypeName, actor: Actor, opts: ListOptions): Promise<{ items: Record<string, unknown>[]; total: number; limit: number; offset: number }> {
  const kind = KINDS[type];
  const where: SQL[] = [];
  const institutionIds = await scopedInstitutions(ctx.db, actor, opts);
  if (institutionIds) where.push(institutionIds.length > 0 ? inArray(kind.table.institutionId, institutionIds) : sql`false`);
  const cond = where.length > 0 ? and(...where) : undefined;
  const [countRow] = await ctx.db.select({ n: sql<number>`count(*)::int` }).from(kind.table).where(cond);
  const idRows = (await ctx.db.select({ id: kind.table.id }).from(kind.table).where(cond).orderBy(sql`${kind.table.createdAt} desc, ${kind.table.id}`).limit(opts.limit).offset(opts.offset)) as Array<{ id: string }>;
  const rows = await kind.load(ctx.db, idRows.map((r) => r.id));
  const byId = new Map(rows.map((r) => [r.id, r]));
  const showCpr = mayseeCpr(actor);
  return { items: idRows.map((r) => kind.toApi(byId.get(r.id) as AnyRow, { showCpr })), total: countRow?.n ?? 0, limit: opts.limit, offset: opts.offset };
}

/** The institutions an actor may read, narrowed by filters; undefined means "all". */
export async function scopedInstitutions(db: Executor, actor: Actor, filter: { institutionId?: string | undefined; areaId?: string | undefined }): Promise<string[] | undefined> {
  const conds: SQL[] = [];
  if (actor.role === 'area') conds.push(eq(institutions.areaId, actor.areaId ?? ''));
  if (actor.role === 'institution') conds.push(eq(institutions.id, actor.institutionId ?? ''));
  if (filter.areaId) conds.push(eq(institutions.areaId, filter.areaId));
  if (filter.institutionId) conds.push(eq(institutions.id, filter.institutionId));
  if (conds.length === 0) return undefined;
  const rows = await db.select({ id: institutions.id }).from(institutions).where(and(...conds));
  return rows.map((r) => r.id);
}
