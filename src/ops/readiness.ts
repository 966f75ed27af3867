/**
 * /readyz: can this process do its work right now? Postgres always; Redis and SMTP only when
 * this process was given them. Unconfigured is not a failure (the API alone needs neither).
 * The answer names no host, port or error text: the probe is unauthenticated.
 */
import type { Db } from '../db/client.js';
import { ping } from '../db/client.js';
import { pingRedis, withTimeout, type OpsRedis } from './redis.js';

export type CheckState = 'ok' | 'unreachable' | 'not configured';

export interface Readiness {
  ok: boolean;
  postgres: CheckState;
  redis: CheckState;
  smtp: CheckState;
}

export interface ReadinessDeps {
  db: Db;
  redis?: OpsRedis | undefined;
  smtpVerify?: (() => Promise<void>) | undefined;
  timeoutMs?: number;
  /**
   * An SMTP check is a full connection (greeting, EHLO, QUIT); probes every few seconds would
   * look like abuse to a mail server. The last answer is reused this long.
   */
  smtpCacheMs?: number;
}

async function state(configured: boolean, check: () => Promise<unknown>): Promise<CheckState> {
  if (!configured) return 'not configured';
  try {
    await check();
    return 'ok';
  } catch {
    return 'unreachable';
  }
}

export function createReadiness(deps: ReadinessDeps): () => Promise<Readiness> {
  const timeoutMs = deps.timeoutMs ?? 3_000;
  const cacheMs = deps.smtpCacheMs ?? 30_000;
  let smtpCache: { at: number; value: CheckState } | undefined;
  let smtpInflight: Promise<CheckState> | undefined;

  async function smtp(): Promise<CheckState> {
    const verify = deps.smtpVerify;
    if (!verify) return 'not configured';
    // Monotonic time: the injected clock of tests and demos may stand still or jump.
    const now = performance.now();
    if (smtpCache && now - smtpCache.at < cacheMs) return smtpCache.value;
    smtpInflight ??= state(true, () => withTimeout(verify(), timeoutMs, 'smtp verify'))
      .then((value) => {
        smtpCache = { at: performance.now(), value };
        return value;
      })
      .finally(() => {
        smtpInflight = undefined;
      });
    return smtpInflight;
  }

  return async () => {
    const [postgres, redis, mail] = await Promise.all([
      state(true, () => withTimeout(ping(deps.db), timeoutMs, 'postgres ping')),
      state(deps.redis !== undefined, () => pingRedis(deps.redis as OpsRedis, timeoutMs)),
      smtp(),
    ]);
    return { ok: [postgres, redis, mail].every((s) => s !== 'unreachable'), postgres, redis, smtp: mail };
  };
}
