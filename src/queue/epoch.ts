/**
 * The Redis epoch: a random value under the queue's prefix, created when missing. Redis losing its
 * data (FLUSHALL, a restart without persistence, a new instance, the test harness deleting the
 * prefix's keys) loses it too, so a sweep that finds a different epoch than the one its enqueued
 * markers were written under (worker_state.redis_epoch) knows that no job it added is there any more.
 */
import { randomUUID } from 'node:crypto';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';

/** Not a job id the worker ever uses (those start with send-, annual-, plan-, repeat:). */
const EPOCH = 'fristvagt-epoch';

export async function redisEpoch(queue: Queue): Promise<string> {
  // The Redis backend's client is the ioredis connection the worker gave it (src/queue/connection.ts).
  const client = (await queue.getBackend().client) as unknown as Redis;
  const key = queue.toKey(EPOCH);
  const current = await client.get(key);
  if (current) return current;
  // Two workers finding it missing at once agree on whichever was set first.
  await client.set(key, randomUUID(), 'NX');
  const set = await client.get(key);
  if (!set) throw new Error('the Redis epoch could not be set');
  return set;
}
