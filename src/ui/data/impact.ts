/**
 * Impact preview of a settings change, computed in memory and written nowhere: every open record
 * is run through the engine with the saved and with the proposed closure days and policy, its
 * notification plan is built for both (the planner's rules, see src/worker/planner.ts) and applied
 * in memory to the record's rows in the outbox (notifications) the way planRecord would apply it.
 * Both sides use the same `now` and the same outbox, so what differs is what the change causes.
 * The UI tests hold this mirror to planRecord itself (desiredPlan).
 */
import { createHash } from 'node:crypto';
import { inArray, isNull } from 'drizzle-orm';
import {
  calendarFor,
  computeDeadlinesForRecord,
  formatIsoDate,
  incidentChapter,
  localDayOfInstant,
  nextInWindow,
  parseRecord,
  planStages,
  type Audience,
  type Calendar,
  type Deadline,
  type PolicyOverrides,
} from '../../domain/index.js';
import { canonicalJson } from '../../db/audit.js';
import type { Executor } from '../../db/client.js';
import { areas, institutions, notifications, settings as settingsTable, staff, staffAbsences } from '../../db/schema.js';
import { closureDaysSetting, policySetting } from '../../records/calendar.js';
import { KINDS, type AnyRow, type PlanFull, type RecordTypeName } from '../../records/kinds.js';
import { loadWorkerSettings, scheduleFor, type RecipientsSetting, type ScheduleSetting } from '../../worker/settings.js';
import { RECORD_TABLES } from './records.js';

/** The settings an administrator edits in the UI, as stored (closure days without the configuration's). */
export interface SettingsSet {
  closureDays: string[];
  policy: Record<string, Record<string, number>>;
  schedule: ScheduleSetting;
  recipients: RecipientsSetting;
  digest: boolean;
}

export const SETTING_KEYS = ['closureDays', 'policy', 'schedule', 'recipients', 'digest'] as const;
export type SettingKey = (typeof SETTING_KEYS)[number];

export async function loadSettingsSet(db: Executor): Promise<SettingsSet> {
  const rows = await db.select().from(settingsTable).where(inArray(settingsTable.key, ['closureDays', 'policy']));
  const closure = closureDaysSetting.safeParse(rows.find((r) => r.key === 'closureDays')?.value ?? []);
  const policy = policySetting.safeParse(rows.find((r) => r.key === 'policy')?.value ?? {});
  const w = await loadWorkerSettings(db);
  return { closureDays: closure.success ? closure.data : [], policy: policy.success ? policy.data : {}, schedule: w.schedule, recipients: w.recipients, digest: w.digest };
}

/** What the preview was computed against; a save refuses when the stored settings moved on meanwhile. */
export function fingerprint(s: SettingsSet): string {
  return createHash('sha256').update(canonicalJson(s)).digest('hex').slice(0, 32);
}

export function changedKeys(a: SettingsSet, b: SettingsSet): SettingKey[] {
  return SETTING_KEYS.filter((k) => canonicalJson(a[k]) !== canonicalJson(b[k]));
}

export interface DeadlineChange {
  recordType: RecordTypeName;
  recordId: string;
  journalNumber: string;
  key: string;
  rule: string;
  oldDue: string | null;
  newDue: string | null;
  oldStatus: string | null;
  newStatus: string | null;
}

export interface MailChange {
  recordType: RecordTypeName;
  recordId: string;
  journalNumber: string;
  stage: string;
  kind: string;
  recipient: string;
  oldAt: Date | null;
  newAt: Date | null;
  /** The outbox row for this stage and recipient, when one is scheduled. */
  tableAt: Date | null;
}

export interface Impact {
  records: number;
  deadlines: DeadlineChange[];
  breached: DeadlineChange[];
  moved: MailChange[];
  added: MailChange[];
  removed: MailChange[];
}

interface Desired {
  stage: string;
  kind: 'reminder' | 'escalation' | 'alert';
  recipient: string;
  plannedAt: Date;
  deadlineKey: string | null;
  /** In the past when planned and superseded by a later stage (the planner does not send it). */
  stale: boolean;
}

type AreaRow = typeof areas.$inferSelect;
type InstRow = typeof institutions.$inferSelect;
type StaffRow = typeof staff.$inferSelect;
type AbsenceRow = typeof staffAbsences.$inferSelect;
type OutboxRow = Pick<typeof notifications.$inferSelect, 'recordId' | 'stage' | 'recipient' | 'status' | 'plannedAt'>;

