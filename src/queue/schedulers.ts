/**
 * The repeatable jobs every worker upserts (idempotent, so every replica may): the sweep, and the
 * nightly anonymisation of records past retention. Redis may lose them (FLUSHALL, failover):
 * `repairSchedulers` puts back whichever is missing; Postgres never loses the work.
 */
import type { Queue } from 'bullmq';
import { SCHEDULED_JOB_OPTIONS } from './job-options.js';

function definitions(sweepEveryMs: number) {
  return [
    ['sweep', { repeat: { every: sweepEveryMs }, job: { name: 'sweep', data: {}, opts: SCHEDULED_JOB_OPTIONS } }],
    ['retention', { repeat: { pattern: '15 3 * * *', tz: 'Europe/Copenhagen' }, job: { name: 'retention.run', data: {}, opts: SCHEDULED_JOB_OPTIONS } }],
  ] as const;
}

export async function upsertSchedulers(queue: Queue, sweepEveryMs: number): Promise<void> {
  for (const [id, d] of definitions(sweepEveryMs)) await queue.upsertJobScheduler(id, d.repeat, d.job);
}

/** Puts back a scheduler Redis lost; best effort (the next repair tries again). */
export async function repairSchedulers(queue: Queue, sweepEveryMs: number): Promise<void> {
  for (const [id, d] of definitions(sweepEveryMs)) {
    await queue
      .getJobScheduler(id)
      .then((s) => (s ? undefined : queue.upsertJobScheduler(id, d.repeat, d.job)))
      .catch(() => undefined);
  }
}
