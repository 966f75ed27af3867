/**
 * The four record types as data: their API schemas (create, patch, completion events), how a
 * request becomes column values, and how a stored record becomes the engine's input and the API's
 * output. The service (service.ts) runs the same flow for all four.
 */
import { and, asc, eq, inArray } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
import { z } from 'zod';
import { CLIENT_CATEGORIES, CPR_MASK, formatCpr, formatIsoDate, INCIDENT_KINDS, incidentChapter, isInFuture, localDayOfInstant, parseWhen, scrubCpr, type IncidentKind, type RecordInput, type When } from '../domain/index.js';
import type { Executor } from '../db/client.js';
import { actionPlans, escalationComments, forceUses, incidentDelayNotices, incidentReclassifications, incidents, paroleDecisions, planEvaluations, planTransfers, securityCellPlacements } from '../db/schema.js';
import { selectRows } from '../db/bulk.js';
import { cprString, dateString, iso, journalNumber, personName, plainString, slug, toDateOnly, toTimestamp, toTimestampOrNull, whenString } from './values.js';

export type RecordTypeName = 'incident' | 'security_cell_placement' | 'force_use' | 'action_plan';

type IncidentRow = typeof incidents.$inferSelect;
type DelayNoticeRow = typeof incidentDelayNotices.$inferSelect;
type ReclassificationRow = typeof incidentReclassifications.$inferSelect;
export interface IncidentFull extends IncidentRow {
  delayNotices: DelayNoticeRow[];
  reclassifications: ReclassificationRow[];
}
type CellRow = typeof securityCellPlacements.$inferSelect;
type ForceRow = typeof forceUses.$inferSelect;
type PlanRow = typeof actionPlans.$inferSelect;
export interface PlanFull extends PlanRow {
  evaluations: Array<typeof planEvaluations.$inferSelect>;
  transfers: Array<typeof planTransfers.$inferSelect>;
  paroleDecisions: Array<typeof paroleDecisions.$inferSelect>;
}
export type AnyRow = IncidentFull | CellRow | ForceRow | PlanFull;

/** Child-table changes an event asks for (plans' history, incidents' delay notices and reclassifications). */
export type ChildOp =
  | { table: 'delay-notices'; notifiedAt: Date; expectedDate: string; reason: string | null }
  | { table: 'delay-notices-update'; id: string; notifiedAt: Date; expectedDate: string; reason: string | null }
  | { table: 'delay-notices-delete'; id: string }
  | { table: 'reclassifications'; at: Date; fromKind: IncidentKind; toKind: IncidentKind; reason: string }
  | { table: 'evaluations'; evaluatedAt: Date }
  | { table: 'transfers'; transferredAt: Date; toInstitutionId: string }
  | { table: 'transfers-update'; id: string; planUpdatedAt: Date }
  | { table: 'parole'; decidedAt: Date; outcome: 'granted' | 'refused' }
  | { table: 'parole-update'; id: string; planUpdatedAt: Date }
  /** Undoing or correcting an event (corrections.ts): the history row it added goes again. */
  | { table: 'history-delete'; list: HistoryList; id: string }
  /** Undoing or correcting a plan update after a transfer or parole decision: the time it had before. */
  | { table: 'history-plan-updated'; list: 'transfers' | 'paroleDecisions'; id: string; planUpdatedAt: Date | null };

/** The history lists of a record (child tables), by their name in the API view. */
export type HistoryList = 'delayNotices' | 'reclassifications' | 'evaluations' | 'transfers' | 'paroleDecisions';
export const HISTORY_LISTS: readonly HistoryList[] = ['delayNotices', 'reclassifications', 'evaluations', 'transfers', 'paroleDecisions'];

export interface EventEffect {
  columns: Record<string, unknown>;
  children?: ChildOp[];
  /** An event that cannot apply to this record's state (e.g. the conversation held before the placement ended). */
  refuse?: { path: string[]; message: string };
}

export interface ApiViewOptions {
  /** The caller's role may see CPR numbers (mayseeCpr): the cpr field, and free text as written. */
  showCpr: boolean;
  /**
   * Free text as written even without showCpr: only for the audit log, which keeps those values
   * apart (audit_personal) until retention erases them, and whose readers mask them when shown.
   */
  verbatimText?: boolean;
}

export interface KindDescriptor {
  type: RecordTypeName;
  collection: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the service treats the four tables alike.
  table: any;
  /**
   * The type's field table with the common fields first (institution, journal number, person):
   * what the create schema takes besides the history lists, in the order forms show it.
   */
  fields: Readonly<Record<string, z.ZodType>>;
  create: z.ZodType<Record<string, unknown>>;
  patch: z.ZodType<Record<string, unknown>>;
  event: z.ZodType<{ type: string } & Record<string, unknown>>;
  /** Column values from a validated create or patch body (only the keys present). */
  columns(body: Record<string, unknown>): Record<string, unknown>;
  /** What the database fills in for a new row (besides the common stamps): for validation before the insert. */
  defaults(now: Date): Record<string, unknown>;
  /** Child rows given at creation (records imported with their history). */
  createChildren?(body: Record<string, unknown>): ChildOp[];
  /** A patch that needs the stored record: fields kept as child rows, fields that go together. Default: `columns`. */
  patchEffect?(row: AnyRow, body: Record<string, unknown>, columns: Record<string, unknown>): EventEffect;
  /** Columns that repeat the child rows (an incident's latest delay notice), from the record as it will be. */
  derivedColumns?(row: AnyRow): Record<string, unknown>;
  applyEvent(row: AnyRow, event: { type: string } & Record<string, unknown>, now: Date): EventEffect;
  load(db: Executor, ids: string[]): Promise<AnyRow[]>;
  toEngine(row: AnyRow): RecordInput;
  /** The API representation; CPR numbers (the field and inside free text) only when the caller's role may see them. */
  toApi(row: AnyRow, opts: ApiViewOptions): Record<string, unknown>;
  /** API field name → engine field name, to name API fields in engine validation errors. */
  engineFieldToApi?: Record<string, string>;
}

const at = whenString.optional();
const common = {
  institutionId: slug,
  journalNumber,
  inmateName: personName.nullish(),
  cpr: cprString.nullish(),
};
const commonPatch = {
  journalNumber: journalNumber.optional(),
  inmateName: personName.nullish(),
  cpr: cprString.nullish(),
  version: z.number().int().min(1).optional(),
};

/** Maps present keys through a converter table; absent keys stay absent (PATCH semantics). */
type ColMap = Record<string, readonly [string, (v: never) => unknown]>;
function pick(body: Record<string, unknown>, conv: ColMap): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, [column, fn]] of Object.entries(conv)) {
    if (key in body && body[key] !== undefined) out[column] = fn(body[key] as never);
  }
  return out;
}
const same = <T>(v: T): T => v;
const tsOrNull = (v: string | null): Date | null => toTimestampOrNull(v);
const ts = (v: string): Date => toTimestamp(v);
const dayOrNull = (v: string | null): string | null => toDateOnly(v);
const commonColumns: ColMap = { institutionId: ['institutionId', same], journalNumber: ['journalNumber', same], inmateName: ['inmateName', same], cpr: ['cpr', same] };

/*
 * One field table per record type (`incidentFields`, `cellFields`, `forceFields`, `planFields`):
 * each stored field once, as its API schema. The rest is derived from it: the create and patch
 * schemas, the column (the field's own name unless renamed), how a request value becomes a column
 * value (instants → Date, dates → YYYY-MM-DD, the rest as is), the value of a new row that leaves
 * it out (null when the schema takes null, false for an optional boolean) and the importer's CSV
 * cells (import.ts reads the create schema). A new field: its line in the table, its column in
 * schema.ts (with a migration), and toApi/toEngine and the domain's parser where the API or the
 * engine use it.
 */
