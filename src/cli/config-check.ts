/**
 * `fristvagt config check`: is the environment valid, and can this process reach what it names?
 * One line per service: `ok`, `unreachable: <reason>` or `not configured`. Exit 0 when every
 * configured service answers, 1 when one does not, 2 when the environment itself is invalid.
 * Connection strings are never printed with their credentials.
 */
import { accessSync, constants, existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import postgres from 'postgres';
import { ConfigError, loadConfig, type Config } from '../config.js';
import { lockHolder } from '../db/data-dir-lock.js';
import { createSmtpMailer } from '../mail/transport.js';
import { UsageError } from './io.js';

const TIMEOUT_S = 5;

export type CheckStatus = { state: 'ok'; detail?: string } | { state: 'unreachable'; reason: string } | { state: 'not configured'; detail?: string };

export interface CheckLine {
  name: string;
  /** Where, without credentials. */
  target?: string;
  status: CheckStatus;
}

/** host:port/path of a URL, without user and password. */
export function safeTarget(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}${u.port ? `:${u.port}` : ''}${u.pathname && u.pathname !== '/' ? u.pathname : ''}`;
  } catch {
    return '(unparsable URL)';
  }
}

function reasonOf(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown; errors?: unknown };
  // Node's "connect ECONNREFUSED" may come wrapped in an AggregateError (IPv4 and IPv6 tried).
  const inner = Array.isArray(e.errors) && e.errors.length > 0 ? (e.errors[0] as { message?: unknown }) : undefined;
  const message = String(inner?.message ?? e.message ?? err).replace(/\s+/g, ' ').trim();
  const code = typeof e.code === 'string' && !message.includes(e.code) ? `${e.code}: ` : '';
  return `${code}${message}`.slice(0, 300) || 'no answer';
}

async function withTimeout<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer from ${what} within ${TIMEOUT_S} s`)), TIMEOUT_S * 1000 + 500);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export async function checkPostgres(url: string): Promise<CheckStatus> {
  const sql = postgres(url, { max: 1, connect_timeout: TIMEOUT_S, idle_timeout: 1, onnotice: () => undefined });
  try {
    const [row] = await withTimeout(sql<{ v: string }[]>`SELECT current_setting('server_version') AS v`, 'Postgres');
    return { state: 'ok', detail: `PostgreSQL ${row?.v ?? '?'}` };
  } catch (err) {
    return { state: 'unreachable', reason: reasonOf(err) };
  } finally {
    await sql.end({ timeout: 1 }).catch(() => undefined);
  }
}

/**
 * PGlite's directory is not opened: PGlite is single-process, and a running `fristvagt api` may
 * hold it. Checked instead: it exists and is writable, or it can be created.
 */
export function checkPglite(dataDir: string): CheckStatus {
  const dir = resolve(dataDir, 'pglite');
  try {
    if (existsSync(dir)) {
      accessSync(dir, constants.R_OK | constants.W_OK);
      return { state: 'ok', detail: existsSync(resolve(dir, 'PG_VERSION')) ? dir : `${dir}, initialised on first use` };
    }
    let parent = dirname(dir);
    while (!existsSync(parent) && dirname(parent) !== parent) parent = dirname(parent);
    accessSync(parent, constants.W_OK);
    return { state: 'ok', detail: `${dir}, created on first use` };
  } catch (err) {
    return { state: 'unreachable', reason: `${dir}: ${reasonOf(err)}` };
  }
}

/**
 * checkPglite, plus who holds the directory: a running `start` or `api` owns it, and that is its
 * normal state, so it stays `ok` (this command takes no lock and opens nothing). Other commands on
 * the same directory are refused while it runs.
 */
export async function checkDataDir(dataDir: string): Promise<CheckStatus> {
  const status = checkPglite(dataDir);
  if (status.state !== 'ok') return status;
  const holder = await lockHolder(dataDir).catch(() => undefined);
  if (holder === undefined) return status;
  const who = holder === 'unknown' ? 'another fristvagt process' : `fristvagt process ${holder.pid} (${holder.command})`;
  return { state: 'ok', detail: `${status.detail ?? ''}; in use by ${who}` };
}

