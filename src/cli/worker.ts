/** `fristvagt worker` and `fristvagt start` (API + worker + embedded services in one process). */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Logger } from 'pino';
import { buildServer } from '../api/server.js';
import type { Config } from '../config.js';
import { config } from './config.js';
import type { Database } from '../db/client.js';
import { createLogger } from '../logger.js';
import type { Mailer } from '../mail/transport.js';
import { Lifecycle, within, type PartStop } from '../lifecycle.js';
import { probeRedis } from '../queue/connection.js';
import { and, eq, isNull } from 'drizzle-orm';
import { apiTokens } from '../db/schema.js';
import { seedDemo, type DemoSummary } from '../records/demo.js';
import { authenticate, createToken, revokeToken } from '../records/tokens.js';
import { createUser, findUserByEmail } from '../records/users.js';
import { createLoginLink, loginLinkUrl, setupLink } from '../identity/login.js';
import { mailerFor, openConfiguredDatabase, serviceContext, workerConnections } from '../runtime.js';
import { startWorker, type RunningWorker } from '../worker/runtime.js';
import { UsageError } from './io.js';


/**
 * How the private redis-server is tied to this process. It runs in a session of its own (detached),
 * so a Ctrl+C in the terminal, which signals the whole foreground process group, reaches only this
 * process, and the worker can still close against a live Redis before it stops the server itself.
 * `setpriv --pdeathsig TERM` (util-linux, part of every Debian) has the kernel send the server SIGTERM
 * when this process dies, SIGKILL included, so it never outlives it.
 */
function privateRedisCommand(args: string[], log: Logger): { command: string; args: string[] } {
  const probe = spawnSync('setpriv', ['--help'], { encoding: 'utf8' });
  if (!probe.error && probe.status === 0 && probe.stdout.includes('--pdeathsig')) return { command: 'setpriv', args: ['--pdeathsig', 'TERM', '--', 'redis-server', ...args] };
  log.warn('setpriv (util-linux) with --pdeathsig is not available: the private redis-server may outlive this process if it is killed with SIGKILL');
  return { command: 'redis-server', args };
}

interface PrivateRedis {
  url: string;
  /** SIGTERM (it writes its AOF and exits); SIGKILL if it has not exited within `timeoutMs`. */
  stop(timeoutMs: number): Promise<string[]>;
}

/** A private redis-server on a unix socket under the data dir, for `start` without REDIS_URL. */
async function startPrivateRedis(dataDir: string, log: Logger): Promise<PrivateRedis> {
  const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    throw new UsageError('REDIS_URL is not set and redis-server is not installed: install it (Debian: apt-get install redis-server) or set REDIS_URL');
  }
  const dir = resolve(dataDir, 'redis');
  mkdirSync(dir, { recursive: true });
  const socket = join(dir, 'redis.sock');
  if (existsSync(socket)) rmSync(socket);
  // AOF and noeviction: the settings the README asks of any Redis that holds the schedule.
  const cmd = privateRedisCommand(['--port', '0', '--unixsocket', socket, '--unixsocketperm', '700', '--dir', dir, '--appendonly', 'yes', '--maxmemory-policy', 'noeviction', '--save', ''], log);
  const child: ChildProcess = spawn(cmd.command, cmd.args, { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  child.stderr?.on('data', (d: Buffer) => log.warn({ redis: d.toString().trim().slice(0, 500) }, 'redis-server'));
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  // However this process ends (process.exit included), the private Redis goes with it.
  const kill = (signal: NodeJS.Signals): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  };
  const onExit = (): void => kill('SIGTERM');
  process.once('exit', onExit);
  try {
    await new Promise<void>((resolveReady, reject) => {
      const deadline = Date.now() + 10_000;
      const tryConnect = (): void => {
        if (existsSync(socket)) return resolveReady();
        if (Date.now() > deadline || child.exitCode !== null) return reject(new Error('the private redis-server did not start'));
        setTimeout(tryConnect, 50);
      };
      tryConnect();
    });
  } catch (err) {
    kill('SIGKILL');
    throw err;
  }
  // ioredis takes an absolute socket path where it takes a URL.
  return {
    url: socket,
    async stop(timeoutMs) {
      kill('SIGTERM');
      // Let it finish writing its AOF before this process reports a clean stop.
      if ((await within(exited, timeoutMs)) === 'done') {
        process.off('exit', onExit);
        return [];
      }
      kill('SIGKILL');
      return ['redis-server: killed before it had written its AOF (the next sweep re-creates lost jobs from Postgres)'];
    },
  };
}

