/**
 * The watchdog worker: listens to the change feed, plans records into notification rows,
 * keeps BullMQ holding every notification due within the horizon, and sends them.
 *
 * Postgres is the truth. Redis holds only delayed jobs with deterministic ids, so the sweep can
 * re-add whatever is missing (after FLUSHALL, say) without creating duplicates; the row claim in
 * send.ts makes the effect exactly-once even when several workers run.
 *
 * This module only wires the parts together and stops them: the lease (lease.ts), the change feed
 * (change-feed.ts), the sweep (jobs/sweep.ts with sweep.ts and enqueue-due.ts), the heartbeat
 * (heartbeat.ts), the schedulers (src/queue/schedulers.ts) and the processors (jobs/).
 */
import { randomUUID } from 'node:crypto';
import { Queue, Worker, type Job } from 'bullmq';
import type { Logger } from 'pino';
import { PROCESSORS } from '../../jobs/index.js';
import { planAndEnqueue } from '../../jobs/record-plan.js';
import { sweepSteps } from '../../jobs/sweep.js';
import type { Database } from '../db/client.js';
import { redactInPlace } from '../safe-error.js';
import type { Mailer } from '../mail/transport.js';
import { within } from '../lifecycle.js';
import { redisFamily } from '../queue/connection.js';
import { isJobName, QUEUE_NAME } from '../queue/registry.js';
import { repairSchedulers, upsertSchedulers } from '../queue/schedulers.js';
import type { RecordTypeName } from '../records/kinds.js';
import { resubscribeCatchUp, startChangeFeed, type ChangeFeed } from './change-feed.js';
import { enqueueDue, type EnqueueDeps } from './enqueue-due.js';
import { BATCH_SIZE } from './outbox.js';
import { redisEpoch } from '../queue/epoch.js';
import { createHeartbeat } from './heartbeat.js';
import { createLease, leaseMsFor } from './lease.js';
import type { PlanResult } from './planner.js';
import { DEFAULT_RETRY_DELAY_MS, type SendDeps } from './send.js';
import type { CatchUpDeps } from './sweep.js';
import { loadRulesInForce } from '../records/calendar.js';
import { loadWorkerSettings } from './settings.js';
import { lastChangeSeq } from './worker-state.js';

export { settingsStamp } from './worker-state.js';

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
  /** Listen to the change feed (default: as `schedule`; tests of the feed listen without scheduled sweeps). */
  listen?: boolean;
  /** Whole years after closing before a record is anonymised (FRISTVAGT_RETENTION_YEARS). */
  retentionYears?: number;
  /** How long the change feed gathers a burst of notifications into one planning job (ms). */
  feedWindowMs?: number;
}

/** What the processors in jobs/ run with. */
export interface WorkerDeps {
  send: SendDeps;
  retentionYears: number;
  /** Adding send jobs to Redis (enqueue-due.ts). */
  enqueue: EnqueueDeps;
  /** Planning and the change-feed catch-up (sweep.ts), with the lease. */
  catchUp: CatchUpDeps;
  /** Notifications due within this many ms are held in Redis as delayed jobs. */
  horizonMs: number;
  staleSendingMs: number;
  /** Plans one record and adds its due jobs, as a record.plan job of one record does. */
  planAndEnqueue(type: RecordTypeName, id: string): Promise<PlanResult | undefined>;
  /** A sweep; one at a time per worker, and only the lease holder's does anything. */
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
  const sweepEveryMs = o.sweepEveryMs ?? 60_000;
  const staleSendingMs = o.staleSendingMs ?? 5 * 60_000;
  const retryDelayMs = o.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS;
  const redis = redisFamily(o.redisUrl);
  const queue = new Queue(QUEUE_NAME, { connection: redis.create(), prefix: o.prefix });

  const send: SendDeps = {
    db,
    mailer: o.mailer,
    clock: o.clock,
    closureDays: o.closureDays,
    // Settings change rarely and a change triggers a re-plan by the sweep; a few seconds of
    // staleness in the send path saves two queries per mail.
    settings: cached(() => loadWorkerSettings(db), 5_000, o.clock),
    rulesInForce: cached(() => loadRulesInForce(db, o.closureDays), 5_000, o.clock),
    from: o.from,
    publicUrl: o.publicUrl,
    logger: log,
    staleSendingMs,
    retryDelayMs,
    // The outbox: one claim takes up to BATCH_SIZE due rows; at most `concurrency` mails of this
    // process on their way at once; a row of another job's batch that must wait gets its job back.
    batchSize: BATCH_SIZE,
    sendLanes: o.concurrency ?? 5,
    requeue: async (rows) => enqueueDue(enqueueDeps, await redisEpoch(queue), rows.map((r) => ({ ...r, enqueuedVersion: null })), o.clock(), { requeue: true }),
  };
  const enqueueDeps: EnqueueDeps = { db, queue, mailer: o.mailer, retryDelayMs, logger: log };