export async function checkRedis(url: string): Promise<CheckStatus> {
  const redis = new Redis(url, { lazyConnect: true, connectTimeout: TIMEOUT_S * 1000, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  // ioredis rejects connect() with "Connection is closed."; the cause arrives as an 'error' event.
  let cause: unknown;
  redis.on('error', (err: unknown) => {
    cause ??= err;
  });
  try {
    await withTimeout(redis.connect(), 'Redis');
    const pong = await withTimeout(redis.ping(), 'Redis');
    return { state: 'ok', detail: pong };
  } catch (err) {
    return { state: 'unreachable', reason: reasonOf(cause ?? err) };
  } finally {
    redis.disconnect();
  }
}

/**
 * The external recipients (setting `recipients`): read from Postgres; PGlite's directory is not
 * opened (see checkPglite). Unset is reported, not a failure of this check: a fresh installation
 * sets them after its first start (README "Go-live"); /readyz fails until then.
 */
export async function checkRecipients(url: string | undefined): Promise<CheckStatus> {
  if (!url) return { state: 'not configured', detail: 'not checked: the embedded database is not opened by this command; /readyz reports it' };
  const sql = postgres(url, { max: 1, connect_timeout: TIMEOUT_S, idle_timeout: 1, onnotice: () => undefined });
  try {
    const rows = await withTimeout(sql<Array<{ value: unknown }>>`SELECT value FROM settings WHERE key = 'recipients'`, 'Postgres');
    const value = (rows[0]?.value ?? {}) as Record<string, unknown>;
    const unset = ['ombudsman', 'directorate'].filter((k) => typeof value[k] !== 'string');
    if (unset.length === 0) return { state: 'ok' };
    return { state: 'not configured', detail: `${unset.map((k) => `recipients.${k}`).join(' and ')} unset: nothing is sent to them until an administrator sets them (settings page, or PUT /api/settings/recipients)` };
  } catch (err) {
    // No settings table yet (not migrated): nothing is set.
    return { state: 'not configured', detail: `not read: ${reasonOf(err)}` };
  } finally {
    await sql.end({ timeout: 1 }).catch(() => undefined);
  }
}

export async function checkSmtp(cfg: Pick<Config, 'SMTP_URL' | 'SMTP_REQUIRE_TLS' | 'SMTP_TLS_REJECT_UNAUTHORIZED' | 'SMTP_ALLOW_INSECURE_AUTH'>): Promise<CheckStatus> {
  if (!cfg.SMTP_URL) return { state: 'not configured', detail: 'mail goes to the built-in catcher' };
  const mailer = createSmtpMailer({ url: cfg.SMTP_URL, requireTls: cfg.SMTP_REQUIRE_TLS, rejectUnauthorized: cfg.SMTP_TLS_REJECT_UNAUTHORIZED, allowInsecureAuth: cfg.SMTP_ALLOW_INSECURE_AUTH, maxConnections: 1 });
  try {
    await withTimeout(mailer.verify(), 'the SMTP server');
    return { state: 'ok' };
  } catch (err) {
    return { state: 'unreachable', reason: reasonOf(err) };
  } finally {
    mailer.close();
  }
}

export function formatLine(l: CheckLine): string {
  const s = l.status;
  const name = `${l.name}${l.target ? ` (${l.target})` : ''}`;
  if (s.state === 'unreachable') return `${name}: unreachable: ${s.reason}`;
  return `${name}: ${s.state}${s.detail ? ` (${s.detail})` : ''}`;
}

export async function configCommand(argv: string[]): Promise<string> {
  const [sub, ...rest] = argv;
  if (sub !== 'check') throw new UsageError('config: use "config check"');
  try {
    parseArgs({ args: rest, options: {}, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message, { cause: err });
  }
  let cfg: Config;
  try {
    cfg = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(err.message, { cause: err });
    throw err;
  }
  const lines: CheckLine[] = [{ name: 'environment', status: { state: 'ok' } }];
  lines.push(cfg.DATABASE_URL
    ? { name: 'postgres', target: safeTarget(cfg.DATABASE_URL), status: await checkPostgres(cfg.DATABASE_URL) }
    : { name: 'pglite', target: cfg.FRISTVAGT_DATA_DIR, status: await checkDataDir(cfg.FRISTVAGT_DATA_DIR) });
  lines.push(cfg.REDIS_URL
    ? { name: 'redis', target: safeTarget(cfg.REDIS_URL), status: await checkRedis(cfg.REDIS_URL) }
    : { name: 'redis', status: { state: 'not configured', detail: '`fristvagt start` runs a private redis-server; `fristvagt worker` needs REDIS_URL' } });
  lines.push(cfg.SMTP_URL ? { name: 'smtp', target: safeTarget(cfg.SMTP_URL), status: await checkSmtp(cfg) } : { name: 'smtp', status: await checkSmtp(cfg) });
  lines.push({ name: 'recipients', status: await checkRecipients(cfg.DATABASE_URL) });
  process.stdout.write(`${lines.map(formatLine).join('\n')}\n`);
  const failed = lines.filter((l) => l.status.state === 'unreachable').length;
  if (failed > 0) throw new Error(`${failed} configured service${failed > 1 ? 's' : ''} unreachable`);
  return '';
}