type FieldTable = Record<string, z.ZodType>;

/** The schema under optional and nullable: the value's own schema (identity: whenString, dateString). */
function valueSchema(schema: z.ZodType): z.ZodType {
  let s = schema;
  for (;;) {
    const def = s._zod.def as { type: string; innerType?: z.ZodType };
    if ((def.type !== 'optional' && def.type !== 'nullable') || !def.innerType) return s;
    s = def.innerType;
  }
}

function converterOf(schema: z.ZodType): (v: never) => unknown {
  const inner = valueSchema(schema);
  if (inner === whenString) return schema.safeParse(null).success ? tsOrNull : ts;
  if (inner === dateString) return dayOrNull;
  return same;
}

/** Request field → [column, converter], the common fields included. */
function fieldColumns(fields: FieldTable, renamed: Record<string, string> = {}): ColMap {
  const out: Record<string, readonly [string, (v: never) => unknown]> = { ...commonColumns };
  for (const [field, schema] of Object.entries(fields)) out[field] = [renamed[field] ?? field, converterOf(schema)];
  return out;
}

/**
 * When the record was registered at its source (every record type; default: when it is created
 * here). Its arrival in fristvagt is its creation: what was breached or old by then is backlog.
 */
const registration = { registeredAt: whenString.optional() };
/** Fields a new row that leaves them out gets the creation instant for (`defaults(now)`). */
const NOW_DEFAULTS = new Set(Object.keys(registration));

/** Column values of a new row for the fields a request may leave out (the creation-instant ones are added by `defaults(now)`). */
function fieldDefaults(fields: FieldTable, renamed: Record<string, string> = {}): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [field, schema] of Object.entries(fields)) {
    if (!schema.safeParse(undefined).success || NOW_DEFAULTS.has(field)) continue;
    const column = renamed[field] ?? field;
    if (schema.safeParse(null).success) out[column] = null;
    else if (valueSchema(schema)._zod.def.type === 'boolean') out[column] = false;
    else throw new Error(`kinds: optional field ${field} needs a default (make it nullish, or a boolean)`);
  }
  return out;
}

/** The patch schema's fields: every field of the table optional. */
function patchFields(fields: FieldTable): Record<string, z.ZodType> {
  return Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, v.optional()]));
}

/** How a form shows a field: derived from its schema, as the column and the converter are. */
export type FieldInput = 'instant' | 'date' | 'boolean' | 'choice' | 'text' | 'longtext' | 'institution' | 'staff' | 'cpr' | 'id';

export interface FieldSpec {
  name: string;
  input: FieldInput;
  /** A request must give it (the schema refuses undefined). */
  required: boolean;
  /** null is a value of its own (a nullish boolean: yes, no or not stated). */
  nullable: boolean;
  options?: readonly string[];
  max?: number;
}

/** Free text up to this length is one line; longer text gets a text area. */
const ONE_LINE_MAX = 200;

export function describeField(name: string, schema: z.ZodType): FieldSpec {
  const inner = valueSchema(schema);
  const required = !schema.safeParse(undefined).success;
  const nullable = schema.safeParse(null).success;
  const base = { name, required, nullable };
  if (inner === whenString) return { ...base, input: 'instant' };
  if (inner === dateString) return { ...base, input: 'date' };
  if (inner === slug) return { ...base, input: 'institution' };
  if (inner === cprString) return { ...base, input: 'cpr' };
  const def = inner._zod.def as { type: string; entries?: Record<string, string> };
  if (def.type === 'boolean') return { ...base, input: 'boolean' };
  if (def.type === 'enum' && def.entries) return { ...base, input: 'choice', options: Object.values(def.entries) };
  if ((inner as { format?: unknown }).format === 'uuid') return { ...base, input: name === 'ownerId' ? 'staff' : 'id' };
  const max = (inner as { maxLength?: unknown }).maxLength;
  if (typeof max === 'number') return { ...base, input: max > ONE_LINE_MAX ? 'longtext' : 'text', max };
  return { ...base, input: 'text' };
}

/** The fields of one event type, from the kind's event schema (its `type` left out). */
export function eventFields(kind: KindDescriptor, eventType: string): FieldSpec[] | undefined {
  const option = eventOptions(kind).find(([t]) => t === eventType);
  return option ? Object.entries(option[1]).filter(([k]) => k !== 'type').map(([k, v]) => describeField(k, v)) : undefined;
}

/** The event types of a kind, in the order its schema lists them, with each one's fields. */
export function eventOptions(kind: KindDescriptor): Array<[string, Record<string, z.ZodType>]> {
  const options = (kind.event._zod.def as unknown as { options: Array<{ shape: Record<string, z.ZodType> }> }).options;
  return options.map((o) => {
    const literal = o.shape['type']?._zod.def as { values?: string[] } | undefined;
    return [literal?.values?.[0] ?? '', o.shape];
  });
}

function person(row: { inmateName: string | null; cpr: string | null }, showCpr: boolean): Record<string, unknown> {
  return { inmateName: row.inmateName, cpr: row.cpr ? (showCpr ? formatCpr(row.cpr) : CPR_MASK) : null };
}
/** Free text (description, reasons) may quote a CPR number; roles that may not see CPR get it masked. */
function freeText(v: string | null, opts: ApiViewOptions): string | null {
  return v === null || opts.showCpr || opts.verbatimText === true ? v : scrubCpr(v);
}
function meta(row: { id: string; institutionId: string; journalNumber: string; version: number; createdAt: Date; updatedAt: Date; closedAt: Date | null }): Record<string, unknown> {
  return { id: row.id, institutionId: row.institutionId, journalNumber: row.journalNumber, version: row.version, createdAt: iso(row.createdAt), updatedAt: iso(row.updatedAt), closedAt: iso(row.closedAt) };
}
function when(eventAt: unknown, now: Date): Date {
  return typeof eventAt === 'string' ? toTimestamp(eventAt) : now;
}

// ---------------------------------------------------------------- incidents
const delayNoticeInput = z.strictObject({ notifiedAt: whenString, expectedDate: dateString, reason: plainString().trim().min(1).max(2000).nullish() });
const reclassificationInput = z.strictObject({ at: whenString, fromKind: z.enum(INCIDENT_KINDS), toKind: z.enum(INCIDENT_KINDS), reason: plainString().trim().min(1).max(2000) });
const incidentFields = {
  kind: z.enum(INCIDENT_KINDS),
  description: plainString().max(10_000).nullish(),
  occurredAt: whenString,
  ...registration,
  mediaAttention: z.boolean().optional(),
  preliminaryNoticeSentAt: whenString.nullish(),
  finalReportSubmittedAt: whenString.nullish(),
  /** The latest delay notice (compatibility): on create one more notice, on a patch a correction of the latest. */
  delayNotifiedAt: whenString.nullish(),
  finalReportExpectedAt: dateString.nullish(),
  delayReason: plainString().max(2000).nullish(),
  inmateConversationHeldAt: whenString.nullish(),
  closingLetterSentAt: whenString.nullish(),
  closingLetterCopySentAt: whenString.nullish(),
  closedNotReportableAt: whenString.nullish(),
  closedAt: whenString.nullish(),
};
const incidentColumns = fieldColumns(incidentFields);
const incidentDefaults = fieldDefaults(incidentFields);
const DELAY_FIELDS = ['delayNotifiedAt', 'finalReportExpectedAt', 'delayReason'] as const;
const DELAY_PAIR = 'a delay notice has both delayNotifiedAt and finalReportExpectedAt (§ 7 stk. 2: the expected date is told with the notice)';

/** The reasons of child rows for the audit view; null (nothing to keep apart) when there are none. */
function reasons(rows: ReadonlyArray<{ reason: string | null }>): Array<string | null> | null {
  return rows.length > 0 ? rows.map((x) => x.reason) : null;
}

