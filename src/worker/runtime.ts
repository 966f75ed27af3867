/**
 * The watchdog worker: listens to the change feed, plans records into notification rows,
 * keeps BullMQ holding every notification due within the horizon, and sends them.
 *
 * Postgres is the truth. Redis holds only delayed jobs with deterministic ids, so the sweep can
 * re-add whatever is missing (after FLUSHALL, say) without creating duplicates; the row claim in
 * send.ts makes the effect exactly-once even when several workers run.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { Queue, Worker, type Job, type JobsOptions } from 'bullmq';
import { and, asc, eq, gt, lte, ne, sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import { PROCESSORS } from '../../jobs/index.js';
import { CATALOGUE_VERSION, DomainError, formatPath } from '../domain/index.js';
import { rowsOf, type Database } from '../db/client.js';
import { redactInPlace } from '../safe-error.js';
import { actionPlans, forceUses, incidents, notifications, securityCellPlacements, settings, workerHeartbeats } from '../db/schema.js';
import type { Mailer } from '../mail/transport.js';
import { within } from '../lifecycle.js';
import { redisFamily } from '../queue/connection.js';
import { planJobOptions, SCHEDULED_JOB_OPTIONS, sendJobOptions, sendPriority } from '../queue/job-options.js';
import { enqueue, enqueueBulk, isJobName, QUEUE_NAME } from '../queue/registry.js';
import type { RecordTypeName } from '../records/kinds.js';
import { dueAnnualOverviews, planAnnualOverviews, recoverAnnualOverviews } from './annual.js';
import { dueNotifications, planRecord, type PlanResult } from './planner.js';
import { notBefore } from './delivery.js';
import { DEFAULT_RETRY_DELAY_MS, staleSending, type SendDeps } from './send.js';
import { BATCH_SIZE } from './outbox.js';
import { loadRulesInForce } from '../records/calendar.js';
import { loadWorkerSettings } from './settings.js';

export interface WorkerOptions {
  database: Database;
  redisUrl: string;
  /** BullMQ key prefix; tests give each run its own. */
  prefix: string;
  mailer: Mailer;
  clock: () => Date;
  closureDays: readonly string[];
  from: string;
  publicUrl: string;
  logger: Logger;
  concurrency?: number;
  /** Notifications due within this many ms are held in Redis as delayed jobs. */
  horizonMs?: number;
  sweepEveryMs?: number;
  /** First retry delay after a transient failure (exponential with jitter after that, delivery.ts). */
  retryDelayMs?: number;
  /** A sending row older than this is taken to belong to a crashed worker. */
  staleSendingMs?: number;
  /** Start the BullMQ scheduler and the change-feed listener (off in tests that drive sweeps by hand). */
  schedule?: boolean;
  /** Whole years after closing before a record is anonymised (FRISTVAGT_RETENTION_YEARS). */
  retentionYears?: number;
}

export interface WorkerDeps {
  send: SendDeps;
  retentionYears: number;
  planAndEnqueue(type: RecordTypeName, id: string): Promise<PlanResult | undefined>;
  sweep(): Promise<SweepResult>;
}

export interface SweepResult {
  leader: boolean;
  planned: number;
  recovered: number;
  enqueued: number;
  /** § 22 annual overview rows created by this sweep (January only). */
  annualPlanned?: number;
  /** The change_seq up to which this sweep's catch-up has planned every committed change (leader only). */
  settled?: number;
}

export interface RunningWorker {
  id: string;
  queue: Queue;
  deps: WorkerDeps;
  sweep(): Promise<SweepResult>;
  /**
   * Stops within `timeoutMs` whatever Redis, Postgres or SMTP do: active jobs (and a sweep this
   * process runs) may finish until a reserve for closing is left, then are handed back; connections
   * are closed, or cut when they do not close in time. Returns what it had to abandon (job ids,
   * the lease, connections; no personal data), empty after a clean stop.
   */
  stop(timeoutMs?: number): Promise<string[]>;
}

