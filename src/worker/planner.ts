/**
 * Planning: record → deadlines → notification rows, in one transaction. Postgres holds the whole
 * schedule; Redis only fires it. Re-planning is idempotent: a changed due date moves (or
 * supersedes) pending rows, a met deadline cancels them, sent rows are never touched.
 *
 * Who gets what is `desiredNotifications`, a pure function of the record, its deadlines and the
 * settings; the settings page's impact preview (src/ui/data/impact.ts) calls the same function.
 */
import { and, eq, inArray, lte, sql } from 'drizzle-orm';
import { DomainError, formatIsoDate, formatPath, localDayOfInstant, nextInWindow, planStages, type Calendar, type Deadline, type DeadlineSet } from '../domain/index.js';
import type { Db, Executor } from '../db/client.js';
import { areas, deadlines, institutions, notifications, staff, staffAbsences } from '../db/schema.js';
import { loadRulesInForce } from '../records/calendar.js';
import { KINDS, type AnyRow, type PlanFull, type RecordTypeName } from '../records/kinds.js';
import { materialiseDeadlines } from '../records/service.js';
import { scheduleFor, type RecipientsSetting, type ScheduleSetting, type WorkerSettings } from './settings.js';

export interface PlanContext {
  closureDays: readonly string[];
  now: Date;
  settings: WorkerSettings;
}

export interface DesiredNotification {
  /** The deadline's key (null for an alert). */
  deadlineKey: string | null;
  stage: string;
  kind: 'reminder' | 'escalation' | 'alert';
  template: string;
  recipient: string;
  plannedAt: Date;
  /** In the past when planned, and a later stage applies: the planner does not send it. */
  stale: boolean;
}

type AreaRow = typeof areas.$inferSelect;
type InstRow = typeof institutions.$inferSelect;
type StaffRow = typeof staff.$inferSelect;
type AbsenceRow = Pick<typeof staffAbsences.$inferSelect, 'staffId' | 'fromDate' | 'untilDate'>;
type OutboxRow = Pick<typeof notifications.$inferSelect, 'stage' | 'recipient' | 'status' | 'plannedAt'>;

/** How long an immediate alert stays worth sending: an incident imported days later alerts no one. */
const ALERT_FRESHNESS_MS = 24 * 3600_000;

type Party = 'area_director' | 'area_office' | 'duty_manager';

/**
 * Who is reminded of a rule's deadline (the `responsible` stages); a second party gets the same
 * reminders in copy. Rules not listed: the plan owner for plans, the duty manager otherwise.
 */
const REMINDED: Record<string, readonly Party[]> = {
  // The incident notices and the chapter 5 closing (§ 20) are the area director's delegate's duty.
  'incident.preliminary-notice': ['area_director'],
  'incident.final-report': ['area_director'],
  'incident.chapter5-closing': ['area_director'],
  // § 21: the closing letter (and its copy to Klientsager) is the area office's own assessment; the institution is told in copy.
  'incident.closing-letter': ['area_office', 'duty_manager'],
  'incident.closing-letter-copy': ['area_office', 'duty_manager'],
  // Seed 001: the area's management and lawyers review the security-cell cases.
  'cell.case-review': ['area_office'],
};

/** The engine's immediate duties that the worker alerts someone of, by rule. Others are shown in the record only. */
const ALERTS: Record<string, { stage: string; template: string; to: Party; plannedAt: 'registered' | 'first-planned' }> = {
  // § 5, § 10 and § 17: "Områdedirektøren skal snarest muligt underrettes" – chapter 5 too.
  'incident.area-director-alert': { stage: 'alert:area-director', template: 'alert-area-director', to: 'area_director', plannedAt: 'registered' },
  // § 6 stk. 1 (chapter 3 only, the engine decides): media attention may be flagged after registration.
  'incident.directorate-phone': { stage: 'alert:directorate-phone', template: 'alert-directorate-phone', to: 'duty_manager', plannedAt: 'first-planned' },
};

