/**
 * README Quick start, first command, headless: `bash scripts/quickstart.sh` (packages already
 * installed here, so it goes straight to `fristvagt start --demo`) starts on PGlite with a private
 * redis-server and the mail catcher, serves the API and the UI with the demo data, and stops
 * cleanly on SIGTERM.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from '../support/cli.js';

/** redis-server processes serving a socket under `dir` (the private Redis of this test's server). */
function redisPids(dir: string): number[] {
  const out = spawnSync('pgrep', ['-f', `redis-server unixsocket:${dir}`], { encoding: 'utf8' });
  return out.stdout.split('\n').filter(Boolean).map(Number);
}

describe('quick start', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fristvagt-quickstart-'));
  let cleanup = (): void => undefined;
  afterAll(() => {
    cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  /** One run of the README's first command: resolves once the banner names the address, the login link and the token. */
  function quickstart(): { banner: Promise<{ url: string; token: string; link: string; out: string }>; exited: Promise<number | null>; stop(): void; stderr(): string } {
    const env = { ...process.env, FRISTVAGT_DATA_DIR: dir, PORT: '0', HOST: '127.0.0.1', DATABASE_URL: '', REDIS_URL: '', SMTP_URL: '', LOG_LEVEL: 'warn', FRISTVAGT_ADMIN_TOKEN: '' };
    const child = spawn('bash', [join(ROOT, 'scripts/quickstart.sh')], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    // A failed assertion must not leave the server (and its private redis-server) running.
    cleanup = () => {
      if (child.exitCode === null) child.kill('SIGKILL');
      for (const pid of redisPids(dir)) process.kill(pid, 'SIGKILL');
    };
    let out = '';
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const banner = new Promise<{ url: string; token: string; link: string; out: string }>((resolve, reject) => {
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        out += d;
        const u = /is running: (http:\/\/\S+)/.exec(out);
        const t = /Administrator-token.*?: (fv_[A-Za-z0-9_-]+)/.exec(out);
        const l = /Log ind som demo-administrator.*?: (http:\/\/\S+\/login\/link\?k=[A-Za-z0-9_-]+)/.exec(out);
        if (u?.[1] && t?.[1] && l?.[1]) resolve({ url: u[1], token: t[1], link: l[1], out });
      });
      void exited.then((code) => reject(new Error(`quickstart exited ${code}: ${out}\n${err}`)));
    });
    return { banner, exited, stop: () => child.kill('SIGTERM'), stderr: () => err };
  }

  it('starts with demo data, prints the address, a login link and an admin token, and stops on SIGTERM; a restart keeps the token', async () => {
    const run = quickstart();
    const { url, token, link, out } = await run.banner;
    expect(out).toMatch(/Demo-data: 3 områder, 6 institutioner, 300 sager/);
    expect(out).toMatch(/PGlite i /);
    // The private redis-server runs on a unix socket under the data dir.
    expect(existsSync(join(dir, 'redis', 'redis.sock'))).toBe(true);

    const auth = { authorization: `Bearer ${token}` };
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    const breached = (await (await fetch(`${url}/api/deadlines?status=breached&limit=5`, { headers: auth })).json()) as { total: number; items: Array<{ citation: string; basis: string }> };
    expect(breached.total).toBeGreaterThan(0);
    expect(breached.items[0]?.citation).toBeTruthy();
    expect(['law', 'policy']).toContain(breached.items[0]?.basis);
    // The UI is served by the same process: the start page answers (a login page without a session).
    const page = await fetch(`${url}/`, { redirect: 'manual' });
    expect([200, 302, 303]).toContain(page.status);

    // The printed link logs the demo administrator in, as a person: the page asks, the POST uses it.
    const ask = await fetch(link);
    expect(ask.status).toBe(200);
    const csrfCookie = /fristvagt_login_csrf=([^;]+)/.exec(ask.headers.get('set-cookie') ?? '')?.[1] ?? '';
    const csrf = /name="_csrf" value="([^"]+)"/.exec(await ask.text())?.[1] ?? '';
    const used = await fetch(`${url}/login/link`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `fristvagt_login_csrf=${csrfCookie}`, origin: url },
      body: new URLSearchParams({ _csrf: csrf, k: new URL(link).searchParams.get('k') ?? '', lang: 'da' }).toString(),
    });
    expect(used.status).toBe(303);
    const session = /fristvagt_session=([^;]+)/.exec(used.headers.get('set-cookie') ?? '')?.[1] ?? '';
    const account = await (await fetch(`${url}/account`, { headers: { cookie: `fristvagt_session=${session}` } })).text();
    expect(account).toContain('Demo Administrator (administrator)');

    run.stop();
    expect(await run.exited).toBe(0);
    // The private redis-server went with it.
    expect(redisPids(dir)).toEqual([]);
    expect(run.stderr()).not.toMatch(/Error|unhandled/i);

    // Again: the same admin token (kept in the data dir), the data kept, the person's session too.
    const again = quickstart();
    const second = await again.banner;
    expect(second.token).toBe(token);
    expect(second.link).not.toBe(link);
    expect((await fetch(`${second.url}/api/deadlines?status=breached&limit=1`, { headers: auth })).status).toBe(200);
    const stillIn = await fetch(`${second.url}/account`, { redirect: 'manual', headers: { cookie: `fristvagt_session=${session}` } });
    expect(stillIn.status).toBe(200);
    again.stop();
    expect(await again.exited).toBe(0);
  }, 180_000);
});