const TABLES = [
  ['incident', incidents],
  ['security_cell_placement', securityCellPlacements],
  ['force_use', forceUses],
  ['action_plan', actionPlans],
] as const;

const LEASE_KEY = 'worker.lease';
const WATERMARK_KEY = 'worker.watermark';
const SETTINGS_STAMP_KEY = 'worker.settings-stamp';
/** The change_seq and the writing transactions seen by the last sweep that could not settle its catch-up at once. */
const PENDING_KEY = 'worker.watermark-pending';

/**
 * What the stored plans were computed under: every setting's change time (not the worker's own
 * keys) and the rule catalogue's version. When it differs from the last sweep's, the sweep re-plans
 * and re-materialises every stored record: after a settings change, and on the first sweep after
 * an upgrade that changed the rules.
 */
export function settingsStamp(rows: ReadonlyArray<{ key: string; updatedAt: Date }>): string {
  return [`catalogue@${CATALOGUE_VERSION}`, ...rows.filter((r) => !r.key.startsWith('worker.')).map((r) => `${r.key}@${r.updatedAt.toISOString()}`).sort()].join('|');
}

/** A loader whose result is reused for `ttlMs` (by the injected clock, so tests stay deterministic). */
function cached<T>(load: () => Promise<T>, ttlMs: number, clock: () => Date): () => Promise<T> {
  let value: Promise<T> | undefined;
  let at = 0;
  return () => {
    const now = clock().getTime();
    if (!value || Math.abs(now - at) > ttlMs) {
      at = now;
      value = load().catch((err: unknown) => {
        value = undefined;
        throw err;
      });
    }
    return value;
  };
}