/** The latest notice (by the time it was given), which the incident's delay_* columns repeat. */
function latestNotice<T extends { notifiedAt: Date }>(notices: readonly T[]): T | undefined {
  let latest: T | undefined;
  for (const n of notices) if (!latest || n.notifiedAt.getTime() >= latest.notifiedAt.getTime()) latest = n;
  return latest;
}

const incidentKind: KindDescriptor = {
  type: 'incident',
  collection: 'incidents',
  fields: { ...common, ...incidentFields },
  table: incidents,
  create: z.strictObject({
    ...common,
    ...incidentFields,
    delayNotices: z.array(delayNoticeInput).max(50).optional(),
    reclassifications: z.array(reclassificationInput).max(20).optional(),
  }).superRefine((b, ctx) => {
    if ((b.delayNotifiedAt ?? null) === null && (b.finalReportExpectedAt ?? null) !== null) ctx.addIssue({ code: 'custom', path: ['delayNotifiedAt'], message: DELAY_PAIR });
    if ((b.delayNotifiedAt ?? null) !== null && (b.finalReportExpectedAt ?? null) === null) ctx.addIssue({ code: 'custom', path: ['finalReportExpectedAt'], message: DELAY_PAIR });
  }),
  patch: z.strictObject({ ...commonPatch, ...patchFields(incidentFields) }),
  event: z.discriminatedUnion('type', [
    z.strictObject({ type: z.literal('preliminary_notice_sent'), at }),
    z.strictObject({ type: z.literal('final_report_submitted'), at }),
    z.strictObject({ type: z.literal('delay_notified'), at, expectedDate: dateString, reason: plainString().trim().min(1).max(2000) }),
    z.strictObject({ type: z.literal('inmate_conversation_held'), at }),
    z.strictObject({ type: z.literal('closing_letter_sent'), at }),
    z.strictObject({ type: z.literal('closing_letter_copy_sent'), at }),
    z.strictObject({ type: z.literal('media_attention'), value: z.boolean() }),
    z.strictObject({ type: z.literal('reclassified'), kind: z.enum(INCIDENT_KINDS), reason: plainString().trim().min(1).max(2000), at }),
    z.strictObject({ type: z.literal('closed_not_reportable'), at }),
    z.strictObject({ type: z.literal('closed'), at }),
  ]),
  columns: (body) => pick(body, incidentColumns),
  defaults: (now) => assignAll({ registeredAt: now }, incidentDefaults, { delayNotices: [], reclassifications: [] }),
  createChildren(body) {
    const ops: ChildOp[] = [];
    for (const n of (body['delayNotices'] as Array<z.output<typeof delayNoticeInput>> | undefined) ?? []) ops.push({ table: 'delay-notices', notifiedAt: toTimestamp(n.notifiedAt), expectedDate: toDateOnly(n.expectedDate) as string, reason: n.reason ?? null });
    // The single fields are one more notice, as the engine takes them.
    if (typeof body['delayNotifiedAt'] === 'string' && typeof body['finalReportExpectedAt'] === 'string') {
      ops.push({ table: 'delay-notices', notifiedAt: toTimestamp(body['delayNotifiedAt']), expectedDate: toDateOnly(body['finalReportExpectedAt']) as string, reason: (body['delayReason'] as string | null | undefined) ?? null });
    }
    for (const r of (body['reclassifications'] as Array<z.output<typeof reclassificationInput>> | undefined) ?? []) ops.push({ table: 'reclassifications', at: toTimestamp(r.at), fromKind: r.fromKind, toKind: r.toKind, reason: r.reason });
    return ops;
  },
  patchEffect(row, body, columns) {
    const r = row as IncidentFull;
    // The kind of a reclassified incident is the last reclassification's: it changes by a `reclassified` event, which keeps the history.
    if ('kind' in columns && columns['kind'] !== r.kind && r.reclassifications.length > 0) {
      return { columns: {}, refuse: { path: ['kind'], message: 'this incident has been reclassified: change its kind with a `reclassified` event, which keeps the history (§ 11 stk. 2, § 18 stk. 2)' } };
    }
    if (!DELAY_FIELDS.some((f) => f in columns)) return { columns };
    // The single delay fields correct the latest notice (or give the first); the earlier ones stay as they were.
    const rest = Object.fromEntries(Object.entries(columns).filter(([k]) => !(DELAY_FIELDS as readonly string[]).includes(k)));
    const latest = latestNotice(r.delayNotices);
    const pickValue = <K extends (typeof DELAY_FIELDS)[number]>(k: K, fallback: unknown): unknown => (k in columns ? columns[k] : fallback);
    const notifiedAt = pickValue('delayNotifiedAt', latest?.notifiedAt ?? null) as Date | null;
    const expectedDate = pickValue('finalReportExpectedAt', latest?.expectedDate ?? null) as string | null;
    const reason = pickValue('delayReason', latest?.reason ?? null) as string | null;
    if (notifiedAt === null && expectedDate === null) return { columns: rest, children: latest ? [{ table: 'delay-notices-delete', id: latest.id }] : [] };
    if (notifiedAt === null || expectedDate === null) return { columns: {}, refuse: { path: [notifiedAt === null ? 'delayNotifiedAt' : 'finalReportExpectedAt'], message: DELAY_PAIR } };
    const notice = { notifiedAt, expectedDate, reason };
    return { columns: rest, children: [latest ? { table: 'delay-notices-update', id: latest.id, ...notice } : { table: 'delay-notices', ...notice }] };
  },
  derivedColumns(row) {
    const latest = latestNotice((row as IncidentFull).delayNotices);
    return { delayNotifiedAt: latest?.notifiedAt ?? null, finalReportExpectedAt: latest?.expectedDate ?? null, delayReason: latest?.reason ?? null };
  },
  applyEvent(row, e, now) {
    const r = row as IncidentFull;
    switch (e.type) {
      case 'preliminary_notice_sent': return { columns: { preliminaryNoticeSentAt: when(e['at'], now) } };
      case 'final_report_submitted': return { columns: { finalReportSubmittedAt: when(e['at'], now) } };
      // Every notice is kept: a second one must not wipe out a timely first one (§ 7 stk. 2).
      case 'delay_notified': return { columns: {}, children: [{ table: 'delay-notices', notifiedAt: when(e['at'], now), expectedDate: e['expectedDate'] as string, reason: e['reason'] as string }] };
      case 'inmate_conversation_held': return { columns: { inmateConversationHeldAt: when(e['at'], now) } };
      case 'closing_letter_sent': return { columns: { closingLetterSentAt: when(e['at'], now) } };
      case 'closing_letter_copy_sent': return { columns: { closingLetterCopySentAt: when(e['at'], now) } };
      case 'media_attention': return { columns: { mediaAttention: e['value'] } };
      case 'reclassified': {
        const to = e['kind'] as IncidentKind;
        // § 11 stk. 2 / § 18 stk. 2 move cases between chapters 4 and 5 only; deaths are not reclassified.
        if (incidentChapter(r.kind) === 3 || incidentChapter(to) === 3) {
          return { columns: {}, refuse: { path: ['kind'], message: 'reclassification moves an incident between chapters 4 and 5 only (§ 11 stk. 2, § 18 stk. 2)' } };
        }
        if (to === r.kind) return { columns: {}, refuse: { path: ['kind'], message: 'is the incident\'s kind already' } };
        return { columns: { kind: to }, children: [{ table: 'reclassifications', at: when(e['at'], now), fromKind: r.kind, toKind: to, reason: e['reason'] as string }] };
      }
      case 'closed_not_reportable': {
        if (incidentChapter(r.kind) !== 5) return { columns: {}, refuse: { path: ['kind'], message: 'only a chapter 5 incident (other self-harm behaviour) is closed as not reportable (§ 20 stk. 2)' } };
        const at = when(e['at'], now);
        return { columns: { closedNotReportableAt: at, closedAt: r.closedAt ?? at } };
      }
      case 'closed': return { columns: { closedAt: when(e['at'], now) } };
      default: return { columns: {} };
    }
  },
  async load(db, ids) {
    if (ids.length === 0) return [];
    const [rows, notices, recl] = await Promise.all([
      selectRows(db, incidents, inArray(incidents.id, ids)),
      db.select().from(incidentDelayNotices).where(inArray(incidentDelayNotices.incidentId, ids)).orderBy(asc(incidentDelayNotices.notifiedAt), asc(incidentDelayNotices.createdAt)),
      db.select().from(incidentReclassifications).where(inArray(incidentReclassifications.incidentId, ids)).orderBy(asc(incidentReclassifications.at), asc(incidentReclassifications.createdAt)),
    ]);
    return rows.map((r) => ({ ...r, delayNotices: notices.filter((n) => n.incidentId === r.id), reclassifications: recl.filter((x) => x.incidentId === r.id) }));
  },
  toEngine(row) {
    const r = row as IncidentFull;
    return {
      type: 'incident', id: r.id, journalNumber: r.journalNumber, kind: r.kind, occurredAt: iso(r.occurredAt) as string, registeredAt: iso(r.registeredAt),
      mediaAttention: r.mediaAttention, preliminaryNoticeSentAt: iso(r.preliminaryNoticeSentAt), finalReportSubmittedAt: iso(r.finalReportSubmittedAt),
      // Every notice from the history; the delay_* columns only repeat the latest and are not passed again.
      delayNotices: r.delayNotices.map((n) => ({ notifiedAt: iso(n.notifiedAt) as string, expected: n.expectedDate, ...(n.reason === null ? {} : { reason: n.reason }) })),
      reclassifications: r.reclassifications.map((x) => ({ at: iso(x.at) as string, from: x.fromKind, to: x.toKind })),
      inmateConversationHeldAt: iso(r.inmateConversationHeldAt), closingLetterSentAt: iso(r.closingLetterSentAt),
      closingLetterCopySentAt: iso(r.closingLetterCopySentAt), closedNotReportableAt: iso(r.closedNotReportableAt),
    };
  },
  toApi(row, opts) {
    const r = row as IncidentFull;
    // In the audit view the reasons stand apart (erasable personal data), beside the notices' dates.
    const split = opts.verbatimText === true;
    return assignAll(
      { type: 'incident' },
      meta(r),
      { kind: r.kind },
      person(r, opts.showCpr),
      {
        description: freeText(r.description, opts), occurredAt: iso(r.occurredAt), registeredAt: iso(r.registeredAt),
        mediaAttention: r.mediaAttention, preliminaryNoticeSentAt: iso(r.preliminaryNoticeSentAt), finalReportSubmittedAt: iso(r.finalReportSubmittedAt),
        delayNotifiedAt: iso(r.delayNotifiedAt), finalReportExpectedAt: r.finalReportExpectedAt, delayReason: freeText(r.delayReason, opts),
        delayNotices: r.delayNotices.map((n) => ({ id: n.id, notifiedAt: iso(n.notifiedAt), expectedDate: n.expectedDate, ...(split ? {} : { reason: freeText(n.reason, opts) }) })),
        reclassifications: r.reclassifications.map((x) => ({ id: x.id, at: iso(x.at), fromKind: x.fromKind, toKind: x.toKind, ...(split ? {} : { reason: freeText(x.reason, opts) }) })),
      },
      split ? { delayNoticeReasons: reasons(r.delayNotices), reclassificationReasons: reasons(r.reclassifications) } : undefined,
      {
        inmateConversationHeldAt: iso(r.inmateConversationHeldAt), closingLetterSentAt: iso(r.closingLetterSentAt),
        closingLetterCopySentAt: iso(r.closingLetterCopySentAt), closedNotReportableAt: iso(r.closedNotReportableAt),
      },
    );
  },
};

