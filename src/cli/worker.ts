/** `fristvagt worker` and `fristvagt start` (API + worker + embedded services in one process). */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Logger } from 'pino';
import { buildServer } from '../api/server.js';
import { ConfigError, loadConfig, type Config } from '../config.js';
import type { Database } from '../db/client.js';
import { createLogger } from '../logger.js';
import type { Mailer } from '../mail/transport.js';
import { createRedis, redisWarnings } from '../queue/connection.js';
import { and, eq, isNull } from 'drizzle-orm';
import { apiTokens } from '../db/schema.js';
import { seedDemo, type DemoSummary } from '../records/demo.js';
import { createToken, revokeToken } from '../records/tokens.js';
import { mailerFor, openConfiguredDatabase, serviceContext, workerConnections } from '../runtime.js';
import { startWorker, type RunningWorker } from '../worker/runtime.js';
import { UsageError } from './io.js';

function config(): Config {
  try {
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(err.message, { cause: err });
    throw err;
  }
}


/** A private redis-server on a unix socket under the data dir, for `start` without REDIS_URL. */
async function startPrivateRedis(dataDir: string, log: Logger): Promise<{ url: string; stop(): Promise<void> }> {
  const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    throw new UsageError('REDIS_URL is not set and redis-server is not installed: install it (Debian: apt-get install redis-server) or set REDIS_URL');
  }
  const dir = resolve(dataDir, 'redis');
  mkdirSync(dir, { recursive: true });
  const socket = join(dir, 'redis.sock');
  if (existsSync(socket)) rmSync(socket);
  // AOF and noeviction: the settings the README asks of any Redis that holds the schedule.
  const child: ChildProcess = spawn('redis-server', ['--port', '0', '--unixsocket', socket, '--unixsocketperm', '700', '--dir', dir, '--appendonly', 'yes', '--maxmemory-policy', 'noeviction', '--save', ''], { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr?.on('data', (d: Buffer) => log.warn({ redis: d.toString().trim().slice(0, 500) }, 'redis-server'));
  // ioredis takes an absolute socket path where it takes a URL.
  const url = socket;
  await new Promise<void>((resolveReady, reject) => {
    const deadline = Date.now() + 10_000;
    const tryConnect = (): void => {
      if (existsSync(socket)) return resolveReady();
      if (Date.now() > deadline || child.exitCode !== null) return reject(new Error('the private redis-server did not start'));
      setTimeout(tryConnect, 50);
    };
    tryConnect();
  });
  // However the process ends (an error during start-up included), the private Redis goes with it.
  const kill = (): void => void child.kill('SIGTERM');
  process.once('exit', kill);
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  return {
    url,
    async stop() {
      kill();
      // Let it finish writing its AOF before this process reports a clean stop.
      await Promise.race([exited, new Promise<void>((done) => setTimeout(done, 5_000).unref())]);
    },
  };
}

/**
 * Resolves on the first SIGTERM/SIGINT. Installed before anything slow starts, so that a signal
 * during start-up (migrations, the demo seed, the first sweep) still ends in a clean shutdown
 * instead of the default kill; a second signal kills at once.
 */
function onSignal(log: Logger): Promise<void> {
  return new Promise<void>((resolve) => {
    const handler = (signal: string): void => {
      log.info({ signal }, 'shutting down');
      resolve();
    };
    process.once('SIGTERM', () => handler('SIGTERM'));
    process.once('SIGINT', () => handler('SIGINT'));
  });
}

/** The first sweep plans every record and may take a while: run it alongside, never abandon it half-way. */
function firstSweep(worker: RunningWorker, log: Logger): Promise<void> {
  return worker.sweep().then(
    () => undefined,
    (err: unknown) => log.error({ err: { message: (err as Error).message } }, 'first sweep failed; the next one retries'),
  );
}

async function launchWorker(cfg: Config, database: Database, redisUrl: string, mailer: Mailer, log: Logger): Promise<RunningWorker> {
  const redis = createRedis(redisUrl);
  for (const w of await redisWarnings(redis)) log.warn(w);
  redis.disconnect();
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

export async function workerCommand(argv: string[]): Promise<string> {
  parseArgs({ args: argv, options: {}, strict: true });
  const cfg = config();
  if (!cfg.REDIS_URL) throw new UsageError('REDIS_URL: is required for `fristvagt worker` (use `fristvagt start` for the embedded set-up)');
  const log = createLogger({ level: cfg.LOG_LEVEL });
  const signalled = onSignal(log);
  const database = await openConfiguredDatabase(cfg, { maxConnections: workerConnections(cfg) });
  const mailer = mailerFor(cfg, database, log);
  const worker = await launchWorker(cfg, database, cfg.REDIS_URL, mailer, log);
  log.info({ worker: worker.id, mail: mailer.kind }, 'fristvagt worker running');
  const swept = firstSweep(worker, log);
  await signalled;
  await swept;
  await worker.stop(cfg.FRISTVAGT_SHUTDOWN_TIMEOUT_MS);
  mailer.close();
  await database.close();
  return '';
}

const QUICKSTART_TOKEN_NAME = 'quick start';

/**
 * `start --demo`: the demo data (idempotent) and a fresh admin token for the browser. Earlier
 * quick-start tokens are revoked first, so restarting does not pile up live admin tokens.
 */
async function prepareDemo(cfg: Config, database: Database): Promise<{ token: string; summary: DemoSummary }> {
  const actor = { id: 'cli', name: 'cli', role: 'admin' as const };
  const summary = await seedDemo(serviceContext(database, cfg), {});
  const now = new Date();
  const old = await database.db.select({ id: apiTokens.id }).from(apiTokens).where(and(eq(apiTokens.name, QUICKSTART_TOKEN_NAME), isNull(apiTokens.revokedAt)));
  for (const t of old) await revokeToken(database.db, t.id, actor, now);
  const { token } = await createToken(database.db, { role: 'admin', name: QUICKSTART_TOKEN_NAME }, actor, now);
  return { token, summary };
}

function banner(url: string, demo: { token: string; summary: DemoSummary } | undefined, cfg: Config, mail: string): string {
  const lines = [
    '',
    `fristvagt kører / is running: ${url}`,
    `  Database: ${cfg.DATABASE_URL ? 'Postgres (DATABASE_URL)' : `PGlite i ${resolve(cfg.FRISTVAGT_DATA_DIR)}`}; Redis: ${cfg.REDIS_URL ? 'REDIS_URL' : 'privat redis-server'}; mail: ${mail === 'catcher' ? 'mail-catcher (se mail-loggen i UI)' : 'SMTP_URL'}`,
  ];
  if (demo) {
    const r = demo.summary.records;
    lines.push(`  Demo-data: ${demo.summary.areas} områder, ${demo.summary.institutions} institutioner, ${r.incident + r.security_cell_placement + r.force_use + r.action_plan} sager`);
    lines.push(`  Administrator-token (log ind i UI, eller Authorization: Bearer …): ${demo.token}`);
  } else if (cfg.FRISTVAGT_ADMIN_TOKEN) {
    lines.push('  Log ind med FRISTVAGT_ADMIN_TOKEN.');
  } else {
    lines.push('  Opret et token: npx fristvagt token create --role admin');
  }
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
  const signalled = onSignal(log);
  const database = await openConfiguredDatabase(cfg, { maxConnections: workerConnections(cfg) });
  const privateRedis = cfg.REDIS_URL ? undefined : await startPrivateRedis(cfg.FRISTVAGT_DATA_DIR, log);
  const redisUrl = cfg.REDIS_URL ?? (privateRedis as { url: string }).url;
  const mailer = mailerFor(cfg, database, log);
  const worker = await launchWorker(cfg, database, redisUrl, mailer, log);
  const app = await buildServer({ database, config: cfg, clock: () => new Date(), logger: log, mailer, mailFrom: cfg.MAIL_FROM, redis: { url: redisUrl, prefix: cfg.FRISTVAGT_QUEUE_PREFIX } });
  const demo = values.demo ? await prepareDemo(cfg, database) : undefined;
  const url = await app.listen({ host: cfg.HOST, port: cfg.PORT });
  log.info({ url, database: database.driver, redis: cfg.REDIS_URL ? 'external' : 'private', mail: mailer.kind }, 'fristvagt started');
  // Plain text for the person at the terminal, between the JSON log lines; before the first sweep,
  // which plans every record and can take a while on a large data set.
  process.stdout.write(banner(url, demo, cfg, mailer.kind));
  const swept = firstSweep(worker, log);
  await signalled;
  await app.close();
  await swept;
  await worker.stop(cfg.FRISTVAGT_SHUTDOWN_TIMEOUT_MS);
  mailer.close();
  await database.close();
  await privateRedis?.stop();
  return '';
}
