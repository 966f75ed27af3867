/**
 * The change feed: every write to a record table NOTIFYs `fristvagt_changes` (migration 0001) with
 * the record's type, id and change_seq. The feed coalesces a burst of them (an import batch, a
 * busy morning) for a short window into `record.plan` jobs of up to PLAN_BATCH records each, so
 * planning runs in batches (jobs/record-plan.ts) instead of one job per record. The sweep's
 * catch-up from the watermark is the guarantee; the feed is the fast path.
 */
import { createHash } from 'node:crypto';
import type { Queue } from 'bullmq';
import type { Logger } from 'pino';
import type { Database } from '../db/client.js';
import { planJobOptions } from '../queue/job-options.js';
import { enqueue } from '../queue/registry.js';
import type { RecordTypeName } from '../records/kinds.js';
import { PLAN_BATCH } from './planner.js';

interface Change {
  type: RecordTypeName;
  id: string;
  seq: number;
}

/**
 * Collects items for `windowMs` after the first one (or until `max` are waiting) and hands them
 * over together. A record changed twice in the window is planned once, at its latest change.
 */
export function coalesce(windowMs: number, max: number, flush: (batch: Change[]) => void): { push(c: Change): void; drain(): void } {
  let waiting = new Map<string, Change>();
  let timer: NodeJS.Timeout | undefined;
  const drain = (): void => {
    clearTimeout(timer);
    timer = undefined;
    if (waiting.size === 0) return;
    const batch = [...waiting.values()];
    waiting = new Map();
    flush(batch);
  };
  return {
    push(c) {
      const key = `${c.type}:${c.id}`;
      if ((waiting.get(key)?.seq ?? -1) < c.seq) waiting.set(key, c);
      if (waiting.size >= max) drain();
      else if (!timer) {
        timer = setTimeout(drain, windowMs);
        timer.unref();
      }
    },
    drain,
  };
}

/**
 * The job id of a batch, from its records and their change_seqs: every worker receives every
 * notification, and when their windows gather the same burst they add the same job once.
 */
function batchJobId(batch: readonly Change[]): string {
  const key = batch.map((c) => `${c.type}:${c.id}:${c.seq}`).sort().join(',');
  return `plan-${createHash('sha256').update(key).digest('hex').slice(0, 32)}`;
}

/**
 * After the listening connection was dropped and came back: the notifications sent meanwhile are
 * lost, so sweep until the catch-up has settled every change drawn before listening again (a
 * sweep settles only part of it while writers are open), with backoff while it fails or waits.
 * A worker that does not lead the sweep leaves it to the leader, which got the notifications or
 * catches up itself.
 */
export function resubscribeCatchUp(o: { sweep(): Promise<{ leader: boolean; settled?: number }>; lastSeq(): Promise<number>; retryDelayMs: number; logger: Logger }): { start(): void; stop(): void } {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const attempt = (n: number, target?: number): void => {
    if (stopped) return;
    let upTo = target;
    const again = (): void => {
      timer = setTimeout(() => attempt(n + 1, upTo), Math.min(o.retryDelayMs * 2 ** n, 60_000));
      timer.unref();
    };
    void (async () => {
      upTo ??= await o.lastSeq();
      const r = await o.sweep();
      return !r.leader || (r.settled ?? 0) >= upTo;
    })().then(
      (done) => (done ? undefined : again()),
      (err: unknown) => {
        o.logger.warn({ err }, 'change-feed catch-up failed; retrying');
        again();
      },
    );
  };
  return {
    start() {
      clearTimeout(timer);
      attempt(0);
    },
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

export interface ChangeFeedOptions {
  database: Database;
  queue: Queue;
  logger: Logger;
  retryDelayMs: number;
  /** How long a burst is gathered before its planning job is added. */
  windowMs: number;
  /** The listening connection was dropped and is back: what was notified meanwhile is lost. */
  onResubscribe(): void;
}

export interface ChangeFeed {
  stop(): Promise<void>;
}

export async function startChangeFeed(o: ChangeFeedOptions): Promise<ChangeFeed> {
  const batches = coalesce(o.windowMs, PLAN_BATCH, (batch) => {
    // Retried: planning that fails on a dropped database connection runs again shortly, not at the next sweep.
    void enqueue(o.queue, 'record.plan', { records: batch.map((c) => ({ recordType: c.type, recordId: c.id })) }, planJobOptions(batchJobId(batch), o.retryDelayMs)).catch((err: unknown) =>
      o.logger.warn({ err, records: batch.length }, 'could not enqueue planning; the sweep will catch up'),
    );
  });
  const unlisten = await o.database.listen(
    'fristvagt_changes',
    (payload) => {
      try {
        const p = JSON.parse(payload) as Change;
        batches.push({ type: p.type, id: p.id, seq: Number(p.seq) });
      } catch {
        o.logger.warn('ignored a malformed change notification');
      }
    },
    () => {
      o.logger.warn('change feed re-subscribed after a dropped connection; catching up');
      o.onResubscribe();
    },
  );
  return {
    async stop() {
      // What was gathered goes to Redis without waiting for it; if it does not arrive, the sweep's catch-up plans it.
      batches.drain();
      await unlisten();
    },
  };
}