interface Master {
  areas: Map<string, AreaRow>;
  institutions: Map<string, InstRow>;
  staff: Map<string, StaffRow>;
  absences: Map<string, AbsenceRow[]>;
}

const ALERT_FRESHNESS_MS = 24 * 3600_000;

function absentOn(m: Master, staffId: string, day: string): boolean {
  return (m.absences.get(staffId) ?? []).some((a) => a.fromDate <= day && day <= a.untilDate);
}

function planRecipient(m: Master, ownerId: string | null, at: Date): string | null {
  if (!ownerId) return null;
  const owner = m.staff.get(ownerId);
  if (!owner) return null;
  const day = formatIsoDate(localDayOfInstant(at.getTime()));
  if (owner.active && !absentOn(m, owner.id, day)) return owner.email;
  if (owner.substituteId) {
    const sub = m.staff.get(owner.substituteId);
    if (sub?.active && !absentOn(m, sub.id, day)) return sub.email;
  }
  return null;
}

/** The planner's desired notification set for one open record (mirrors planRecord, without writing). */
function desiredFor(type: RecordTypeName, row: AnyRow, inst: InstRow, area: AreaRow, computed: Deadline[], calendar: Calendar, s: { schedule: ScheduleSetting; recipients: RecipientsSetting }, now: Date, m: Master, existing: readonly OutboxRow[]): Desired[] {
  const desired: Desired[] = [];
  const ownerId = type === 'action_plan' ? (row as PlanFull).ownerId : null;
  const recipient = (audience: Audience, d: Deadline, at: Date): string | null => {
    if (audience === 'area_office') return area.officeEmail;
    if (audience === 'second_level') return type === 'incident' ? s.recipients.directorate : (area.leadershipEmail ?? area.officeEmail);
    if (type === 'action_plan') return planRecipient(m, ownerId, at);
    return d.rule === 'incident.preliminary-notice' || d.rule === 'incident.final-report' ? area.directorEmail : inst.dutyManagerEmail;
  };
  for (const d of computed) {
    const stages = planStages(d, calendar, scheduleFor(d.rule, s.schedule));
    let noOwnerPlanned = false;
    for (const st of stages) {
      const at = new Date(st.plannedAt);
      const to = recipient(st.audience, d, at);
      if (to === null) {
        if (!noOwnerPlanned) desired.push({ stage: `${d.key}:no-owner`, kind: 'reminder', recipient: area.officeEmail, plannedAt: new Date(Math.min(at.getTime(), now.getTime())), deadlineKey: d.key, stale: false });
        noOwnerPlanned = true;
        continue;
      }
      desired.push({ stage: `${d.key}:${st.stage}`, kind: st.kind, recipient: to, plannedAt: at, deadlineKey: d.key, stale: false });
    }
  }
  if (type === 'incident') {
    const inc = row as { kind: Parameters<typeof incidentChapter>[0]; registeredAt: Date; mediaAttention: boolean };
    const fresh = now.getTime() - inc.registeredAt.getTime() < ALERT_FRESHNESS_MS;
    const planned = (stage: string): boolean => existing.some((n) => n.stage === stage && n.status !== 'superseded' && n.status !== 'cancelled');
    if ((fresh || planned('alert:area-director')) && incidentChapter(inc.kind) !== 5 && computed.length > 0) desired.push({ stage: 'alert:area-director', kind: 'alert', recipient: area.directorEmail, plannedAt: inc.registeredAt, deadlineKey: null, stale: false });
    if ((fresh || planned('alert:directorate-phone')) && inc.mediaAttention && incidentChapter(inc.kind) !== 5) {
      const earlier = existing.find((n) => n.stage === 'alert:directorate-phone' && n.recipient === inst.dutyManagerEmail);
      desired.push({ stage: 'alert:directorate-phone', kind: 'alert', recipient: inst.dutyManagerEmail, plannedAt: earlier?.plannedAt ?? now, deadlineKey: null, stale: false });
    }
  }
  // Past stages: a past reminder counts only when no later one is coming, and only the latest past escalation.
  const nowMs = now.getTime();
  const group = (d: Desired): string => `${d.deadlineKey}:${d.kind}:${d.recipient}`;
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
  for (const d of desired) {
    if (d.kind === 'reminder' && d.plannedAt.getTime() < nowMs && !d.stale) d.plannedAt = new Date(nextInWindow(nowMs, calendar, s.schedule.window));
  }
  return desired;
}

