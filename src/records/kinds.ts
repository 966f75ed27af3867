/**
 * The four record types as data: their API schemas (create, patch, completion events), how a
 * request becomes column values, and how a stored record becomes the engine's input and the API's
 * output. The service (service.ts) runs the same flow for all four.
 */
import { asc, eq, inArray } from 'drizzle-orm';
import { z } from 'zod';
import { CLIENT_CATEGORIES, CPR_MASK, formatCpr, INCIDENT_KINDS, scrubCpr, type RecordInput } from '../domain/index.js';
import type { Executor } from '../db/client.js';
import { actionPlans, forceUses, incidents, paroleDecisions, planEvaluations, planTransfers, securityCellPlacements } from '../db/schema.js';
import { cprString, dateString, iso, journalNumber, personName, plainString, slug, toDateOnly, toTimestamp, toTimestampOrNull, whenString } from './values.js';

export type RecordTypeName = 'incident' | 'security_cell_placement' | 'force_use' | 'action_plan';

type IncidentRow = typeof incidents.$inferSelect;
type CellRow = typeof securityCellPlacements.$inferSelect;
type ForceRow = typeof forceUses.$inferSelect;
type PlanRow = typeof actionPlans.$inferSelect;
export interface PlanFull extends PlanRow {
  evaluations: Array<typeof planEvaluations.$inferSelect>;
  transfers: Array<typeof planTransfers.$inferSelect>;
  paroleDecisions: Array<typeof paroleDecisions.$inferSelect>;
}
export type AnyRow = IncidentRow | CellRow | ForceRow | PlanFull;

/** Child-table changes an event asks for (plans only). */
export type ChildOp =
  | { table: 'evaluations'; evaluatedAt: Date }
  | { table: 'transfers'; transferredAt: Date; toInstitutionId: string }
  | { table: 'transfers-update'; id: string; planUpdatedAt: Date }
  | { table: 'parole'; decidedAt: Date; outcome: 'granted' | 'refused' }
  | { table: 'parole-update'; id: string; planUpdatedAt: Date };

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
  create: z.ZodType<Record<string, unknown>>;
  patch: z.ZodType<Record<string, unknown>>;
  event: z.ZodType<{ type: string } & Record<string, unknown>>;
  /** Column values from a validated create or patch body (only the keys present). */
  columns(body: Record<string, unknown>): Record<string, unknown>;
  /** Child rows given at creation (plans imported with their history). */
  createChildren?(body: Record<string, unknown>): ChildOp[];
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
const incidentFields = {
  kind: z.enum(INCIDENT_KINDS),
  description: plainString().max(10_000).nullish(),
  occurredAt: whenString,
  mediaAttention: z.boolean().optional(),
  preliminaryNoticeSentAt: whenString.nullish(),
  finalReportSubmittedAt: whenString.nullish(),
  delayNotifiedAt: whenString.nullish(),
  finalReportExpectedAt: dateString.nullish(),
  delayReason: plainString().max(2000).nullish(),
  inmateConversationHeldAt: whenString.nullish(),
  closingLetterSentAt: whenString.nullish(),
  closedAt: whenString.nullish(),
};
const incidentColumns: ColMap = {
  ...commonColumns,
  kind: ['kind', same], description: ['description', same], occurredAt: ['occurredAt', ts], mediaAttention: ['mediaAttention', same],
  preliminaryNoticeSentAt: ['preliminaryNoticeSentAt', tsOrNull], finalReportSubmittedAt: ['finalReportSubmittedAt', tsOrNull],
  delayNotifiedAt: ['delayNotifiedAt', tsOrNull], finalReportExpectedAt: ['finalReportExpectedAt', dayOrNull], delayReason: ['delayReason', same],
  inmateConversationHeldAt: ['inmateConversationHeldAt', tsOrNull], closingLetterSentAt: ['closingLetterSentAt', tsOrNull], closedAt: ['closedAt', tsOrNull],
};