export interface PlanInput {
  type: RecordTypeName;
  row: AnyRow;
  inst: InstRow;
  area: AreaRow;
  set: DeadlineSet;
  calendar: Calendar;
  settings: { schedule: ScheduleSetting; recipients: RecipientsSetting };
  now: Date;
  /** The record's rows in the outbox (an alert once planned stays wanted after its freshness). */
  existing: readonly OutboxRow[];
  /** A plan's owner, or their substitute, present on a day; null when neither is. */
  planOwner(at: Date): string | null;
}

/** The notifications a record should have: reminders and escalations of its deadlines, alerts of its immediate duties. */
export function desiredNotifications(p: PlanInput): DesiredNotification[] {
  const { type, row, inst, area, now } = p;
  if ((row as { closedAt: Date | null }).closedAt !== null) return [];
  const partyEmail: Record<Party, string> = { area_director: area.directorEmail, area_office: area.officeEmail, duty_manager: inst.dutyManagerEmail };
  const responsible = (d: Deadline, at: Date): Array<string | null> => {
    const listed = REMINDED[d.rule];
    if (listed) return [...new Set(listed.map((x) => partyEmail[x]))];
    return [type === 'action_plan' ? p.planOwner(at) : inst.dutyManagerEmail];
  };
  const desired: DesiredNotification[] = [];
  for (const d of p.set.deadlines) {
    // Ended by a reclassification: kept for the record and the figures, nobody is reminded.
    if (d.endedBy) continue;
    const stages = planStages(d, p.calendar, scheduleFor(d.rule, p.settings.schedule));
    let noOwnerPlanned = false;
    for (const s of stages) {
      const at = new Date(s.plannedAt);
      const to = s.audience === 'area_office' ? [area.officeEmail] : s.audience === 'second_level' ? [type === 'incident' ? p.settings.recipients.directorate : (area.leadershipEmail ?? area.officeEmail)] : responsible(d, at);
      for (const recipient of to) {
        if (recipient === null) {
          // A plan without an owner (or whose owner and substitute are both away) goes to the area office at once, once.
          if (!noOwnerPlanned) desired.push({ deadlineKey: d.key, stage: `${d.key}:no-owner`, kind: 'reminder', template: 'reminder', recipient: area.officeEmail, plannedAt: new Date(Math.min(at.getTime(), now.getTime())), stale: false });
          noOwnerPlanned = true;
          continue;
        }
        desired.push({ deadlineKey: d.key, stage: `${d.key}:${s.stage}`, kind: s.kind, template: s.kind, recipient, plannedAt: at, stale: false });
      }
    }
  }
  if (type === 'incident') {
    const registeredAt = (row as { registeredAt: Date }).registeredAt;
    const fresh = now.getTime() - registeredAt.getTime() < ALERT_FRESHNESS_MS;
    // Freshness decides whether an alert is planned, not whether a planned one survives: one
    // still waiting after a long outage goes out late rather than being dropped unseen.
    const planned = (stage: string): boolean => p.existing.some((n) => n.stage === stage && n.status !== 'superseded' && n.status !== 'cancelled');
    for (const duty of p.set.immediate) {
      const alert = ALERTS[duty.rule];
      if (!alert || !(fresh || planned(alert.stage))) continue;
      const recipient = partyEmail[alert.to];
      const earlier = p.existing.find((n) => n.stage === alert.stage && n.recipient === recipient);
      const plannedAt = alert.plannedAt === 'registered' ? registeredAt : (earlier?.plannedAt ?? now);
      desired.push({ deadlineKey: null, stage: alert.stage, kind: 'alert', template: alert.template, recipient, plannedAt, stale: false });
    }
  }

  // Stages already in the past when first planned (a record entered late): a past reminder is
  // only worth sending when no later reminder is still to come, and then within the send window;
  // of past escalations only the latest goes out. No burst of stale mails.
  const nowMs = now.getTime();
  const group = (d: DesiredNotification): string => `${d.deadlineKey}:${d.kind}:${d.recipient}`;
  const latestPast = new Map<string, number>();
  const hasFuture = new Set<string>();
  for (const d of desired) {
    if (d.kind === 'alert') continue;
    if (d.plannedAt.getTime() >= nowMs) hasFuture.add(group(d));
    else latestPast.set(group(d), Math.max(latestPast.get(group(d)) ?? 0, d.plannedAt.getTime()));
  }
  for (const d of desired) {
    if (d.kind === 'alert' || d.plannedAt.getTime() >= nowMs) continue;
    d.stale = (d.kind === 'reminder' && hasFuture.has(group(d))) || (latestPast.get(group(d)) ?? 0) > d.plannedAt.getTime();
  }
  const window = p.settings.schedule.window;
  for (const d of desired) {
    if (d.kind === 'reminder' && d.plannedAt.getTime() < nowMs && !d.stale) d.plannedAt = new Date(nextInWindow(nowMs, p.calendar, window));
  }
  return desired;
}

