/**
 * One sweeper at a time: a lease on the worker_state row, renewed by its holder (every sweep and
 * every catch-up batch), taken over when it expires. Three sweep intervals (at least 10 s): a leader
 * killed without a goodbye delays recovery of its half-sent rows by at most that much.
 */
import { and, eq, isNull, lt, or } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { workerState } from '../db/schema.js';
import { ensureWorkerState } from './worker-state.js';

export interface Lease {
  /** How long a taken lease lasts. */
  readonly ms: number;
  /** Takes or renews the lease at `now`; false while another worker holds an unexpired one. */
  acquire(now: Date): Promise<boolean>;
  /** Hands the lease over at once (a clean stop), if this worker holds it. */
  release(): Promise<void>;
}

export function leaseMsFor(sweepEveryMs: number): number {
  return Math.max(3 * sweepEveryMs, 10_000);
}

export function createLease(db: Db, owner: string, ms: number): Lease {
  let ensured = false;
  return {
    ms,
    async acquire(now) {
      if (!ensured) {
        await ensureWorkerState(db);
        ensured = true;
      }
      const rows = await db
        .update(workerState)
        .set({ leaseOwner: owner, leaseUntil: new Date(now.getTime() + ms), updatedAt: now })
        .where(and(eq(workerState.id, 1), or(isNull(workerState.leaseUntil), lt(workerState.leaseUntil, now), eq(workerState.leaseOwner, owner))))
        .returning({ id: workerState.id });
      return rows.length > 0;
    },
    async release() {
      await db.update(workerState).set({ leaseOwner: null, leaseUntil: null }).where(eq(workerState.leaseOwner, owner));
    },
  };
}