const incidentKind: KindDescriptor = {
  type: 'incident',
  collection: 'incidents',
  table: incidents,
  create: z.strictObject({ ...common, ...incidentFields }),
  patch: z.strictObject({ ...commonPatch, ...Object.fromEntries(Object.entries(incidentFields).map(([k, v]) => [k, v.optional()])) }),
  event: z.discriminatedUnion('type', [
    z.strictObject({ type: z.literal('preliminary_notice_sent'), at }),
    z.strictObject({ type: z.literal('final_report_submitted'), at }),
    z.strictObject({ type: z.literal('delay_notified'), at, expectedDate: dateString, reason: plainString().trim().min(1).max(2000) }),
    z.strictObject({ type: z.literal('inmate_conversation_held'), at }),
    z.strictObject({ type: z.literal('closing_letter_sent'), at }),
    z.strictObject({ type: z.literal('media_attention'), value: z.boolean() }),
    z.strictObject({ type: z.literal('reclassified'), kind: z.enum(INCIDENT_KINDS), reason: plainString().trim().min(1).max(2000) }),
    z.strictObject({ type: z.literal('closed'), at }),
  ]),
  columns: (body) => pick(body, incidentColumns),
  applyEvent(row, e, now) {
    const r = row as IncidentRow;
    switch (e.type) {
      case 'preliminary_notice_sent': return { columns: { preliminaryNoticeSentAt: when(e['at'], now) } };
      case 'final_report_submitted': return { columns: { finalReportSubmittedAt: when(e['at'], now) } };
      case 'delay_notified': return { columns: { delayNotifiedAt: when(e['at'], now), finalReportExpectedAt: e['expectedDate'], delayReason: e['reason'] } };
      case 'inmate_conversation_held': return { columns: { inmateConversationHeldAt: when(e['at'], now) } };
      case 'closing_letter_sent': return { columns: { closingLetterSentAt: when(e['at'], now) } };
      case 'media_attention': return { columns: { mediaAttention: e['value'] } };
      case 'reclassified': {
        const ch = (k: string): number => (k === 'death' || k === 'suicide' ? 3 : k === 'other_self_harm_behaviour' ? 5 : 4);
        // § 11 stk. 2 / § 18 stk. 2 move cases between chapters 4 and 5 only; deaths are not reclassified.
        if (ch(r.kind) === 3 || ch(e['kind'] as string) === 3) {
          return { columns: {}, refuse: { path: ['kind'], message: 'reclassification moves an incident between chapters 4 and 5 only (§ 11 stk. 2, § 18 stk. 2)' } };
        }
        return { columns: { kind: e['kind'] } };
      }
      case 'closed': return { columns: { closedAt: when(e['at'], now) } };
      default: return { columns: {} };
    }
  },
  load: (db, ids) => db.select().from(incidents).where(inArray(incidents.id, ids)),
  toEngine(row) {
    const r = row as IncidentRow;
    return {
      type: 'incident', id: r.id, journalNumber: r.journalNumber, kind: r.kind, occurredAt: iso(r.occurredAt) as string, registeredAt: iso(r.registeredAt),
      mediaAttention: r.mediaAttention, preliminaryNoticeSentAt: iso(r.preliminaryNoticeSentAt), finalReportSubmittedAt: iso(r.finalReportSubmittedAt),
      delayNotifiedAt: iso(r.delayNotifiedAt), finalReportExpectedAt: r.finalReportExpectedAt, delayReason: r.delayReason,
      inmateConversationHeldAt: iso(r.inmateConversationHeldAt), closingLetterSentAt: iso(r.closingLetterSentAt),
    };
  },
  toApi(row, opts) {
    const r = row as IncidentRow;
    return {
      type: 'incident', ...meta(r), kind: r.kind, ...person(r, opts.showCpr), description: freeText(r.description, opts), occurredAt: iso(r.occurredAt), registeredAt: iso(r.registeredAt),
      mediaAttention: r.mediaAttention, preliminaryNoticeSentAt: iso(r.preliminaryNoticeSentAt), finalReportSubmittedAt: iso(r.finalReportSubmittedAt),
      delayNotifiedAt: iso(r.delayNotifiedAt), finalReportExpectedAt: r.finalReportExpectedAt, delayReason: freeText(r.delayReason, opts),
      inmateConversationHeldAt: iso(r.inmateConversationHeldAt), closingLetterSentAt: iso(r.closingLetterSentAt),
    };
  },
};

