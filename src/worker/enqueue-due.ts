/**
 * Keeping BullMQ holding every row due within the horizon, at the cost of what is missing rather
 * than what exists.
 *
 * A notification row records the version whose job was added (`enqueued_version`, job id
 * `send-<id>-<version>`), under the Redis epoch kept in worker_state (src/queue/epoch.ts). The
 * sweep adds only rows whose marker differs from their version (a new row, a moved stage, a
 * recovered send: each a new version), read through a partial index of exactly those rows. When the
 * Redis epoch is not the one the markers were written under, Redis lost its data: the sweep adds
 * everything due again, ignoring the markers, and then adopts the new epoch.
 *
 * Rows due now are the exception, whatever their marker: their job may need more than adding. A
 * delayed one (its delay came from a clock that ran behind, another worker's or a test's) is fired
 * now; a finished one (failed after its last attempt while the row went back to `scheduled`, e.g.
 * Postgres was down longer than the retries; or completed as "not due" by a clock that ran behind)
 * is removed and added again, because adding a job under a taken id is a no-op and the row would
 * never be sent. Where those jobs are is read in one pipelined round trip per 1,000 rows
 * (src/queue/job-state.ts), never per row.
 */
import type { Queue } from 'bullmq';
import { and, eq, gt, inArray, isNotNull, lte, sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Db } from '../db/client.js';
import { notifications, workerState } from '../db/schema.js';
import type { Mailer } from '../mail/transport.js';
import { placesOf } from '../queue/job-state.js';
import { sendJobOptions, sendPriority } from '../queue/job-options.js';
import { enqueueBulk, type JobPayload } from '../queue/registry.js';
import { notBefore } from './delivery.js';
import type { RecordRef } from './planner.js';

export interface EnqueueDeps {
  db: Db;
  queue: Queue;
  mailer: Mailer;
  /** First retry delay after a transient failure (delivery.ts). */
  retryDelayMs: number;
  logger: Logger;
}

/** A scheduled row as the enqueuer needs it (notifications; annual overviews without a version). */
interface SendRow {
  id: string;
  plannedAt: Date;
  attempts: number;
  lastError: string | null;
  updatedAt: Date;
}
export interface DueNotification extends SendRow {
  version: number;
  /** Alerts and notices jump the queue (sendPriority). */
  stage: string;
  enqueuedVersion: number | null;
}

/**
 * When a row may be tried again: delivery.ts's notBefore, the very instant the worker that
 * deferred its job computed, so the sweep neither fires it early nor adds a second job beside
 * it; and not before the SMTP server's circuit lets a probe through.
 */
export function fireAtOf(deps: EnqueueDeps, r: SendRow, now: number): number {
  const circuit = deps.mailer.unavailableUntil?.();
  // The breaker runs on real time, the schedule on the injected clock: carry over the wait, not the instant.
  return Math.max(notBefore(r, deps.retryDelayMs), circuit === undefined ? 0 : now + Math.max(0, circuit - Date.now()));
}

/** Scheduled, and planned by `until`. */
const scheduledBy = (until: Date) => and(eq(notifications.status, 'scheduled'), lte(notifications.plannedAt, until));

const DUE_COLUMNS = { id: notifications.id, version: notifications.version, stage: notifications.stage, enqueuedVersion: notifications.enqueuedVersion, plannedAt: notifications.plannedAt, attempts: notifications.attempts, lastError: notifications.lastError, updatedAt: notifications.updatedAt };

/**
 * The rows a sweep looks at: scheduled ones due within `until` whose job was not added yet (the
 * partial index notifications_unqueued_idx), and those due by `now` whatever their marker.
 */
export async function rowsToEnqueue(db: Db, now: Date, until: Date): Promise<DueNotification[]> {
  const unqueued = sql`${notifications.enqueuedVersion} IS DISTINCT FROM ${notifications.version}`;
  const [missing, dueNow] = await Promise.all([db.select(DUE_COLUMNS).from(notifications).where(and(scheduledBy(until), unqueued)), allDue(db, now)]);
  const byId = new Map(missing.map((r) => [r.id, r]));
  for (const r of dueNow) byId.set(r.id, r);
  return [...byId.values()];
}

