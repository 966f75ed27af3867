/**
 * Planning: records → deadlines → notification rows, many records per transaction. Postgres holds
 * the whole schedule; Redis only fires it. Re-planning is idempotent: a changed due date moves (or
 * supersedes) waiting rows, a met deadline cancels them, sent rows are never touched, and a row
 * whose values did not change is not written.
 *
 * What a record should have and what must change is the pure planning core (src/domain/plan.ts);
 * `planInMemory` runs it over a loaded record, and the settings page's impact preview
 * (src/ui/data/impact.ts) calls the same function for the saved and the proposed settings.
 */
import { and, inArray, sql, type SQL } from 'drizzle-orm';
import { backlogSummaryAt, DomainError, diffOutbox, formatIsoDate, formatPath, localDayOfInstant, planNotifications, planOwnerOf, watchedDeadlineKeys, type Absence, type BacklogItem, type DeadlineSet, type DesiredNotification, type OutboxDiff, type OutboxRow, type StaffMember } from '../domain/index.js';
import { insertJson, selectRows, updateJson } from '../db/bulk.js';
import type { Db, Executor } from '../db/client.js';
import { areas, backlogItems, backlogSummaries, institutions, notifications, staff, staffAbsences } from '../db/schema.js';
import { loadRulesInForce, type RulesInForce } from '../records/calendar.js';
import { recordKey, storeDeadlines } from '../records/deadline-store.js';
import { KINDS, type AnyRow, type PlanFull, type RecordTypeName } from '../records/kinds.js';
import { computeForRecord } from '../records/service.js';
import type { RecencySetting, RecipientsSetting, ScheduleSetting, WorkerSettings } from './settings.js';

export interface PlanContext {
  closureDays: readonly string[];
  now: Date;
  settings: WorkerSettings;
}

export interface RecordRef {
  type: RecordTypeName;
  id: string;
}

type AreaRow = typeof areas.$inferSelect;
type InstRow = typeof institutions.$inferSelect;

/** The master data a batch is planned with: institutions and areas, and the plan owners with their substitutes and absences. */
export interface PlanMaster {
  institutions: ReadonlyMap<string, InstRow>;
  areas: ReadonlyMap<string, AreaRow>;
  staff: ReadonlyMap<string, StaffMember>;
  absences: ReadonlyMap<string, readonly Absence[]>;
}

export interface LoadedRecord {
  type: RecordTypeName;
  row: AnyRow;
  /** The record's rows in the outbox. */
  outbox: readonly OutboxRow[];
}

export interface RecordPlan {
  type: RecordTypeName;
  row: AnyRow;
  areaId: string;
  closed: boolean;
  set: DeadlineSet;
  desired: DesiredNotification[];
  /** Breached before the record arrived, or alerts too old when it arrived: listed, not mailed. */
  backlog: BacklogItem[];
  /** Stages with no recipient because the directorate's address is not set. */
  unaddressed: number;
  diff: OutboxDiff;
}

/**
 * One record planned in memory: the engine's deadlines under its area's policy, the notifications
 * it should have, and the diff against its outbox. Undefined when its institution or area is
 * unknown (nothing is planned for it); throws the engine's DomainError when the rules refuse it.
 */
export function planInMemory(r: LoadedRecord, m: PlanMaster, rules: RulesInForce, settings: { schedule: ScheduleSetting; recipients: RecipientsSetting; recency: RecencySetting }, now: Date): RecordPlan | undefined {
  const inst = m.institutions.get((r.row as { institutionId: string }).institutionId);
  const area = inst ? m.areas.get(inst.areaId) : undefined;
  if (!inst || !area) return undefined;
  const kind = KINDS[r.type];
  const set = computeForRecord(kind, r.row, area.id, rules, now);
  const closed = (r.row as { closedAt: Date | null }).closedAt !== null;
  const ownerId = r.type === 'action_plan' && !closed ? (r.row as PlanFull).ownerId : null;
  const owner = ownerId ? m.staff.get(ownerId) : undefined;
  const absences = [owner?.id, owner?.substituteId].flatMap((id) => (id ? (m.absences.get(id) ?? []) : []));
  const { desired, backlog, unaddressed } = planNotifications({
    recordType: r.type,
    closed,
    // Arrival is the record's creation here, not a later edit (README "Go-live").
    arrivedAt: (r.row as { createdAt: Date }).createdAt,
    recentWorkingDays: settings.recency.workingDays,
    addresses: { areaDirector: area.directorEmail, areaOffice: area.officeEmail, areaLeadership: area.leadershipEmail, dutyManager: inst.dutyManagerEmail, directorate: settings.recipients.directorate },
    set,
    calendar: rules.calendar,
    schedule: settings.schedule,
    now,
    existing: r.outbox,
    planOwner: planOwnerOf(ownerId, m.staff, absences),
  });
  const diff = diffOutbox(r.outbox, desired, { now, closed, watched: watchedDeadlineKeys(set) });
  return { type: r.type, row: r.row, areaId: area.id, closed, set, desired, backlog, unaddressed, diff };
}