// ---------------------------------------------------------------- security-cell placements
const cellFields = {
  mechanicalRestraint: z.boolean().optional(),
  placedAt: whenString,
  endedAt: whenString.nullish(),
  followUpHeldAt: whenString.nullish(),
  followUpPostponedReason: plainString().trim().min(1).max(2000).nullish(),
  followUpRescheduledTo: dateString.nullish(),
  closedAt: whenString.nullish(),
};
const cellColumns: ColMap = {
  ...commonColumns,
  mechanicalRestraint: ['mechanicalRestraint', same], placedAt: ['placedAt', ts], endedAt: ['endedAt', tsOrNull], followUpHeldAt: ['followUpHeldAt', tsOrNull],
  followUpPostponedReason: ['followUpPostponedReason', same], followUpRescheduledTo: ['followUpRescheduledTo', dayOrNull], closedAt: ['closedAt', tsOrNull],
};

const cellKind: KindDescriptor = {
  type: 'security_cell_placement',
  collection: 'security-cell-placements',
  table: securityCellPlacements,
  create: z.strictObject({ ...common, ...cellFields }),
  patch: z.strictObject({ ...commonPatch, ...Object.fromEntries(Object.entries(cellFields).map(([k, v]) => [k, v.optional()])) }),
  event: z.discriminatedUnion('type', [
    z.strictObject({ type: z.literal('ended'), at }),
    z.strictObject({ type: z.literal('follow_up_held'), at }),
    z.strictObject({ type: z.literal('follow_up_postponed'), reason: plainString().trim().min(1).max(2000), newDate: dateString.optional() }),
    z.strictObject({ type: z.literal('closed'), at }),
  ]),
  columns: (body) => pick(body, cellColumns),
  applyEvent(_row, e, now) {
    switch (e.type) {
      case 'ended': return { columns: { endedAt: when(e['at'], now) } };
      case 'follow_up_held': return { columns: { followUpHeldAt: when(e['at'], now) } };
      case 'follow_up_postponed': return { columns: { followUpPostponedReason: e['reason'], followUpRescheduledTo: e['newDate'] ?? null } };
      case 'closed': return { columns: { closedAt: when(e['at'], now) } };
      default: return { columns: {} };
    }
  },
  load: (db, ids) => db.select().from(securityCellPlacements).where(inArray(securityCellPlacements.id, ids)),
  toEngine(row) {
    const r = row as CellRow;
    return {
      type: 'security_cell_placement', id: r.id, journalNumber: r.journalNumber, placedAt: iso(r.placedAt) as string, endedAt: iso(r.endedAt),
      followUpHeldAt: iso(r.followUpHeldAt), followUpPostponedReason: r.followUpPostponedReason, followUpRescheduledTo: r.followUpRescheduledTo,
    };
  },
  toApi(row, opts) {
    const r = row as CellRow;
    return {
      type: 'security_cell_placement', ...meta(r), ...person(r, opts.showCpr), mechanicalRestraint: r.mechanicalRestraint, placedAt: iso(r.placedAt), endedAt: iso(r.endedAt),
      followUpHeldAt: iso(r.followUpHeldAt), followUpPostponedReason: freeText(r.followUpPostponedReason, opts), followUpRescheduledTo: r.followUpRescheduledTo,
    };
  },
};

// ---------------------------------------------------------------- uses of force
const forceFields = {
  description: plainString().max(10_000).nullish(),
  occurredAt: whenString,
  reportFiledAt: whenString.nullish(),
  complaintReceivedAt: whenString.nullish(),
  closedAt: whenString.nullish(),
};
const forceColumns: ColMap = {
  ...commonColumns,
  description: ['description', same], occurredAt: ['occurredAt', ts], reportFiledAt: ['reportFiledAt', tsOrNull], complaintReceivedAt: ['complaintReceivedAt', tsOrNull], closedAt: ['closedAt', tsOrNull],
};

const forceKind: KindDescriptor = {
  type: 'force_use',
  collection: 'force-uses',
  table: forceUses,
  create: z.strictObject({ ...common, ...forceFields }),
  patch: z.strictObject({ ...commonPatch, ...Object.fromEntries(Object.entries(forceFields).map(([k, v]) => [k, v.optional()])) }),
  event: z.discriminatedUnion('type', [
    z.strictObject({ type: z.literal('report_filed'), at }),
    z.strictObject({ type: z.literal('complaint_received'), at }),
    z.strictObject({ type: z.literal('closed'), at }),
  ]),
  columns: (body) => pick(body, forceColumns),
  applyEvent(_row, e, now) {
    switch (e.type) {
      case 'report_filed': return { columns: { reportFiledAt: when(e['at'], now) } };
      case 'complaint_received': return { columns: { complaintReceivedAt: when(e['at'], now) } };
      case 'closed': return { columns: { closedAt: when(e['at'], now) } };
      default: return { columns: {} };
    }
  },
  load: (db, ids) => db.select().from(forceUses).where(inArray(forceUses.id, ids)),
  toEngine(row) {
    const r = row as ForceRow;
    return { type: 'force_use', id: r.id, journalNumber: r.journalNumber, occurredAt: iso(r.occurredAt) as string, reportFiledAt: iso(r.reportFiledAt), complaintReceivedAt: iso(r.complaintReceivedAt) };
  },
  toApi(row, opts) {
    const r = row as ForceRow;
    return { type: 'force_use', ...meta(r), ...person(r, opts.showCpr), description: freeText(r.description, opts), occurredAt: iso(r.occurredAt), reportFiledAt: iso(r.reportFiledAt), complaintReceivedAt: iso(r.complaintReceivedAt) };
  },
};

