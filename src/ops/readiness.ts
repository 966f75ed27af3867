/**
 * /readyz: can this process do its work right now? Postgres always; Redis and SMTP only when
 * this process was given them. Unconfigured is not a failure (the API alone needs neither).
 * The answer names no host, port or error text: the probe is unauthenticated.
 *
 * The external recipients (the Ombudsman's and the directorate's addresses, the `recipients`
 * setting) are part of it: while one is unset, escalations to the directorate, the § 22 overview
 * and the preliminary notice cannot go out, and an installation that cannot deliver the legally
 * required mails must not look healthy, so /readyz answers 503 with `recipients: "unset"` and
 * names the setting's fields (README "Go-live": set them first).
 */
import type { Db } from '../db/client.js';
import { ping } from '../db/client.js';
import { loadWorkerSettings, unsetRecipients } from '../worker/settings.js';
import { pingRedis, withTimeout, type OpsRedis } from './redis.js';

export type CheckState = 'ok' | 'unreachable' | 'not configured';

export interface Readiness {
  ok: boolean;
  postgres: CheckState;
  redis: CheckState;
  smtp: CheckState;
  /** The external recipients: `unset` while the Ombudsman's or the directorate's address is not set (not ready). */
  recipients: 'ok' | 'unset' | 'unknown';
  unsetRecipients?: string[];
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
    const [postgres, redis, mail, unset] = await Promise.all([
      state(true, () => withTimeout(ping(deps.db), timeoutMs, 'postgres ping')),
      state(deps.redis !== undefined, () => pingRedis(deps.redis as OpsRedis, timeoutMs)),
      smtp(),
      withTimeout(loadWorkerSettings(deps.db), timeoutMs, 'settings').then((s) => unsetRecipients(s.recipients), () => undefined),
    ]);
    const recipients = unset === undefined ? 'unknown' : unset.length > 0 ? 'unset' : 'ok';
    return {
      ok: [postgres, redis, mail].every((s) => s !== 'unreachable') && recipients === 'ok',
      postgres,
      redis,
      smtp: mail,
      recipients,
      ...(unset && unset.length > 0 ? { unsetRecipients: unset.map((k) => `recipients.${k}`) } : {}),
    };
  };
}
