/**
 * The worker's own state in its one row of `worker_state` (migration 0008; before it, `worker.*`
 * keys of the settings table): the catch-up's watermark and settings stamp, the reading of a
 * catch-up held back by open writers, and the Redis epoch of the enqueued markers. The lease has
 * its own module (lease.ts) on the same row.
 */
import { eq, sql } from 'drizzle-orm';
import { CATALOGUE_VERSION } from '../domain/index.js';
import { rowsOf, type Db } from '../db/client.js';
import { settings, workerState } from '../db/schema.js';

export type WorkerStateRow = typeof workerState.$inferSelect;

/** The row's id: there is only one. */
const ROW = 1;

/** Creates the row if a database has none yet (a fresh one; migration 0008 creates it on upgraded ones). */
export async function ensureWorkerState(db: Db): Promise<void> {
  await db.insert(workerState).values({ id: ROW }).onConflictDoNothing();
}

export async function readWorkerState(db: Db): Promise<WorkerStateRow> {
  const [row] = await db.select().from(workerState).where(eq(workerState.id, ROW));
  if (row) return row;
  await ensureWorkerState(db);
  return readWorkerState(db);
}

/** Writes some of the row's fields (never the lease's: lease.ts owns those). */
export async function writeWorkerState(db: Db, fields: Partial<Omit<WorkerStateRow, 'id' | 'leaseOwner' | 'leaseUntil' | 'updatedAt'>>, now: Date): Promise<void> {
  await db.update(workerState).set({ ...fields, updatedAt: now }).where(eq(workerState.id, ROW));
}

/**
 * What the stored plans were computed under: every setting's change time and the rule catalogue's
 * version (always the first part). When it differs from the last sweep's, the sweep re-plans (see
 * replanScope).
 */
export function settingsStamp(rows: ReadonlyArray<{ key: string; updatedAt: Date }>): string {
  return [`catalogue@${CATALOGUE_VERSION}`, ...rows.map((r) => `${r.key}@${r.updatedAt.toISOString()}`).sort()].join('|');
}

export async function currentSettingsStamp(db: Db): Promise<string> {
  return settingsStamp(await db.select({ key: settings.key, updatedAt: settings.updatedAt }).from(settings));
}

/**
 * Which records a sweep must re-plan beyond the changes since its watermark:
 * - `none`: the stamp is the one the plans were computed under;
 * - `all`: the rule catalogue changed (an upgrade) or nothing was ever stamped: every stored record,
 *   closed ones too, because their deadlines are recomputed under the new rules;
 * - `open`: only settings changed: the records still open (`closed_at IS NULL`). A closed record
 *   has no waiting notification left (its closing was planned and cancelled them), and its
 *   deadlines were judged under the settings in force while it was open — a later change of
 *   schedule, recipients or closure days must not rewrite that history.
 */
export function replanScope(stored: string | null, current: string): 'none' | 'open' | 'all' {
  if (stored === current) return 'none';
  if (stored === null || stored.split('|')[0] !== current.split('|')[0]) return 'all';
  return 'open';
}

/** The last change_seq drawn so far (by committed, running or rolled-back writes alike). */
export async function lastChangeSeq(db: Db): Promise<number> {
  const [row] = rowsOf<{ s: string | number }>(await db.execute(sql`SELECT CASE WHEN is_called THEN last_value ELSE 0 END AS s FROM record_change_seq`));
  return Number(row?.s ?? 0);
}