// ---------------------------------------------------------------- action plans
const planFields = {
  clientCategory: z.enum(CLIENT_CATEGORIES),
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
  closedAt: whenString.nullish(),
};
const planColumns: ColMap = {
  ...commonColumns,
  clientCategory: ['clientCategory', same], ownerId: ['ownerId', same], ownerAssignedAt: ['ownerAssignedAt', tsOrNull], admittedAt: ['admittedAt', tsOrNull],
  supervisionEstablishedAt: ['supervisionEstablishedAt', tsOrNull], sentenceStartDate: ['sentenceStartDate', dayOrNull], possibleParoleDate: ['possibleParoleDate', dayOrNull],
  expectedReleaseDate: ['expectedReleaseDate', dayOrNull], expelled: ['expelled', same], planCreatedAt: ['planCreatedAt', tsOrNull], elaboratedAt: ['elaboratedAt', tsOrNull],
  municipalityContactedAt: ['municipalityContactedAt', tsOrNull], closedAt: ['closedAt', tsOrNull],
};

const planKind: KindDescriptor = {
  type: 'action_plan',
  collection: 'action-plans',
  table: actionPlans,
  create: z.strictObject({
    ...common,
    ...planFields,
    evaluations: z.array(whenString).max(500).optional(),
    transfers: z.array(z.strictObject({ at: whenString, toInstitutionId: slug, planUpdatedAt: whenString.nullish() })).max(200).optional(),
    paroleDecisions: z.array(z.strictObject({ at: whenString, outcome: z.enum(['granted', 'refused']), planUpdatedAt: whenString.nullish() })).max(200).optional(),
  }),
  patch: z.strictObject({ ...commonPatch, ...Object.fromEntries(Object.entries(planFields).map(([k, v]) => [k, v.optional()])) }),
  event: z.discriminatedUnion('type', [
    z.strictObject({ type: z.literal('owner_assigned'), ownerId: z.uuid(), at }),
    z.strictObject({ type: z.literal('created'), at }),
    z.strictObject({ type: z.literal('elaborated'), at }),
    z.strictObject({ type: z.literal('evaluated'), at }),
    z.strictObject({ type: z.literal('transferred'), at, toInstitutionId: slug }),
    z.strictObject({ type: z.literal('transfer_plan_updated'), transferId: z.uuid(), at }),
    z.strictObject({ type: z.literal('parole_decided'), at, outcome: z.enum(['granted', 'refused']) }),
    z.strictObject({ type: z.literal('parole_plan_updated'), decisionId: z.uuid(), at }),
    z.strictObject({ type: z.literal('municipality_contacted'), at }),
    z.strictObject({ type: z.literal('closed'), at }),
  ]),
  columns: (body) => pick(body, planColumns),
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
      case 'owner_assigned': return { columns: { ownerId: e['ownerId'], ownerAssignedAt: r.ownerAssignedAt ?? when(e['at'], now) } };
      case 'created': return { columns: { planCreatedAt: when(e['at'], now) } };
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
      case 'closed': return { columns: { closedAt: when(e['at'], now) } };
      default: return { columns: {} };
    }
  },
  async load(db, ids) {
    if (ids.length === 0) return [];
    const rows = await db.select().from(actionPlans).where(inArray(actionPlans.id, ids));
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
      municipalityContactedAt: iso(r.municipalityContactedAt),
    };
  },
  toApi(row, { showCpr }) {
    const r = row as PlanFull;
    return {
      type: 'action_plan', ...meta(r), ...person(r, showCpr), clientCategory: r.clientCategory, ownerId: r.ownerId, ownerAssignedAt: iso(r.ownerAssignedAt),
      admittedAt: iso(r.admittedAt), supervisionEstablishedAt: iso(r.supervisionEstablishedAt), sentenceStartDate: r.sentenceStartDate,
      possibleParoleDate: r.possibleParoleDate, expectedReleaseDate: r.expectedReleaseDate, expelled: r.expelled, planCreatedAt: iso(r.planCreatedAt),
      elaboratedAt: iso(r.elaboratedAt), municipalityContactedAt: iso(r.municipalityContactedAt),
      evaluations: r.evaluations.map((e) => ({ id: e.id, at: iso(e.evaluatedAt) })),
      transfers: r.transfers.map((t) => ({ id: t.id, at: iso(t.transferredAt), toInstitutionId: t.toInstitutionId, planUpdatedAt: iso(t.planUpdatedAt) })),
      paroleDecisions: r.paroleDecisions.map((p) => ({ id: p.id, at: iso(p.decidedAt), outcome: p.outcome, planUpdatedAt: iso(p.planUpdatedAt) })),
    };
  },
  engineFieldToApi: { createdAt: 'planCreatedAt' },
};