/** A plan owner's recipient function, from their staff rows and absences (loaded once per plan). */
export function planOwnerOf(ownerId: string | null, staffById: ReadonlyMap<string, StaffRow>, absences: readonly AbsenceRow[]): (at: Date) => string | null {
  const absentOn = (staffId: string, day: string): boolean => absences.some((a) => a.staffId === staffId && a.fromDate <= day && day <= a.untilDate);
  return (at) => {
    if (!ownerId) return null;
    const owner = staffById.get(ownerId);
    if (!owner) return null;
    const day = formatIsoDate(localDayOfInstant(at.getTime()));
    if (owner.active && !absentOn(owner.id, day)) return owner.email;
    const sub = owner.substituteId ? staffById.get(owner.substituteId) : undefined;
    if (sub?.active && !absentOn(sub.id, day)) return sub.email;
    return null;
  };
}

/** The owner and their substitute with their absences, for planOwnerOf. */
async function loadPlanOwner(tx: Executor, ownerId: string | null): Promise<(at: Date) => string | null> {
  if (!ownerId) return () => null;
  const [owner] = await tx.select().from(staff).where(eq(staff.id, ownerId));
  const sub = owner?.substituteId ? (await tx.select().from(staff).where(eq(staff.id, owner.substituteId)))[0] : undefined;
  const people = [owner, sub].filter((x): x is StaffRow => x !== undefined);
  const absences = people.length > 0 ? await tx.select({ staffId: staffAbsences.staffId, fromDate: staffAbsences.fromDate, untilDate: staffAbsences.untilDate }).from(staffAbsences).where(inArray(staffAbsences.staffId, people.map((x) => x.id))) : [];
  return planOwnerOf(ownerId, new Map(people.map((x) => [x.id, x])), absences);
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
    const set = await materialiseDeadlines(tx, { closureDays: ctx.closureDays, now: ctx.now }, kind, row, area.id);
    const computed = set.deadlines;
    const rules = await loadRulesInForce(tx, ctx.closureDays);
    const ids = await tx.select({ id: deadlines.id, key: deadlines.key }).from(deadlines).where(and(eq(deadlines.recordType, type), eq(deadlines.recordId, id), eq(deadlines.active, true)));
    const idByKey = new Map(ids.map((d) => [d.key, d.id]));
    const closed = (row as { closedAt: Date | null }).closedAt !== null;

    const existing = await tx.select().from(notifications).where(and(eq(notifications.recordType, type), eq(notifications.recordId, id)));
    const planOwner = type === 'action_plan' && !closed ? await loadPlanOwner(tx, (row as PlanFull).ownerId) : () => null;
    const desired = desiredNotifications({ type, row, inst, area, set, calendar: rules.calendar, settings: ctx.settings, now: ctx.now, existing, planOwner });
    const deadlineIdOf = (d: DesiredNotification): string | null => (d.deadlineKey === null ? null : (idByKey.get(d.deadlineKey) ?? null));

    const byKey = new Map(existing.map((n) => [`${n.stage}|${n.recipient}`, n]));
    const wanted = new Set(desired.map((d) => `${d.stage}|${d.recipient}`));
    const result: PlanResult = { deadlines: computed.length, scheduled: 0, cancelled: 0, moved: 0 };
    // Done, suspended or ended by a reclassification, or no longer a deadline of the record (an open
    // one dropped by a reclassification, a rule turned off): their waiting rows are cancelled. Only a
    // stage replaced by another of the same deadline (a moved date, a new schedule) is superseded.
    const stillWatched = new Set(computed.filter((d) => !(d.status === 'met' || d.status === 'met_late' || d.suspended || d.endedBy)).map((d) => d.key));

    for (const n of existing) {
      // Failure reports and legal notices are not the planner's to cancel.
      if (n.status !== 'scheduled' || wanted.has(`${n.stage}|${n.recipient}`) || n.stage.startsWith('failure:') || n.stage.startsWith('notice:')) continue;
      const deadlineKey = n.stage.split(':')[0] ?? '';
      const status = closed || !stillWatched.has(deadlineKey) ? 'cancelled' : 'superseded';
      await tx.update(notifications).set({ status, version: n.version + 1, updatedAt: ctx.now }).where(and(eq(notifications.id, n.id), eq(notifications.status, 'scheduled')));
      result.cancelled++;
    }
    for (const d of desired) {
      const n = byKey.get(`${d.stage}|${d.recipient}`);
      const deadlineId = deadlineIdOf(d);
      if (!n) {
        await tx.insert(notifications).values({ deadlineId, recordType: type, recordId: id, stage: d.stage, kind: d.kind, template: d.template, recipient: d.recipient, plannedAt: d.plannedAt, status: d.stale ? 'superseded' : 'scheduled' }).onConflictDoNothing();
        if (!d.stale) result.scheduled++;
        continue;
      }
      if (n.status === 'scheduled' && d.stale) {
        // A settings change moved a waiting stage into the past while a later one is still to come
        // (or a later escalation already applies): it would fire at once, out of turn. Drop it.
        await tx.update(notifications).set({ status: 'superseded', version: n.version + 1, updatedAt: ctx.now }).where(and(eq(notifications.id, n.id), eq(notifications.status, 'scheduled')));
        result.cancelled++;
      } else if (n.status === 'scheduled' && n.plannedAt.getTime() !== d.plannedAt.getTime()) {
        await tx.update(notifications).set({ plannedAt: d.plannedAt, deadlineId, version: n.version + 1, updatedAt: ctx.now }).where(and(eq(notifications.id, n.id), eq(notifications.status, 'scheduled')));
        result.moved++;
      } else if ((n.status === 'cancelled' || n.status === 'superseded') && !d.stale && d.plannedAt.getTime() > ctx.now.getTime()) {
        // Reopened (a completion was withdrawn, a due date moved back): the stage is wanted again.
        await tx.update(notifications).set({ status: 'scheduled', plannedAt: d.plannedAt, deadlineId, version: n.version + 1, updatedAt: ctx.now }).where(eq(notifications.id, n.id));
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
    .select({ id: notifications.id, version: notifications.version, stage: notifications.stage, plannedAt: notifications.plannedAt, attempts: notifications.attempts, lastError: notifications.lastError, updatedAt: notifications.updatedAt })
    .from(notifications)
    .where(and(...conds));
}

export interface RecordRef {
  type: RecordTypeName;
  id: string;
}

/**
 * Plans many records: the batched entry point the worker's catch-up, the change feed and the
 * importer call. Records the rules in force refuse are reported in `refused`, not thrown, so one
 * bad row never holds up the others.
 */
export async function planRecords(db: Db, ctx: PlanContext, refs: readonly RecordRef[]): Promise<PlanResult & { records: number; refused: Array<RecordRef & { code: string; fields: string[] }> }> {
  const total = { records: 0, deadlines: 0, scheduled: 0, cancelled: 0, moved: 0, refused: [] as Array<RecordRef & { code: string; fields: string[] }> };
  for (const r of refs) {
    try {
      const res = await planRecord(db, ctx, r.type, r.id);
      if (!res) continue;
      total.records++;
      total.deadlines += res.deadlines;
      total.scheduled += res.scheduled;
      total.cancelled += res.cancelled;
      total.moved += res.moved;
    } catch (err) {
      if (!(err instanceof DomainError)) throw err;
      total.refused.push({ ...r, code: err.code, fields: err.issues.map((i) => formatPath(i.path)) });
    }
  }
  return total;
}
