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
import { calendarFor, computeDeadlinesForRecord, parseRecord, type Calendar, type DeadlineSet, type PolicyOverrides } from '../../domain/index.js';
import { canonicalJson } from '../../db/audit.js';
import type { Executor } from '../../db/client.js';
import { areas, institutions, notifications, settings as settingsTable, staff, staffAbsences } from '../../db/schema.js';
import { closureDaysSetting, policyByAreaSetting, policyForArea, policySetting, type PolicyByArea } from '../../records/calendar.js';
import { KINDS, type AnyRow, type PlanFull, type RecordTypeName } from '../../records/kinds.js';
import { desiredNotifications, planOwnerOf, type DesiredNotification } from '../../worker/planner.js';
import { loadWorkerSettings, type RecipientsSetting, type ScheduleSetting } from '../../worker/settings.js';
import { RECORD_TABLES } from './records.js';

/** The settings an administrator edits in the UI, as stored (closure days without the configuration's). */
export interface SettingsSet {
  closureDays: string[];
  policy: Record<string, Record<string, number>>;
  /** Per area, overrides of `policy` for the records of that area. */
  policyByArea: PolicyByArea;
  schedule: ScheduleSetting;
  recipients: RecipientsSetting;
  digest: boolean;
}

export const SETTING_KEYS = ['closureDays', 'policy', 'policyByArea', 'schedule', 'recipients', 'digest'] as const;
export type SettingKey = (typeof SETTING_KEYS)[number];

export async function loadSettingsSet(db: Executor): Promise<SettingsSet> {
  const rows = await db.select().from(settingsTable).where(inArray(settingsTable.key, ['closureDays', 'policy', 'policyByArea']));
  const closure = closureDaysSetting.safeParse(rows.find((r) => r.key === 'closureDays')?.value ?? []);
  const policy = policySetting.safeParse(rows.find((r) => r.key === 'policy')?.value ?? {});
  const byArea = policyByAreaSetting.safeParse(rows.find((r) => r.key === 'policyByArea')?.value ?? {});
  const w = await loadWorkerSettings(db);
  return { closureDays: closure.success ? closure.data : [], policy: policy.success ? policy.data : {}, policyByArea: byArea.success ? byArea.data : {}, schedule: w.schedule, recipients: w.recipients, digest: w.digest };
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

type Desired = DesiredNotification;
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

/** The planner's own desired notification set (src/worker/planner.ts), with the master data loaded once. */
function desiredFor(type: RecordTypeName, row: AnyRow, inst: InstRow, area: AreaRow, set: DeadlineSet, calendar: Calendar, s: { schedule: ScheduleSetting; recipients: RecipientsSetting }, now: Date, m: Master, existing: readonly OutboxRow[]): Desired[] {
  const ownerId = type === 'action_plan' ? (row as PlanFull).ownerId : null;
  const owner = ownerId ? m.staff.get(ownerId) : undefined;
  const absences = [owner?.id, owner?.substituteId].flatMap((id) => (id ? (m.absences.get(id) ?? []) : []));
  return desiredNotifications({ type, row, inst, area, set, calendar, settings: s, now, existing, planOwner: planOwnerOf(ownerId, m.staff, absences) });
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
      out.set(k, { stage: n.stage, kind: 'alert', template: '', recipient: n.recipient, plannedAt: n.plannedAt, deadlineKey: null, stale: false, fromTable: true });
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
        const before = computeDeadlinesForRecord(record, { now: now.getTime(), calendar: calOld, policy: policyForArea(current.policy as PolicyOverrides, current.policyByArea, area.id) });
        const after = computeDeadlinesForRecord(record, { now: now.getTime(), calendar: calNew, policy: policyForArea(next.policy as PolicyOverrides, next.policyByArea, area.id) });
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
        const oldMap = simulate(existing, desiredFor(type, row, inst, area, before, calOld, current, now, m, existing), now);
        const newMap = simulate(existing, desiredFor(type, row, inst, area, after, calNew, next, now, m, existing), now);
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
        const set = computeDeadlinesForRecord(parseRecord(kind.toEngine(row)), { now: now.getTime(), calendar: cal, policy: policyForArea(s.policy as PolicyOverrides, s.policyByArea, area.id) });
        for (const d of simulate(outbox.get(row.id) ?? [], desiredFor(type, row, inst, area, set, cal, s, now, m, outbox.get(row.id) ?? []), now).values()) out.set(`${row.id}|${d.stage}|${d.recipient}`, d.plannedAt);
      }
    }
  }
  return out;
}
