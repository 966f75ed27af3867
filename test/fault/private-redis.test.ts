/**
 * Issue 9, item 3: the private redis-server of `fristvagt start` (no REDIS_URL) never outlives its
 * parent, even when the parent is SIGKILLed; and the quick start stops on Ctrl+C, which a terminal
 * sends to its whole foreground process group, within the budget and without the flood of
 * `connect ENOENT …/redis.sock` errors that came when the private Redis got the SIGINT first.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../support/redis-server.js';
import { cliEnv, processesMentioning, processFixture, redisServersUnder, spawnCli, spawnCommand, waitGone } from '../support/processes.js';

const BOUND_MS = 15_000;
const fx = processFixture('fv-private-redis-');

afterEach(async () => {
  await fx.killAll();
  fx.removeDirs();
});

describe('the private redis-server', () => {
  it('exits when `start` is killed with SIGKILL', async () => {
    const dir = fx.tempDir();
    const p = fx.track(spawnCli(['start'], { env: cliEnv({ FRISTVAGT_DATA_DIR: dir }) }));
    await p.waitFor(/"msg":"fristvagt started"/);
    const [redis] = redisServersUnder(dir);
    expect(redis, 'a private redis-server serves the data dir').toBeDefined();
    process.kill(p.pid, 'SIGKILL');
    await p.exited;
    const started = Date.now();
    const gone = await waitGone(redis as number, BOUND_MS);
    console.log(`[fault-table] start | parent SIGKILLed | private redis-server gone ${Date.now() - started} ms after the parent died`);
    expect(gone, `redis-server ${redis} still runs after its parent was killed`).toBe(true);
  });
});

describe('the quick start', () => {
  it('stops on SIGINT to its whole process group (Ctrl+C) within the budget, leaving no redis-server and no ENOENT flood', async () => {
    const dir = fx.tempDir();
    const port = await freePort();
    // Detached: its own process group, the way a terminal runs a foreground job.
    const p = fx.track(spawnCommand('bash', ['scripts/quickstart.sh'], { env: cliEnv({ FRISTVAGT_DATA_DIR: dir, PORT: String(port) }), detached: true }));
    await p.waitFor(/is running: http:\/\/\S+/, 180_000);
    const stop = await p.signal('SIGINT', { group: true });
    const enoent = (p.output().match(/ENOENT/g) ?? []).length;
    console.log(`[fault-table] quickstart | Ctrl+C (SIGINT to the group) | SIGINT→exit ${stop.ms} ms | exit ${stop.code ?? stop.signal} | ENOENT lines ${enoent}`);
    expect(stop.signal, p.output().slice(-3000)).toBeNull();
    expect(stop.code, p.output().slice(-3000)).toBe(0);
    expect(stop.ms).toBeLessThan(BOUND_MS);
    expect(enoent, p.output().slice(-3000)).toBe(0);
    for (const pid of redisServersUnder(dir)) expect(await waitGone(pid, BOUND_MS), `redis-server ${pid}`).toBe(true);
    expect(processesMentioning(dir)).toEqual([]);
  }, 240_000);
});
