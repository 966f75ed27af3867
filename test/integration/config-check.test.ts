/** `fristvagt config check` through the built CLI: reachable, unreachable and unconfigured services, a bad environment. */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { settings } from '../../src/db/schema.js';
import { runCli } from '../support/cli.js';
import { openTestDatabase, type TestDatabase } from '../support/db.js';
import { startSmtpSink, type SmtpSink } from '../support/smtp.js';

const REDIS_URL = process.env['TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';

/** A port nothing listens on: bound once by us, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Everything the check reads, unset unless the test sets it: the runner's own environment must not leak in. */
const CLEAN = { DATABASE_URL: '', REDIS_URL: '', SMTP_URL: '', FRISTVAGT_DATA_DIR: '', PORT: '', SMTP_REQUIRE_TLS: '', SMTP_TLS_REJECT_UNAUTHORIZED: '' };

describe('config check', () => {
  let db: TestDatabase;
  let sink: SmtpSink;
  const dir = mkdtempSync(join(tmpdir(), 'fristvagt-config-'));
  beforeAll(async () => {
    db = await openTestDatabase('postgres');
    sink = await startSmtpSink();
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await sink?.close();
    await db?.drop();
  });

  it('reports every configured service ok and exits 0', async () => {
    const url = new URL(db.url ?? '');
    url.password = 'not-printed-secret';
    // The sink's STARTTLS certificate is self-signed: what SMTP_TLS_REJECT_UNAUTHORIZED=false is for.
    const res = await runCli(['config', 'check'], '', { ...CLEAN, DATABASE_URL: url.toString(), REDIS_URL, SMTP_URL: sink.url, SMTP_TLS_REJECT_UNAUTHORIZED: 'false' });
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    const lines = res.stdout.trim().split('\n');
    expect(lines).toHaveLength(5);
    expect(lines[0]).toBe('environment: ok');
    expect(lines[1]).toMatch(/^postgres \([^)]+\/fristvagt_t_\w+\): ok \(PostgreSQL \d+/);
    expect(lines[2]).toMatch(/^redis \([^)]+\): ok \(PONG\)$/);
    expect(lines[3]).toMatch(/^smtp \(127\.0\.0\.1:\d+\): ok$/);
    // The external recipients are settings an administrator must set: reported, not a failure of the check.
    expect(lines[4]).toMatch(/^recipients: not configured \(recipients\.ombudsman and recipients\.directorate unset: nothing is sent to them/);
    expect(res.stdout).not.toContain('not-printed-secret');

    await db.database.db.insert(settings).values({ key: 'recipients', value: { ombudsman: 'ombudsmand@ombud.test', directorate: null, admins: ['drift@kf.test'] }, updatedAt: new Date(), updatedBy: 'test' });
    const one = await runCli(['config', 'check'], '', { ...CLEAN, DATABASE_URL: db.url ?? '' });
    expect(one.stdout).toMatch(/^recipients: not configured \(recipients\.directorate unset/m);
    await db.database.db.update(settings).set({ value: { ombudsman: 'ombudsmand@ombud.test', directorate: 'direktorat@kf.test', admins: ['drift@kf.test'] } });
    const set = await runCli(['config', 'check'], '', { ...CLEAN, DATABASE_URL: db.url ?? '' });
    expect(set.stdout).toMatch(/^recipients: ok$/m);
  });

  it('names each unreachable service with a reason and exits 1', async () => {
    const [pg, redis, smtp] = [await closedPort(), await closedPort(), await closedPort()];
    const res = await runCli(['config', 'check'], '', { ...CLEAN, DATABASE_URL: `postgres://postgres:pw-secret@127.0.0.1:${pg}/x`, REDIS_URL: `redis://127.0.0.1:${redis}`, SMTP_URL: `smtp://mailer:hunter2-secret@127.0.0.1:${smtp}` });
    expect(res.code).toBe(1);
    const lines = res.stdout.trim().split('\n');
    expect(lines[0]).toBe('environment: ok');
    expect(lines[1]).toMatch(new RegExp(`^postgres \\(127\\.0\\.0\\.1:${pg}/x\\): unreachable: .*ECONNREFUSED`));
    expect(lines[2]).toMatch(new RegExp(`^redis \\(127\\.0\\.0\\.1:${redis}\\): unreachable: .*ECONNREFUSED`));
    expect(lines[3]).toMatch(new RegExp(`^smtp \\(127\\.0\\.0\\.1:${smtp}\\): unreachable: .*ECONNREFUSED`));
    expect(res.stderr).toMatch(/fristvagt config: 3 configured services unreachable/);
    expect(res.stdout + res.stderr).not.toMatch(/pw-secret|hunter2|mailer/);
  });

  it('only a failing service fails the check; unset ones are "not configured"', async () => {
    const res = await runCli(['config', 'check'], '', { ...CLEAN, FRISTVAGT_DATA_DIR: dir, REDIS_URL: `redis://127.0.0.1:${await closedPort()}` });
    expect(res.code).toBe(1);
    expect(res.stdout).toMatch(new RegExp(`^pglite \\(${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\): ok \\(.*created on first use\\)$`, 'm'));
    expect(res.stdout).toMatch(/^redis \(127\.0\.0\.1:\d+\): unreachable: /m);
    expect(res.stdout).toMatch(/^smtp: not configured \(mail goes to the built-in catcher\)$/m);
    expect(res.stderr).toMatch(/1 configured service unreachable/);

    const none = await runCli(['config', 'check'], '', { ...CLEAN, FRISTVAGT_DATA_DIR: dir });
    expect(none.code).toBe(0);
    expect(none.stdout).toMatch(/^redis: not configured/m);
  });

  it('a bad variable exits 2 naming it, before anything is contacted', async () => {
    const port = await runCli(['config', 'check'], '', { ...CLEAN, PORT: 'eighty' });
    expect(port.code).toBe(2);
    expect(port.stderr).toMatch(/^fristvagt config: invalid configuration: PORT: /);
    expect(port.stdout).toBe('');
    const redis = await runCli(['config', 'check'], '', { ...CLEAN, REDIS_URL: 'not a url' });
    expect(redis.code).toBe(2);
    expect(redis.stderr).toMatch(/REDIS_URL/);
    const usage = await runCli(['config', 'show'], '', CLEAN);
    expect(usage.code).toBe(2);
  });
});
