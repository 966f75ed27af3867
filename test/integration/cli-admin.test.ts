/** The operator commands through the built CLI, on PGlite in a temp dir and on a real Postgres database. */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, ROOT, runCli } from '../support/cli.js';
import { openTestDatabase, type TestDatabase } from '../support/db.js';

describe('operator commands on PGlite', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fristvagt-cli-'));
  const env = { FRISTVAGT_DATA_DIR: dir, DATABASE_URL: '' };
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('migrates, creates tokens, verifies the audit chain', async () => {
    const m = await runCli(['migrate'], '', env);
    expect(m.stderr).toBe('');
    expect(m.code).toBe(0);
    expect(m.stdout).toContain('PGlite');
    const bad = await runCli(['token', 'create', '--role', 'area'], '', env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--area: is required for role area/);
    const unknown = await runCli(['token', 'create', '--role', 'area', '--area', 'nowhere'], '', env);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/--area: unknown area "nowhere"/);
    const ok = await runCli(['token', 'create', '--role', 'reader', '--name', 'dashboard'], '', env);
    expect(ok.code).toBe(0);
    expect(ok.stdout.trim()).toMatch(/^fv_[A-Za-z0-9_-]{40,}$/);
    expect(ok.stderr).toMatch(/shown once/);
    const audit = await runCli(['audit', 'verify'], '', env);
    expect(audit.code).toBe(0);
    expect(audit.stdout).toMatch(/audit chain ok: 1 entries verified; head #1 [0-9a-f]{64}/);
    // Six CLI processes, each opening PGlite: slow on a loaded 2-core machine.
  }, 90_000);

  it('creates a person with a one-time login link, makes a new link, lists the users', async () => {
    const bad = await runCli(['user', 'create', '--email', 'ikke-en-adresse', '--name', 'Mette Hansen', '--role', 'admin'], '', env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--email: not a valid e-mail address/);
    const ok = await runCli(['user', 'create', '--email', 'Mette@KF.test', '--name', 'Mette Hansen', '--title', 'Fuldmægtig', '--role', 'admin'], '', { ...env, PUBLIC_URL: 'https://fristvagt.kf.test' });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout.trim()).toMatch(/^https:\/\/fristvagt\.kf\.test\/login\/link\?k=[A-Za-z0-9_-]{43}$/);
    expect(ok.stderr).toMatch(/created admin user [0-9a-f-]{36}/);
    // The person's name never goes to the terminal's log, only the id.
    expect(ok.stderr).not.toContain('Mette');
    const again = await runCli(['user', 'link', '--email', 'mette@kf.test'], '', env);
    expect(again.code).toBe(0);
    expect(again.stdout.trim()).toMatch(/\/login\/link\?k=/);
    expect(again.stdout.trim()).not.toBe(ok.stdout.trim());
    const missing = await runCli(['user', 'link', '--email', 'ingen@kf.test'], '', env);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--email: no user has this e-mail address/);
    const list = await runCli(['user', 'list'], '', env);
    expect(JSON.parse(list.stdout)).toEqual([expect.objectContaining({ email: 'mette@kf.test', role: 'admin', active: true })]);
  }, 90_000);

  it('refuses a bad environment naming the variable', async () => {
    const res = await runCli(['migrate'], '', { ...env, PORT: 'eighty' });
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/PORT/);
  });
});

describe('operator commands on Postgres', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await openTestDatabase('postgres');
  });
  afterAll(async () => db?.drop());

  it('serves the API until SIGTERM and stops cleanly', async () => {
    const env = { ...process.env, DATABASE_URL: db.url ?? '', PORT: '0', HOST: '127.0.0.1', FRISTVAGT_ADMIN_TOKEN: 'cli-admin-token-0123456789abcdef', LOG_LEVEL: 'info' };
    const child = spawn(process.execPath, [CLI, 'api'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        out += d;
        const m = /"url":"(http:\/\/[^"]+)","msg":"fristvagt API listening"/.exec(out);
        if (m?.[1]) resolve(m[1]);
      });
      child.on('exit', (code) => reject(new Error(`api exited ${code}: ${out}`)));
    });
    const base = url;
    // Not ready until an administrator has set the external recipients (README "Go-live").
    const health = await fetch(`${base}/readyz`);
    expect(await health.json()).toMatchObject({ ok: false, postgres: 'ok', recipients: 'unset' });
    const set = await fetch(`${base}/api/settings/recipients`, { method: 'PUT', headers: { authorization: 'Bearer cli-admin-token-0123456789abcdef', 'content-type': 'application/json' }, body: JSON.stringify({ value: { ombudsman: 'ombudsmand@ombud.test', directorate: 'direktorat@kf.test', admins: ['drift@kf.test'] } }) });
    expect(set.status).toBe(200);
    expect(await (await fetch(`${base}/readyz`)).json()).toMatchObject({ ok: true, postgres: 'ok', recipients: 'ok' });
    const unauth = await fetch(`${base}/api/incidents`);
    expect(unauth.status).toBe(401);
    const authed = await fetch(`${base}/api/incidents`, { headers: { authorization: 'Bearer cli-admin-token-0123456789abcdef' } });
    expect(authed.status).toBe(200);
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
