import { DelayedError, type Job } from 'bullmq';
import type { SendDeferred } from '../src/worker/delivery.js';

/**
 * A send that has to wait (a transient failure's backoff, an open SMTP circuit): the job itself
 * moves to `delayed` until then. Not a failed attempt: BullMQ's retry budget is for faults before
 * the claim, and the row's own backoff is in Postgres, where the sweep reads the same instant.
 */
export async function deferJob(job: Job, deferred: SendDeferred): Promise<never> {
  await job.moveToDelayed(Date.now() + Math.max(0, deferred.delayMs), job.token);
  throw new DelayedError(deferred.message);
}