/** Institutions and areas (all: a few hundred rows), and the given plan owners with substitutes and absences. */
export async function loadPlanMaster(tx: Executor, ownerIds: readonly string[] | 'all'): Promise<PlanMaster> {
  const [inst, ar] = await Promise.all([tx.select().from(institutions), tx.select().from(areas)]);
  const people = new Map<string, StaffMember>();
  const absences = new Map<string, Absence[]>();
  const columns = { id: staff.id, email: staff.email, active: staff.active, substituteId: staff.substituteId };
  const owners = ownerIds === 'all' ? await tx.select(columns).from(staff) : ownerIds.length === 0 ? [] : await tx.select(columns).from(staff).where(inArray(staff.id, [...new Set(ownerIds)]));
  for (const p of owners) people.set(p.id, p);
  if (ownerIds !== 'all') {
    const subs = [...new Set(owners.map((o) => o.substituteId).filter((x): x is string => x !== null && !people.has(x)))];
    if (subs.length > 0) for (const p of await tx.select(columns).from(staff).where(inArray(staff.id, subs))) people.set(p.id, p);
  }
  if (people.size > 0) {
    const rows = await tx.select({ staffId: staffAbsences.staffId, fromDate: staffAbsences.fromDate, untilDate: staffAbsences.untilDate }).from(staffAbsences).where(ownerIds === 'all' ? undefined : inArray(staffAbsences.staffId, [...people.keys()]));
    for (const a of rows) absences.set(a.staffId, [...(absences.get(a.staffId) ?? []), a]);
  }
  return { institutions: new Map(inst.map((x) => [x.id, x])), areas: new Map(ar.map((x) => [x.id, x])), staff: people, absences };
}

/** The outbox rows of some records, by `recordKey`. */
async function loadOutbox(tx: Executor, refs: readonly RecordRef[]): Promise<Map<string, OutboxRow[]>> {
  const out = new Map<string, OutboxRow[]>();
  if (refs.length === 0) return out;
  const rows = await selectRows(
    tx,
    notifications,
    // Both key columns, so that the unique index (record_type, record_id, …) finds them.
    and(inArray(notifications.recordType, [...new Set(refs.map((r) => r.type))]), inArray(notifications.recordId, [...new Set(refs.map((r) => r.id))])) as SQL,
    ['id', 'recordType', 'recordId', 'stage', 'recipient', 'kind', 'status', 'plannedAt', 'version'],
  );
  for (const r of rows) {
    const k = recordKey(r.recordType, r.recordId);
    const list = out.get(k) ?? [];
    list.push(r);
    out.set(k, list);
  }
  return out;
}

/** Records of several types, loaded with their child rows and outbox. */
export async function loadRecords(tx: Executor, refs: readonly RecordRef[]): Promise<LoadedRecord[]> {
  const outbox = await loadOutbox(tx, refs);
  const out: LoadedRecord[] = [];
  for (const type of Object.keys(KINDS) as RecordTypeName[]) {
    const ids = [...new Set(refs.filter((r) => r.type === type).map((r) => r.id))];
    if (ids.length === 0) continue;
    for (const row of (await KINDS[type].load(tx, ids)) as AnyRow[]) out.push({ type, row, outbox: outbox.get(recordKey(type, row.id)) ?? [] });
  }
  return out;
}

export interface PlanResult {
  deadlines: number;
  scheduled: number;
  cancelled: number;
  moved: number;
}

export interface Refusal extends RecordRef {
  code: string;
  fields: string[];
}

export interface BatchResult extends PlanResult {
  /** Records planned. */
  records: number;
  /** Records the rules in force refuse (written before an upgrade made a field required, or straight into the table): left unplanned. */
  refused: Refusal[];
  /** Deadline rows written (changed or new) and left alone (unchanged). */
  deadlinesWritten: number;
  deadlinesUnchanged: number;
  /** Backlog items listed for the first time (README "Go-live"), and stages left without a recipient (directorate unset). */
  backlogListed: number;
  unaddressed: number;
}

