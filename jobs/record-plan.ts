import { parsePayload } from '../src/queue/registry.js';
import { redisEpoch } from '../src/queue/epoch.js';
import { enqueueDue, rowsOfRecords } from '../src/worker/enqueue-due.js';
import type { RecordRef } from '../src/worker/planner.js';
import { planBatch } from '../src/worker/sweep.js';
import type { WorkerDeps } from '../src/worker/runtime.js';
import type { Processor } from './types.js';

/**
 * A batch of changed records (the change feed's coalesced burst): plan them in one planRecords
 * call, then add the send jobs of their rows due within the horizon. Records the rules refuse are
 * logged and left for their correction; anything else fails the job, which BullMQ retries.
 */
export async function planAndEnqueue(deps: WorkerDeps, refs: readonly RecordRef[]) {
  const now = deps.send.clock();
  const planned = await planBatch(deps.catchUp, refs, now);
  // The epoch before adding: a marker is written only if Redis was not wiped meanwhile (enqueue-due.ts).
  const epoch = await redisEpoch(deps.enqueue.queue);
  const due = await rowsOfRecords(deps.send.db, new Date(now.getTime() + deps.horizonMs), refs);
  const enqueued = await enqueueDue(deps.enqueue, epoch, due, now);
  deps.send.logger.debug({ records: refs.length, planned: planned.records, refused: planned.refused.length, enqueued }, 'planned a batch of changed records');
  return { ...planned, enqueued };
}

export const recordPlan: Processor = async (job, deps) => {
  const { records } = parsePayload('record.plan', job.data);
  const result = await planAndEnqueue(deps, records.map((r) => ({ type: r.recordType, id: r.recordId })));
  // Counts only in the job's result (Redis): the refused records are in the log, by id.
  return { records: result.records, scheduled: result.scheduled, cancelled: result.cancelled, moved: result.moved, refused: result.refused.length, enqueued: result.enqueued };
};
