/**
 * Impact preview of a settings change, computed in memory and written nowhere, by the worker's
 * own planner (src/worker/planner.ts planInMemory, over the planning core src/domain/plan.ts).
 */
import { createHash } from 'node:crypto';
import { inArray, isNull } from 'drizzle-orm';
import { applyOutboxDiff, DomainError, type OutboxState } from '../../domain/index.js';
import { canonicalJson } from '../../db/audit.js';
import type { Executor } from '../../db/client.js';
import { settings as settingsTable } from '../../db/schema.js';
import { closureDaysSetting, policyByAreaSetting, policySetting, rulesInForceOf, type PolicyByArea } from '../../records/calendar.js';
import type { RecordTypeName } from '../../records/kinds.js';
import { loadPlanMaster, loadRecords, planInMemory, type RecordPlan } from '../../worker/planner.js';
import { workerSettingsOf, type RecencySetting, type RecipientsSetting, type ScheduleSetting } from '../../worker/settings.js';
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
  /** Policy: the working days within which an immediate alert is still mailed (README "Go-live"). */
  recency: RecencySetting;
}

export const SETTING_KEYS = ['closureDays', 'policy', 'policyByArea', 'schedule', 'recipients', 'digest', 'recency'] as const;
export type SettingKey = (typeof SETTING_KEYS)[number];

export async function loadSettingsSet(db: Executor): Promise<SettingsSet> {
  return settingsSetOf(await db.select().from(settingsTable).where(inArray(settingsTable.key, [...SETTING_KEYS])));
}

/** The settings from stored rows; a key that is missing (or no longer valid) has its default, so `settingsSetOf([])` is the defaults. */
export function settingsSetOf(rows: ReadonlyArray<{ key: string; value: unknown }>): SettingsSet {
  const closure = closureDaysSetting.safeParse(rows.find((r) => r.key === 'closureDays')?.value ?? []);
  const policy = policySetting.safeParse(rows.find((r) => r.key === 'policy')?.value ?? {});
  const byArea = policyByAreaSetting.safeParse(rows.find((r) => r.key === 'policyByArea')?.value ?? {});
  const w = workerSettingsOf(rows);
  return { closureDays: closure.success ? closure.data : [], policy: policy.success ? policy.data : {}, policyByArea: byArea.success ? byArea.data : {}, schedule: w.schedule, recipients: w.recipients, digest: w.digest, recency: w.recency };
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

/**
 * What changes if `next` replaces `current`: every open record is planned in memory twice by the
 * worker's own planner (planInMemory: the engine, the planning core's desired notifications and
 * its diff against the record's outbox), once under each settings set, and the two outboxes the
 * worker would leave are compared. Both sides use the same `now` and the same outbox, so what
 * differs is what the change causes.
 */
export async function computeImpact(db: Executor, configClosureDays: readonly string[], current: SettingsSet, next: SettingsSet, now: Date): Promise<Impact> {
  const master = await loadPlanMaster(db, 'all');
  const rulesOld = rulesInForceOf(configClosureDays, current);
  const rulesNew = rulesInForceOf(configClosureDays, next);
  const impact: Impact = { records: 0, deadlines: [], breached: [], moved: [], added: [], removed: [] };

  for (const [type, table] of RECORD_TABLES) {
    const ids = (await db.select({ id: table.id }).from(table).where(isNull(table.closedAt))).map((r) => r.id);
    for (let i = 0; i < ids.length; i += 500) {
      for (const l of await loadRecords(db, ids.slice(i, i + 500).map((id) => ({ type, id })))) {
        let before, after;
        try {
          before = planInMemory(l, master, rulesOld, current, now);
          after = planInMemory(l, master, rulesNew, next, now);
        } catch (err) {
          if (err instanceof DomainError) continue; // a row the engine refuses is not planned by the worker either
          throw err;
        }
        if (!before || !after) continue;
        impact.records++;
        const row = l.row;
        const journalNumber = (row as { journalNumber: string }).journalNumber;
        const oldBy = new Map(before.set.deadlines.map((d) => [d.key, d]));
        const newBy = new Map(after.set.deadlines.map((d) => [d.key, d]));
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
        const waiting = (p: RecordPlan): Map<string, OutboxState> => new Map(applyOutboxDiff(l.outbox, p.diff).filter((x) => x.status === 'scheduled').map((x) => [`${x.stage}|${x.recipient}`, x]));
        const oldMap = waiting(before);
        const newMap = waiting(after);
        const tableAt = (x: OutboxState): Date | null => l.outbox.find((n) => n.status === 'scheduled' && n.stage === x.stage && n.recipient === x.recipient)?.plannedAt ?? null;
        const mail = (x: OutboxState, oldAt: Date | null, newAt: Date | null): MailChange => ({ recordType: type, recordId: row.id, journalNumber, stage: x.stage, kind: x.kind, recipient: x.recipient, oldAt, newAt, tableAt: tableAt(x) });
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