/**
 * What the outbox of one record holds as `scheduled` after planRecord ran with `desired`, given
 * its rows now: new stages are inserted (stale ones as superseded), scheduled rows follow their
 * stage's time unless it has become stale (then they are superseded), unwanted scheduled rows are cancelled, cancelled rows wanted again in the future
 * are reopened, and sent, failed and in-flight rows are never touched.
 */
function simulate(existing: OutboxRow[], desired: Desired[], now: Date): Map<string, Desired & { fromTable: boolean }> {
  const out = new Map<string, Desired & { fromTable: boolean }>();
  const byKey = new Map(existing.map((n) => [`${n.stage}|${n.recipient}`, n]));
  const wanted = new Set(desired.map((d) => `${d.stage}|${d.recipient}`));
  for (const n of existing) {
    const k = `${n.stage}|${n.recipient}`;
    // Failure reports and legal notices are not the planner's; they stay as they are.
    if (n.status === 'scheduled' && !wanted.has(k) && (n.stage.startsWith('failure:') || n.stage.startsWith('notice:'))) {
      out.set(k, { stage: n.stage, kind: 'alert', recipient: n.recipient, plannedAt: n.plannedAt, deadlineKey: null, stale: false, fromTable: true });
    }
  }
  for (const d of desired) {
    const k = `${d.stage}|${d.recipient}`;
    const n = byKey.get(k);
    if (!n) {
      if (!d.stale) out.set(k, { ...d, fromTable: false });
    } else if (n.status === 'scheduled') {
      // The planner supersedes a waiting row whose stage has become stale (see planRecord).
      if (!d.stale) out.set(k, { ...d, fromTable: true });
    } else if ((n.status === 'cancelled' || n.status === 'superseded') && !d.stale && d.plannedAt.getTime() > now.getTime()) {
      out.set(k, { ...d, fromTable: true });
    }
  }
  return out;
}

async function outboxOf(db: Executor, recordIds: string[]): Promise<Map<string, OutboxRow[]>> {
  const out = new Map<string, OutboxRow[]>();
  if (recordIds.length === 0) return out;
  const rows = await db.select({ recordId: notifications.recordId, stage: notifications.stage, recipient: notifications.recipient, status: notifications.status, plannedAt: notifications.plannedAt }).from(notifications).where(inArray(notifications.recordId, recordIds));
  for (const r of rows) out.set(r.recordId, [...(out.get(r.recordId) ?? []), r]);
  return out;
}

async function loadMaster(db: Executor): Promise<Master> {
  const [a, i, s, abs] = await Promise.all([db.select().from(areas), db.select().from(institutions), db.select().from(staff), db.select().from(staffAbsences)]);
  const absences = new Map<string, AbsenceRow[]>();
  for (const x of abs) absences.set(x.staffId, [...(absences.get(x.staffId) ?? []), x]);
  return { areas: new Map(a.map((x) => [x.id, x])), institutions: new Map(i.map((x) => [x.id, x])), staff: new Map(s.map((x) => [x.id, x])), absences };
}