/** Whether any notification waits to be sent by `until` (one index probe). */
export async function anyScheduledBy(db: Db, until: Date): Promise<boolean> {
  const [row] = await db.select({ id: notifications.id }).from(notifications).where(scheduledBy(until)).limit(1);
  return row !== undefined;
}

/**
 * The scheduled rows of some records due within `until` (records just planned), marker or not.
 * By both key columns, so that the unique index (record_type, record_id, …) finds them instead of
 * every scheduled row due within the horizon being read and filtered.
 */
export async function rowsOfRecords(db: Db, until: Date, refs: readonly RecordRef[]): Promise<DueNotification[]> {
  if (refs.length === 0) return [];
  return db
    .select(DUE_COLUMNS)
    .from(notifications)
    .where(and(scheduledBy(until), inArray(notifications.recordType, [...new Set(refs.map((r) => r.type))]), inArray(notifications.recordId, [...new Set(refs.map((r) => r.id))])));
}

/** Every scheduled row due by `until`, marker or not: what a sweep under a new Redis epoch adds. */
export async function allDue(db: Db, until: Date): Promise<DueNotification[]> {
  return db.select(DUE_COLUMNS).from(notifications).where(scheduledBy(until));
}

/**
 * Records which versions' jobs were added, only while the epoch read before adding them is still
 * the one in worker_state: a marker written across a Redis wipe would hide a lost job.
 *
 * `adopt` (the sweep that found a new epoch and has just added every row due by `until`): the
 * epoch becomes the one in worker_state, in the same transaction, and markers on rows beyond the
 * horizon (left by a longer horizon or a clock that ran ahead) are forgotten. Markers of rows due
 * now need no care: those are always checked in Redis. Until this commits, markers written under
 * the new epoch by anyone else are refused, so a sweep that fails half-way is simply done again.
 */
async function markEnqueued(db: Db, epoch: string, rows: ReadonlyArray<{ id: string; version: number }>, adopt?: { until: Date; now: Date }): Promise<void> {
  if (rows.length === 0 && !adopt) return;
  await db.transaction(async (tx) => {
    const [state] = await tx.select({ epoch: workerState.redisEpoch }).from(workerState).where(eq(workerState.id, 1)).for(adopt ? 'update' : 'share');
    if (!state || (!adopt && state.epoch !== epoch)) return;
    for (let i = 0; i < rows.length; i += 5000) {
      const chunk = JSON.stringify(rows.slice(i, i + 5000).map((r) => ({ id: r.id, version: r.version })));
      await tx.execute(sql`
        UPDATE notifications n SET enqueued_version = v.version
        FROM jsonb_to_recordset(${chunk}::jsonb) AS v(id uuid, version integer)
        WHERE n.id = v.id AND n.enqueued_version IS DISTINCT FROM v.version`);
    }
    if (adopt) {
      await tx.update(notifications).set({ enqueuedVersion: null }).where(and(eq(notifications.status, 'scheduled'), gt(notifications.plannedAt, adopt.until), isNotNull(notifications.enqueuedVersion)));
      await tx.update(workerState).set({ redisEpoch: epoch, updatedAt: adopt.now }).where(eq(workerState.id, 1));
    }
  });
}

type SendJobName = 'notification.send' | 'annual-overview.send' | 'backlog-summary.send';
interface SendJob<N extends SendJobName> {
  jobId: string;
  fireAt: number;
  payload: JobPayload<N>;
  /** Its marker says it was added under the current epoch. */
  queued: boolean;
  priority?: number;
}

/**
 * Adds what is missing of some send jobs: rows due now by where their job is (fire a delayed one,
 * replace a finished one, leave a queued one), the others when not marked as added. Returns the
 * jobs that are now in Redis (added or found).
 *
 * `requeue` (rows a batch of another job had to defer, deps.requeue in outbox.ts): every job is
 * looked up, due now or not, and one found delayed fires at the row's backoff. Its delay may have
 * been set by an earlier clock (added when the row was still hours ahead, or by a clock that ran
 * ahead); adding it again under its taken id would be a no-op, and the row would wait for that
 * delay instead of its backoff.
 */
