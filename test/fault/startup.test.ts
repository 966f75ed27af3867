/**
 * Issue 9, item 4: `fristvagt start` on a freshly demo-seeded embedded database (PGlite, private
 * redis-server) came up without its HTTP server ("Plugin did not start in time" for the UI plugin)
 * while the worker went on sending. The cause: PGlite queries never gave the event loop a turn, so
 * the first sweep (planning all 300 records) starved fastify's plugin loading for 17 s. Start-up is
 * now all or nothing, and a signal during start-up ends the process within the budget.
 */
import { createServer, type Server } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { cliEnv, processesMentioning, processFixture, redisServersUnder, spawnCli } from '../support/processes.js';

const BOUND_MS = 15_000;
const ADMIN_TOKEN = 'fault-test-admin-token-0123456789';
const fx = processFixture('fv-startup-');

afterEach(() => fx.killAll());
afterAll(() => fx.removeDirs());

describe('start on a freshly demo-seeded embedded database', () => {
  let dir: string;
  beforeAll(async () => {
    dir = fx.tempDir();
    const seeded = await runCli(['seed', '--demo'], '', cliEnv({ FRISTVAGT_DATA_DIR: dir }));
    expect(seeded.code, seeded.stderr).toBe(0);
  }, 240_000);

  it('serves the UI and the API while the first sweep plans every record, and stops on SIGTERM', async () => {
    const p = fx.track(spawnCli(['start'], { env: cliEnv({ FRISTVAGT_DATA_DIR: dir, FRISTVAGT_ADMIN_TOKEN: ADMIN_TOKEN }) }));
    const [, url] = (await p.waitFor(/is running: (http:\/\/\S+)/)) as unknown as [string, string];
    const login = await fetch(`${url}/login`);
    expect(login.status).toBe(200);
    expect(await login.text()).toMatch(/<form/);
    expect([200, 302, 303]).toContain((await fetch(`${url}/`, { redirect: 'manual' })).status);
    const deadlines = await fetch(`${url}/api/deadlines?limit=1`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(deadlines.status).toBe(200);
    expect(((await deadlines.json()) as { total: number }).total).toBeGreaterThan(0);
    expect(p.output()).not.toMatch(/did not start in time/);
    const stop = await p.signal('SIGTERM');
    console.log(`[fault-table] start | demo-seeded PGlite, SIGTERM during the first sweep | SIGTERM→exit ${stop.ms} ms | exit ${stop.code ?? stop.signal}`);
    expect(stop.code, p.output().slice(-3000)).toBe(0);
    expect(stop.ms).toBeLessThan(BOUND_MS);
  }, 180_000);

  it('exits non-zero with the reason when a part cannot start (the port is taken), leaving no process behind', async () => {
    const taken: Server = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', () => resolve()));
    try {
      const port = (taken.address() as { port: number }).port;
      const p = fx.track(spawnCli(['start'], { env: cliEnv({ FRISTVAGT_DATA_DIR: dir, PORT: String(port) }) }));
      const exit = await Promise.race([p.exited, new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 90_000).unref())]);
      expect(exit, p.output().slice(-3000)).not.toBe('hung');
      expect((exit as { code: number | null }).code, p.output().slice(-3000)).toBe(1);
      expect(p.output()).toMatch(/fristvagt start: .*EADDRINUSE/);
      expect(redisServersUnder(dir)).toEqual([]);
      expect(processesMentioning(dir)).toEqual([]);
    } finally {
      await new Promise<void>((resolve) => taken.close(() => resolve()));
    }
  }, 120_000);
});

describe('a signal during start-up', () => {
  it('ends `start --demo` within the budget while it loads the demo data', async () => {
    const dir = fx.tempDir();
    const p = fx.track(spawnCli(['start', '--demo'], { env: cliEnv({ FRISTVAGT_DATA_DIR: dir }) }));
    await p.waitFor(/"msg":"loading the demo data"/);
    const stop = await p.signal('SIGTERM');
    console.log(`[fault-table] start --demo | SIGTERM while loading the demo data | SIGTERM→exit ${stop.ms} ms | exit ${stop.code ?? stop.signal}`);
    expect(stop.signal, p.output().slice(-3000)).toBeNull();
    expect(stop.ms).toBeLessThan(BOUND_MS);
    expect(p.output()).not.toMatch(/is running:/);
    expect(redisServersUnder(dir)).toEqual([]);
  }, 120_000);
});