export async function startWorker(o: WorkerOptions): Promise<RunningWorker> {
  const id = `worker-${randomUUID().slice(0, 8)}`;
  const db = o.database.db;
  const log = o.logger.child({ worker: id });
  const horizonMs = o.horizonMs ?? 24 * 3600_000;
  const sweepEveryMs = o.sweepEveryMs ?? 60_000;
  const staleSendingMs = o.staleSendingMs ?? 5 * 60_000;
  const redis = redisFamily(o.redisUrl);
  const queue = new Queue(QUEUE_NAME, { connection: redis.create(), prefix: o.prefix });

  const send: SendDeps = {
    db,
    mailer: o.mailer,
    clock: o.clock,
    closureDays: o.closureDays,
    // Settings change rarely and a change triggers a full re-plan by the sweep; a few seconds of
    // staleness in the send path saves two queries per mail.
    settings: cached(() => loadWorkerSettings(db), 5_000, o.clock),
    rulesInForce: cached(() => loadRulesInForce(db, o.closureDays), 5_000, o.clock),
    from: o.from,
    publicUrl: o.publicUrl,
    logger: log,
    staleSendingMs,
    retryDelayMs: o.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS,
    // Outbox hook: a row of another job's batch that must wait gets its job back, as the sweep would add it.
    requeue: (rows) => enqueueDue(rows),
    sendLanes: o.concurrency ?? 5,
    batchSize: BATCH_SIZE,
  };

  /**
   * A due row whose job is still in Redis: a delayed one (its delay came from a clock that ran
   * behind, another worker's or a test's) is fired now; a finished one (failed after its last
   * attempt while the row went back to `scheduled`, e.g. Postgres was down longer than the retries)
   * is removed, because adding a job under a taken id is a no-op and the row would never be sent.
   */
  async function reviveDue(jobId: string): Promise<'promoted' | 'add'> {
    const existing = await queue.getJob(jobId);
    if (!existing) return 'add';
    const state = await existing.getState();
    if (state === 'delayed') {
      await existing.promote().catch(() => undefined);
      return 'promoted';
    }
    if (state === 'failed' || state === 'completed') {
      await existing.remove().catch((err: unknown) => log.warn({ jobId, err: { message: (err as Error).message } }, 'could not remove a finished job for a row that is still due'));
    }
    return 'add';
  }

  /**
   * When a row may be tried again: delivery.ts's notBefore, the very instant the worker that
   * deferred its job computed, so the sweep neither fires it early nor adds a second job beside
   * it; and not before the SMTP server's circuit lets a probe through.
   */
  const retryDelayMs = o.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS;
  const fireAtOf = (r: { id: string; plannedAt: Date; attempts: number; lastError: string | null; updatedAt: Date }, now: number): number => {
    const circuit = o.mailer.unavailableUntil?.();
    // The breaker runs on real time, the schedule on the injected clock: carry over the wait, not the instant.
    return Math.max(notBefore(r, retryDelayMs), circuit === undefined ? 0 : now + Math.max(0, circuit - Date.now()));
  };

  async function enqueueDue(rows: Array<{ id: string; version: number; stage: string; plannedAt: Date; attempts: number; lastError: string | null; updatedAt: Date }>): Promise<number> {
    const now = o.clock().getTime();
    const jobs: Array<{ payload: { notificationId: string }; opts: JobsOptions }> = [];
    for (const r of rows) {
      const jobId = `send-${r.id}-${r.version}`;
      const fireAt = fireAtOf(r, now);
      // Only a row due now can have a job that needs more than adding (promote, replace); the
      // rest go to Redis in bulk, one round trip per 500 instead of one per row.
      if (fireAt <= now && (await reviveDue(jobId)) === 'promoted') continue;
      jobs.push({
        payload: { notificationId: r.id },
        // Deterministic: adding it again (every sweep, after FLUSHALL) is a no-op while it waits.
        opts: sendJobOptions(jobId, fireAt - now, retryDelayMs, sendPriority(r.stage)),
      });
    }
    await enqueueBulk(queue, 'notification.send', jobs);
    return rows.length;
  }

  async function planAndEnqueue(type: RecordTypeName, recordId: string): Promise<PlanResult | undefined> {
    const now = o.clock();
    const result = await planRecord(db, { closureDays: o.closureDays, now, settings: await loadWorkerSettings(db) }, type, recordId);
    await enqueueDue(await dueNotifications(db, new Date(now.getTime() + horizonMs), [recordId]));
    return result;
  }

  /**
   * One sweeper at a time: a lease row, renewed by its holder (every sweep and every catch-up
   * batch), taken over when it expires. Three sweep intervals: a leader killed without a goodbye
   * delays recovery of its half-sent rows by at most that much.
   */
  const leaseMs = Math.max(3 * sweepEveryMs, 10_000);
  async function acquireLease(now: Date): Promise<boolean> {
    const until = new Date(now.getTime() + leaseMs).toISOString();
    const rows = await db.execute(sql`
      INSERT INTO settings (key, value, updated_at, updated_by) VALUES (${LEASE_KEY}, ${JSON.stringify({ owner: id, until })}::jsonb, ${now.toISOString()}::timestamptz, ${id})
      ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at, updated_by = excluded.updated_by
      WHERE (settings.value->>'until')::timestamptz < ${now.toISOString()}::timestamptz OR settings.value->>'owner' = ${id}
      RETURNING key`);
    return rowsOf(rows).length > 0;
  }

  async function readNumberSetting(key: string): Promise<number> {
    const [row] = await db.select().from(settings).where(eq(settings.key, key));
    return typeof row?.value === 'number' ? row.value : 0;
  }
  async function writeSetting(key: string, value: unknown, now: Date): Promise<void> {
    await db.insert(settings).values({ key, value: value as object, updatedAt: now, updatedBy: id }).onConflictDoUpdate({ target: settings.key, set: { value: value as object, updatedAt: now, updatedBy: id } });
  }

  /** Liveness and sweep timings for /metrics and /readyz; best effort, never fails a sweep. */
  async function heartbeat(sweepMs?: number): Promise<void> {
    const now = o.clock();
    const swept = sweepMs === undefined ? {} : { lastSweepAt: now, lastSweepMs: Math.round(sweepMs), sweepsTotal: sql`${workerHeartbeats.sweepsTotal} + 1`, sweepMsTotal: sql`${workerHeartbeats.sweepMsTotal} + ${Math.round(sweepMs)}` };
    await db
      .insert(workerHeartbeats)
      .values({ workerId: id, hostname: hostname(), pid: process.pid, startedAt: now, lastSeenAt: now, ...(sweepMs === undefined ? {} : { lastSweepAt: now, lastSweepMs: Math.round(sweepMs), sweepsTotal: 1, sweepMsTotal: Math.round(sweepMs) }) })
      .onConflictDoUpdate({ target: workerHeartbeats.workerId, set: { lastSeenAt: now, ...swept } })
      .catch((err: unknown) => log.warn({ err: { message: (err as Error).message } }, 'could not write the worker heartbeat'));
  }

  /** Set by stop(): a sweep in progress ends early, at a point the next sweep carries on from. */
  let stopping = false;

  // A sweep longer than the interval must not be joined by the next one on this worker: BullMQ
  // would start it in another job slot, the lease (same owner) would let it through, and the
  // overlapping sweeps would re-plan the same records and starve the sends of slots.
  let inFlight: Promise<SweepResult> | undefined;
  function sweep(): Promise<SweepResult> {
    inFlight ??= (async () => {
      const started = performance.now();
      try {
        const result = await sweepOnce();
        await heartbeat(result.leader ? performance.now() - started : undefined);
        return result;
      } finally {
        inFlight = undefined;
      }
    })();
    return inFlight;
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
  /** The last change_seq drawn so far (by committed, running or rolled-back writes alike). */
  async function lastChangeSeq(): Promise<number> {
    const [seqRow] = rowsOf<{ s: string | number }>(await db.execute(sql`SELECT CASE WHEN is_called THEN last_value ELSE 0 END AS s FROM record_change_seq`));
    return Number(seqRow?.s ?? 0);
  }

  async function settledSeq(now: Date, watermark: number): Promise<number> {
    const seq = await lastChangeSeq();
    const writers = async (): Promise<Set<string>> =>
      new Set(
        rowsOf<{ x: string }>(
          await db.execute(sql`
            SELECT backend_xid::text AS x FROM pg_stat_activity WHERE datname = current_database() AND backend_xid IS NOT NULL AND pid <> pg_backend_pid()
            UNION SELECT transaction::text FROM pg_prepared_xacts WHERE database = current_database()`),
        ).map((r) => r.x),
      );
    const seen = await writers();
    if (seen.size === 0) return seq;
    const still = await writers();
    if (![...seen].some((x) => still.has(x))) return seq;
    const [prev] = await db.select().from(settings).where(eq(settings.key, PENDING_KEY));
    const pending = prev?.value as { seq: number; xids: string[]; since: string } | undefined;
    const prevDone = pending !== undefined && Array.isArray(pending.xids) && !pending.xids.some((x) => still.has(x));
    const settledPrev = prevDone ? pending.seq : watermark;
    const since = pending && !prevDone && typeof pending.since === 'string' ? pending.since : now.toISOString();
    if (now.getTime() - Date.parse(since) > Math.max(10 * sweepEveryMs, 10 * 60_000)) {
      log.warn({ since, writers: still.size }, 'the change-feed catch-up is held back by a long-open writing transaction in this database; changes since then rely on LISTEN until it ends');
    }
    await writeSetting(PENDING_KEY, { seq, xids: [...still], since }, now);
    return Math.max(watermark, Math.min(settledPrev, seq));
  }

  async function sweepOnce(): Promise<SweepResult> {
    const now = o.clock();
    if (!(await acquireLease(now))) return { leader: false, planned: 0, recovered: 0, enqueued: 0 };
    // A change of schedule, recipients, closure days or policy re-plans everything; so does an upgrade of the rule catalogue.
    const stamp = settingsStamp(await db.select({ key: settings.key, updatedAt: settings.updatedAt }).from(settings));
    const [stored] = await db.select().from(settings).where(eq(settings.key, SETTINGS_STAMP_KEY));
    const storedWatermark = await readNumberSetting(WATERMARK_KEY);
    let watermark = stored?.value === stamp ? storedWatermark : 0;

    // Catch up on the change feed: every record changed since the watermark, in change order, up
    // to a change_seq that no running transaction can still commit below.
    const settled = await settledSeq(now, storedWatermark);
    let planned = 0;
    for (;;) {
      const batch: Array<{ type: RecordTypeName; id: string; seq: number }> = [];
      for (const [type, table] of TABLES) {
        const rows = await db.select({ id: table.id, seq: table.changeSeq }).from(table).where(and(gt(table.changeSeq, watermark), lte(table.changeSeq, settled))).orderBy(asc(table.changeSeq)).limit(500);
        for (const r of rows) batch.push({ type, id: r.id, seq: r.seq });
      }
      if (batch.length === 0) break;
      batch.sort((a, b) => a.seq - b.seq);
      const slice = batch.slice(0, 500);
      // Once per batch, not per record: a settings change during the catch-up re-plans everything on the next sweep anyway.
      const workerSettings = await loadWorkerSettings(db);
      for (const r of slice) {
        // A stop ends a long catch-up between two records; the next sweep carries on from the watermark.
        if (stopping) break;
        try {
          await planRecord(db, { closureDays: o.closureDays, now, settings: workerSettings }, r.type, r.id);
          planned++;
        } catch (err) {
          // A stored record the rules in force refuse (written before an upgrade made a field
          // required, or straight into the table) must not hold up every record after it: it is
          // left unplanned until it is corrected, which plans it again. Anything else stops the sweep.
          if (!(err instanceof DomainError)) throw err;
          log.error({ recordType: r.type, recordId: r.id, code: err.code, fields: err.issues.map((i) => formatPath(i.path)) }, 'record not planned: the rules in force refuse it; correct the record');
        }
        watermark = r.seq;
      }
      await writeSetting(WATERMARK_KEY, watermark, now);
      if (stopping) return { leader: true, planned, recovered: 0, enqueued: 0 };
      // A long catch-up keeps its lease; if another worker took it meanwhile, it carries on from the watermark.
      if (!(await acquireLease(o.clock()))) return { leader: false, planned, recovered: 0, enqueued: 0 };
    }
    await writeSetting(SETTINGS_STAMP_KEY, stamp, now);

    // A worker that crashed mid-send left its row in `sending`: hand it back. Not the preliminary
    // notice: it is sent on a person's approval, and whether the interrupted one reached the
    // Ombudsman is for that person to check before approving again.
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

    const enqueued = await enqueueDue(await dueNotifications(db, new Date(now.getTime() + horizonMs)));

    const annualPlanned = await planAnnualOverviews(send, now);
    const annualRecovered = await recoverAnnualOverviews(db, now, staleSendingMs);
    for (const a of await dueAnnualOverviews(db, new Date(now.getTime() + horizonMs))) {
      const jobId = `annual-${a.id}`;
      const fireAt = fireAtOf(a, now.getTime());
      if (fireAt <= now.getTime() && (await reviveDue(jobId)) === 'promoted') continue;
      await enqueue(queue, 'annual-overview.send', { overviewId: a.id }, sendJobOptions(jobId, fireAt - now.getTime(), retryDelayMs, sendPriority('annual')));
    }
    return { leader: true, planned, recovered: recovered.length + annualRecovered, enqueued, annualPlanned, settled };
  }

  const deps: WorkerDeps = { send, retentionYears: o.retentionYears ?? 5, planAndEnqueue, sweep };
  /** Processors still running, with the job they run (for the log of a stop that abandons them). */
  const active = new Map<Promise<unknown>, { name: string; id: string }>();
  const worker = new Worker(
    QUEUE_NAME,
    async (job: Job) => {
      if (!isJobName(job.name)) throw new Error(`unknown job ${job.name}`);
      const running = PROCESSORS[job.name](job, deps);
      active.set(running, { name: job.name, id: job.id ?? '?' });
      try {
        return await running;
      } catch (err) {
        // BullMQ stores the message and stack in Redis: never a failed query's parameters.
        throw redactInPlace(err);
      } finally {
        active.delete(running);
      }
    },
    { connection: redis.create(), prefix: o.prefix, concurrency: o.concurrency ?? 5, autorun: true },
  );
  worker.on('failed', (job, err) => log.warn({ job: job?.name, jobId: job?.id, attempts: job?.attemptsMade, err }, 'job failed'));
  worker.on('error', (err) => log.error({ err }, 'worker error'));

  await heartbeat();
  const beat = setInterval(() => void heartbeat(), Math.min(sweepEveryMs, 30_000));
  beat.unref();

  /** Nightly anonymisation of records past retention; idempotent, so every replica may upsert it. */
  async function upsertRetention(): Promise<void> {
    await queue.upsertJobScheduler('retention', { pattern: '15 3 * * *', tz: 'Europe/Copenhagen' }, { name: 'retention.run', data: {}, opts: SCHEDULED_JOB_OPTIONS });
  }

  let stopFeed: (() => Promise<void>) | undefined;
  let timer: NodeJS.Timeout | undefined;
  if (o.schedule ?? true) {
    await queue.upsertJobScheduler('sweep', { every: sweepEveryMs }, { name: 'sweep', data: {}, opts: SCHEDULED_JOB_OPTIONS });
    await upsertRetention();
    /**
     * After the listening connection was dropped and came back: the notifications sent meanwhile are
     * lost, so sweep until the catch-up has settled every change drawn before listening again (a
     * sweep settles only part of it while writers are open), with backoff while it fails or waits.
     * A worker that does not lead the sweep leaves it to the leader, which got the notifications or
     * catches up itself.
     */
    let feedStopped = false;
    let catchUpTimer: NodeJS.Timeout | undefined;
    const catchUp = (attempt: number, target?: number): void => {
      if (feedStopped) return;
      let upTo = target;
      const again = (): void => {
        catchUpTimer = setTimeout(() => catchUp(attempt + 1, upTo), Math.min(retryDelayMs * 2 ** attempt, 60_000));
        catchUpTimer.unref();
      };
      void (async () => {
        upTo ??= await lastChangeSeq();
        const r = await sweep();
        return !r.leader || (r.settled ?? 0) >= upTo;
      })().then(
        (done) => (done ? undefined : again()),
        (err: unknown) => {
          log.warn({ err }, 'change-feed catch-up failed; retrying');
          again();
        },
      );
    };
    const unlisten = await o.database.listen(
      'fristvagt_changes',
      (payload) => {
        try {
          const p = JSON.parse(payload) as { type: RecordTypeName; id: string; seq: number };
          // Retried: planning that fails on a dropped database connection runs again shortly, not at the next sweep.
          void enqueue(queue, 'record.plan', { recordType: p.type, recordId: p.id }, planJobOptions(`plan-${p.type}-${p.id}-${p.seq}`, retryDelayMs)).catch((err: unknown) => log.warn({ err }, 'could not enqueue planning; the sweep will catch up'));
        } catch {
          log.warn('ignored a malformed change notification');
        }
      },
      // The listening connection was dropped and is back: what was notified meanwhile is lost, so
      // catch up from the change feed now instead of at the next scheduled sweep.
      () => {
        log.warn('change feed re-subscribed after a dropped connection; catching up');
        clearTimeout(catchUpTimer);
        catchUp(0);
      },
    );
    stopFeed = async () => {
      feedStopped = true;
      clearTimeout(catchUpTimer);
      await unlisten();
    };
    // Redis may lose the scheduler (FLUSHALL, failover): put it back; Postgres never loses the work.
    timer = setInterval(() => {
      void queue
        .getJobScheduler('sweep')
        .then((s) => (s ? undefined : queue.upsertJobScheduler('sweep', { every: sweepEveryMs }, { name: 'sweep', data: {}, opts: SCHEDULED_JOB_OPTIONS })))
        .catch(() => undefined);
      void queue
        .getJobScheduler('retention')
        .then((s) => (s ? undefined : upsertRetention()))
        .catch(() => undefined);
    }, sweepEveryMs);
    timer.unref();
  }

  return {
    id,
    queue,
    deps,
    sweep,
    async stop(timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      const left = (): number => Math.max(0, deadline - Date.now());
      const abandoned: string[] = [];
      stopping = true;
      if (timer) clearInterval(timer);
      clearInterval(beat);
      // Closing after the grace takes at most this: settle, lease, BullMQ, heartbeat.
      const closingMs = Math.min(3_000, timeoutMs / 2);
      // BullMQ takes no new job from here on; close() itself may never end while Redis is down (its
      // QUIT waits for a connection), so the grace waits for this process's own work instead.
      const closing = worker.close();
      closing.catch(() => undefined);
      if (stopFeed && (await within(stopFeed(), Math.min(500, left()))) !== 'done') abandoned.push('change feed: LISTEN not ended');
      const ownWork = async (): Promise<void> => {
        while (active.size > 0 || inFlight) await Promise.allSettled([...active.keys(), inFlight]);
      };
      const handBack = (await within(ownWork, left() - closingMs)) === 'timeout';
      if (handBack) {
        // Handed back: with its connections cut, the jobs' locks lapse and BullMQ's stalled-job check
        // gives them to a worker again; each row is claimed afresh in Postgres, so nothing is sent twice.
        redis.cut();
        if (inFlight) abandoned.push('sweep: still running (a query that does not return?); the next sweep carries on from the watermark');
        // A send the SMTP server has accepted still has to mark its row, or the mail goes out again.
        if ((await within(Promise.allSettled(active.keys()), Math.min(1_000, left() - 2_000))) === 'timeout') {
          for (const job of active.values()) {
            if (job.name === 'sweep') continue;
            abandoned.push(`job ${job.name} ${job.id}: still running, handed back (${job.name.endsWith('.send') ? 'its row is recovered after FRISTVAGT_STALE_SENDING_MS' : 'the next sweep redoes it'})`);
          }
        }
      }
      // A clean stop (deploy, scale-in) hands the sweep over at once instead of after the lease runs out.
      const lease = await within(db.execute(sql`DELETE FROM settings WHERE key = ${LEASE_KEY} AND value->>'owner' = ${id}`), Math.min(500, left()));
      if (lease !== 'done') abandoned.push(`sweep lease: not released (another worker takes it when it expires, within ${leaseMs} ms)`);
      if (!handBack && (await within(Promise.all([closing, queue.close()]), Math.min(1_000, left() - 500))) !== 'done') abandoned.push('redis: the queue connections did not close (Redis unreachable?); cut');
      // A stopped worker is not a dead one: drop its row so that /metrics shows only live workers.
      if ((await within(db.delete(workerHeartbeats).where(eq(workerHeartbeats.workerId, id)), Math.min(500, left()))) !== 'done') abandoned.push('heartbeat row: not removed (it ages out of /metrics)');
      redis.cut();
      if (abandoned.length > 0) log.warn({ abandoned }, 'worker stopped; abandoned some work');
      return abandoned;
    },
  };
}
