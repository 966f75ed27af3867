/**
 * Escalation handling (issue 13): an escalation is a breached duty still to be done (not met,
 * not suspended, not ended by a reclassification) whose escalation mail has gone out or is due.
 * The area office (or anyone who may write the record) acknowledges it, takes it "under handling",
 * assigns it to a staff member and comments on it. Each action is one transaction: the handling
 * state (`escalation_handling`, `escalation_comments`) and its audit entry (entity: the record, so
 * the record's timeline and evidence pack show it); the API and the UI both call `actOnEscalation`.
 *
 * Handling never changes what is mailed: the deadline is still breached, and the ladder (the
 * second escalation) goes on until the duty is recorded as done, which closes the escalation.
 *
 * States: no row = unhandled → acknowledged → under handling. `acknowledge` only from unhandled;
 * `start` from unhandled or acknowledged (acknowledging too); `assign` in any state (an unhandled
 * one becomes acknowledged: someone took it); `comment` in any state, changing none.
 */
import { and, asc, eq, inArray, isNull, sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import { formatLocalInstant, scrubCpr } from '../domain/index.js';
import { appendAudit } from '../db/audit.js';
import type { Db, Executor } from '../db/client.js';
import { deadlines, escalationComments, escalationHandling, notifications, staff } from '../db/schema.js';
import { ServiceError, validationError } from './errors.js';
import { KINDS, type RecordTypeName } from './kinds.js';
import { canReadStaff } from './masterdata.js';
import { canRead, canWrite, idempotent, mayseeCpr, parseBody, scopedInstitutions, zodIssues, type Actor, type ServiceContext, type WriteOptions } from './service.js';
import { plainString, slug } from './values.js';

export const ESCALATION_STATES = ['unhandled', 'acknowledged', 'under_handling'] as const;
export type EscalationState = (typeof ESCALATION_STATES)[number];

export const COMMENT_MAX = 2000;

/** The body of POST /api/escalations/{deadlineId}/actions (and of the UI's forms). */
export const escalationAction = z.discriminatedUnion('action', [
  z.strictObject({ action: z.literal('acknowledge') }),
  z.strictObject({ action: z.literal('start') }),
  z.strictObject({ action: z.literal('assign'), staffId: z.string().regex(/^[0-9a-f-]{36}$/i, 'must be a staff id (uuid)') }),
  z.strictObject({ action: z.literal('comment'), text: plainString().trim().min(1, 'must not be empty').max(COMMENT_MAX) }),
]);
export type EscalationAction = z.output<typeof escalationAction>;

export const escalationQuery = z.strictObject({
  /** `open` (default): every open escalation; or one state. */
  state: z.enum(['open', ...ESCALATION_STATES]).default('open'),
  area: slug.optional(),
  institution: slug.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
});

/** The audit action of each handling action (`<record type>.<this>`); the record timeline names them. */
const AUDIT_ACTION: Record<EscalationAction['action'], string> = {
  acknowledge: 'escalation_acknowledged',
  start: 'escalation_under_handling',
  assign: 'escalation_assigned',
  comment: 'escalation_commented',
};

export interface EscalationComment {
  id: string;
  at: string;
  actor: string;
  text: string;
}

export interface EscalationView {
  deadlineId: string;
  recordType: RecordTypeName;
  recordId: string;
  journalNumber: string;
  institutionId: string;
  areaId: string;
  rule: string;
  key: string;
  dueDate: string;
  dueAt: string;
  /** When the first escalation mail went out (or was due, while the worker has not sent it). */
  escalatedAt: string;
  state: EscalationState;
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
  handlingSince: string | null;
  handlingBy: string | null;
  assignee: { id: string; name: string } | null;
  assignedAt: string | null;
  assignedBy: string | null;
  comments: EscalationComment[];
}

const ESCALATED_STATUSES = ['scheduled', 'sending', 'sent', 'failed'] as const;

/** A duty still to be done whose due instant has passed: the escalation is open while this holds. */
function pendingBreach(now: Date): SQL {
  const at = sql`${now.toISOString()}::timestamptz`;
  return and(eq(deadlines.active, true), eq(deadlines.obligation, 'duty'), isNull(deadlines.completedAt), isNull(deadlines.endedBy), eq(deadlines.suspended, false), sql`${deadlines.dueAt} < ${at}`) as SQL;
}

/**
 * Per deadline: when its first escalation mail went out or was due (null: none yet). A lookup per
 * deadline through the outbox's (record_type, record_id, …) index, never an aggregate of the outbox.
 */
function escalatedAt(now: Date): SQL<Date | string | null> {
  const at = sql`${now.toISOString()}::timestamptz`;
  return sql<Date | string | null>`(SELECT min(coalesce(${notifications.sentAt}, ${notifications.plannedAt})) FROM ${notifications}
    WHERE ${notifications.recordType} = ${deadlines.recordType} AND ${notifications.recordId} = ${deadlines.recordId} AND ${notifications.deadlineId} = ${deadlines.id}
    AND ${notifications.kind} = 'escalation' AND ${inArray(notifications.status, [...ESCALATED_STATUSES])} AND ${notifications.plannedAt} <= ${at})`;
}

const iso = (d: Date | string | null | undefined): string | null => (d === null || d === undefined ? null : formatLocalInstant(new Date(d).getTime()));

interface Row {
  deadlineId: string;
  recordType: RecordTypeName;
  recordId: string;
  institutionId: string;
  areaId: string;
  rule: string;
  key: string;
  dueDate: string;
  dueAt: Date;
  since: Date | string;
  state: 'acknowledged' | 'under_handling' | null;
  acknowledgedAt: Date | null;
  acknowledgedBy: string | null;
  handlingSince: Date | null;
  handlingBy: string | null;
  assigneeId: string | null;
  assigneeName: string | null;
  assignedAt: Date | null;
  assignedBy: string | null;
}

async function selectEscalations(db: Executor, now: Date, where: SQL[], page?: { limit: number; offset: number }): Promise<{ rows: Row[]; total: number }> {
  const since = escalatedAt(now);
  const cond = and(pendingBreach(now), sql`${since} IS NOT NULL`, ...where);
  const base = () =>
    db
      .select({
        deadlineId: deadlines.id, recordType: deadlines.recordType, recordId: deadlines.recordId, institutionId: deadlines.institutionId, areaId: deadlines.areaId,
        rule: deadlines.ruleId, key: deadlines.key, dueDate: deadlines.dueDate, dueAt: deadlines.dueAt, since,
        state: escalationHandling.state, acknowledgedAt: escalationHandling.acknowledgedAt, acknowledgedBy: escalationHandling.acknowledgedBy,
        handlingSince: escalationHandling.handlingSince, handlingBy: escalationHandling.handlingBy, assigneeId: escalationHandling.assigneeId, assigneeName: staff.name,
        assignedAt: escalationHandling.assignedAt, assignedBy: escalationHandling.assignedBy,
      })
      .from(deadlines)
      .leftJoin(escalationHandling, eq(escalationHandling.deadlineId, deadlines.id))
      .leftJoin(staff, eq(staff.id, escalationHandling.assigneeId))
      .where(cond);
  const [count] = await db.select({ n: sql<number>`count(*)::int` }).from(deadlines).leftJoin(escalationHandling, eq(escalationHandling.deadlineId, deadlines.id)).where(cond);
  // Longest waiting first: the area office sees what has gone unhandled for longest at the top.
  const q = base().orderBy(asc(since), asc(deadlines.dueAt), asc(deadlines.id));
  const rows = (page ? await q.limit(page.limit).offset(page.offset) : await q) as Row[];
  return { rows, total: count?.n ?? 0 };
}

/** Journal numbers of some records, by record id (also bulk-events.ts). */
export async function journalNumbersOf(db: Executor, rows: ReadonlyArray<{ recordType: RecordTypeName; recordId: string }>): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const type of Object.keys(KINDS) as RecordTypeName[]) {
    const ids = [...new Set(rows.filter((r) => r.recordType === type).map((r) => r.recordId))];
    if (ids.length === 0) continue;
    const table = KINDS[type].table;
    const found = (await db.select({ id: table.id, journalNumber: table.journalNumber }).from(table).where(inArray(table.id, ids))) as Array<{ id: string; journalNumber: string }>;
    for (const r of found) out.set(r.id, r.journalNumber);
  }
  return out;
}

