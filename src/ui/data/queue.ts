/**
 * The work queue (issue 13): the duties not yet done, "mine" first, most urgent first, a page at a
 * time. Urgency: breached (the most recent breach first: the oldest are history, listed under
 * Restancer too), due today, due within 3 working days, later, and paused (suspended) last.
 * Status as of now is listDeadlines' (a stored `open` whose instant passed is breached).
 */
import { and, asc, desc, eq, inArray, isNull, sql, type SQL } from 'drizzle-orm';
import { formatIsoDate, localDayOfInstant, parseIsoDate, type Lang } from '../../domain/index.js';
import { actionPlans, deadlines, institutions } from '../../db/schema.js';
import { BULK_SAFE } from '../../records/bulk-events.js';
import { loadRulesInForce } from '../../records/calendar.js';
import { effectiveStatus } from '../../records/deadline-list.js';
import { escalationsOf, type EscalationState } from '../../records/escalations.js';
import { KINDS, type RecordTypeName } from '../../records/kinds.js';
import { listInstitutions } from '../../records/masterdata.js';
import { canWrite, scopedInstitutions, type Actor, type ServiceContext } from '../../records/service.js';
import { ruleResponsible, ruleTitle } from '../format.js';
import { SOON_WORKING_DAYS } from './overview.js';
import { recordInfo, recordScopeCondition } from './records.js';

export const PAGE_SIZE = 50;
export const QUEUE_SORTS = ['urgency', 'due', 'journal', 'institution'] as const;
export const QUEUE_STATUSES = ['', 'breached', 'today', 'soon', 'open'] as const;

export interface QueueFilter {
  /** `mine` | `all`; default: mine where the actor has one. */
  view?: string | undefined;
  area?: string | undefined;
  institution?: string | undefined;
  rule?: string | undefined;
  recordType?: string | undefined;
  /** '' (every duty not done) | breached | today | soon | open (not breached) */
  status?: string | undefined;
  /** Journal number contains. */
  q?: string | undefined;
  sort?: string | undefined;
  dir?: string | undefined;
  page?: string | undefined;
}

/** What "mine" means for an actor: its institution, its area, or the plans it owns (once actors are people). */
export interface Mine {
  kind: 'institution' | 'area' | 'owner' | 'none';
  /** The institution's or area's id, the staff id. */
  id: string | null;
}

export function mineOf(actor: Actor): Mine {
  if (actor.role === 'institution' && actor.institutionId) return { kind: 'institution', id: actor.institutionId };
  if (actor.role === 'area' && actor.areaId) return { kind: 'area', id: actor.areaId };
  if (actor.staffId) return { kind: 'owner', id: actor.staffId };
  return { kind: 'none', id: null };
}

/** The view shown: `mine` unless asked otherwise or the actor has no "mine". */
export function queueView(actor: Actor, f: QueueFilter): 'mine' | 'all' {
  return mineOf(actor).kind !== 'none' && f.view !== 'all' ? 'mine' : 'all';
}

export interface QueueItem {
  id: string;
  rule: string;
  ruleTitle: string;
  recordType: RecordTypeName;
  recordId: string;
  journalNumber: string;
  institutionName: string;
  responsible: string;
  dueDate: string;
  /** Calendar days from today to the due day: negative when overdue. */
  days: number;
  status: string;
  suspended: boolean;
  escalation: EscalationState | null;
  /** Offered for bulk registration (a safe rule, writable, not paused). */
  bulk: boolean;
}

export interface Queue {
  today: string;
  soonUntil: string;
  view: 'mine' | 'all';
  mine: Mine;
  items: QueueItem[];
  total: number;
  page: number;
  pages: number;
}

