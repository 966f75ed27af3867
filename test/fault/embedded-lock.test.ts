/**
 * Issue 9, item 1: one process per embedded data directory. Two `fristvagt api` (or `start`) on
 * one FRISTVAGT_DATA_DIR both served and lost each other's writes; two `start` ran two private
 * redis-servers on one socket. Now the second process, and every command that opens the
 * directory, is refused at once naming the directory and the holder's pid, and a holder killed
 * with SIGKILL leaves no stale lock.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CLI, ROOT, runCli } from '../support/cli.js';
import { openTestDatabase, type TestDatabase } from '../support/db.js';
import { freePort } from '../support/redis-server.js';

const TOKEN = 'lock-test-admin-token-0123456789abcdef';

interface Running {
  child: ChildProcess;
  pid: number;
  output(): string;
  /** Resolves with the exit code (or signal name). */
  exited: Promise<number | string | null>;
  /** Waits until the output matches, failing if the process exits first. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
}

/** redis-server processes serving a socket under `dir` (a `start`'s private Redis). */
function redisPids(dir: string): number[] {
  const out = spawnSync('pgrep', ['-f', `redis-server unixsocket:${dir}`], { encoding: 'utf8' });
  return out.stdout.split('\n').filter(Boolean).map(Number);
}

describe('one process per embedded data directory', () => {
  let dir: string;
  let work: string;
  const children: ChildProcess[] = [];

  beforeEach(() => {
    work = mkdtempSync(join(tmpdir(), 'fristvagt-lock-'));
    dir = join(work, 'data');
    mkdirSync(dir);
    dir = realpathSync(dir);
  });
  afterEach(() => {
    for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    // A SIGKILLed `start` cannot stop its private redis-server.
    for (const pid of redisPids(dir)) process.kill(pid, 'SIGKILL');
    rmSync(work, { recursive: true, force: true });
  });

  function env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    return { ...process.env, FRISTVAGT_DATA_DIR: dir, DATABASE_URL: '', REDIS_URL: '', SMTP_URL: '', HOST: '127.0.0.1', LOG_LEVEL: 'info', FRISTVAGT_ADMIN_TOKEN: TOKEN, ...extra };
  }

  function run(args: string[], extraEnv: NodeJS.ProcessEnv = {}): Running {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env: env(extraEnv), stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let out = '';
    const listeners = new Set<() => void>();
    const onData = (d: string): void => {
      out += d;
      for (const l of listeners) l();
    };
    child.stdout.setEncoding('utf8').on('data', onData);
    child.stderr.setEncoding('utf8').on('data', onData);
    const exited = new Promise<number | string | null>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal)));
    return {
      child,
      pid: child.pid ?? 0,
      output: () => out,
      exited,
      waitFor(re, timeoutMs = 90_000) {
        return new Promise((resolve, reject) => {
          const check = (): void => {
            const m = re.exec(out);
            if (m) {
              listeners.delete(check);
              clearTimeout(timer);
              resolve(m);
            }
          };
          const timer = setTimeout(() => reject(new Error(`no ${String(re)} within ${timeoutMs} ms:\n${out}`)), timeoutMs);
          listeners.add(check);
          void exited.then((code) => {
            if (listeners.has(check)) {
              clearTimeout(timer);
              reject(new Error(`exited (${String(code)}) before ${String(re)}:\n${out}`));
            }
          });
          check();
        });
      },
    };
  }

  /** The process ends by itself within the bound (a refusal), or the test fails. */
  async function exitOf(p: Running, boundMs = 60_000): Promise<number | string | null> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`still running after ${boundMs} ms:\n${p.output()}`)), boundMs);
    });
    try {
      return await Promise.race([p.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async function startApi(): Promise<{ p: Running; url: string }> {
    const p = run(['api'], { PORT: String(await freePort()) });
    const m = await p.waitFor(/"url":"(http:\/\/[^"]+)","msg":"fristvagt API listening"/);
    return { p, url: m[1] ?? '' };
  }

  const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
  const refusal = (pid: number, command: string): RegExp => new RegExp(`FRISTVAGT_DATA_DIR ${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is in use by fristvagt process ${pid} \\(${command}\\): stop it first, or do this through the API of the running process(?: \\(DATA_DIR_IN_USE\\))?\\n`);

  it('refuses a second api and every command that opens the directory; a SIGKILLed holder leaves no lock', async () => {
    const first = await startApi();
    const area = (id: string): RequestInit => ({ method: 'POST', headers: auth, body: JSON.stringify({ id, name: `Område ${id}`, officeEmail: `${id}@kf.test`, directorName: 'Direktør', directorEmail: `dir.${id}@kf.test` }) });
    expect((await fetch(`${first.url}/api/areas`, area('lock-a'))).status).toBe(201);

    const secondPort = await freePort();
    const second = run(['api'], { PORT: String(secondPort) });
    expect(await exitOf(second)).toBe(1);
    expect(second.output()).toMatch(refusal(first.p.pid, 'api'));
    expect(second.output()).not.toMatch(/API listening|at .*\.js:\d+/);
    await expect(fetch(`http://127.0.0.1:${secondPort}/healthz`)).rejects.toThrow();

    // Every command that opens the directory is refused the same way, and changes nothing.
    const csv = join(work, 'incidents.csv');
    writeFileSync(csv, 'institutionId,journalNumber,kind,occurredAt\n');
    const commands = [['seed', '--demo', '--records', '1'], ['token', 'create', '--role', 'admin'], ['import', csv, '--type', 'incident'], ['migrate'], ['retention'], ['audit', 'verify']];
    const results = await Promise.all(commands.map((args) => runCli(args, '', env())));
    results.forEach((res, i) => {
      expect({ command: commands[i]?.join(' '), code: res.code }).toEqual({ command: commands[i]?.join(' '), code: 1 });
      expect(res.stderr).toMatch(refusal(first.p.pid, 'api'));
      expect(res.stdout).toBe('');
    });
    // `config check` opens nothing: it says who holds the directory and passes.
    const check = await runCli(['config', 'check'], '', env());
    expect(check.code).toBe(0);
    expect(check.stdout).toMatch(new RegExp(`^pglite \\(.*\\): ok \\(.*; in use by fristvagt process ${first.p.pid} \\(api\\)\\)$`, 'm'));

    // The holder kept serving throughout.
    expect((await fetch(`${first.url}/api/areas`, area('lock-b'))).status).toBe(201);

    // SIGKILL: no clean-up runs, and yet the next process takes the directory at once.
    first.p.child.kill('SIGKILL');
    expect(await first.p.exited).toBe('SIGKILL');
    const next = await startApi();
    const areas = (await (await fetch(`${next.url}/api/areas`, { headers: auth })).json()) as { items: Array<{ id: string }> };
    expect(areas.items.map((a) => a.id)).toEqual(expect.arrayContaining(['lock-a', 'lock-b']));
    const third = run(['token', 'create', '--role', 'admin']);
    expect(await exitOf(third)).toBe(1);
    expect(third.output()).toMatch(refusal(next.p.pid, 'api'));

    next.p.child.kill('SIGTERM');
    expect(await next.p.exited).toBe(0);
    // Released on a clean stop: a command runs now.
    const audit = await runCli(['audit', 'verify'], '', env());
    expect(audit.stdout).toMatch(/^audit chain ok: \d+ entries verified/);
    expect(audit.code).toBe(0);
  }, 300_000);

  describe.each(['PGlite', 'Postgres'] as const)('two `start` (%s) with a private redis-server', (db) => {
    let pg: TestDatabase | undefined;
    beforeEach(async () => {
      if (db === 'Postgres') pg = await openTestDatabase('postgres');
    });
    afterEach(async () => {
      await pg?.drop();
      pg = undefined;
    });

    it('refuses the second before it launches a redis-server', async () => {
      const dbEnv = db === 'Postgres' ? { DATABASE_URL: pg?.url ?? '', FRISTVAGT_QUEUE_PREFIX: `fv-lock-${process.pid}` } : {};
      const first = run(['start'], { ...dbEnv, PORT: String(await freePort()) });
      const url = (await first.waitFor(/is running: (http:\/\/\S+)/))[1] ?? '';
      const firstRedis = redisPids(dir);
      expect(firstRedis).toHaveLength(1);

      // The second `start` finds redis-server through a PATH entry that records every call.
      const bin = join(work, 'bin');
      mkdirSync(bin);
      const calls = join(work, 'redis-server-calls');
      const real = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).stdout.trim();
      writeFileSync(join(bin, 'redis-server'), `#!/bin/sh\necho "$*" >> '${calls}'\nexec '${real}' "$@"\n`);
      chmodSync(join(bin, 'redis-server'), 0o755);
      const second = run(['start'], { ...dbEnv, PORT: String(await freePort()), PATH: `${bin}:${process.env['PATH'] ?? ''}` });
      expect(await exitOf(second)).toBe(1);
      expect(second.output()).toMatch(refusal(first.pid, 'start'));
      expect(existsSync(calls)).toBe(false);
      // The first one's Redis is untouched and it still serves.
      expect(redisPids(dir)).toEqual(firstRedis);
      expect(existsSync(join(dir, 'redis', 'redis.sock'))).toBe(true);
      // Ready needs the external recipients set (README "Go-live"), through the running process's API.
      const recipients = await fetch(`${url}/api/settings/recipients`, { method: 'PUT', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ value: { ombudsman: 'ombudsmand@ombud.invalid', directorate: 'direktorat@ombud.invalid', admins: ['drift@ombud.invalid'] } }) });
      expect(recipients.status).toBe(200);
      expect((await fetch(`${url}/readyz`)).status).toBe(200);

      first.child.kill('SIGTERM');
      expect(await first.exited).toBe(0);
      expect(redisPids(dir)).toEqual([]);
    }, 240_000);
  });
});
