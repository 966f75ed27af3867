/** Liveness and sweep timings of each worker process for /metrics and /readyz (worker_heartbeats). */
import { hostname } from 'node:os';
import { eq, sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Db } from '../db/client.js';
import { workerHeartbeats } from '../db/schema.js';

export interface Heartbeat {
  /** Best effort, never fails its caller; `sweepMs` when this worker just led a sweep. */
  beat(sweepMs?: number): Promise<void>;
  /** A stopped worker is not a dead one: its row goes, so /metrics shows only live workers. */
  remove(): Promise<void>;
}

export function createHeartbeat(db: Db, workerId: string, clock: () => Date, log: Logger): Heartbeat {
  return {
    async beat(sweepMs) {
      const now = clock();
      const ms = sweepMs === undefined ? undefined : Math.round(sweepMs);
      const swept = ms === undefined ? {} : { lastSweepAt: now, lastSweepMs: ms, sweepsTotal: sql`${workerHeartbeats.sweepsTotal} + 1`, sweepMsTotal: sql`${workerHeartbeats.sweepMsTotal} + ${ms}` };
      await db
        .insert(workerHeartbeats)
        .values({ workerId, hostname: hostname(), pid: process.pid, startedAt: now, lastSeenAt: now, ...(ms === undefined ? {} : { lastSweepAt: now, lastSweepMs: ms, sweepsTotal: 1, sweepMsTotal: ms }) })
        .onConflictDoUpdate({ target: workerHeartbeats.workerId, set: { lastSeenAt: now, ...swept } })
        .catch((err: unknown) => log.warn({ err: { message: (err as Error).message } }, 'could not write the worker heartbeat'));
    },
    async remove() {
      await db.delete(workerHeartbeats).where(eq(workerHeartbeats.workerId, workerId));
    },
  };
}