/** The first sweep plans every record and may take a while: it runs alongside, and a stop ends it between two records. */
function firstSweep(worker: RunningWorker, log: Logger, life: Lifecycle): void {
  worker.sweep().catch((err: unknown) => {
    // During a stop a sweep fails as its connections close; that is no news.
    if (!life.stopping) log.error({ err: { message: (err as Error).message } }, 'first sweep failed; the next one retries');
  });
}

/** Redis must answer within this at start-up, or the command fails with the reason instead of waiting. */
const REDIS_STARTUP_MS = 10_000;

async function launchWorker(cfg: Config, database: Database, redisUrl: string, mailer: Mailer, log: Logger): Promise<RunningWorker> {
  let warnings: string[];
  try {
    warnings = await probeRedis(redisUrl, REDIS_STARTUP_MS);
  } catch (err) {
    throw new Error(`Redis (${cfg.REDIS_URL ? 'REDIS_URL' : 'the private redis-server'}) did not answer at start-up: ${(err as Error).message}`, { cause: err });
  }
  for (const w of warnings) log.warn(w);
  return startWorker({
    database,
    redisUrl,
    prefix: cfg.FRISTVAGT_QUEUE_PREFIX,
    mailer,
    clock: () => new Date(),
    closureDays: cfg.FRISTVAGT_CLOSURE_DAYS,
    from: cfg.MAIL_FROM,
    publicUrl: cfg.PUBLIC_URL,
    logger: log,
    concurrency: cfg.FRISTVAGT_WORKER_CONCURRENCY,
    staleSendingMs: cfg.FRISTVAGT_STALE_SENDING_MS,
    sweepEveryMs: cfg.FRISTVAGT_SWEEP_EVERY_MS,
    retentionYears: cfg.FRISTVAGT_RETENTION_YEARS,
  });
}

/** What each part leaves for the parts stopping after it (src/lifecycle.ts). */
const RESERVE = { database: 1_000, privateRedis: 1_000, http: 500, worker: 3_000 } as const;

/** Queries still running get up to 2 s; then the connections are destroyed (a Postgres that does not answer never acknowledges the goodbye). */
const databasePart: PartStop<Database> = { reserveMs: RESERVE.database, stop: (d, b) => d.close({ timeoutMs: Math.min(2_000, b.left()) }) };

const workerPart: PartStop<RunningWorker> = { reserveMs: RESERVE.worker, stop: (w, b) => w.stop(b.left()) };

const mailerPart: PartStop<Mailer> = { stop: (m) => m.close() };

/**
 * Runs `body` (the start-up) under `life`: a failure stops whatever had started and is rethrown (the
 * command exits non-zero with the reason); a stop by signal during start-up is no failure. Then waits
 * for the stop and returns its exit code.
 */
async function runUntilStopped(life: Lifecycle, log: Logger, body: () => Promise<void>): Promise<string> {
  try {
    await body();
  } catch (err) {
    if (!life.stopping) {
      log.error({ err: { message: (err as Error).message } }, 'start-up failed; stopping what had started');
      await life.stop();
      throw err;
    }
  }
  const code = await life.stopped();
  if (code !== 0) process.exitCode = code;
  return '';
}

