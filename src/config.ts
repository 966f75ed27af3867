/**
 * The only reader of process.env. Parsed once with zod at start-up and passed in; a bad value
 * stops the process with a message naming the variable.
 */
import { z } from 'zod';
import { roleMapSchema } from './identity/claims.js';

const csv = z
  .string()
  .transform((s) => s.split(',').map((x) => x.trim()).filter((x) => x.length > 0));

const boolish = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

export const configSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  /** postgres://… — when unset, the embedded PGlite database under FRISTVAGT_DATA_DIR is used. */
  DATABASE_URL: z.string().url().optional(),
  FRISTVAGT_DATA_DIR: z.string().min(1).default('./data'),
  /** redis://… — when unset, `fristvagt start` runs a private redis-server. */
  REDIS_URL: z.string().url().optional(),
  /** smtp(s)://user:pass@host:port — when unset, the built-in mail catcher stores messages. */
  SMTP_URL: z.string().url().optional(),
  MAIL_FROM: z.string().min(3).default('fristvagt <fristvagt@kriminalforsorgen.invalid>'),
  /** STARTTLS required for staff reminders too (legal notices and external recipients always require it). */
  SMTP_REQUIRE_TLS: boolish.default(false),
  /**
   * Send the SMTP credentials of SMTP_URL over a connection without TLS. Off (the default): a
   * server that offers no STARTTLS gets no AUTH and no mail; set it only for a relay on a trusted
   * network that cannot do TLS.
   */
  SMTP_ALLOW_INSECURE_AUTH: boolish.default(false),
  /** Accept self-signed SMTP certificates (test servers only). */
  SMTP_TLS_REJECT_UNAUTHORIZED: boolish.default(true),
  /** BullMQ key prefix: separate installations (or test runs) sharing one Redis. */
  FRISTVAGT_QUEUE_PREFIX: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/).default('fristvagt'),
  FRISTVAGT_WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(100).default(5),
  /** A notification left in `sending` longer than this (a crashed worker) is sent again. */
  FRISTVAGT_STALE_SENDING_MS: z.coerce.number().int().min(1000).default(300_000),
  FRISTVAGT_SWEEP_EVERY_MS: z.coerce.number().int().min(1000).default(60_000),
  /**
   * The whole stop, from the first SIGTERM/SIGINT to the exit, whatever Redis, Postgres or SMTP do.
   * Active jobs get what is left of it after a reserve for closing connections; what does not finish
   * in time is abandoned and named in the log (src/lifecycle.ts).
   */
  FRISTVAGT_SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(5_000).max(600_000).default(10_000),
  /** Accepted as an admin bearer token (automation and tests). At least 24 characters. */
  FRISTVAGT_ADMIN_TOKEN: z.string().min(24, 'must be at least 24 characters').optional(),
  /** Bearer token a Prometheus scraper sends to GET /metrics (admin tokens are accepted too). At least 24 characters. */
  FRISTVAGT_METRICS_TOKEN: z.string().min(24, 'must be at least 24 characters').optional(),
  HOST: z.string().default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  /** Public base URL of the UI, used in e-mail links. */
  PUBLIC_URL: z.string().url().default('http://127.0.0.1:8080'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Extra closure days (MM-DD or YYYY-MM-DD), added to those set in the settings table. */
  FRISTVAGT_CLOSURE_DAYS: csv.default([]),
  /** Largest accepted request body in bytes. */
  FRISTVAGT_BODY_LIMIT: z.coerce.number().int().min(1024).max(10 * 1024 * 1024).default(256 * 1024),
  FRISTVAGT_MIGRATE_ON_START: boolish.default(true),
  /**
   * Which proxies in front of the API to believe about the client's address (X-Forwarded-For):
   * `true` (any) or comma-separated addresses/CIDRs. Unset: none (the peer's address).
   * The login rate limit counts per client address, so behind a proxy it must be set.
   */
  FRISTVAGT_TRUST_PROXY: z
    .string()
    .regex(/^(?:true|false|[0-9a-fA-F.:/, ]+)$/, 'must be true, false, or addresses/CIDRs separated by commas')
    .transform((v): boolean | string => (v === 'true' ? true : v === 'false' ? false : v))
    .optional(),
  /** A browser session unused this long ends (minutes). */
  FRISTVAGT_SESSION_IDLE_MINUTES: z.coerce.number().int().min(5).max(24 * 60).default(120),
  /** A browser session ends this long after its login, used or not (hours). */
  FRISTVAGT_SESSION_MAX_HOURS: z.coerce.number().int().min(1).max(7 * 24).default(12),
  /** Single sign-on (OpenID Connect): the provider's issuer URL. Unset: local login only. */
  FRISTVAGT_OIDC_ISSUER: z.string().url().optional(),
  FRISTVAGT_OIDC_CLIENT_ID: z.string().min(1).optional(),
  FRISTVAGT_OIDC_CLIENT_SECRET: z.string().min(1).optional(),
  FRISTVAGT_OIDC_SCOPES: z.string().min(6).default('openid profile email'),
  /** The claim that lists a person's directory groups. */
  FRISTVAGT_OIDC_GROUPS_CLAIM: z.string().min(1).default('groups'),
  /** JSON: `[{"group": "…", "role": "admin|area|institution|reader", "areaId"?: "…", "institutionId"?: "…"}]`. */
  FRISTVAGT_OIDC_ROLE_MAP: z
    .string()
    .transform((s, ctx) => {
      try {
        return JSON.parse(s) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'is not JSON' });
        return z.NEVER;
      }
    })
    .pipe(roleMapSchema)
    .optional(),
  /** `auto`: a person with a mapped group gets a user at the first login; `existing`: the user must exist (by e-mail). */
  FRISTVAGT_OIDC_PROVISION: z.enum(['auto', 'existing']).default('auto'),
  /** The sign-on button's text, e.g. the directory's name. */
  FRISTVAGT_OIDC_LABEL: z.string().min(1).max(80).optional(),
  /** Closed records lose the inmate's name, CPR number and free text this many whole years after closing. */
  FRISTVAGT_RETENTION_YEARS: z.coerce.number().int().min(1).max(100).default(5),
});

export type Config = z.output<typeof configSchema>;

export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Parses an environment (default: process.env). Throws ConfigError naming each bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const input: Record<string, string> = {};
  for (const key of Object.keys(configSchema.shape)) {
    const v = env[key];
    if (v !== undefined && v !== '') input[key] = v;
  }
  const parsed = configSchema.safeParse(input);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration: ${lines.join('; ')}`);
  }
  const c = parsed.data;
  // Single sign-on is all or nothing: an issuer without a client or a group mapping would let nobody in.
  if (c.FRISTVAGT_OIDC_ISSUER) {
    const missing = (['FRISTVAGT_OIDC_CLIENT_ID', 'FRISTVAGT_OIDC_ROLE_MAP'] as const).filter((k) => c[k] === undefined);
    if (missing.length > 0) throw new ConfigError(`invalid configuration: ${missing.map((k) => `${k}: is required with FRISTVAGT_OIDC_ISSUER`).join('; ')}`);
  }
  return c;
}
