import { redisEpoch } from '../src/queue/epoch.js';
import { parsePayload } from '../src/queue/registry.js';
import { dueAnnualOverviews, planAnnualOverviews, recoverAnnualOverviews } from '../src/worker/annual.js';
import { dueBacklogSummaries, recoverBacklogSummaries } from '../src/worker/backlog.js';
import { allDue, anyScheduledBy, enqueueAnnual, enqueueBacklogSummaries, enqueueDue, rowsToEnqueue } from '../src/worker/enqueue-due.js';
import type { SweepResult, WorkerDeps } from '../src/worker/runtime.js';
import { catchUpChanges, recoverInterruptedSends } from '../src/worker/sweep.js';
import { unsetRecipients } from '../src/worker/settings.js';
import { readWorkerState } from '../src/worker/worker-state.js';
import type { Processor } from './types.js';

/**
 * One sweep, by the lease holder only: catch up on the change feed (and re-plan what a settings
 * change or an upgrade affects), hand back rows a crashed worker left half-sent, add the send jobs
 * Redis is missing for rows due within the horizon, and in January plan and add the § 22 annual
 * overviews, and add the backlog summaries due (README "Go-live"). Single-flight per worker: runtime.ts's deps.sweep() runs it.
 */
/** When each worker last warned that the external recipients are unset (once an hour, not every sweep). */
const recipientsWarned = new WeakMap<object, number>();

export async function sweepSteps(deps: WorkerDeps): Promise<SweepResult> {
  const now = deps.send.clock();
  const db = deps.send.db;
  if (!(await deps.catchUp.lease.acquire(now))) return { leader: false, planned: 0, recovered: 0, enqueued: 0 };
  const unset = unsetRecipients((await deps.send.settings()).recipients);
  if (unset.length > 0 && now.getTime() - (recipientsWarned.get(deps) ?? -Infinity) >= 3_600_000) {
    // Setting names only: what is missing, never a record.
    deps.send.logger.warn({ unset: unset.map((k) => `recipients.${k}`) }, 'external recipients not set: escalations to the directorate, the annual overview and the preliminary notice cannot go out until an administrator sets them');
    recipientsWarned.set(deps, now.getTime());
  }
  const caught = await catchUpChanges(deps.catchUp, now);
  if (!caught.finished) return { leader: caught.leader, planned: caught.planned, recovered: 0, enqueued: 0 };

  const recovered = await recoverInterruptedSends(db, now, deps.staleSendingMs);

  const until = new Date(now.getTime() + deps.horizonMs);
  let enqueued = 0;
  // Nothing due within the horizon, nothing to hold in Redis: the sweep does not touch it (and
  // does not hang on it while it is down).
  if (await anyScheduledBy(db, until)) {
    const epoch = await redisEpoch(deps.enqueue.queue);
    const marked = (await readWorkerState(db)).redisEpoch;
    if (marked === epoch) {
      enqueued = await enqueueDue(deps.enqueue, epoch, await rowsToEnqueue(db, now, until), now);
    } else {
      // Redis lost its data since the markers were written (or none were yet): every row due is missing there.
      if (marked !== null) deps.send.logger.warn('Redis lost its jobs (a new epoch); adding every notification due within the horizon again');
      enqueued = await enqueueDue(deps.enqueue, epoch, await allDue(db, until), now, { adopt: { until } });
    }
  }

  const annualPlanned = await planAnnualOverviews(deps.send, now);
  const annualRecovered = await recoverAnnualOverviews(db, now, deps.staleSendingMs);
  await enqueueAnnual(deps.enqueue, await dueAnnualOverviews(db, until), now);
  const backlogRecovered = await recoverBacklogSummaries(db, now, deps.staleSendingMs);
  await enqueueBacklogSummaries(deps.enqueue, await dueBacklogSummaries(db, until), now);
  return { leader: true, planned: caught.planned, recovered: recovered + annualRecovered + backlogRecovered, enqueued, annualPlanned, settled: caught.settled };
}

export const sweep: Processor = async (job, deps) => {
  parsePayload('sweep', job.data);
  return deps.sweep();
};
