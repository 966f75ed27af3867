/**
 * After a write from a UI form: plan the written records at once with the worker's own planner
 * (planRecords: idempotent, under the record's planning lock), so the page the person lands on
 * shows the re-plan (a met deadline's waiting reminders and escalations cancelled) instead of
 * "Planlagt" until the worker's change feed gets to it. The worker plans the same change again
 * (a no-op) and adds the send jobs; a failure here only leaves it to the worker.
 */
import type { FastifyRequest } from 'fastify';
import type { RecordTypeName } from '../records/kinds.js';
import { safeError } from '../safe-error.js';
import { planRecords } from '../worker/planner.js';
import { loadWorkerSettings } from '../worker/settings.js';
import type { UiContext } from './index.js';

export async function replanNow(u: UiContext, req: FastifyRequest, refs: ReadonlyArray<{ type: RecordTypeName; id: string }>): Promise<void> {
  if (refs.length === 0) return;
  const db = u.deps.database.db;
  try {
    await planRecords(db, { closureDays: u.ctx.closureDays, now: u.ctx.clock(), settings: await loadWorkerSettings(db) }, refs);
  } catch (err) {
    req.log.warn({ err: safeError(err), records: refs.length }, 'ui: planning after a write failed; the worker plans it');
  }
}
