/**
 * The sweep's parts (jobs/sweep.ts runs them in order): the change-feed catch-up, which also
 * re-plans what a settings change or an upgrade of the rules can affect; the hand-back of rows a
 * crashed worker left half-sent. Adding the due jobs is enqueue-due.ts.
 */
import { and, asc, eq, gt, isNull, lte, ne, or, sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import { rowsOf, type Db } from '../db/client.js';
import { actionPlans, forceUses, incidents, notifications, securityCellPlacements } from '../db/schema.js';
import type { RecordTypeName } from '../records/kinds.js';
import type { Lease } from './lease.js';
import { PLAN_BATCH, PLAN_WRITERS, planRecords, type RecordRef } from './planner.js';

/** The most records one catch-up step hands to planRecords: a batch for each of its writers. */
const STEP_MAX = PLAN_BATCH * PLAN_WRITERS;
import { staleSending } from './send.js';
import { loadWorkerSettings } from './settings.js';
import { currentSettingsStamp, lastChangeSeq, readWorkerState, replanScope, writeWorkerState } from './worker-state.js';

const TABLES = [
  ['incident', incidents],
  ['security_cell_placement', securityCellPlacements],
  ['force_use', forceUses],
  ['action_plan', actionPlans],
] as const;

/**
 * The catch-up's steps grow to STEP_MAX as long as one takes under a second, and shrink when
 * planning is slow (a small machine, PGlite): a stop waits for the batch in hand, so it waits about
 * a second, not for 500 slow records.
 */
const FIRST_BATCH = 50;
const BATCH_TARGET_MS = 1_000;
function nextBatchSize(done: number, ms: number): number {
  return Math.max(1, Math.min(STEP_MAX, Math.floor((done * BATCH_TARGET_MS) / Math.max(ms, 1))));
}

export interface PlanningDeps {
  db: Db;
  closureDays: readonly string[];
  logger: Logger;
}

/**
 * Plans a batch of records under the settings in force (read once). A stored record the rules in
 * force refuse (written before an upgrade made a field required, or straight into the table) must
 * not hold up the others: it is left unplanned until it is corrected, which plans it again.
 */
export async function planBatch(deps: PlanningDeps, refs: readonly RecordRef[], now: Date): Promise<Awaited<ReturnType<typeof planRecords>>> {
  const result = await planRecords(deps.db, { closureDays: deps.closureDays, now, settings: await loadWorkerSettings(deps.db) }, refs);
  for (const r of result.refused) deps.logger.error({ recordType: r.type, recordId: r.id, code: r.code, fields: r.fields }, 'record not planned: the rules in force refuse it; correct the record');
  return result;
}

export interface CatchUpDeps extends PlanningDeps {
  lease: Lease;
  clock: () => Date;
  sweepEveryMs: number;
  /** Set by stop(): the catch-up ends between two batches, at a point the next sweep carries on from. */
  stopping(): boolean;
}

/**
 * The highest change_seq below which every change is committed or rolled back. change_seq is
 * drawn when a row is written, not when its transaction commits: a sweep that moved past a seq
 * still held by an open transaction (an import batch, an integration's long write) would never
 * come back for it. Each seq is drawn by a transaction that already has its xid (migration 0005),
 * so one that drew a seq up to the value read here and is still running is among the writing
 * transactions of this database listed right after. None (or none left a moment later): settled.
 * Otherwise the previous sweep's reading settles once every writer it saw has ended, and this
 * reading waits for the next sweep (the LISTEN feed plans those changes meanwhile). Writers in
 * other databases of the same server do not count.
 */
export async function settledSeq(deps: CatchUpDeps, now: Date, watermark: number): Promise<number> {
  const seq = await lastChangeSeq(deps.db);
  const writers = async (): Promise<Set<string>> =>
    new Set(
      rowsOf<{ x: string }>(
        await deps.db.execute(sql`
          SELECT backend_xid::text AS x FROM pg_stat_activity WHERE datname = current_database() AND backend_xid IS NOT NULL AND pid <> pg_backend_pid()
          UNION SELECT transaction::text FROM pg_prepared_xacts WHERE database = current_database()`),
      ).map((r) => r.x),
    );
  const seen = await writers();
  if (seen.size === 0) return seq;
  const still = await writers();
  if (![...seen].some((x) => still.has(x))) return seq;
  const state = await readWorkerState(deps.db);
  const pending = state.pendingSeq === null ? undefined : { seq: state.pendingSeq, xids: state.pendingXids ?? [], since: state.pendingSince };
  const prevDone = pending !== undefined && !pending.xids.some((x) => still.has(x));
  const settledPrev = prevDone ? pending.seq : watermark;
  const since = pending && !prevDone && pending.since ? pending.since : now;
  if (now.getTime() - since.getTime() > Math.max(10 * deps.sweepEveryMs, 10 * 60_000)) {
    deps.logger.warn({ since: since.toISOString(), writers: still.size }, 'the change-feed catch-up is held back by a long-open writing transaction in this database; changes since then rely on LISTEN until it ends');
  }
  await writeWorkerState(deps.db, { pendingSeq: seq, pendingXids: [...still], pendingSince: since }, now);
  return Math.max(watermark, Math.min(settledPrev, seq));
}

export interface CatchUpResult {
  /** False when the lease went to another worker meanwhile; it carries on from the watermark. */
  leader: boolean;
  /** False when stopped (or the lease lost) before the end. */
  finished: boolean;
  planned: number;
  settled: number;
}

/**
 * Plans every record changed since the watermark, in change order and in batches, up to a
 * change_seq that no running transaction can still commit below; then stamps what the plans were
 * computed under. A changed stamp widens it (worker-state.ts replanScope): the open records after a
 * settings change, every record after an upgrade of the rules.
 *
 * The watermark W means: every record whose change_seq is ≤ W has been planned at its current
 * version (under some settings; the stamp says which, once the pass ends). A re-plan starts from 0
 * but only raises W, so an interrupted one keeps it true and the next sweep starts over.
 */
export async function catchUpChanges(deps: CatchUpDeps, now: Date): Promise<CatchUpResult> {
  const stamp = await currentSettingsStamp(deps.db);
  const state = await readWorkerState(deps.db);
  const scope = replanScope(state.settingsStamp, stamp);
  const stored = state.watermark;
  let watermark = stored;
  let cursor = scope === 'none' ? stored : 0;
  const settled = await settledSeq(deps, now, stored);
  let planned = 0;
  let size = FIRST_BATCH;
  for (;;) {
    const batch: Array<RecordRef & { seq: number }> = [];
    for (const [type, table] of TABLES) {
      const changed = and(gt(table.changeSeq, cursor), lte(table.changeSeq, settled));
      // Below the watermark, a settings change re-plans only the records still open.
      const inScope = scope === 'open' ? and(changed, or(isNull(table.closedAt), gt(table.changeSeq, stored))) : changed;
      const rows = await deps.db.select({ id: table.id, seq: table.changeSeq }).from(table).where(inScope).orderBy(asc(table.changeSeq)).limit(STEP_MAX);
      for (const r of rows) batch.push({ type: type as RecordTypeName, id: r.id, seq: r.seq });
    }
    if (batch.length === 0) break;
    batch.sort((a, b) => a.seq - b.seq);
    const next = batch.slice(0, STEP_MAX);
    while (next.length > 0) {
      // A stop ends a long catch-up between two batches; the next sweep carries on from the watermark.
      if (deps.stopping()) return { leader: true, finished: false, planned, settled };
      const slice = next.splice(0, size);
      const started = performance.now();
      const result = await planBatch(deps, slice.map(({ type, id }) => ({ type, id })), now);
      size = nextBatchSize(slice.length, performance.now() - started);
      planned += result.records;
      cursor = slice[slice.length - 1]!.seq;
      watermark = Math.max(watermark, cursor);
      await writeWorkerState(deps.db, { watermark }, now);
      // A long catch-up keeps its lease; if another worker took it meanwhile, it carries on from the watermark.
      if (!(await deps.lease.acquire(deps.clock()))) return { leader: false, finished: false, planned, settled };
    }
  }
  if (scope !== 'none') await writeWorkerState(deps.db, { settingsStamp: stamp }, now);
  return { leader: true, finished: true, planned, settled };
}

/**
 * A worker that crashed mid-send left its row in `sending`: hand it back. Not the preliminary
 * notice: it is sent on a person's approval, and whether the interrupted one reached the
 * Ombudsman is for that person to check before approving again. Returns the rows handed back.
 */
export async function recoverInterruptedSends(db: Db, now: Date, staleSendingMs: number): Promise<number> {
  const stale = staleSending(now, staleSendingMs);
  // A new version, so a new job id: the dead worker's job under the old one is still `active`
  // in Redis until BullMQ's stalled check, and adding under a taken id would wait for that.
  const recovered = await db
    .update(notifications)
    .set({ status: 'scheduled', lastError: 'recovered after an interrupted send', version: sql`${notifications.version} + 1`, updatedAt: now })
    .where(and(stale, ne(notifications.stage, 'notice:preliminary')))
    .returning({ id: notifications.id });
  await db
    .update(notifications)
    .set({ status: 'failed', lastError: 'interrupted while sending: check with the recipient whether it arrived before sending the notice again', updatedAt: now })
    .where(and(stale, eq(notifications.stage, 'notice:preliminary')));
  return recovered.length;
}
