/**
 * The sweep's two questions about a mail table of its own (the § 22 overview, the backlog
 * summary; notifications have their own, with markers): which rows are due by `until`, and which
 * `sending` rows a crashed sender left behind. The columns are the schema's `outboxColumns`.
 */
import { and, eq, lt, lte } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import type { annualOverviews, backlogSummaries } from '../db/schema.js';

type OwnTable = typeof annualOverviews | typeof backlogSummaries;

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