async function commentsOf(db: Executor, deadlineIds: readonly string[], showCpr: boolean): Promise<Map<string, EscalationComment[]>> {
  const out = new Map<string, EscalationComment[]>();
  if (deadlineIds.length === 0) return out;
  const rows = await db.select().from(escalationComments).where(inArray(escalationComments.deadlineId, [...deadlineIds])).orderBy(asc(escalationComments.at), asc(escalationComments.id));
  for (const c of rows) out.set(c.deadlineId, [...(out.get(c.deadlineId) ?? []), { id: c.id, at: iso(c.at) as string, actor: c.actor, text: showCpr ? c.text : scrubCpr(c.text) }]);
  return out;
}

async function views(db: Executor, actor: Actor, rows: readonly Row[]): Promise<EscalationView[]> {
  const journals = await journalNumbersOf(db, rows);
  const comments = await commentsOf(db, rows.map((r) => r.deadlineId), mayseeCpr(actor));
  return rows.map((r) => ({
    deadlineId: r.deadlineId,
    recordType: r.recordType,
    recordId: r.recordId,
    journalNumber: journals.get(r.recordId) ?? '?',
    institutionId: r.institutionId,
    areaId: r.areaId,
    rule: r.rule,
    key: r.key,
    dueDate: r.dueDate,
    dueAt: iso(r.dueAt) as string,
    escalatedAt: iso(r.since) as string,
    state: r.state ?? 'unhandled',
    acknowledgedAt: iso(r.acknowledgedAt),
    acknowledgedBy: r.acknowledgedBy,
    handlingSince: iso(r.handlingSince),
    handlingBy: r.handlingBy,
    assignee: r.assigneeId ? { id: r.assigneeId, name: r.assigneeName ?? r.assigneeId } : null,
    assignedAt: iso(r.assignedAt),
    assignedBy: r.assignedBy,
    comments: comments.get(r.deadlineId) ?? [],
  }));
}

