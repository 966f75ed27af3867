/**
 * Planning: record → deadlines → notification rows, in one transaction. Postgres holds the whole
 * schedule; Redis only fires it. Re-planning is idempotent: a changed due date moves (or
 * supersedes) pending rows, a met deadline cancels them, sent rows are never touched.
 */
import { and, eq, inArray, lte, sql } from 'drizzle-orm';
import { formatIsoDate, incidentChapter, localDayOfInstant, nextInWindow, planStages, type Audience, type Deadline } from '../domain/index.js';
import type { Db, Executor } from '../db/client.js';
import { areas, deadlines, institutions, notifications, staff, staffAbsences } from '../db/schema.js';
import { loadRulesInForce } from '../records/calendar.js';
import { KINDS, type AnyRow, type PlanFull, type RecordTypeName } from '../records/kinds.js';
import { materialiseDeadlines } from '../records/service.js';
import { scheduleFor, type WorkerSettings } from './settings.js';

export interface PlanContext {
  closureDays: readonly string[];
  now: Date;
  settings: WorkerSettings;
}

interface Desired {
  deadlineId: string | null;
  stage: string;
  kind: 'reminder' | 'escalation' | 'alert';
  template: string;
  recipient: string;
  plannedAt: Date;
}

/** How long an immediate alert stays worth sending: an incident imported days later alerts no one. */
const ALERT_FRESHNESS_MS = 24 * 3600_000;

async function absentOn(tx: Executor, staffId: string, day: string): Promise<boolean> {
  const rows = await tx.select({ id: staffAbsences.id, from: staffAbsences.fromDate, until: staffAbsences.untilDate }).from(staffAbsences).where(eq(staffAbsences.staffId, staffId));
  return rows.some((a) => a.from <= day && day <= a.until);
}

/** The plan owner, or their substitute while they are away on that day. Null: no owner. */
async function planRecipient(tx: Executor, ownerId: string | null, at: Date): Promise<string | null> {
  if (!ownerId) return null;
  const [owner] = await tx.select().from(staff).where(eq(staff.id, ownerId));
  if (!owner) return null;
  const day = formatIsoDate(localDayOfInstant(at.getTime()));
  if (owner.active && !(await absentOn(tx, owner.id, day))) return owner.email;
  if (owner.substituteId) {
    const [sub] = await tx.select().from(staff).where(eq(staff.id, owner.substituteId));
    if (sub?.active && !(await absentOn(tx, sub.id, day))) return sub.email;
  }
  return null;
}

export interface PlanResult {
  deadlines: number;
  scheduled: number;
  cancelled: number;
  moved: number;
}

