/**
 * The planning core: which notifications a record should have, and what has to change in the
 * outbox to get there. Pure: the worker's planner (src/worker/planner.ts) loads records, deadlines,
 * staff and the outbox in batches and writes the diff back; the settings page's impact preview
 * (src/ui/data/impact.ts) runs the same two functions for the saved and the proposed settings and
 * applies the diff in memory. There is one planner; nothing to keep in step.
 *
 *   planNotifications(record, deadlines, people, settings, now)     → desired notifications + backlog
 *   desiredNotifications(…)                                          → the desired notifications alone
 *   diffOutbox(existing rows, desired, now)                         → inserts and status/time changes
 *   applyOutboxDiff(existing rows, diff)                             → the rows as the worker leaves them
 */
import type { Calendar } from './calendar.js';
import type { Deadline, DeadlineSet } from './deadlines.js';
import { formatIsoDate } from './dates.js';
import { minutesOf, nextInWindow, planStages, type ScheduleConfig, type SendWindow, type StageConfig } from './schedule.js';
import { instantOfLocal, localDayOfInstant } from './zone.js';

export type NotificationKind = 'reminder' | 'escalation' | 'alert';

export interface DesiredNotification {
  /** The deadline's key (null for an alert). */
  deadlineKey: string | null;
  stage: string;
  kind: NotificationKind;
  template: string;
  recipient: string;
  plannedAt: Date;
  /** In the past when planned, and a later stage applies: the planner does not send it. */
  stale: boolean;
}

/** The schedule setting: default stages, send window, no-wait rules, and per-rule stage lists. */
export interface PlanSchedule extends ScheduleConfig {
  perRule?: Partial<Record<string, StageConfig[]>> | undefined;
}

/** The stages of one rule: its own list when an administrator set one, the default stages otherwise. */
export function scheduleFor(rule: string, s: PlanSchedule): ScheduleConfig {
  const own = s.perRule?.[rule];
  return { stages: own ?? s.stages, window: s.window, noWaitRules: s.noWaitRules };
}

/** Where the parties of a record are reached (from its institution and area, and the recipients setting). */
export interface PlanAddresses {
  areaDirector: string;
  areaOffice: string;
  /** The area's leadership (second level for plans); the area office when unset. */
  areaLeadership: string | null;
  dutyManager: string;
  /** The directorate (second level for incidents); null while an administrator has not set it: nothing goes to it. */
  directorate: string | null;
}

/** A row of the outbox as the planner sees it. */
export interface OutboxRow {
  id: string;
  stage: string;
  recipient: string;
  kind: string;
  status: string;
  plannedAt: Date;
  version: number;
}

export interface PlanRecordInput {
  recordType: string;
  closed: boolean;
  /**
   * When the record arrived in fristvagt: its creation, never a later edit. What was already
   * breached then, or too old to alert of, is the backlog (listed and summarised, not mailed one
   * by one); stored, so every later planning (an edit, a settings change, the sweep) decides alike.
   */
  arrivedAt: Date;
  /** Policy (the `recency` setting): an immediate alert is sent only when the record arrived within this many working days of the alert's trigger. */
  recentWorkingDays: number;
  addresses: PlanAddresses;
  set: DeadlineSet;
  calendar: Calendar;
  schedule: PlanSchedule;
  now: Date;
  /** The record's rows in the outbox (an alert once planned stays wanted after its freshness). */
  existing: readonly Pick<OutboxRow, 'stage' | 'recipient' | 'status' | 'plannedAt'>[];
  /** A plan's owner, or their substitute, present on a day; null when neither is. */
  planOwner(at: Date): string | null;
}

/** The default of the `recency` setting (policy, not law): alerts for events registered at most 2 working days before they arrived. */
export const DEFAULT_RECENT_WORKING_DAYS = 2;

/**
 * Whether an event at `eventMs` was recent when fristvagt learnt of it at `learntMs`: the learning
 * day is at most `workingDays` working days after the event's local day (the event day not counted).
 */
export function isRecent(eventMs: number, learntMs: number, workingDays: number, calendar: Calendar): boolean {
  const eventDay = localDayOfInstant(eventMs);
  return localDayOfInstant(learntMs) <= calendar.addWorkingDaysEpoch(eventDay, workingDays);
}

/**
 * An item of the backlog: a deadline already breached when its record arrived, or an immediate
 * alert whose trigger was no longer recent then. Listed for the area (UI, backlog summary mail),
 * never mailed on its own.
 */