function stateCondition(state: 'open' | EscalationState): SQL | undefined {
  if (state === 'open') return undefined;
  if (state === 'unhandled') return isNull(escalationHandling.deadlineId);
  return eq(escalationHandling.state, state);
}

/** Open escalations in the actor's scope, longest waiting first; `state` narrows to one state. */
export async function listEscalations(ctx: ServiceContext, actor: Actor, rawQuery: unknown): Promise<{ items: EscalationView[]; total: number; limit: number; offset: number }> {
  const parsed = escalationQuery.safeParse(rawQuery ?? {});
  if (!parsed.success) throw validationError(zodIssues(parsed.error));
  const q = parsed.data;
  const where: SQL[] = [];
  const allowed = await scopedInstitutions(ctx.db, actor, { areaId: q.area, institutionId: q.institution });
  if (allowed) where.push(allowed.length > 0 ? inArray(deadlines.institutionId, allowed) : sql`false`);
  const st = stateCondition(q.state);
  if (st) where.push(st);
  const { rows, total } = await selectEscalations(ctx.db, ctx.clock(), where, { limit: q.limit, offset: q.offset });
  return { items: await views(ctx.db, actor, rows), total, limit: q.limit, offset: q.offset };
}

/** The open escalations of one record (the record page), or of some deadlines (the work queue): no scope check, the caller read them. */
export async function escalationsOf(ctx: ServiceContext, actor: Actor, by: { recordId: string } | { deadlineIds: readonly string[] }): Promise<EscalationView[]> {
  if ('deadlineIds' in by && by.deadlineIds.length === 0) return [];
  const where = 'recordId' in by ? [eq(deadlines.recordId, by.recordId)] : [inArray(deadlines.id, [...by.deadlineIds])];
  const { rows } = await selectEscalations(ctx.db, ctx.clock(), where);
  return views(ctx.db, actor, rows);
}