export async function computeImpact(db: Executor, configClosureDays: readonly string[], current: SettingsSet, next: SettingsSet, now: Date): Promise<Impact> {
  const m = await loadMaster(db);
  const calOld = calendarFor([...new Set([...configClosureDays, ...current.closureDays])].sort());
  const calNew = calendarFor([...new Set([...configClosureDays, ...next.closureDays])].sort());
  const impact: Impact = { records: 0, deadlines: [], breached: [], moved: [], added: [], removed: [] };

  for (const [type, table] of RECORD_TABLES) {
    const kind = KINDS[type];
    const ids = (await db.select({ id: table.id }).from(table).where(isNull(table.closedAt))).map((r) => r.id);
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = ids.slice(i, i + 500);
      const rows = (await kind.load(db, chunk)) as AnyRow[];
      const outbox = await outboxOf(db, chunk);
      for (const row of rows) {
        const inst = m.institutions.get((row as { institutionId: string }).institutionId);
        const area = inst ? m.areas.get(inst.areaId) : undefined;
        if (!inst || !area) continue;
        let record;
        try {
          record = parseRecord(kind.toEngine(row));
        } catch {
          continue; // a row the engine refuses is not planned by the worker either
        }
        impact.records++;
        const journalNumber = (row as { journalNumber: string }).journalNumber;
        const before = computeDeadlinesForRecord(record, { now: now.getTime(), calendar: calOld, policy: current.policy as PolicyOverrides });
        const after = computeDeadlinesForRecord(record, { now: now.getTime(), calendar: calNew, policy: next.policy as PolicyOverrides });
        const oldBy = new Map(before.deadlines.map((d) => [d.key, d]));
        const newBy = new Map(after.deadlines.map((d) => [d.key, d]));
        for (const key of new Set([...oldBy.keys(), ...newBy.keys()])) {
          const o = oldBy.get(key);
          const n = newBy.get(key);
          if (o?.dueDate === n?.dueDate && o?.status === n?.status) continue;
          // Only what is still to be done: a met deadline moving on paper changes nothing anyone must do.
          if ((o?.completedAt ?? null) !== null && (n?.completedAt ?? null) !== null && o?.status === n?.status) continue;
          const change: DeadlineChange = { recordType: type, recordId: row.id, journalNumber, key, rule: (n ?? o)?.rule ?? key, oldDue: o?.dueDate ?? null, newDue: n?.dueDate ?? null, oldStatus: o?.status ?? null, newStatus: n?.status ?? null };
          impact.deadlines.push(change);
          if (change.newStatus === 'breached' && change.oldStatus !== 'breached') impact.breached.push(change);
        }
        const existing = outbox.get(row.id) ?? [];
        const oldMap = simulate(existing, desiredFor(type, row, inst, area, before.deadlines, calOld, current, now, m, existing), now);
        const newMap = simulate(existing, desiredFor(type, row, inst, area, after.deadlines, calNew, next, now, m, existing), now);
        const tableAt = (d: Desired): Date | null => existing.find((n) => n.status === 'scheduled' && n.stage === d.stage && n.recipient === d.recipient)?.plannedAt ?? null;
        const mail = (d: Desired, oldAt: Date | null, newAt: Date | null): MailChange => ({ recordType: type, recordId: row.id, journalNumber, stage: d.stage, kind: d.kind, recipient: d.recipient, oldAt, newAt, tableAt: tableAt(d) });
        for (const [k, n] of newMap) {
          const o = oldMap.get(k);
          if (!o) impact.added.push(mail(n, null, n.plannedAt));
          else if (o.plannedAt.getTime() !== n.plannedAt.getTime()) impact.moved.push(mail(n, o.plannedAt, n.plannedAt));
        }
        for (const [k, o] of oldMap) if (!newMap.has(k)) impact.removed.push(mail(o, o.plannedAt, null));
      }
    }
  }
  const byDue = (a: { newAt?: Date | null; oldAt?: Date | null }, b: { newAt?: Date | null; oldAt?: Date | null }) => ((a.newAt ?? a.oldAt)?.getTime() ?? 0) - ((b.newAt ?? b.oldAt)?.getTime() ?? 0);
  impact.moved.sort(byDue);
  impact.added.sort(byDue);
  impact.removed.sort(byDue);
  impact.deadlines.sort((a, b) => (a.newDue ?? a.oldDue ?? '').localeCompare(b.newDue ?? b.oldDue ?? ''));
  return impact;
}

/**
 * The whole plan for the given settings, keyed `recordId|stage|recipient`: what the outbox should
 * hold as `scheduled` once the worker has planned every open record. Lets tests hold this mirror
 * of the planner to planRecord itself.
 */
export async function desiredPlan(db: Executor, configClosureDays: readonly string[], s: SettingsSet, now: Date): Promise<Map<string, Date>> {
  const m = await loadMaster(db);
  const cal = calendarFor([...new Set([...configClosureDays, ...s.closureDays])].sort());
  const out = new Map<string, Date>();
  for (const [type, table] of RECORD_TABLES) {
    const kind = KINDS[type];
    const ids = (await db.select({ id: table.id }).from(table).where(isNull(table.closedAt))).map((r) => r.id);
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = ids.slice(i, i + 500);
      const outbox = await outboxOf(db, chunk);
      for (const row of (await kind.load(db, chunk)) as AnyRow[]) {
        const inst = m.institutions.get((row as { institutionId: string }).institutionId);
        const area = inst ? m.areas.get(inst.areaId) : undefined;
        if (!inst || !area) continue;
        const set = computeDeadlinesForRecord(parseRecord(kind.toEngine(row)), { now: now.getTime(), calendar: cal, policy: s.policy as PolicyOverrides });
        for (const d of simulate(outbox.get(row.id) ?? [], desiredFor(type, row, inst, area, set.deadlines, cal, s, now, m, outbox.get(row.id) ?? []), now).values()) out.set(`${row.id}|${d.stage}|${d.recipient}`, d.plannedAt);
      }
    }
  }
  return out;
}