export interface BacklogItem {
  /** The deadline's key, or the alert's stage. */
  key: string;
  kind: 'deadline' | 'alert';
  rule: string;
  /** The due day (an alert: its trigger's day), local YYYY-MM-DD. */
  dueDate: string;
  dueAt: Date;
}

export interface NotificationPlan {
  desired: DesiredNotification[];
  backlog: BacklogItem[];
  /** Stages left out because their recipient (the directorate) is not set. */
  unaddressed: number;
}

/** When the backlog summary of the items listed on `now`'s day goes out: the send window's start on the next working day. */
export function backlogSummaryAt(now: Date, calendar: Calendar, window: SendWindow): Date {
  const day = calendar.addWorkingDaysEpoch(localDayOfInstant(now.getTime()), 1);
  return new Date(instantOfLocal(day, minutesOf(window.from) * 60_000));
}

type Party = 'area_director' | 'area_office' | 'duty_manager';

/**
 * Who is reminded of a rule's deadline (the `responsible` stages); a second party gets the same
 * reminders in copy. Rules not listed: the plan owner for plans, the duty manager otherwise.
 */
export const REMINDED: Readonly<Record<string, readonly Party[]>> = {
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
export const ALERTS: Readonly<Record<string, { stage: string; template: string; to: Party; plannedAt: 'registered' | 'first-planned' }>> = {
  // § 5, § 10 and § 17: "Områdedirektøren skal snarest muligt underrettes" – chapter 5 too.
  'incident.area-director-alert': { stage: 'alert:area-director', template: 'alert-area-director', to: 'area_director', plannedAt: 'registered' },
  // § 6 stk. 1 (chapter 3 only, the engine decides): media attention may be flagged after registration.
  'incident.directorate-phone': { stage: 'alert:directorate-phone', template: 'alert-directorate-phone', to: 'duty_manager', plannedAt: 'first-planned' },
};

/** The notifications a record should have: reminders and escalations of its deadlines, alerts of its immediate duties. */
export function desiredNotifications(p: PlanRecordInput): DesiredNotification[] {
  return planNotifications(p).desired;
}

/**
 * The notifications a record should have, and its backlog. A deadline already breached when the
 * record arrived is backlog: no reminder, no escalation. An immediate alert is sent only when the
 * record arrived within the recency window of its trigger; an older one is backlog. Of the other
 * stages, one in the past when planned is stale (see below), and no reminder is planned after the
 * deadline was breached.
 */
export function planNotifications(p: PlanRecordInput): NotificationPlan {
  const { now, addresses: a } = p;
  const out: NotificationPlan = { desired: [], backlog: [], unaddressed: 0 };
  if (p.closed) return out;
  const arrivedMs = p.arrivedAt.getTime();
  const partyEmail: Record<Party, string> = { area_director: a.areaDirector, area_office: a.areaOffice, duty_manager: a.dutyManager };
  const responsible = (d: Deadline, at: Date): Array<string | null> => {
    const listed = REMINDED[d.rule];
    if (listed) return [...new Set(listed.map((x) => partyEmail[x]))];
    return [p.recordType === 'action_plan' ? p.planOwner(at) : a.dutyManager];
  };
  const secondLevel = p.recordType === 'incident' ? a.directorate : (a.areaLeadership ?? a.areaOffice);
  const desired = out.desired;
  const dueMs = new Map<string, number>();
  for (const d of p.set.deadlines) {
    // Ended by a reclassification: kept for the record and the figures, nobody is reminded.
    if (d.endedBy) continue;
    const due = Date.parse(d.dueAt);
    dueMs.set(d.key, due);
    const watched = d.obligation === 'duty' && !(d.status === 'met' || d.status === 'met_late' || d.suspended);
    if (watched && due < arrivedMs) {
      // Breached before fristvagt knew of it: listed in the area's backlog, not escalated one mail each.
      out.backlog.push({ key: d.key, kind: 'deadline', rule: d.rule, dueDate: d.dueDate, dueAt: new Date(due) });
      continue;
    }
    const stages = planStages(d, p.calendar, scheduleFor(d.rule, p.schedule));
    let noOwnerPlanned = false;
    for (const s of stages) {
      const at = new Date(s.plannedAt);
      const to = s.audience === 'area_office' ? [a.areaOffice] : s.audience === 'second_level' ? [secondLevel] : responsible(d, at);
      for (const recipient of to) {
        if (recipient === null && s.audience === 'second_level') {
          // The directorate's address is not set: nobody to send to (config check and /readyz say so).
          out.unaddressed++;
          continue;
        }
        if (recipient === null) {
          // A plan without an owner (or whose owner and substitute are both away) goes to the area office at once, once.
          if (!noOwnerPlanned) desired.push({ deadlineKey: d.key, stage: `${d.key}:no-owner`, kind: 'reminder', template: 'reminder', recipient: a.areaOffice, plannedAt: new Date(Math.min(at.getTime(), now.getTime())), stale: false });
          noOwnerPlanned = true;
          continue;
        }
        desired.push({ deadlineKey: d.key, stage: `${d.key}:${s.stage}`, kind: s.kind, template: s.kind, recipient, plannedAt: at, stale: false });
      }
    }
  }
  // An alert once planned stays wanted (one still waiting after a long outage goes out late rather
  // than being dropped unseen); a new one only when the record arrived while its trigger was recent.
  const planned = (stage: string): boolean => p.existing.some((n) => n.stage === stage && n.status !== 'superseded' && n.status !== 'cancelled');
  for (const duty of p.set.immediate) {
    const alert = ALERTS[duty.rule];
    if (!alert) continue;
    const triggered = Date.parse(duty.triggeredAt);
    if (!planned(alert.stage) && !isRecent(triggered, arrivedMs, p.recentWorkingDays, p.calendar)) {
      out.backlog.push({ key: alert.stage, kind: 'alert', rule: duty.rule, dueDate: formatIsoDate(localDayOfInstant(triggered)), dueAt: new Date(triggered) });
      continue;
    }
    const recipient = partyEmail[alert.to];
    const earlier = p.existing.find((n) => n.stage === alert.stage && n.recipient === recipient);
    // Never before the record arrived: a record registered yesterday and entered today alerts now, not "yesterday".
    const plannedAt = alert.plannedAt === 'registered' ? new Date(Math.max(triggered, arrivedMs)) : (earlier?.plannedAt ?? now);
    desired.push({ deadlineKey: null, stage: alert.stage, kind: 'alert', template: alert.template, recipient, plannedAt, stale: false });
  }

  // Stages already in the past when first planned (a record planned late, a due date moved back):
  // a past reminder is only worth sending when no later reminder is still to come, then within
  // the send window and only while the deadline is not yet breached (never after its escalation);
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
  const window = p.schedule.window;
  for (const d of desired) {
    if (d.kind !== 'reminder' || d.plannedAt.getTime() >= nowMs || d.stale) continue;
    const moved = nextInWindow(nowMs, p.calendar, window);
    const due = d.deadlineKey === null ? undefined : dueMs.get(d.deadlineKey);
    if (due !== undefined && moved > due) d.stale = true;
    else d.plannedAt = new Date(moved);
  }
  return out;
}

export interface StaffMember {
  id: string;
  email: string;
  active: boolean;
  substituteId: string | null;
}

export interface Absence {
  staffId: string;
  /** ISO dates, inclusive. */
  fromDate: string;
  untilDate: string;
}

/** A plan owner's recipient function: the owner when present, else their substitute when present, else null. */
export function planOwnerOf(ownerId: string | null, staffById: ReadonlyMap<string, StaffMember>, absences: readonly Absence[]): (at: Date) => string | null {
  const absentOn = (staffId: string, day: string): boolean => absences.some((x) => x.staffId === staffId && x.fromDate <= day && day <= x.untilDate);
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

/** Deadlines whose reminders are still wanted: not met, suspended or ended by a reclassification. */
export function watchedDeadlineKeys(set: DeadlineSet): Set<string> {
  return new Set(set.deadlines.filter((d) => !(d.status === 'met' || d.status === 'met_late' || d.suspended || d.endedBy)).map((d) => d.key));
}

export type OutboxChangeOp = 'cancel' | 'supersede' | 'move' | 'reopen';

/** One change to an existing row, made only if the row is still in `from` when it is written. */
export interface OutboxChange {
  id: string;
  op: OutboxChangeOp;
  from: string;
  status: string;
  plannedAt: Date;
  /** The deadline the row belongs to (moved and reopened rows are re-linked to the deadline's row). */
  deadlineKey: string | null;
}

export interface OutboxDiff {
  insert: Array<DesiredNotification & { status: 'scheduled' }>;
  change: OutboxChange[];
  scheduled: number;
  cancelled: number;
  moved: number;
}

const rowKey = (n: { stage: string; recipient: string }): string => `${n.stage}|${n.recipient}`;

/**
 * What must change in a record's outbox to hold the desired notifications. Sent, failed and
 * in-flight rows are never touched. A waiting row no longer wanted is cancelled when its deadline
 * is done, suspended, ended or gone, or the record is closed; it is superseded when another stage
 * of the same deadline replaces it (a moved date, a new schedule). Failure reports and legal
 * notices are not the planner's to cancel. A new stage is inserted unless it is stale already (a
 * record entered late: its past reminders are never planned). A waiting row whose stage has become
 * stale is superseded (it would fire at once, out of turn); a cancelled or superseded row wanted
 * again in the future is reopened.
 */
export function diffOutbox(existing: readonly OutboxRow[], desired: readonly DesiredNotification[], ctx: { now: Date; closed: boolean; watched: ReadonlySet<string> }): OutboxDiff {
  const byKey = new Map(existing.map((n) => [rowKey(n), n]));
  const wanted = new Set(desired.map(rowKey));
  const out: OutboxDiff = { insert: [], change: [], scheduled: 0, cancelled: 0, moved: 0 };
  for (const n of existing) {
    if (n.status !== 'scheduled' || wanted.has(rowKey(n)) || n.stage.startsWith('failure:') || n.stage.startsWith('notice:')) continue;
    const deadlineKey = n.stage.split(':')[0] ?? '';
    const op = ctx.closed || !ctx.watched.has(deadlineKey) ? 'cancel' : 'supersede';
    out.change.push({ id: n.id, op, from: 'scheduled', status: op === 'cancel' ? 'cancelled' : 'superseded', plannedAt: n.plannedAt, deadlineKey: null });
    out.cancelled++;
  }
  for (const d of desired) {
    const n = byKey.get(rowKey(d));
    if (!n) {
      // A stage already stale when it is first planned is not written: the outbox holds what is,
      // was or will be sent, and what was waiting and then replaced; this never was any of these.
      if (d.stale) continue;
      out.insert.push({ ...d, status: 'scheduled' });
      out.scheduled++;
    } else if (n.status === 'scheduled' && d.stale) {
      out.change.push({ id: n.id, op: 'supersede', from: 'scheduled', status: 'superseded', plannedAt: n.plannedAt, deadlineKey: null });
      out.cancelled++;
    } else if (n.status === 'scheduled' && n.plannedAt.getTime() !== d.plannedAt.getTime()) {
      out.change.push({ id: n.id, op: 'move', from: 'scheduled', status: 'scheduled', plannedAt: d.plannedAt, deadlineKey: d.deadlineKey });
      out.moved++;
    } else if ((n.status === 'cancelled' || n.status === 'superseded') && !d.stale && d.plannedAt.getTime() > ctx.now.getTime()) {
      // Reopened (a completion was withdrawn, a due date moved back): the stage is wanted again.
      out.change.push({ id: n.id, op: 'reopen', from: n.status, status: 'scheduled', plannedAt: d.plannedAt, deadlineKey: d.deadlineKey });
      out.scheduled++;
    }
  }
  return out;
}

export interface OutboxState {
  stage: string;
  recipient: string;
  kind: string;
  status: string;
  plannedAt: Date;
  /** False for a row the diff would insert. */
  stored: boolean;
}

/** The record's outbox as the worker leaves it after writing `diff` (changes apply only to rows still in their `from` state). */
export function applyOutboxDiff(existing: readonly OutboxRow[], diff: OutboxDiff): OutboxState[] {
  const changes = new Map(diff.change.map((c) => [c.id, c]));
  const rows: OutboxState[] = existing.map((n) => {
    const c = changes.get(n.id);
    const applies = c !== undefined && c.from === n.status;
    return { stage: n.stage, recipient: n.recipient, kind: n.kind, status: applies ? c.status : n.status, plannedAt: applies ? c.plannedAt : n.plannedAt, stored: true };
  });
  for (const d of diff.insert) rows.push({ stage: d.stage, recipient: d.recipient, kind: d.kind, status: d.status, plannedAt: d.plannedAt, stored: false });
  return rows;
}