/** How many open escalations are unhandled in the actor's scope, and since when the oldest waits (the overview's notice). */
export async function unhandledSummary(ctx: ServiceContext, actor: Actor): Promise<{ count: number; oldest: string | null }> {
  const now = ctx.clock();
  const since = escalatedAt(now);
  const where: SQL[] = [pendingBreach(now), sql`${since} IS NOT NULL`, isNull(escalationHandling.deadlineId)];
  const allowed = await scopedInstitutions(ctx.db, actor, {});
  if (allowed) where.push(allowed.length > 0 ? inArray(deadlines.institutionId, allowed) : sql`false`);
  const [row] = await ctx.db
    .select({ n: sql<number>`count(*)::int`, oldest: sql<Date | string | null>`min(${since})` })
    .from(deadlines)
    .leftJoin(escalationHandling, eq(escalationHandling.deadlineId, deadlines.id))
    .where(and(...where));
  return { count: row?.n ?? 0, oldest: iso(row?.oldest) };
}

/** One open escalation as the actor may read it: 404 unknown, 403 out of scope, 409 when it is not (or no longer) open. */
export async function getEscalation(ctx: ServiceContext, deadlineId: string, actor: Actor): Promise<EscalationView> {
  const d = await deadlineInScope(ctx.db, deadlineId, actor, 'read');
  const [view] = await escalationsOf(ctx, actor, { deadlineIds: [d.id] });
  if (!view) throw notOpen(deadlineId);
  return view;
}

const notOpen = (id: string): ServiceError =>
  new ServiceError('CONFLICT', `deadline ${id} has no open escalation (it is met, suspended, not yet breached or not escalated)`, { issues: [{ path: 'deadlineId', message: 'no open escalation' }] });

async function deadlineInScope(db: Executor, deadlineId: string, actor: Actor, mode: 'read' | 'write') {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(deadlineId)) throw new ServiceError('NOT_FOUND', `no deadline ${deadlineId}`);
  const [d] = await db.select({ id: deadlines.id, recordType: deadlines.recordType, recordId: deadlines.recordId, institutionId: deadlines.institutionId, areaId: deadlines.areaId, key: deadlines.key, rule: deadlines.ruleId }).from(deadlines).where(eq(deadlines.id, deadlineId));
  if (!d) throw new ServiceError('NOT_FOUND', `no deadline ${deadlineId}`);
  const scope = { institutionId: d.institutionId, areaId: d.areaId };
  if (mode === 'read' ? !canRead(actor, scope) : !canWrite(actor, scope)) throw new ServiceError('FORBIDDEN', `${actor.role} token may not ${mode === 'read' ? 'read' : 'handle'} escalations of institution ${d.institutionId}`);
  return d;
}

type HandlingRow = typeof escalationHandling.$inferSelect;

function auditState(row: HandlingRow | undefined, d: { key: string; rule: string }): Record<string, unknown> | null {
  if (!row) return null;
  return { deadlineKey: d.key, rule: d.rule, escalationState: row.state, assigneeId: row.assigneeId, version: row.version };
}

/**
 * The one write path of escalation handling: checks the body, the actor's write scope (403), that
 * the escalation is open (409) and the transition (409), and writes the state and its audit entry
 * in one transaction (an Idempotency-Key makes a retry return the first result). Returns the view.
 */
