/** Redis connections for BullMQ, and the start-up check of the server settings the schedule depends on. */
import { Redis } from 'ioredis';
import { withTimeout } from '../ops/redis.js';

export function createRedis(url: string): Redis {
  // BullMQ workers block on Redis; a finite retry count would make them fail during a Redis restart.
  return new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true, lazyConnect: false });
}

/**
 * The connections of one worker, the ones BullMQ duplicates from them included. With
 * maxRetriesPerRequest null a command waits for Redis forever, and so does BullMQ's close() (its
 * QUIT, and the 'end' event of a client that is reconnecting: taskforcesh/bullmq#4656); a stop that
 * has waited long enough cuts them all here, which also ends the reconnection attempts.
 */
export interface RedisFamily {
  create(): Redis;
  /** Disconnects every client at once (pending commands stay unanswered; nothing keeps the process alive). */
  cut(): void;
}

export function redisFamily(url: string): RedisFamily {
  const all = new Set<Redis>();
  const adopt = (client: Redis): Redis => {
    all.add(client);
    const duplicate = client.duplicate.bind(client);
    client.duplicate = (override) => adopt(duplicate(override));
    return client;
  };
  return {
    create: () => adopt(createRedis(url)),
    cut() {
      for (const client of all) client.disconnect();
    },
  };
}

/**
 * A start-up check that Redis answers, within `timeoutMs`, plus the warnings of redisWarnings. Its own
 * short-lived client fails fast: a worker must not hang at start-up while Redis is unreachable.
 */
export async function probeRedis(url: string, timeoutMs: number): Promise<string[]> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1, connectTimeout: timeoutMs, enableOfflineQueue: true, lazyConnect: true, retryStrategy: (times) => (times > 3 ? null : 200 * times) });
  redis.on('error', () => undefined);
  try {
    await withTimeout(redis.connect().then(() => redis.ping()), timeoutMs, 'Redis (REDIS_URL)');
    return await withTimeout(redisWarnings(redis), timeoutMs, 'Redis (REDIS_URL) CONFIG GET');
  } finally {
    redis.disconnect();
  }
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