/** Records per transaction: the locks, reads and writes of a batch are set-based. */
export const PLAN_BATCH = 500;

/**
 * Plans one batch in one transaction. Each record's planning lock (the same key planRecord always
 * took) is taken first, in one statement and in a fixed order, so that a burst of change
 * notifications, the sweep's catch-up and an import never plan the same record at once, and
 * two batches cannot deadlock; then everything is read, computed in memory and written back.
 */
async function planBatch(db: Db, ctx: PlanContext, refs: readonly RecordRef[], errors: Map<string, DomainError>): Promise<BatchResult> {
  return db.transaction(async (tx) => {
    const keys = [...new Set(refs.map((r) => `fristvagt-plan:${r.type}:${r.id}`))];
    await tx.execute(sql`SELECT count(pg_advisory_xact_lock(h)) FROM (SELECT hashtext(k) AS h FROM json_array_elements_text(${JSON.stringify(keys)}::json) AS k ORDER BY 1) AS s`);
    const loaded = await loadRecords(tx, refs);
    const rules = await loadRulesInForce(tx, ctx.closureDays);
    const owners = loaded.flatMap((l) => (l.type === 'action_plan' && (l.row as PlanFull).ownerId ? [(l.row as PlanFull).ownerId as string] : []));
    const master = await loadPlanMaster(tx, owners);
    const result: BatchResult = { records: 0, deadlines: 0, scheduled: 0, cancelled: 0, moved: 0, refused: [], deadlinesWritten: 0, deadlinesUnchanged: 0, backlogListed: 0, unaddressed: 0 };
    const plans: RecordPlan[] = [];
    for (const l of loaded) {
      try {
        const p = planInMemory(l, master, rules, ctx.settings, ctx.now);
        if (p) plans.push(p);
      } catch (err) {
        if (!(err instanceof DomainError)) throw err;
        errors.set(recordKey(l.type, l.row.id), err);
        result.refused.push({ type: l.type, id: l.row.id, code: err.code, fields: err.issues.map((i) => formatPath(i.path)) });
      }
    }
    const stored = await storeDeadlines(tx, plans.map((p) => ({ kind: KINDS[p.type], row: p.row, areaId: p.areaId, set: p.set })), rules, ctx.now);
    result.deadlinesWritten = stored.written;
    result.deadlinesUnchanged = stored.unchanged;
    const inserts: Array<Record<string, unknown>> = [];
    const changes: Array<Record<string, unknown>> = [];
    const backlog: Array<Record<string, unknown>> = [];
    const listedDay = formatIsoDate(localDayOfInstant(ctx.now.getTime()));
    for (const p of plans) {
      result.unaddressed += p.unaddressed;
      for (const b of p.backlog) backlog.push({ recordType: p.type, recordId: p.row.id, itemKey: b.key, kind: b.kind, ruleId: b.rule, areaId: p.areaId, institutionId: (p.row as { institutionId: string }).institutionId, journalNumber: (p.row as { journalNumber: string }).journalNumber, dueDate: b.dueDate, dueAt: b.dueAt, listedDay });
      const ids = stored.ids.get(recordKey(p.type, p.row.id));
      const deadlineIdOf = (key: string | null): string | null => (key === null ? null : (ids?.get(key) ?? null));
      result.records++;
      result.deadlines += p.set.deadlines.length;
      result.scheduled += p.diff.scheduled;
      result.cancelled += p.diff.cancelled;
      result.moved += p.diff.moved;
      for (const d of p.diff.insert) inserts.push({ deadlineId: deadlineIdOf(d.deadlineKey), recordType: p.type, recordId: p.row.id, stage: d.stage, kind: d.kind, template: d.template, recipient: d.recipient, plannedAt: d.plannedAt, status: d.status });
      for (const c of p.diff.change) changes.push({ id: c.id, status: c.status, plannedAt: c.plannedAt, deadlineId: deadlineIdOf(c.deadlineKey), updatedAt: ctx.now, expected: c.from });
    }
    for (let i = 0; i < inserts.length; i += 2000) await insertJson(tx, notifications, inserts.slice(i, i + 2000), { onConflict: 'ON CONFLICT DO NOTHING' });
    // The backlog: listed the first time it is found (a later planning finds the same items and
    // writes nothing); each area with new items gets one summary for the day.
    const listedAreas = new Set<string>();
    for (let i = 0; i < backlog.length; i += 2000) {
      const listed = await insertJson(tx, backlogItems, backlog.slice(i, i + 2000), { onConflict: 'ON CONFLICT DO NOTHING', returning: ['areaId'] });
      result.backlogListed += listed.length;
      for (const l of listed) listedAreas.add(l['areaId'] as string);
    }
    if (listedAreas.size > 0) {
      const plannedAt = backlogSummaryAt(ctx.now, rules.calendar, ctx.settings.schedule.window);
      // In area order: batches planned side by side insert the same areas' rows, and in different
      // orders they deadlocked on the unique index.
      const summaries = [...listedAreas].sort().map((areaId) => ({ areaId, listedDay, recipient: (master.areas.get(areaId) as AreaRow).officeEmail, plannedAt }));
      await insertJson(tx, backlogSummaries, summaries, { onConflict: 'ON CONFLICT DO NOTHING' });
    }
    // Each change is made only if the row is still as the diff saw it: a sender may have claimed it meanwhile.
    for (let i = 0; i < changes.length; i += 2000) {
      await updateJson(tx, notifications, changes.slice(i, i + 2000), { assign: ['status', 'plannedAt', 'updatedAt'], set: 'version = t.version + 1, deadline_id = coalesce(u.deadline_id, t.deadline_id)', where: 't.status::text = u.expected' });
    }
    return result;
  });
}