// ---------------------------------------------------------------- security-cell placements
const cellFields = {
  mechanicalRestraint: z.boolean().optional(),
  placedAt: whenString,
  ...registration,
  endedAt: whenString.nullish(),
  followUpHeldAt: whenString.nullish(),
  followUpPostponedReason: plainString().trim().min(1).max(2000).nullish(),
  /** When the postponement was decided; required with a reason. */
  followUpPostponedAt: whenString.nullish(),
  followUpRescheduledTo: dateString.nullish(),
  followUpOfferedAt: whenString.nullish(),
  followUpDeclinedAt: whenString.nullish(),
  followUpNoteAt: whenString.nullish(),
  caseReviewedAt: whenString.nullish(),
  caseReviewer: plainString().trim().min(1).max(200).nullish(),
  caseReviewOutcome: plainString().trim().min(1).max(2000).nullish(),
  closedAt: whenString.nullish(),
};
const cellColumns = fieldColumns(cellFields);
const cellDefaults = fieldDefaults(cellFields);

const cellKind: KindDescriptor = {
  type: 'security_cell_placement',
  collection: 'security-cell-placements',
  fields: { ...common, ...cellFields },
  table: securityCellPlacements,
  create: z.strictObject({ ...common, ...cellFields }),
  patch: z.strictObject({ ...commonPatch, ...patchFields(cellFields) }),
  event: z.discriminatedUnion('type', [
    z.strictObject({ type: z.literal('ended'), at }),
    z.strictObject({ type: z.literal('follow_up_offered'), at }),
    z.strictObject({ type: z.literal('follow_up_declined'), at }),
    z.strictObject({ type: z.literal('follow_up_held'), at }),
    z.strictObject({ type: z.literal('follow_up_postponed'), reason: plainString().trim().min(1).max(2000), newDate: dateString.optional(), at }),
    z.strictObject({ type: z.literal('follow_up_note_recorded'), at }),
    z.strictObject({ type: z.literal('case_reviewed'), at, reviewer: plainString().trim().min(1).max(200), outcome: plainString().trim().min(1).max(2000) }),
    z.strictObject({ type: z.literal('closed'), at }),
  ]),
  columns: (body) => pick(body, cellColumns),
  defaults: (now) => assignAll({ registeredAt: now }, cellDefaults),
  patchEffect(_row, _body, columns) {
    // Withdrawing the postponement withdraws its time and new date with it (they need a reason).
    if (columns['followUpPostponedReason'] !== null) return { columns };
    return { columns: { followUpPostponedAt: null, followUpRescheduledTo: null, ...columns } };
  },
  applyEvent(row, e, now) {
    const r = row as CellRow;
    switch (e.type) {
      case 'ended': return { columns: { endedAt: when(e['at'], now) } };
      case 'follow_up_offered': return { columns: { followUpOfferedAt: when(e['at'], now) } };
      // Declining presupposes the offer: one not recorded yet was made at the latest then.
      case 'follow_up_declined': return { columns: { followUpDeclinedAt: when(e['at'], now), followUpOfferedAt: r.followUpOfferedAt ?? when(e['at'], now) } };
      case 'follow_up_held': return { columns: { followUpHeldAt: when(e['at'], now) } };
      case 'follow_up_postponed': {
        // 000: only "i helt særlige tilfælde", and it counts only when decided by the due day. Setting
        // the new date of a postponement already decided (and still running) keeps the decision's
        // time; after a new date has passed, another postponement is a new decision, dated now.
        const decided = when(e['at'], now);
        const decidedDay = formatIsoDate(localDayOfInstant(decided.getTime()));
        const running = r.followUpPostponedAt !== null && (r.followUpRescheduledTo === null || r.followUpRescheduledTo >= decidedDay);
        return { columns: { followUpPostponedReason: e['reason'], followUpRescheduledTo: e['newDate'] ?? null, followUpPostponedAt: running ? r.followUpPostponedAt : decided } };
      }
      case 'follow_up_note_recorded': return { columns: { followUpNoteAt: when(e['at'], now) } };
      case 'case_reviewed': return { columns: { caseReviewedAt: when(e['at'], now), caseReviewer: e['reviewer'], caseReviewOutcome: e['outcome'] } };
      case 'closed': return { columns: { closedAt: when(e['at'], now) } };
      default: return { columns: {} };
    }
  },
  load: (db, ids) => selectRows(db, securityCellPlacements, inArray(securityCellPlacements.id, ids)),
  toEngine(row) {
    const r = row as CellRow;
    return {
      type: 'security_cell_placement', id: r.id, journalNumber: r.journalNumber, placedAt: iso(r.placedAt) as string, endedAt: iso(r.endedAt),
      followUpHeldAt: iso(r.followUpHeldAt), followUpPostponedReason: r.followUpPostponedReason, followUpPostponedAt: iso(r.followUpPostponedAt), followUpRescheduledTo: r.followUpRescheduledTo,
      followUpOfferedAt: iso(r.followUpOfferedAt), followUpDeclinedAt: iso(r.followUpDeclinedAt), followUpNoteAt: iso(r.followUpNoteAt), caseReviewedAt: iso(r.caseReviewedAt),
    };
  },
  toApi(row, opts) {
    const r = row as CellRow;
    return assignAll({ type: 'security_cell_placement' }, meta(r), person(r, opts.showCpr), {
      mechanicalRestraint: r.mechanicalRestraint, placedAt: iso(r.placedAt), registeredAt: iso(r.registeredAt), endedAt: iso(r.endedAt),
      followUpHeldAt: iso(r.followUpHeldAt), followUpPostponedReason: freeText(r.followUpPostponedReason, opts), followUpPostponedAt: iso(r.followUpPostponedAt), followUpRescheduledTo: r.followUpRescheduledTo,
      followUpOfferedAt: iso(r.followUpOfferedAt), followUpDeclinedAt: iso(r.followUpDeclinedAt), followUpNoteAt: iso(r.followUpNoteAt),
      caseReviewedAt: iso(r.caseReviewedAt), caseReviewer: freeText(r.caseReviewer, opts), caseReviewOutcome: freeText(r.caseReviewOutcome, opts),
    });
  },
};