export const KINDS: Record<RecordTypeName, KindDescriptor> = {
  incident: incidentKind,
  security_cell_placement: cellKind,
  force_use: forceKind,
  action_plan: planKind,
};
/**
 * What identifies the inmate in a record's API view: removed or replaced when the retention period
 * ends, and kept apart (erasable) in the audit log. `replace` columns stay non-null for the record to
 * stay valid (a moved follow-up needs a reason), so they become a fixed text instead.
 */
export const PERSONAL_FIELDS: Record<RecordTypeName, { clear: readonly string[]; replace: readonly string[] }> = {
  incident: { clear: ['inmateName', 'cpr', 'description'], replace: ['delayReason'] },
  security_cell_placement: { clear: ['inmateName', 'cpr'], replace: ['followUpPostponedReason'] },
  force_use: { clear: ['inmateName', 'cpr', 'description'], replace: [] },
  action_plan: { clear: ['inmateName', 'cpr'], replace: [] },
};

/** Every personal field of a record type, for the audit log. */
export function personalFields(type: RecordTypeName): string[] {
  return [...PERSONAL_FIELDS[type].clear, ...PERSONAL_FIELDS[type].replace];
}

export const KIND_BY_COLLECTION: Record<string, KindDescriptor> = Object.fromEntries(Object.values(KINDS).map((k) => [k.collection, k]));

/** Applies child-table operations for a plan inside the caller's transaction. */
export async function applyChildOps(tx: Executor, planId: string, ops: ChildOp[]): Promise<void> {
  let lastTransfer: string | undefined;
  let lastParole: string | undefined;
  for (const op of ops) {
    switch (op.table) {
      case 'evaluations':
        await tx.insert(planEvaluations).values({ planId, evaluatedAt: op.evaluatedAt });
        break;
      case 'transfers': {
        const [row] = await tx.insert(planTransfers).values({ planId, transferredAt: op.transferredAt, toInstitutionId: op.toInstitutionId }).returning({ id: planTransfers.id });
        lastTransfer = row?.id;
        break;
      }
      case 'transfers-update': {
        const id = op.id === '$last' ? lastTransfer : op.id;
        if (id) await tx.update(planTransfers).set({ planUpdatedAt: op.planUpdatedAt }).where(eq(planTransfers.id, id));
        break;
      }
      case 'parole': {
        const [row] = await tx.insert(paroleDecisions).values({ planId, decidedAt: op.decidedAt, outcome: op.outcome }).returning({ id: paroleDecisions.id });
        lastParole = row?.id;
        break;
      }
      case 'parole-update': {
        const id = op.id === '$last' ? lastParole : op.id;
        if (id) await tx.update(paroleDecisions).set({ planUpdatedAt: op.planUpdatedAt }).where(eq(paroleDecisions.id, id));
        break;
      }
    }
  }
}

/** Projects child ops onto an in-memory plan so that the engine can validate the result before anything is written. */
export function previewChildOps(row: PlanFull, ops: ChildOp[]): PlanFull {
  const next: PlanFull = { ...row, evaluations: [...row.evaluations], transfers: [...row.transfers], paroleDecisions: [...row.paroleDecisions] };
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
    }
  }
  return next;
}