export async function loadQueue(ctx: ServiceContext, actor: Actor, f: QueueFilter, lang: Lang): Promise<Queue> {
  const now = ctx.clock();
  const rules = await loadRulesInForce(ctx.db, ctx.closureDays);
  const todayDay = localDayOfInstant(now.getTime());
  const today = formatIsoDate(todayDay);
  const soonUntil = formatIsoDate(rules.calendar.addWorkingDaysEpoch(todayDay, SOON_WORKING_DAYS));
  const at = sql`${now.toISOString()}::timestamptz`;
  const breached = sql`(NOT ${deadlines.suspended} AND ${deadlines.dueAt} < ${at})`;
  const mine = mineOf(actor);
  const view = queueView(actor, f);

  // A duty not yet done: what the overview has always listed (a right, or a deadline a reclassification ended, is not).
  const where: SQL[] = [eq(deadlines.active, true), eq(deadlines.obligation, 'duty'), isNull(deadlines.completedAt), isNull(deadlines.endedBy)];
  const allowed = await scopedInstitutions(ctx.db, actor, { areaId: f.area, institutionId: f.institution });
  if (allowed) where.push(allowed.length > 0 ? inArray(deadlines.institutionId, allowed) : sql`false`);
  // Institution and area actors' "mine" is their scope already; an owner's is the plans they own.
  if (view === 'mine' && mine.kind === 'owner') {
    where.push(eq(deadlines.recordType, 'action_plan'), inArray(deadlines.recordId, ctx.db.select({ id: actionPlans.id }).from(actionPlans).where(eq(actionPlans.ownerId, mine.id ?? ''))));
  }
  if (f.rule) where.push(eq(deadlines.ruleId, f.rule));
  if (f.recordType && Object.hasOwn(KINDS, f.recordType)) where.push(eq(deadlines.recordType, f.recordType as RecordTypeName));
  switch (f.status) {
    case 'breached': where.push(breached); break;
    case 'today': where.push(sql`NOT ${deadlines.suspended} AND ${deadlines.dueDate} = ${today} AND ${deadlines.dueAt} >= ${at}`); break;
    case 'soon': where.push(sql`NOT ${deadlines.suspended} AND ${deadlines.dueDate} > ${today} AND ${deadlines.dueDate} <= ${soonUntil}`); break;
    case 'open': where.push(sql`NOT ${breached}`); break;
    default: break;
  }
  if (f.q) {
    const match = await recordScopeCondition(ctx.db, actor, deadlines.recordId, f.q.slice(0, 100));
    if (match) where.push(match);
  }
  const cond = and(...where);
  const [count] = await ctx.db.select({ n: sql<number>`count(*)::int` }).from(deadlines).where(cond);
  const total = count?.n ?? 0;
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
  const page = Math.min(pages, Math.max(1, Number.parseInt(f.page ?? '', 10) || 1));

  const bucket = sql`(CASE WHEN ${deadlines.suspended} THEN 4 WHEN ${deadlines.dueAt} < ${at} THEN 0 WHEN ${deadlines.dueDate} = ${today} THEN 1 WHEN ${deadlines.dueDate} <= ${soonUntil} THEN 2 ELSE 3 END)`;
  const dir = f.dir === 'desc' ? desc : asc;
  const journal = sql`(CASE ${deadlines.recordType} ${sql.join((Object.keys(KINDS) as RecordTypeName[]).map((type) => sql`WHEN ${type} THEN (SELECT ${KINDS[type].table.journalNumber} FROM ${KINDS[type].table} WHERE ${KINDS[type].table.id} = ${deadlines.recordId})`), sql` `)} END)`;
  const sort = (QUEUE_SORTS as readonly string[]).includes(f.sort ?? '') ? f.sort : 'urgency';
  const order: SQL[] =
    sort === 'due' ? [dir(deadlines.dueAt)]
      : sort === 'journal' ? [dir(journal)]
        : sort === 'institution' ? [dir(sql`(SELECT ${institutions.name} FROM ${institutions} WHERE ${institutions.id} = ${deadlines.institutionId})`), asc(bucket)]
          : [asc(bucket), sql`(CASE WHEN ${deadlines.dueAt} < ${at} AND NOT ${deadlines.suspended} THEN ${deadlines.dueAt} END) DESC NULLS LAST`];
  const rows = await ctx.db
    .select({ id: deadlines.id, rule: deadlines.ruleId, recordType: deadlines.recordType, recordId: deadlines.recordId, institutionId: deadlines.institutionId, areaId: deadlines.areaId, dueDate: deadlines.dueDate, suspended: deadlines.suspended, status: effectiveStatus(now) })
    .from(deadlines)
    .where(cond)
    .orderBy(...order, asc(deadlines.dueAt), asc(deadlines.id))
    .limit(PAGE_SIZE)
    .offset((page - 1) * PAGE_SIZE);

  const info = await recordInfo(ctx.db, rows);
  const insts = new Map((await listInstitutions(ctx, actor)).map((i) => [i.id, i.name]));
  const escalations = new Map((await escalationsOf(ctx, actor, { deadlineIds: rows.map((r) => r.id) })).map((e) => [e.deadlineId, e.state]));
  const items = rows.map((r): QueueItem => ({
    id: r.id,
    rule: r.rule,
    ruleTitle: ruleTitle(r.rule, lang),
    recordType: r.recordType,
    recordId: r.recordId,
    journalNumber: info.get(r.recordId)?.journalNumber ?? '?',
    institutionName: insts.get(r.institutionId) ?? r.institutionId,
    responsible: info.get(r.recordId)?.ownerName ?? ruleResponsible(r.rule, lang),
    dueDate: r.dueDate,
    days: (parseIsoDate(r.dueDate) ?? todayDay) - todayDay,
    status: r.status,
    suspended: r.suspended,
    escalation: escalations.get(r.id) ?? null,
    bulk: Object.hasOwn(BULK_SAFE, r.rule) && !r.suspended && canWrite(actor, { institutionId: r.institutionId, areaId: r.areaId }),
  }));
  return { today, soonUntil, view, mine, items, total, page, pages };
}