// ---------------------------------------------------------------- uses of force
const forceFields = {
  description: plainString().max(10_000).nullish(),
  occurredAt: whenString,
  ...registration,
  reportFiledAt: whenString.nullish(),
  /** § 8: the report notes that the inmate was told of the right to complain and of the deadline. */
  complaintInfoNoted: z.boolean().nullish(),
  complaintReceivedAt: whenString.nullish(),
  closedAt: whenString.nullish(),
};
/** § 8's note is stored as `report_complaint_info_noted`: it belongs to the report. */
const FORCE_RENAMED = { complaintInfoNoted: 'reportComplaintInfoNoted' };
const forceColumns = fieldColumns(forceFields, FORCE_RENAMED);
const forceDefaults = fieldDefaults(forceFields, FORCE_RENAMED);

const forceKind: KindDescriptor = {
  type: 'force_use',
  collection: 'force-uses',
  fields: { ...common, ...forceFields },
  table: forceUses,
  create: z.strictObject({ ...common, ...forceFields }),
  patch: z.strictObject({ ...commonPatch, ...patchFields(forceFields) }),
  event: z.discriminatedUnion('type', [
    z.strictObject({ type: z.literal('report_filed'), at, complaintInfoNoted: z.boolean().optional() }),
    // § 8: the note that the inmate was told of the right to complain, added to a report already filed.
    z.strictObject({ type: z.literal('complaint_info_noted') }),
    z.strictObject({ type: z.literal('complaint_received'), at }),
    z.strictObject({ type: z.literal('closed'), at }),
  ]),
  columns: (body) => pick(body, forceColumns),
  defaults: (now) => assignAll({ registeredAt: now }, forceDefaults),
  applyEvent(row, e, now) {
    switch (e.type) {
      case 'report_filed': return { columns: { reportFiledAt: when(e['at'], now), ...(typeof e['complaintInfoNoted'] === 'boolean' ? { reportComplaintInfoNoted: e['complaintInfoNoted'] } : {}) } };
      case 'complaint_info_noted':
        if (!(row as ForceRow).reportFiledAt) return { columns: {}, refuse: { path: ['reportFiledAt'], message: 'the report must be filed before its § 8 note is added' } };
        return { columns: { reportComplaintInfoNoted: true } };
      case 'complaint_received': return { columns: { complaintReceivedAt: when(e['at'], now) } };
      case 'closed': return { columns: { closedAt: when(e['at'], now) } };
      default: return { columns: {} };
    }
  },
  load: (db, ids) => selectRows(db, forceUses, inArray(forceUses.id, ids)),
  toEngine(row) {
    const r = row as ForceRow;
    return { type: 'force_use', id: r.id, journalNumber: r.journalNumber, occurredAt: iso(r.occurredAt) as string, reportFiledAt: iso(r.reportFiledAt), complaintInfoNoted: r.reportComplaintInfoNoted, complaintReceivedAt: iso(r.complaintReceivedAt) };
  },
  toApi(row, opts) {
    const r = row as ForceRow;
    return assignAll({ type: 'force_use' }, meta(r), person(r, opts.showCpr), { description: freeText(r.description, opts), occurredAt: iso(r.occurredAt), registeredAt: iso(r.registeredAt), reportFiledAt: iso(r.reportFiledAt), complaintInfoNoted: r.reportComplaintInfoNoted, complaintReceivedAt: iso(r.complaintReceivedAt) });
  },
};

// ---------------------------------------------------------------- action plans
const planFields = {
  clientCategory: z.enum(CLIENT_CATEGORIES),
  ...registration,
  ownerId: z.uuid().nullish(),
  ownerAssignedAt: whenString.nullish(),
  admittedAt: whenString.nullish(),
  supervisionEstablishedAt: whenString.nullish(),
  sentenceStartDate: dateString.nullish(),
  possibleParoleDate: dateString.nullish(),
  expectedReleaseDate: dateString.nullish(),
  expelled: z.boolean().optional(),
  planCreatedAt: whenString.nullish(),
  elaboratedAt: whenString.nullish(),
  municipalityContactedAt: whenString.nullish(),
  transitionPlacedAt: whenString.nullish(),
  transitionOwnerAssignedAt: whenString.nullish(),
  closedAt: whenString.nullish(),
};
const planColumns = fieldColumns(planFields);
const planDefaults = fieldDefaults(planFields);