  /** Set by stop(): a sweep in progress ends early, at a point the next sweep carries on from. */
  let stopping = false;
  const lease = createLease(db, id, leaseMsFor(sweepEveryMs));
  const heartbeat = createHeartbeat(db, id, o.clock, log);

  // A sweep longer than the interval must not be joined by the next one on this worker: BullMQ
  // would start it in another job slot, the lease (same owner) would let it through, and the
  // overlapping sweeps would re-plan the same records and starve the sends of slots.
  let inFlight: Promise<SweepResult> | undefined;
  function sweep(): Promise<SweepResult> {
    inFlight ??= (async () => {
      const started = performance.now();
      try {
        const result = await sweepSteps(deps);
        await heartbeat.beat(result.leader ? performance.now() - started : undefined);
        return result;
      } finally {
        inFlight = undefined;
      }
    })();
    return inFlight;
  }

  const deps: WorkerDeps = {
    send,
    retentionYears: o.retentionYears ?? 5,
    enqueue: enqueueDeps,
    catchUp: { db, closureDays: o.closureDays, logger: log, lease, clock: o.clock, sweepEveryMs, stopping: () => stopping },
    horizonMs: o.horizonMs ?? 24 * 3600_000,
    staleSendingMs,
    async planAndEnqueue(type, recordId) {
      const r = await planAndEnqueue(deps, [{ type, id: recordId }]);
      return r.records === 0 ? undefined : { deadlines: r.deadlines, scheduled: r.scheduled, cancelled: r.cancelled, moved: r.moved };
    },
    sweep,
  };
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

  await heartbeat.beat();
  const beat = setInterval(() => void heartbeat.beat(), Math.min(sweepEveryMs, 30_000));
  beat.unref();

  let feed: ChangeFeed | undefined;
  let catchUp: ReturnType<typeof resubscribeCatchUp> | undefined;
  let timer: NodeJS.Timeout | undefined;
  if (o.schedule ?? true) {
    await upsertSchedulers(queue, sweepEveryMs);
    timer = setInterval(() => void repairSchedulers(queue, sweepEveryMs), sweepEveryMs);
    timer.unref();
  }
  if (o.listen ?? o.schedule ?? true) {
    catchUp = resubscribeCatchUp({ sweep, lastSeq: () => lastChangeSeq(db), retryDelayMs, logger: log });
    const resubscribed = catchUp;
    feed = await startChangeFeed({ database: o.database, queue, logger: log, retryDelayMs, windowMs: o.feedWindowMs ?? 100, onResubscribe: () => resubscribed.start() });
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
      catchUp?.stop();
      // Closing after the grace takes at most this: settle, lease, BullMQ, heartbeat.
      const closingMs = Math.min(3_000, timeoutMs / 2);
      // BullMQ takes no new job from here on; close() itself may never end while Redis is down (its
      // QUIT waits for a connection), so the grace waits for this process's own work instead.
      const closing = worker.close();
      closing.catch(() => undefined);
      if (feed && (await within(feed.stop(), Math.min(500, left()))) !== 'done') abandoned.push('change feed: LISTEN not ended');
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
      if ((await within(lease.release(), Math.min(500, left()))) !== 'done') abandoned.push(`sweep lease: not released (another worker takes it when it expires, within ${lease.ms} ms)`);
      if (!handBack && (await within(Promise.all([closing, queue.close()]), Math.min(1_000, left() - 500))) !== 'done') abandoned.push('redis: the queue connections did not close (Redis unreachable?); cut');
      if ((await within(heartbeat.remove(), Math.min(500, left()))) !== 'done') abandoned.push('heartbeat row: not removed (it ages out of /metrics)');
      redis.cut();
      if (abandoned.length > 0) log.warn({ abandoned }, 'worker stopped; abandoned some work');
      return abandoned;
    },
  };
}
