/**
 * The sweep's two questions about a mail table of its own (the § 22 overview, the backlog
 * summary; notifications have their own, with markers): which rows are due by `until`, and which
 * `sending` rows a crashed sender left behind. The columns are the schema's `outboxColumns`.
 */
import { and, eq, lt, lte, type SQL } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import type { annualOverviews, backlogSummaries } from '../db/schema.js';

type OwnTable = typeof annualOverviews | typeof backlogSummaries;

/**
 * How the outbox claims a row of such a table: only the job's own row, once due (one mail per
 * claim); a row not claimed is either not yet due or already someone else's.
 */
export function ownRowClaim(table: OwnTable): {
  claimable: (deps: unknown, now: Date) => { own: SQL };
  unclaimed: (deps: { db: Db }, id: string) => Promise<'not-due' | 'not-claimable'>;
} {
  return {
    claimable: (_deps, now) => ({ own: and(eq(table.status, 'scheduled'), lte(table.plannedAt, now)) as SQL }),
    async unclaimed(deps, id) {
      const [row] = await deps.db.select({ status: table.status }).from(table).where(eq(table.id, id));
      return row?.status === 'scheduled' ? 'not-due' : 'not-claimable';
    },
  };
}

/** Rows due by `until` that still wait to be sent: the sweep puts them into the queue. */
export async function dueRows(db: Db, table: OwnTable, until: Date): Promise<Array<{ id: string; plannedAt: Date; attempts: number; lastError: string | null; updatedAt: Date }>> {
  return db.select({ id: table.id, plannedAt: table.plannedAt, attempts: table.attempts, lastError: table.lastError, updatedAt: table.updatedAt }).from(table).where(and(eq(table.status, 'scheduled'), lte(table.plannedAt, until)));
}

/** Hands back rows whose sender crashed between claim and mark; returns how many. */
export async function recoverStale(db: Db, table: OwnTable, now: Date, staleMs: number): Promise<number> {
  const rows = await db
    .update(table)
    .set({ status: 'scheduled', lastError: 'recovered after an interrupted send', updatedAt: now })
    .where(and(eq(table.status, 'sending'), lt(table.claimedAt, new Date(now.getTime() - staleMs))))
    .returning({ id: table.id });
  return rows.length;
}