const planKind: KindDescriptor = {
  type: 'action_plan',
  collection: 'action-plans',
  fields: { ...common, ...planFields },
  table: actionPlans,
  create: z.strictObject({
    ...common,
    ...planFields,
    evaluations: z.array(whenString).max(500).optional(),
    transfers: z.array(z.strictObject({ at: whenString, toInstitutionId: slug, planUpdatedAt: whenString.nullish() })).max(200).optional(),
    paroleDecisions: z.array(z.strictObject({ at: whenString, outcome: z.enum(['granted', 'refused']), planUpdatedAt: whenString.nullish() })).max(200).optional(),
  }),
  patch: z.strictObject({ ...commonPatch, ...patchFields(planFields) }),
  event: z.discriminatedUnion('type', [
    z.strictObject({ type: z.literal('owner_assigned'), ownerId: z.uuid(), at }),
    z.strictObject({ type: z.literal('created'), at, municipalityContacted: z.boolean().optional() }),
    z.strictObject({ type: z.literal('elaborated'), at }),
    z.strictObject({ type: z.literal('evaluated'), at }),
    z.strictObject({ type: z.literal('transferred'), at, toInstitutionId: slug }),
    z.strictObject({ type: z.literal('transfer_plan_updated'), transferId: z.uuid(), at }),
    z.strictObject({ type: z.literal('parole_decided'), at, outcome: z.enum(['granted', 'refused']) }),
    z.strictObject({ type: z.literal('parole_plan_updated'), decisionId: z.uuid(), at }),
    z.strictObject({ type: z.literal('municipality_contacted'), at }),
    z.strictObject({ type: z.literal('transition_placed'), at }),
    z.strictObject({ type: z.literal('closed'), at }),
  ]),
  columns: (body) => pick(body, planColumns),
  defaults: (now) => assignAll({ registeredAt: now }, planDefaults, { evaluations: [], transfers: [], paroleDecisions: [] }),
  createChildren(body) {
    const ops: ChildOp[] = [];
    for (const e of (body['evaluations'] as string[] | undefined) ?? []) ops.push({ table: 'evaluations', evaluatedAt: toTimestamp(e) });
    for (const t of (body['transfers'] as Array<{ at: string; toInstitutionId: string; planUpdatedAt?: string | null }> | undefined) ?? []) {
      ops.push({ table: 'transfers', transferredAt: toTimestamp(t.at), toInstitutionId: t.toInstitutionId });
      if (t.planUpdatedAt) ops.push({ table: 'transfers-update', id: '$last', planUpdatedAt: toTimestamp(t.planUpdatedAt) });
    }
    for (const p of (body['paroleDecisions'] as Array<{ at: string; outcome: 'granted' | 'refused'; planUpdatedAt?: string | null }> | undefined) ?? []) {
      ops.push({ table: 'parole', decidedAt: toTimestamp(p.at), outcome: p.outcome });
      if (p.planUpdatedAt) ops.push({ table: 'parole-update', id: '$last', planUpdatedAt: toTimestamp(p.planUpdatedAt) });
    }
    return ops;
  },
  applyEvent(row, e, now) {
    const r = row as PlanFull;
    switch (e.type) {
      case 'owner_assigned': {
        const assigned = when(e['at'], now);
        // pkt. 10/15: the owner assigned on a placement in a halfway house or transition prison.
        const forTransition = r.transitionPlacedAt !== null && r.transitionOwnerAssignedAt === null && assigned >= r.transitionPlacedAt;
        return { columns: { ownerId: e['ownerId'], ownerAssignedAt: r.ownerAssignedAt ?? assigned, ...(forTransition ? { transitionOwnerAssignedAt: assigned } : {}) } };
      }
      case 'created': {
        // pkt. 32: youth home detention contacts the municipality "samtidig med udarbejdelsen af den første handleplan".
        const created = when(e['at'], now);
        return { columns: { planCreatedAt: created, ...(e['municipalityContacted'] === true ? { municipalityContactedAt: r.municipalityContactedAt ?? created } : {}) } };
      }
      case 'elaborated': return { columns: { elaboratedAt: when(e['at'], now) } };
      case 'evaluated': return { columns: {}, children: [{ table: 'evaluations', evaluatedAt: when(e['at'], now) }] };
      case 'transferred': return { columns: { institutionId: e['toInstitutionId'] }, children: [{ table: 'transfers', transferredAt: when(e['at'], now), toInstitutionId: e['toInstitutionId'] as string }] };
      case 'transfer_plan_updated': {
        if (!r.transfers.some((t) => t.id === e['transferId'])) return { columns: {}, refuse: { path: ['transferId'], message: 'no such transfer on this plan' } };
        return { columns: {}, children: [{ table: 'transfers-update', id: e['transferId'] as string, planUpdatedAt: when(e['at'], now) }] };
      }
      case 'parole_decided': return { columns: {}, children: [{ table: 'parole', decidedAt: when(e['at'], now), outcome: e['outcome'] as 'granted' | 'refused' }] };
      case 'parole_plan_updated': {
        if (!r.paroleDecisions.some((p) => p.id === e['decisionId'])) return { columns: {}, refuse: { path: ['decisionId'], message: 'no such parole decision on this plan' } };
        return { columns: {}, children: [{ table: 'parole-update', id: e['decisionId'] as string, planUpdatedAt: when(e['at'], now) }] };
      }
      case 'municipality_contacted': return { columns: { municipalityContactedAt: when(e['at'], now) } };
      case 'transition_placed': return { columns: { transitionPlacedAt: when(e['at'], now) } };
      case 'closed': return { columns: { closedAt: when(e['at'], now) } };
      default: return { columns: {} };
    }
  },
  async load(db, ids) {
    if (ids.length === 0) return [];
    const rows = await selectRows(db, actionPlans, inArray(actionPlans.id, ids));
    const [evs, trs, pds] = await Promise.all([
      db.select().from(planEvaluations).where(inArray(planEvaluations.planId, ids)).orderBy(asc(planEvaluations.evaluatedAt)),
      db.select().from(planTransfers).where(inArray(planTransfers.planId, ids)).orderBy(asc(planTransfers.transferredAt)),
      db.select().from(paroleDecisions).where(inArray(paroleDecisions.planId, ids)).orderBy(asc(paroleDecisions.decidedAt)),
    ]);
    return rows.map((r) => ({
      ...r,
      evaluations: evs.filter((e) => e.planId === r.id),
      transfers: trs.filter((t) => t.planId === r.id),
      paroleDecisions: pds.filter((p) => p.planId === r.id),
    }));
  },
  toEngine(row) {
    const r = row as PlanFull;
    return {
      type: 'action_plan', id: r.id, journalNumber: r.journalNumber, clientCategory: r.clientCategory, admittedAt: iso(r.admittedAt),
      supervisionEstablishedAt: iso(r.supervisionEstablishedAt), sentenceStartDate: r.sentenceStartDate, possibleParoleDate: r.possibleParoleDate,
      expectedReleaseDate: r.expectedReleaseDate, expelled: r.expelled, ownerAssignedAt: iso(r.ownerAssignedAt), createdAt: iso(r.planCreatedAt),
      elaboratedAt: iso(r.elaboratedAt), evaluations: r.evaluations.map((e) => iso(e.evaluatedAt) as string),
      transfers: r.transfers.map((t) => ({ at: iso(t.transferredAt) as string, planUpdatedAt: iso(t.planUpdatedAt) })),
      paroleDecisions: r.paroleDecisions.map((p) => ({ at: iso(p.decidedAt) as string, planUpdatedAt: iso(p.planUpdatedAt) })),
      municipalityContactedAt: iso(r.municipalityContactedAt), transitionPlacedAt: iso(r.transitionPlacedAt), transitionOwnerAssignedAt: iso(r.transitionOwnerAssignedAt),
    };
  },
  toApi(row, { showCpr }) {
    const r = row as PlanFull;
    return assignAll({ type: 'action_plan' }, meta(r), person(r, showCpr), {
      clientCategory: r.clientCategory, registeredAt: iso(r.registeredAt), ownerId: r.ownerId, ownerAssignedAt: iso(r.ownerAssignedAt),
      admittedAt: iso(r.admittedAt), supervisionEstablishedAt: iso(r.supervisionEstablishedAt), sentenceStartDate: r.sentenceStartDate,
      possibleParoleDate: r.possibleParoleDate, expectedReleaseDate: r.expectedReleaseDate, expelled: r.expelled, planCreatedAt: iso(r.planCreatedAt),
      elaboratedAt: iso(r.elaboratedAt), municipalityContactedAt: iso(r.municipalityContactedAt), transitionPlacedAt: iso(r.transitionPlacedAt),
      transitionOwnerAssignedAt: iso(r.transitionOwnerAssignedAt),
      evaluations: r.evaluations.map((e) => ({ id: e.id, at: iso(e.evaluatedAt) })),
      transfers: r.transfers.map((t) => ({ id: t.id, at: iso(t.transferredAt), toInstitutionId: t.toInstitutionId, planUpdatedAt: iso(t.planUpdatedAt) })),
      paroleDecisions: r.paroleDecisions.map((p) => ({ id: p.id, at: iso(p.decidedAt), outcome: p.outcome, planUpdatedAt: iso(p.planUpdatedAt) })),
    });
  },
  engineFieldToApi: { createdAt: 'planCreatedAt' },
};