async function addMissing<N extends SendJobName>(deps: EnqueueDeps, name: N, jobs: ReadonlyArray<SendJob<N>>, now: number, requeue = false): Promise<Array<SendJob<N>>> {
  const looked = requeue ? jobs : jobs.filter((j) => j.fireAt <= now);
  const places = await placesOf(deps.queue, looked.map((j) => j.jobId));
  const add: Array<SendJob<N>> = [];
  const found: Array<SendJob<N>> = [];
  for (const j of jobs) {
    const place = places.get(j.jobId);
    if (place === undefined) {
      (j.queued ? found : add).push(j);
    } else if (place === 'queued') {
      found.push(j);
    } else if (place === 'delayed') {
      const job = await deps.queue.getJob(j.jobId);
      // Gone meanwhile (it fired, or was removed): the next sweep finds where it is.
      if (j.fireAt <= now) await job?.promote().catch(() => undefined);
      else await job?.changeDelay(j.fireAt - now).catch(() => undefined);
      found.push(j);
    } else {
      if (place === 'finished') await deps.queue.remove(j.jobId).catch((err: unknown) => deps.logger.warn({ jobId: j.jobId, err: { message: (err as Error).message } }, 'could not remove a finished job for a row that is still due'));
      add.push(j);
    }
  }
  // Deterministic ids: adding one again (two workers, a wipe racing the marker) is a no-op while it waits.
  await enqueueBulk(deps.queue, name, add.map((j) => ({ payload: j.payload, opts: sendJobOptions(j.jobId, j.fireAt - now, deps.retryDelayMs, j.priority) })));
  return [...found, ...add];
}

/**
 * Adds the send jobs of due notification rows that Redis is missing, and marks them added.
 * `adopt`: Redis has a new epoch and `rows` are all rows due by `adopt.until` (allDue): every one
 * is added whatever its marker, and the epoch is adopted (markEnqueued). `requeue`: rows another
 * job's batch deferred; each job fires at its row's backoff wherever it is (addMissing).
 */
export async function enqueueDue(deps: EnqueueDeps, epoch: string, rows: readonly DueNotification[], now: Date, opts: { adopt?: { until: Date }; requeue?: boolean } = {}): Promise<number> {
  const { adopt } = opts;
  const t = now.getTime();
  const jobs = rows.map((r) => ({ jobId: `send-${r.id}-${r.version}`, fireAt: fireAtOf(deps, r, t), payload: { notificationId: r.id }, queued: !adopt && !opts.requeue && r.enqueuedVersion === r.version, priority: sendPriority(r.stage), row: r }));
  const inRedis = await addMissing(deps, 'notification.send', jobs, t, opts.requeue);
  const fresh = inRedis.filter((j) => !j.queued);
  await markEnqueued(deps.db, epoch, fresh.map((j) => (j as (typeof jobs)[number]).row), adopt ? { until: adopt.until, now } : undefined);
  return fresh.length;
}

/** The § 22 annual overviews due: a handful a year, so no marker; each is added (a no-op while it waits). */
export async function enqueueAnnual(deps: EnqueueDeps, rows: readonly SendRow[], now: Date): Promise<number> {
  const t = now.getTime();
  await addMissing(deps, 'annual-overview.send', rows.map((a) => ({ jobId: `annual-${a.id}`, fireAt: fireAtOf(deps, a, t), payload: { overviewId: a.id }, queued: false, priority: sendPriority('annual') })), t);
  return rows.length;
}

/** The backlog summaries due: one per area office and day at most, so no marker; each is added (a no-op while it waits). */
export async function enqueueBacklogSummaries(deps: EnqueueDeps, rows: readonly SendRow[], now: Date): Promise<number> {
  const t = now.getTime();
  await addMissing(deps, 'backlog-summary.send', rows.map((a) => ({ jobId: `backlog-${a.id}`, fireAt: fireAtOf(deps, a, t), payload: { summaryId: a.id }, queued: false, priority: sendPriority('backlog') })), t);
  return rows.length;
}