export async function workerCommand(argv: string[]): Promise<string> {
  try {
    parseArgs({ args: argv, options: {}, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message, { cause: err });
  }
  const cfg = config();
  const redisUrl = cfg.REDIS_URL;
  if (!redisUrl) throw new UsageError('REDIS_URL: is required for `fristvagt worker` (use `fristvagt start` for the embedded set-up)');
  const log = createLogger({ level: cfg.LOG_LEVEL });
  const life = new Lifecycle({ log, budgetMs: cfg.FRISTVAGT_SHUTDOWN_TIMEOUT_MS });
  life.trapSignals();
  return runUntilStopped(life, log, async () => {
    const database = await life.start('database', () => openConfiguredDatabase(cfg, { maxConnections: workerConnections(cfg) }), databasePart);
    const mailer = await life.start('mailer', () => mailerFor(cfg, database, log), mailerPart);
    const worker = await life.start('worker', () => launchWorker(cfg, database, redisUrl, mailer, log), workerPart);
    log.info({ worker: worker.id, mail: mailer.kind }, 'fristvagt worker running');
    firstSweep(worker, log, life);
  });
}

const QUICKSTART_TOKEN_NAME = 'quick start';
/** The quick start's admin token, kept between runs (mode 0600) so a restart does not change it. */
const QUICKSTART_TOKEN_FILE = 'quickstart-admin-token';
const DEMO_ADMIN = { email: 'demo-admin@kriminalforsorgen.invalid', name: 'Demo Administrator', title: 'Systemadministrator' };

interface Demo {
  token: string;
  summary: DemoSummary;
  adminUserId: string;
}

/**
 * `start --demo`: the demo data (idempotent), the quick start's admin token for the API (the same
 * one on every restart while it is valid; a revoked or lost one is replaced) and the demo
 * administrator, a person who logs in with a one-time link that the banner prints.
 */
async function prepareDemo(cfg: Config, database: Database): Promise<Demo> {
  const actor = { id: 'cli', name: 'cli', role: 'admin' as const, kind: 'system' as const };
  const summary = await seedDemo(serviceContext(database, cfg), {});
  const now = new Date();
  const file = join(cfg.FRISTVAGT_DATA_DIR, QUICKSTART_TOKEN_FILE);
  let token = existsSync(file) ? readFileSync(file, 'utf8').trim() : '';
  const live = token ? await authenticate(database.db, token, undefined, now) : undefined;
  if (!live || live.name.split(':')[1] !== QUICKSTART_TOKEN_NAME) {
    const old = await database.db.select({ id: apiTokens.id }).from(apiTokens).where(and(eq(apiTokens.name, QUICKSTART_TOKEN_NAME), isNull(apiTokens.revokedAt)));
    for (const t of old) await revokeToken(database.db, t.id, actor, now);
    token = (await createToken(database.db, { role: 'admin', name: QUICKSTART_TOKEN_NAME }, actor, now)).token;
    mkdirSync(cfg.FRISTVAGT_DATA_DIR, { recursive: true });
    writeFileSync(file, `${token}\n`, { mode: 0o600 });
  }
  const existing = await findUserByEmail(database.db, DEMO_ADMIN.email);
  const adminUserId = existing ? existing.id : (await createUser(database.db, { ...DEMO_ADMIN, role: 'admin' }, actor, now)).id;
  return { token, summary, adminUserId };
}

/** How the person at the terminal logs in: a one-time link (demo administrator, or the set-up of the first one). */
type LoginHint = { kind: 'demo'; link: string } | { kind: 'setup'; link: string } | { kind: 'users' };

async function loginHint(database: Database, url: string, demo: Demo | undefined): Promise<LoginHint> {
  const now = new Date();
  if (demo) {
    const { secret } = await createLoginLink(database.db, demo.adminUserId, { id: 'cli', name: 'cli', role: 'admin', kind: 'system' }, now);
    return { kind: 'demo', link: loginLinkUrl(url, secret) };
  }
  const secret = await setupLink(database.db, now);
  return secret ? { kind: 'setup', link: loginLinkUrl(url, secret, 'setup') } : { kind: 'users' };
}

function banner(url: string, demo: Demo | undefined, hint: LoginHint, cfg: Config, mail: string): string {
  const lines = [
    '',
    `fristvagt kører / is running: ${url}`,
    `  Database: ${cfg.DATABASE_URL ? 'Postgres (DATABASE_URL)' : `PGlite i ${resolve(cfg.FRISTVAGT_DATA_DIR)}`}; Redis: ${cfg.REDIS_URL ? 'REDIS_URL' : 'privat redis-server'}; mail: ${mail === 'catcher' ? 'mail-catcher (se mail-loggen i UI)' : 'SMTP_URL'}`,
  ];
  if (demo) {
    const r = demo.summary.records;
    lines.push(`  Demo-data: ${demo.summary.areas} områder, ${demo.summary.institutions} institutioner, ${r.incident + r.security_cell_placement + r.force_use + r.action_plan} sager`);
  }
  if (hint.kind === 'demo') lines.push(`  Log ind som demo-administrator (engangslink, 24 timer): ${hint.link}`, '  Vælg derefter en adgangskode under «Min konto».');
  else if (hint.kind === 'setup') lines.push(`  Opret den første administrator (engangslink, 24 timer): ${hint.link}`);
  else lines.push(`  Log ind med e-mail og adgangskode${cfg.FRISTVAGT_OIDC_ISSUER ? ' eller single sign-on' : ''}: ${url.replace(/\/+$/, '')}/login`, '  Glemt adgangskode: en administrator laver et login-link under Stamdata → Brugere.');
  if (demo) lines.push(`  Administrator-token til API'et (Authorization: Bearer …; det samme ved genstart): ${demo.token}`);
  else if (cfg.FRISTVAGT_ADMIN_TOKEN) lines.push("  API'et: Authorization: Bearer $FRISTVAGT_ADMIN_TOKEN.");
  lines.push('  Stop: Ctrl+C (SIGINT) eller SIGTERM.', '');
  return lines.join('\n');
}

export async function startCommand(argv: string[]): Promise<string> {
  let values: { demo?: boolean | undefined };
  try {
    ({ values } = parseArgs({ args: argv, options: { demo: { type: 'boolean' } }, strict: true }));
  } catch (err) {
    throw new UsageError((err as Error).message, { cause: err });
  }
  const cfg = config();
  const log = createLogger({ level: cfg.LOG_LEVEL });
  const life = new Lifecycle({ log, budgetMs: cfg.FRISTVAGT_SHUTDOWN_TIMEOUT_MS });
  life.trapSignals();
  // All or nothing: the database (migrated, demo data in place), Redis, the HTTP server listening,
  // then the worker; stopped in reverse order, the private redis-server after the worker has closed.
  return runUntilStopped(life, log, async () => {
    // Takes FRISTVAGT_DATA_DIR's lock (also on Postgres when the private Redis lives there) before that Redis starts.
    const database = await life.start('database', () => openConfiguredDatabase(cfg, { lockDataDir: !cfg.REDIS_URL, maxConnections: workerConnections(cfg) }), databasePart);
    if (values.demo) log.info('loading the demo data');
    const demo = values.demo ? await life.start('demo data', () => prepareDemo(cfg, database)) : undefined;
    const privateRedis = cfg.REDIS_URL ? undefined : await life.start('private redis-server', () => startPrivateRedis(cfg.FRISTVAGT_DATA_DIR, log), { reserveMs: RESERVE.privateRedis, stop: (r, b) => r.stop(b.left()) });
    const redisUrl = cfg.REDIS_URL ?? (privateRedis as PrivateRedis).url;
    const mailer = await life.start('mailer', () => mailerFor(cfg, database, log), mailerPart);
    const app = await life.start('http', () => buildServer({ database, config: cfg, clock: () => new Date(), logger: log, mailer, mailFrom: cfg.MAIL_FROM, redis: { url: redisUrl, prefix: cfg.FRISTVAGT_QUEUE_PREFIX } }), {
      reserveMs: RESERVE.http,
      stop: async (a, b) => ((await within(a.close(), b.left())) === 'done' ? [] : ['requests still running']),
    });
    const url = await life.start('listen', () => app.listen({ host: cfg.HOST, port: cfg.PORT }));
    const worker = await life.start('worker', () => launchWorker(cfg, database, redisUrl, mailer, log), workerPart);
    log.info({ url, worker: worker.id, database: database.driver, redis: cfg.REDIS_URL ? 'external' : 'private', mail: mailer.kind }, 'fristvagt started');
    // Plain text for the person at the terminal, between the JSON log lines; before the first sweep,
    // which plans every record and can take a while on a large data set.
    const hint = await life.start('login link', () => loginHint(database, url, demo));
    process.stdout.write(banner(url, demo, hint, cfg, mailer.kind));
    firstSweep(worker, log, life);
  });
}