/** The event whose registration `registeredAt` is (an action plan: its admission or the establishing supervision conversation, whichever is earlier). */
export const REGISTERS: Record<RecordTypeName, readonly string[]> = {
  incident: ['occurredAt'],
  security_cell_placement: ['placedAt'],
  force_use: ['occurredAt'],
  action_plan: ['admittedAt', 'supervisionEstablishedAt'],
};

function whenOf(v: unknown): When | undefined {
  if (v instanceof Date) return { day: localDayOfInstant(v.getTime()), ms: v.getTime(), text: v.toISOString() };
  return typeof v === 'string' ? parseWhen(v) : undefined;
}

/**
 * `registeredAt` may not be in the future (the clock tolerance of every other time field,
 * `isInFuture`) nor before the event it registers; compared by local date when either side is a
 * bare date. `values` are API field values (strings) or stored column values (Dates).
 */
export function registrationIssues(type: RecordTypeName, values: Record<string, unknown>, now: number): Array<{ path: string; message: string }> {
  const reg = whenOf(values['registeredAt']);
  if (!reg) return [];
  if (isInFuture(reg, now)) return [{ path: 'registeredAt', message: `registeredAt (${reg.text}) is in the future` }];
  const [field, event] = REGISTERS[type].flatMap((f) => {
    const w = whenOf(values[f]);
    return w ? [[f, w] as const] : [];
  }).sort((a, b) => a[1].day - b[1].day)[0] ?? [];
  if (!field || !event) return [];
  const before = reg.ms !== null && event.ms !== null ? reg.ms < event.ms : reg.day < event.day;
  return before ? [{ path: 'registeredAt', message: `registeredAt (${reg.text}) is before ${field} (${event.text}), the event it registers` }] : [];
}

export const KINDS: Record<RecordTypeName, KindDescriptor> = {
  incident: incidentKind,
  security_cell_placement: cellKind,
  force_use: forceKind,
  action_plan: planKind,
};
/** Free text in child rows: erased by retention with the record's own, and kept apart in the audit log under `auditKey`. */
export interface PersonalChildText {
  auditKey: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the incident child tables share these columns.
  table: any;
  parent: string;
  column: string;
}

/**
 * What identifies the inmate in a record's API view: removed or replaced when the retention period
 * ends, and kept apart (erasable) in the audit log. `replace` columns stay non-null for the record to
 * stay valid (a moved follow-up needs a reason), so they become a fixed text instead; so do the
 * reasons in child rows (`children`).
 */
/** Comments on the record's escalations (src/records/escalations.ts): free text of every record type. */
const ESCALATION_COMMENTS: PersonalChildText = { auditKey: 'escalationComments', table: escalationComments, parent: 'recordId', column: 'text' };

export const PERSONAL_FIELDS: Record<RecordTypeName, { clear: readonly string[]; replace: readonly string[]; children: readonly PersonalChildText[] }> = {
  incident: {
    clear: ['inmateName', 'cpr', 'description'],
    replace: ['delayReason'],
    children: [
      { auditKey: 'delayNoticeReasons', table: incidentDelayNotices, parent: 'incidentId', column: 'reason' },
      { auditKey: 'reclassificationReasons', table: incidentReclassifications, parent: 'incidentId', column: 'reason' },
      ESCALATION_COMMENTS,
    ],
  },
  security_cell_placement: { clear: ['inmateName', 'cpr'], replace: ['followUpPostponedReason', 'caseReviewOutcome'], children: [ESCALATION_COMMENTS] },
  force_use: { clear: ['inmateName', 'cpr', 'description'], replace: [], children: [ESCALATION_COMMENTS] },
  action_plan: { clear: ['inmateName', 'cpr'], replace: [], children: [ESCALATION_COMMENTS] },
};

/** Every personal field of a record type, for the audit log. */
export function personalFields(type: RecordTypeName): string[] {
  return [...PERSONAL_FIELDS[type].clear, ...PERSONAL_FIELDS[type].replace, ...PERSONAL_FIELDS[type].children.map((c) => c.auditKey)];
}

export const KIND_BY_COLLECTION: Record<string, KindDescriptor> = Object.fromEntries(Object.values(KINDS).map((k) => [k.collection, k]));

/** A would-be new row with the defaults the database would fill in, for validation before the insert. */
export function provisionalRow(kind: KindDescriptor, columns: Record<string, unknown>, now: Date): AnyRow {
  const base = { id: '00000000-0000-0000-0000-000000000000', version: 1, createdAt: now, updatedAt: now, changeSeq: 0, closedAt: null, inmateName: null, cpr: null };
  return assignAll(base, kind.defaults(now), columns) as unknown as AnyRow;
}

/**
 * Copies the sources' own properties onto `target`, later ones winning: `{ ...a, ...b }` for the
 * write path's hot loop, where V8's object spread of these rows costs ~15× a plain loop (Node 20).
 */
export function assignAll<T extends object>(target: T, ...sources: ReadonlyArray<Record<string, unknown> | undefined>): T {
  const out = target as Record<string, unknown>;
  for (const source of sources) {
    if (!source) continue;
    for (const key of Object.keys(source)) out[key] = source[key];
  }
  return target;
}

/**
 * The child rows of new records, per child table, for multi-row inserts (every row of a table
 * with the same keys): a `-update` op folds into the row it follows. What applyChildOps writes one
 * statement at a time, for records being created (their ops never update or delete stored rows).
 */
export function createChildRows(records: ReadonlyArray<{ parentId: string; ops: readonly ChildOp[] }>): Array<[PgTable, Array<Record<string, unknown>>]> {
  const evaluations: Array<Record<string, unknown>> = [];
  const transfers: Array<Record<string, unknown>> = [];
  const parole: Array<Record<string, unknown>> = [];
  const notices: Array<Record<string, unknown>> = [];
  const reclassifications: Array<Record<string, unknown>> = [];
  for (const { parentId, ops } of records) {
    let lastTransfer: Record<string, unknown> | undefined;
    let lastParole: Record<string, unknown> | undefined;
    for (const op of ops) {
      if (op.table === 'evaluations') evaluations.push({ planId: parentId, evaluatedAt: op.evaluatedAt });
      else if (op.table === 'transfers') transfers.push((lastTransfer = { planId: parentId, transferredAt: op.transferredAt, toInstitutionId: op.toInstitutionId, planUpdatedAt: null }));
      else if (op.table === 'transfers-update' && lastTransfer) lastTransfer['planUpdatedAt'] = op.planUpdatedAt;
      else if (op.table === 'parole') parole.push((lastParole = { planId: parentId, decidedAt: op.decidedAt, outcome: op.outcome, planUpdatedAt: null }));
      else if (op.table === 'parole-update' && lastParole) lastParole['planUpdatedAt'] = op.planUpdatedAt;
      else if (op.table === 'delay-notices') notices.push({ incidentId: parentId, notifiedAt: op.notifiedAt, expectedDate: op.expectedDate, reason: op.reason });
      else if (op.table === 'reclassifications') reclassifications.push({ incidentId: parentId, at: op.at, fromKind: op.fromKind, toKind: op.toKind, reason: op.reason });
    }
  }
  const tables: Array<[PgTable, Array<Record<string, unknown>>]> = [[planEvaluations, evaluations], [planTransfers, transfers], [paroleDecisions, parole], [incidentDelayNotices, notices], [incidentReclassifications, reclassifications]];
  return tables.filter(([, rows]) => rows.length > 0);
}

