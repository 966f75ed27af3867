/**
 * Where some jobs are, for the sweep's rows that are due now: one pipelined round trip per 1,000
 * jobs (EXISTS on the job's hash, ZSCORE in the delayed, failed and completed sets), never
 * Job.getState, which scans the wait list for every job and turns a backlog quadratic.
 */
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';

/** `missing`: no such job; `delayed`: waiting for its delay; `finished`: failed or completed; `queued`: waiting, prioritised or running. */
export type JobPlace = 'missing' | 'delayed' | 'finished' | 'queued';

export async function placesOf(queue: Queue, jobIds: readonly string[], chunk = 1000): Promise<Map<string, JobPlace>> {
  const places = new Map<string, JobPlace>();
  if (jobIds.length === 0) return places;
  // The Redis backend's client is the ioredis connection the worker gave it (src/queue/connection.ts).
  const client = (await queue.getBackend().client) as unknown as Redis;
  for (let i = 0; i < jobIds.length; i += chunk) {
    const ids = jobIds.slice(i, i + chunk);
    const pipe = client.pipeline();
    for (const id of ids) pipe.exists(queue.toKey(id)).zscore(queue.keys['delayed']!, id).zscore(queue.keys['failed']!, id).zscore(queue.keys['completed']!, id);
    const replies = (await pipe.exec()) ?? [];
    ids.forEach((id, k) => {
      const [exists, delayed, failed, completed] = replies.slice(4 * k, 4 * k + 4).map(([err, value]: [Error | null, unknown]) => {
        if (err) throw err;
        return value;
      });
      places.set(id, exists === 0 ? 'missing' : delayed !== null ? 'delayed' : failed !== null || completed !== null ? 'finished' : 'queued');
    });
  }
  return places;
}
