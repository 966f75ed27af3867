/** `fristvagt worker` as a child process (the built CLI), for tests that need a real crash. */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createArea, createInstitution } from '../../src/records/masterdata.js';
import type { ServiceContext } from '../../src/records/service.js';
import { CLI, ROOT } from './cli.js';
import { openTestDatabase, type TestDatabase } from './db.js';
import { startSmtpSink, type SmtpSink } from './smtp.js';
import { ADMIN, deleteQueueKeys, REDIS_URL } from './worker.js';

export interface WorkerProcess {
  child: ChildProcess;
  /** Everything it printed (JSON log lines), for assertions and for a timed-out wait's message. */
  output: string[];
  /** Resolves with the exit code (null after a signal). */
  exited: Promise<number | null>;
  /** SIGKILL, resolved once the process is gone. */
  kill(): Promise<void>;
}

export function spawnWorkerProcess(env: Record<string, string>): WorkerProcess {
  const child = spawn(process.execPath, [CLI, 'worker'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  const output: string[] = [];
  child.stdout?.setEncoding('utf8').on('data', (d: string) => output.push(d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => output.push(d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    output,
    exited,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

/**
 * What a test of worker processes needs: its own Postgres database (area `syd`, institution
 * `horsens`), an SMTP sink, a queue prefix on the shared Redis, and the processes it spawned;
 * `close()` kills those and removes only this fixture's keys and database.
 */
export interface ProcessFixture {
  db: TestDatabase;
  sink: SmtpSink;
  ctx: ServiceContext;
  prefix: string;
  workers: WorkerProcess[];
  /** A `fristvagt worker` against this fixture; `env` adds to (or overrides) the fixture's settings. */
  spawn(env?: Record<string, string>): WorkerProcess;
  close(): Promise<void>;
}

export async function startProcessFixture(tag: string): Promise<ProcessFixture> {
  const db = await openTestDatabase('postgres');
  const sink = await startSmtpSink();
  const ctx: ServiceContext = { db: db.database.db, clock: () => new Date(), closureDays: [] };
  const prefix = `fv-${tag}-${randomBytes(4).toString('hex')}`;
  await createArea(ctx, { id: 'syd', name: 'Kriminalforsorgen Syd', officeEmail: 'syd@kf.test', directorName: 'Direktør', directorEmail: 'direktor.syd@kf.test' }, ADMIN);
  await createInstitution(ctx, { id: 'horsens', areaId: 'syd', name: 'Fængsel Horsens', kind: 'prison', dutyManagerEmail: 'vagt.horsens@kf.test' }, ADMIN);
  const workers: WorkerProcess[] = [];
  return {
    db,
    sink,
    ctx,
    prefix,
    workers,
    spawn(env = {}) {
      const w = spawnWorkerProcess({
        DATABASE_URL: db.url ?? '',
        REDIS_URL,
        SMTP_URL: sink.url,
        // smtp-server's built-in STARTTLS certificate is self-signed (and expired).
        SMTP_TLS_REJECT_UNAUTHORIZED: 'false',
        MAIL_FROM: 'fristvagt <fristvagt@kriminalforsorgen.test>',
        FRISTVAGT_QUEUE_PREFIX: prefix,
        LOG_LEVEL: 'warn',
        ...env,
      });
      workers.push(w);
      return w;
    },
    async close() {
      for (const w of workers) await w.kill();
      await deleteQueueKeys(prefix);
      await sink.close();
      await db.drop();
    },
  };
}
