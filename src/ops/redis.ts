/**
 * The API process's own Redis connection, for the queue board, queue depth and readiness. Unlike
 * the worker's (which must wait out a Redis restart), this one fails fast: a probe or a scrape
 * must answer within seconds, saying "unreachable", rather than hang until Redis is back.
 */
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { QUEUE_NAME } from '../queue/registry.js';

export interface OpsRedis {
  redis: Redis;
  queue: Queue;
  close(): Promise<void>;
}

export class TimeoutError extends Error {
  constructor(what: string, ms: number) {
    super(`${what}: no answer within ${ms} ms`);
    this.name = 'TimeoutError';
  }
}

/** Rejects after `ms`; the timer never keeps the process alive. */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(what, ms)), ms);
    timer.unref();
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

export function connectOpsRedis(url: string, prefix: string, logger: Logger): OpsRedis {
  const redis = new Redis(url, {
    // Fail queued commands after one reconnection attempt instead of holding them until Redis returns.
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    enableReadyCheck: true,
    // Keeps reconnecting in the background (capped), so the board and the probe recover by themselves.
    retryStrategy: (times) => Math.min(250 * times, 5_000),
    lazyConnect: false,
  });
  // One warning per outage, not one per reconnection attempt.
  let down = false;
  redis.on('error', (err: Error) => {
    if (down) return;
    down = true;
    logger.warn({ err: { code: (err as { code?: string }).code, message: err.message } }, 'ops: Redis unreachable');
  });
  redis.on('ready', () => {
    if (down) logger.info('ops: Redis reachable again');
    down = false;
  });
  const queue = new Queue(QUEUE_NAME, { connection: redis, prefix });
  // BullMQ re-emits connection errors on the queue; without a listener they would crash the process.
  queue.on('error', () => undefined);
  return {
    redis,
    queue,
    async close() {
      await withTimeout(queue.close(), 2_000, 'queue close').catch(() => undefined);
      redis.disconnect();
    },
  };
}

export async function pingRedis(r: OpsRedis, timeoutMs: number): Promise<void> {
  const answer = await withTimeout(r.redis.ping(), timeoutMs, 'redis ping');
  if (answer !== 'PONG') throw new Error(`redis ping: unexpected answer ${answer}`);
}
