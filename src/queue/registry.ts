/**
 * The typed job registry: job name → zod payload. Payloads carry ids only — never a name, a CPR
 * number or mail content; processors load everything else from Postgres.
 */
import type { Queue, JobsOptions } from 'bullmq';
import { z } from 'zod';

export const QUEUE_NAME = 'fristvagt';

export const JOBS = {
  'notification.send': z.strictObject({ notificationId: z.uuid() }),
  /** A batch of changed records (the change feed coalesces a burst of notifications into one). */
  'record.plan': z.strictObject({ records: z.array(z.strictObject({ recordType: z.enum(['incident', 'security_cell_placement', 'force_use', 'action_plan']), recordId: z.uuid() })).min(1).max(500) }),
  sweep: z.strictObject({}),
  'retention.run': z.strictObject({}),
  'annual-overview.send': z.strictObject({ overviewId: z.uuid() }),
  'backlog-summary.send': z.strictObject({ summaryId: z.uuid() }),
} as const;

export type JobName = keyof typeof JOBS;
export type JobPayload<N extends JobName> = z.output<(typeof JOBS)[N]>;

export async function enqueue<N extends JobName>(queue: Queue, name: N, payload: JobPayload<N>, opts: JobsOptions = {}): Promise<void> {
  const data = JOBS[name].parse(payload);
  await queue.add(name, data, opts);
}

/** Many jobs of one name in one round trip per chunk (addBulk); each payload is validated first. */
export async function enqueueBulk<N extends JobName>(queue: Queue, name: N, jobs: ReadonlyArray<{ payload: JobPayload<N>; opts: JobsOptions }>, chunk = 500): Promise<void> {
  const parsed = jobs.map((j) => ({ name, data: JOBS[name].parse(j.payload), opts: j.opts }));
  for (let i = 0; i < parsed.length; i += chunk) await queue.addBulk(parsed.slice(i, i + chunk));
}

export function parsePayload<N extends JobName>(name: N, data: unknown): JobPayload<N> {
  return JOBS[name].parse(data) as JobPayload<N>;
}

export function isJobName(name: string): name is JobName {
  return Object.hasOwn(JOBS, name);
}