/** Applies child-table operations for a plan or an incident inside the caller's transaction. */
export async function applyChildOps(tx: Executor, parentId: string, ops: ChildOp[]): Promise<void> {
  let lastTransfer: string | undefined;
  let lastParole: string | undefined;
  for (const op of ops) {
    switch (op.table) {
      case 'delay-notices':
        await tx.insert(incidentDelayNotices).values({ incidentId: parentId, notifiedAt: op.notifiedAt, expectedDate: op.expectedDate, reason: op.reason });
        break;
      case 'delay-notices-update':
        await tx.update(incidentDelayNotices).set({ notifiedAt: op.notifiedAt, expectedDate: op.expectedDate, reason: op.reason }).where(and(eq(incidentDelayNotices.id, op.id), eq(incidentDelayNotices.incidentId, parentId)));
        break;
      case 'delay-notices-delete':
        await tx.delete(incidentDelayNotices).where(and(eq(incidentDelayNotices.id, op.id), eq(incidentDelayNotices.incidentId, parentId)));
        break;
      case 'reclassifications':
        await tx.insert(incidentReclassifications).values({ incidentId: parentId, at: op.at, fromKind: op.fromKind, toKind: op.toKind, reason: op.reason });
        break;
      case 'evaluations':
        await tx.insert(planEvaluations).values({ planId: parentId, evaluatedAt: op.evaluatedAt });
        break;
      case 'transfers': {
        const [row] = await tx.insert(planTransfers).values({ planId: parentId, transferredAt: op.transferredAt, toInstitutionId: op.toInstitutionId }).returning({ id: planTransfers.id });
        lastTransfer = row?.id;
        break;
      }
      case 'transfers-update': {
        const id = op.id === '$last' ? lastTransfer : op.id;
        if (id) await tx.update(planTransfers).set({ planUpdatedAt: op.planUpdatedAt }).where(eq(planTransfers.id, id));
        break;
      }
      case 'parole': {
        const [row] = await tx.insert(paroleDecisions).values({ planId: parentId, decidedAt: op.decidedAt, outcome: op.outcome }).returning({ id: paroleDecisions.id });
        lastParole = row?.id;
        break;
      }
      case 'parole-update': {
        const id = op.id === '$last' ? lastParole : op.id;
        if (id) await tx.update(paroleDecisions).set({ planUpdatedAt: op.planUpdatedAt }).where(eq(paroleDecisions.id, id));
        break;
      }
      case 'history-delete': {
        const { table, parent } = HISTORY_TABLES[op.list];
        await tx.delete(table).where(and(eq(table.id, op.id), eq(table[parent], parentId)));
        break;
      }
      case 'history-plan-updated': {
        const table = op.list === 'transfers' ? planTransfers : paroleDecisions;
        await tx.update(table).set({ planUpdatedAt: op.planUpdatedAt }).where(and(eq(table.id, op.id), eq(table.planId, parentId)));
        break;
      }
    }
  }
}

/** Each history list's table and the column naming its record. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the five child tables share `id` and a parent column.
const HISTORY_TABLES: Record<HistoryList, { table: any; parent: string }> = {
  delayNotices: { table: incidentDelayNotices, parent: 'incidentId' },
  reclassifications: { table: incidentReclassifications, parent: 'incidentId' },
  evaluations: { table: planEvaluations, parent: 'planId' },
  transfers: { table: planTransfers, parent: 'planId' },
  paroleDecisions: { table: paroleDecisions, parent: 'planId' },
};

/** Projects child ops onto an in-memory record so that the engine can validate the result before anything is written. */
export function previewChildOps(row: AnyRow, ops: ChildOp[]): AnyRow {
  if (ops.length === 0) return row;
  return previewHistoryReverts('delayNotices' in row ? previewIncident(row, ops) : previewPlan(row as PlanFull, ops), ops);
}

/** The reverting ops of a correction (history-delete, history-plan-updated) on the copied lists of `next`. */
function previewHistoryReverts(next: AnyRow, ops: ChildOp[]): AnyRow {
  const lists = next as unknown as Record<string, Array<{ id: string; planUpdatedAt?: Date | null }>>;
  for (const op of ops) {
    if (op.table === 'history-delete' && Array.isArray(lists[op.list])) lists[op.list] = (lists[op.list] ?? []).filter((x) => x.id !== op.id);
    else if (op.table === 'history-plan-updated') lists[op.list] = (lists[op.list] ?? []).map((x) => (x.id === op.id ? { ...x, planUpdatedAt: op.planUpdatedAt } : x));
  }
  return next;
}

function previewIncident(row: IncidentFull, ops: ChildOp[]): IncidentFull {
  const next: IncidentFull = { ...row, delayNotices: row.delayNotices.map((n) => ({ ...n })), reclassifications: [...row.reclassifications] };
  let n = 0;
  for (const op of ops) {
    const id = `preview-${n++}`;
    switch (op.table) {
      case 'delay-notices':
        next.delayNotices.push({ id, incidentId: row.id, notifiedAt: op.notifiedAt, expectedDate: op.expectedDate, reason: op.reason, createdAt: op.notifiedAt });
        break;
      case 'delay-notices-update': {
        const target = next.delayNotices.find((x) => x.id === op.id);
        if (target) Object.assign(target, { notifiedAt: op.notifiedAt, expectedDate: op.expectedDate, reason: op.reason });
        break;
      }
      case 'delay-notices-delete':
        next.delayNotices = next.delayNotices.filter((x) => x.id !== op.id);
        break;
      case 'reclassifications':
        // Kept in the given order: a backdated one is refused by the engine's ordering check.
        next.reclassifications.push({ id, incidentId: row.id, at: op.at, fromKind: op.fromKind, toKind: op.toKind, reason: op.reason, createdAt: op.at });
        break;
      default:
        break;
    }
  }
  return next;
}

function previewPlan(row: PlanFull, ops: ChildOp[]): PlanFull {
  // The rows are copied too: a `-update` below must not change the stored record the caller still holds (its audit `before`).
  const next: PlanFull = { ...row, evaluations: [...row.evaluations], transfers: row.transfers.map((t) => ({ ...t })), paroleDecisions: row.paroleDecisions.map((p) => ({ ...p })) };
  let n = 0;
  for (const op of ops) {
    const id = `preview-${n++}`;
    switch (op.table) {
      case 'evaluations':
        // Kept in the given order: a backdated evaluation is refused by the engine's ordering check, with the index the caller sent.
        next.evaluations.push({ id, planId: row.id, evaluatedAt: op.evaluatedAt, createdAt: op.evaluatedAt });
        break;
      case 'transfers':
        next.transfers.push({ id, planId: row.id, transferredAt: op.transferredAt, toInstitutionId: op.toInstitutionId, planUpdatedAt: null, createdAt: op.transferredAt });
        break;
      case 'transfers-update': {
        const target = op.id === '$last' ? next.transfers[next.transfers.length - 1] : next.transfers.find((t) => t.id === op.id);
        if (target) Object.assign(target, { planUpdatedAt: op.planUpdatedAt });
        break;
      }
      case 'parole':
        next.paroleDecisions.push({ id, planId: row.id, decidedAt: op.decidedAt, outcome: op.outcome, planUpdatedAt: null, createdAt: op.decidedAt });
        break;
      case 'parole-update': {
        const target = op.id === '$last' ? next.paroleDecisions[next.paroleDecisions.length - 1] : next.paroleDecisions.find((p) => p.id === op.id);
        if (target) Object.assign(target, { planUpdatedAt: op.planUpdatedAt });
        break;
      }
      default:
        break;
    }
  }
  return next;
}