/**
 * Plans many records, in transactions of PLAN_BATCH: the entry point of the worker's catch-up, the
 * change feed and the importer. Records the rules refuse are reported in `refused`, never thrown,
 * so one bad row never holds up the others.
 */
export async function planRecords(db: Db, ctx: PlanContext, refs: readonly RecordRef[]): Promise<BatchResult> {
  return planRecordsWithErrors(db, ctx, refs, new Map());
}

/**
 * Batches planned at once, each in its own transaction on its own connection: while Postgres
 * writes one, the next is computed. Their locks are taken in one sorted statement each, so no two
 * batches deadlock; on PGlite (one connection) the transactions simply take turns. Three measured
 * 8 % faster than two on 2 cores (bench/plan.ts, 20,000 records); at most three of the worker's
 * ten connections.
 */
export const PLAN_WRITERS = 3;

async function planRecordsWithErrors(db: Db, ctx: PlanContext, refs: readonly RecordRef[], errors: Map<string, DomainError>): Promise<BatchResult> {
  const total: BatchResult = { records: 0, deadlines: 0, scheduled: 0, cancelled: 0, moved: 0, refused: [], deadlinesWritten: 0, deadlinesUnchanged: 0, backlogListed: 0, unaddressed: 0 };
  let next = 0;
  let failed = false;
  const writer = async (): Promise<void> => {
    while (!failed && next < refs.length) {
      const slice = refs.slice(next, next + PLAN_BATCH);
      next += slice.length;
      const r = await planBatch(db, ctx, slice, errors).catch((err: unknown) => {
        failed = true;
        throw err;
      });
      total.records += r.records;
      total.deadlines += r.deadlines;
      total.scheduled += r.scheduled;
      total.cancelled += r.cancelled;
      total.moved += r.moved;
      total.deadlinesWritten += r.deadlinesWritten;
      total.deadlinesUnchanged += r.deadlinesUnchanged;
      total.backlogListed += r.backlogListed;
      total.unaddressed += r.unaddressed;
      total.refused.push(...r.refused);
    }
  };
  // One failing batch stops the others taking new work; the first error is what the caller sees.
  const results = await Promise.allSettled(Array.from({ length: Math.min(PLAN_WRITERS, Math.ceil(refs.length / PLAN_BATCH)) }, writer));
  const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (rejected) throw rejected.reason;
  return total;
}

/** Plans one record (a batch of one); undefined when it or its institution is gone; throws the engine's DomainError when the rules refuse it. */
export async function planRecord(db: Db, ctx: PlanContext, type: RecordTypeName, id: string): Promise<PlanResult | undefined> {
  const errors = new Map<string, DomainError>();
  const r = await planRecordsWithErrors(db, ctx, [{ type, id }], errors);
  const err = errors.get(recordKey(type, id));
  if (err) throw err;
  if (r.records === 0) return undefined;
  return { deadlines: r.deadlines, scheduled: r.scheduled, cancelled: r.cancelled, moved: r.moved };
}
