/** Redis connections for BullMQ, and the start-up check of the server settings the schedule depends on. */
import { Redis } from 'ioredis';

export function createRedis(url: string): Redis {
  // BullMQ workers block on Redis; a finite retry count would make them fail during a Redis restart.
  return new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true, lazyConnect: false });
}

/**
 * Redis must never evict a delayed job (maxmemory-policy noeviction) and should persist (AOF).
 * Postgres stays the truth either way — the sweep re-creates lost jobs — so this warns, not fails.
 */
export async function redisWarnings(redis: Redis): Promise<string[]> {
  const warnings: string[] = [];
  try {
    const policy = (await redis.config('GET', 'maxmemory-policy')) as string[];
    if (policy[1] !== 'noeviction') warnings.push(`Redis maxmemory-policy is "${policy[1] ?? '?'}"; set it to "noeviction" so that scheduled jobs are never evicted`);
    const aof = (await redis.config('GET', 'appendonly')) as string[];
    if (aof[1] !== 'yes') warnings.push('Redis runs without AOF (appendonly no); a restart loses queued jobs until the next sweep re-creates them from Postgres');
  } catch (err) {
    warnings.push(`could not read the Redis configuration (${(err as Error).message}); make sure maxmemory-policy is noeviction and AOF is on`);
  }
  return warnings;
}