export async function actOnEscalation(ctx: ServiceContext, deadlineId: string, body: unknown, actor: Actor, opts: WriteOptions = {}): Promise<EscalationView> {
  if (actor.role === 'reader') throw new ServiceError('FORBIDDEN', 'reader tokens may not handle escalations');
  const input = parseBody(escalationAction, body);
  await idempotent(ctx, actor, opts, body, async (tx) => {
    // One action per escalation at a time: the transition is judged on the state it changes.
    await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtext(${`escalation:${deadlineId}`}))`);
    const d = await deadlineInScope(tx, deadlineId, actor, 'write');
    const now = ctx.clock();
    const open = await escalationsOf({ ...ctx, db: tx as Db }, actor, { deadlineIds: [d.id] });
    if (open.length === 0) throw notOpen(deadlineId);
    const [before] = await tx.select().from(escalationHandling).where(eq(escalationHandling.deadlineId, d.id));
    const conflict = (message: string): ServiceError => new ServiceError('CONFLICT', message, { issues: [{ path: 'action', message }] });

    if (input.action === 'comment') {
      await tx.insert(escalationComments).values({ deadlineId: d.id, recordType: d.recordType, recordId: d.recordId, at: now, actor: actor.name, text: input.text });
      await appendAudit(tx, { actor: actor.name, action: `${d.recordType}.${AUDIT_ACTION.comment}`, entityType: d.recordType, entityId: d.recordId, before: null, after: { deadlineKey: d.key, rule: d.rule, comment: input.text }, personal: ['comment'] }, now);
      return { id: d.id, created: false, replayed: false };
    }

    const next: Partial<HandlingRow> = {};
    const acknowledge = (): void => {
      if (before) return;
      next.state = 'acknowledged';
      next.acknowledgedAt = now;
      next.acknowledgedBy = actor.name;
    };
    if (input.action === 'acknowledge') {
      if (before) throw conflict(`already acknowledged by ${before.acknowledgedBy}`);
      acknowledge();
    } else if (input.action === 'start') {
      if (before?.state === 'under_handling') throw conflict(`already under handling by ${before.handlingBy ?? '?'}`);
      acknowledge();
      next.state = 'under_handling';
      next.handlingSince = now;
      next.handlingBy = actor.name;
    } else {
      const [member] = await tx.select({ id: staff.id, areaId: staff.areaId, institutionId: staff.institutionId, active: staff.active }).from(staff).where(eq(staff.id, input.staffId));
      // The assignee works in the escalation's area and in the actor's own scope; unknown and out-of-scope ids get the same answer.
      if (!member || !member.active || member.areaId !== d.areaId || !canReadStaff(actor, member)) throw validationError([{ path: 'staffId', message: `must be an active staff member of area ${d.areaId} in your scope` }]);
      if (before?.assigneeId === member.id) throw conflict('already assigned to this staff member');
      acknowledge();
      next.assigneeId = member.id;
      next.assignedAt = now;
      next.assignedBy = actor.name;
    }
    let after: HandlingRow | undefined;
    if (before) {
      [after] = await tx.update(escalationHandling).set({ ...next, updatedAt: now, version: before.version + 1 }).where(and(eq(escalationHandling.deadlineId, d.id), eq(escalationHandling.version, before.version))).returning();
      if (!after) throw conflict('the escalation changed meanwhile; reload and try again');
    } else {
      [after] = await tx.insert(escalationHandling).values({ deadlineId: d.id, recordType: d.recordType, recordId: d.recordId, state: 'acknowledged', acknowledgedAt: now, acknowledgedBy: actor.name, ...next, updatedAt: now }).returning();
    }
    await appendAudit(tx, { actor: actor.name, action: `${d.recordType}.${AUDIT_ACTION[input.action]}`, entityType: d.recordType, entityId: d.recordId, before: auditState(before, d), after: auditState(after, d) }, now);
    return { id: d.id, created: false, replayed: false };
  });
  return getEscalation(ctx, deadlineId, actor);
}
