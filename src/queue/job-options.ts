/**
 * Every BullMQ job option of the worker in one place: the send jobs (notifications and annual
 * overviews), the planning jobs fed by the change feed, and the repeatable schedulers. The sweep,
 * the change feed and the schedulers' self-repair all take their options from here, so they
 * cannot drift apart.
 */
import type { JobsOptions } from 'bullmq';

/** How many times BullMQ runs a send job before giving up (the row's own backoff is in Postgres). */
export const SEND_ATTEMPTS = 10;
/** How many times a planning job is retried (a dropped database connection). */
export const PLAN_ATTEMPTS = 8;

/** A delayed send job under its deterministic id: adding it again while it waits is a no-op. */
export function sendJobOptions(jobId: string, delayMs: number, retryDelayMs: number, priority?: number): JobsOptions {
  return {
    jobId,
    delay: Math.max(0, delayMs),
    attempts: SEND_ATTEMPTS,
    backoff: { type: 'exponential', delay: retryDelayMs, jitter: 0.5 },
    removeOnComplete: true,
    removeOnFail: 1000,
    ...(priority === undefined ? {} : { priority }),
  };
}

/** A planning job of the change feed; retried shortly when it fails on a dropped connection. */
export function planJobOptions(jobId: string, retryDelayMs: number): JobsOptions {
  return { jobId, attempts: PLAN_ATTEMPTS, backoff: { type: 'exponential', delay: retryDelayMs, jitter: 0.5 }, removeOnComplete: true, removeOnFail: 100 };
}

/** The options of the jobs a repeatable scheduler (sweep, retention) produces: the same at start-up and at repair. */
export const SCHEDULED_JOB_OPTIONS: JobsOptions = { removeOnComplete: true, removeOnFail: 100 };

/**
 * Stages that must never wait behind a burst of routine mail: the area director's and the
 * directorate's alerts, and the preliminary-notice duties. The outbox's batch claim orders them
 * first by the same list (src/worker/outbox.ts).
 */
export const IMMEDIATE_STAGE_PREFIXES = ['alert:', 'notice:'] as const;

export function isImmediateStage(stage: string): boolean {
  return IMMEDIATE_STAGE_PREFIXES.some((p) => stage.startsWith(p));
}

/**
 * The BullMQ priority of a send job (1 is served first). Every send job has one: BullMQ serves
 * jobs without a priority before all prioritized ones, so routine mail gets a priority too, below
 * the alerts'. Jobs without one (sweep, planning) still go first.
 */
export function sendPriority(stage: string): number {
  return isImmediateStage(stage) ? 1 : 10;
}