export async function planRecord(db: Db, ctx: PlanContext, type: RecordTypeName, id: string): Promise<PlanResult | undefined> {
  const kind = KINDS[type];
  return db.transaction(async (tx) => {
    // One planning of a record at a time (a burst of record.plan jobs, the sweep's catch-up): the
    // second waits and then reads the record as the first left it, instead of writing back a plan
    // computed from an older version over a newer one (read committed: each statement sees the latest).
    await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtext(${`fristvagt-plan:${type}:${id}`}))`);
    const [row] = (await kind.load(tx, [id])) as AnyRow[];
    if (!row) return undefined;
    const institutionId = (row as { institutionId: string }).institutionId;
    const [inst] = await tx.select().from(institutions).where(eq(institutions.id, institutionId));
    if (!inst) return undefined;
    const [area] = await tx.select().from(areas).where(eq(areas.id, inst.areaId));
    if (!area) return undefined;
    const computed = await materialiseDeadlines(tx, { closureDays: ctx.closureDays, now: ctx.now }, kind, row, area.id);
    const rules = await loadRulesInForce(tx, ctx.closureDays);
    const ids = await tx.select({ id: deadlines.id, key: deadlines.key }).from(deadlines).where(and(eq(deadlines.recordType, type), eq(deadlines.recordId, id), eq(deadlines.active, true)));
    const idByKey = new Map(ids.map((d) => [d.key, d.id]));
    const closed = (row as { closedAt: Date | null }).closedAt !== null;

    const existing = await tx.select().from(notifications).where(and(eq(notifications.recordType, type), eq(notifications.recordId, id)));
    const desired: Desired[] = [];
    const ownerId = type === 'action_plan' ? (row as PlanFull).ownerId : null;
    const recipient = async (audience: Audience, d: Deadline, at: Date): Promise<string | null> => {
      if (audience === 'area_office') return area.officeEmail;
      if (audience === 'second_level') return type === 'incident' ? ctx.settings.recipients.directorate : (area.leadershipEmail ?? area.officeEmail);
      if (type === 'action_plan') return planRecipient(tx, ownerId, at);
      // The incident notices are the area director's delegate's duty; the duty manager is reminded of the rest.
      return d.rule === 'incident.preliminary-notice' || d.rule === 'incident.final-report' ? area.directorEmail : inst.dutyManagerEmail;
    };
    if (!closed) {
      for (const d of computed) {
        const stages = planStages(d, rules.calendar, scheduleFor(d.rule, ctx.settings.schedule));
        let noOwnerPlanned = false;
        for (const s of stages) {
          const at = new Date(s.plannedAt);
          const to = await recipient(s.audience, d, at);
          if (to === null) {
            // A plan without an owner (or whose owner and substitute are both away) goes to the area office at once, once.
            if (!noOwnerPlanned) desired.push({ deadlineId: idByKey.get(d.key) ?? null, stage: `${d.key}:no-owner`, kind: 'reminder', template: 'reminder', recipient: area.officeEmail, plannedAt: new Date(Math.min(at.getTime(), ctx.now.getTime())) });
            noOwnerPlanned = true;
            continue;
          }
          desired.push({ deadlineId: idByKey.get(d.key) ?? null, stage: `${d.key}:${s.stage}`, kind: s.kind, template: s.kind, recipient: to, plannedAt: at });
        }
      }
      if (type === 'incident') {
        const inc = row as { kind: Parameters<typeof incidentChapter>[0]; registeredAt: Date; mediaAttention: boolean; occurredAt: Date };
        const fresh = ctx.now.getTime() - inc.registeredAt.getTime() < ALERT_FRESHNESS_MS;
        // Freshness decides whether an alert is planned, not whether a planned one survives: one
        // still waiting after a long outage goes out late rather than being dropped unseen.
        const planned = (stage: string): boolean => existing.some((n) => n.stage === stage && n.status !== 'superseded' && n.status !== 'cancelled');
        if ((fresh || planned('alert:area-director')) && incidentChapter(inc.kind) !== 5 && computed.length > 0) {
          desired.push({ deadlineId: null, stage: 'alert:area-director', kind: 'alert', template: 'alert-area-director', recipient: area.directorEmail, plannedAt: inc.registeredAt });
        }
        if ((fresh || planned('alert:directorate-phone')) && inc.mediaAttention && incidentChapter(inc.kind) !== 5) {
          const earlier = existing.find((n) => n.stage === 'alert:directorate-phone' && n.recipient === inst.dutyManagerEmail);
          desired.push({ deadlineId: null, stage: 'alert:directorate-phone', kind: 'alert', template: 'alert-directorate-phone', recipient: inst.dutyManagerEmail, plannedAt: earlier?.plannedAt ?? ctx.now });
        }
      }
    }

    // Stages already in the past when first planned (a record entered late): a past reminder is
    // only worth sending when no later reminder is still to come, and then within the send window;
    // of past escalations only the latest goes out. No burst of stale mails.
    const nowMs = ctx.now.getTime();
    const group = (d: Desired): string => `${d.deadlineId}:${d.kind}:${d.recipient}`;
    const latestPast = new Map<string, number>();
    const hasFuture = new Set<string>();
    for (const d of desired) {
      if (d.kind === 'alert') continue;
      if (d.plannedAt.getTime() >= nowMs) hasFuture.add(group(d));
      else latestPast.set(group(d), Math.max(latestPast.get(group(d)) ?? 0, d.plannedAt.getTime()));
    }
    const isStale = (d: Desired): boolean => {
      if (d.kind === 'alert' || d.plannedAt.getTime() >= nowMs) return false;
      if (d.kind === 'reminder' && hasFuture.has(group(d))) return true;
      return (latestPast.get(group(d)) ?? 0) > d.plannedAt.getTime();
    };
    const window = ctx.settings.schedule.window;
    for (const d of desired) {
      if (d.kind === 'reminder' && d.plannedAt.getTime() < nowMs && !isStale(d)) d.plannedAt = new Date(nextInWindow(nowMs, rules.calendar, window));
    }

    const byKey = new Map(existing.map((n) => [`${n.stage}|${n.recipient}`, n]));
    const wanted = new Set(desired.map((d) => `${d.stage}|${d.recipient}`));
    const result: PlanResult = { deadlines: computed.length, scheduled: 0, cancelled: 0, moved: 0 };
    const metKeys = new Set(computed.filter((d) => d.status === 'met' || d.status === 'met_late' || d.suspended).map((d) => d.key));

    for (const n of existing) {
      // Failure reports and legal notices are not the planner's to cancel.
      if (n.status !== 'scheduled' || wanted.has(`${n.stage}|${n.recipient}`) || n.stage.startsWith('failure:') || n.stage.startsWith('notice:')) continue;
      const deadlineKey = n.stage.split(':')[0] ?? '';
      const status = metKeys.has(deadlineKey) || closed ? 'cancelled' : 'superseded';
      await tx.update(notifications).set({ status, version: n.version + 1, updatedAt: ctx.now }).where(and(eq(notifications.id, n.id), eq(notifications.status, 'scheduled')));
      result.cancelled++;
    }
    for (const d of desired) {
      const n = byKey.get(`${d.stage}|${d.recipient}`);
      const stale = isStale(d);
      if (!n) {
        await tx.insert(notifications).values({ deadlineId: d.deadlineId, recordType: type, recordId: id, stage: d.stage, kind: d.kind, template: d.template, recipient: d.recipient, plannedAt: d.plannedAt, status: stale ? 'superseded' : 'scheduled' }).onConflictDoNothing();
        if (!stale) result.scheduled++;
        continue;
      }
      if (n.status === 'scheduled' && stale) {
        // A settings change moved a waiting stage into the past while a later one is still to come
        // (or a later escalation already applies): it would fire at once, out of turn. Drop it.
        await tx.update(notifications).set({ status: 'superseded', version: n.version + 1, updatedAt: ctx.now }).where(and(eq(notifications.id, n.id), eq(notifications.status, 'scheduled')));
        result.cancelled++;
      } else if (n.status === 'scheduled' && n.plannedAt.getTime() !== d.plannedAt.getTime()) {
        await tx.update(notifications).set({ plannedAt: d.plannedAt, deadlineId: d.deadlineId, version: n.version + 1, updatedAt: ctx.now }).where(and(eq(notifications.id, n.id), eq(notifications.status, 'scheduled')));
        result.moved++;
      } else if ((n.status === 'cancelled' || n.status === 'superseded') && !stale && d.plannedAt.getTime() > ctx.now.getTime()) {
        // Reopened (a completion was withdrawn, a due date moved back): the stage is wanted again.
        await tx.update(notifications).set({ status: 'scheduled', plannedAt: d.plannedAt, deadlineId: d.deadlineId, version: n.version + 1, updatedAt: ctx.now }).where(eq(notifications.id, n.id));
        result.scheduled++;
      }
    }
    return result;
  });
}

/** Scheduled notifications of some records (or all) due before `until`: what the queue must hold. */
export async function dueNotifications(db: Executor, until: Date, recordIds?: string[]) {
  const conds = [eq(notifications.status, 'scheduled'), lte(notifications.plannedAt, until)];
  if (recordIds) conds.push(inArray(notifications.recordId, recordIds));
  return db
    .select({ id: notifications.id, version: notifications.version, plannedAt: notifications.plannedAt, attempts: notifications.attempts, lastError: notifications.lastError, updatedAt: notifications.updatedAt })
    .from(notifications)
    .where(and(...conds));
}
