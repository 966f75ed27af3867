/** The start/stop lifecycle of the long-running commands: order, all-or-nothing, the budget (fake timers, no I/O). */
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Lifecycle, StartInterrupted, within } from '../../src/lifecycle.js';
import { createLogger } from '../../src/logger.js';

function setup(budgetMs = 10_000) {
  const lines: Array<Record<string, unknown>> = [];
  const log = createLogger({ level: 'info', destination: new Writable({ write(c: Buffer, _e, cb) { lines.push(JSON.parse(c.toString()) as Record<string, unknown>); cb(); } }) });
  const exits: number[] = [];
  const life = new Lifecycle({ log, budgetMs, exit: (code) => exits.push(code) });
  return { life, lines, exits };
}

const never = new Promise<never>(() => undefined);

describe('Lifecycle', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('stops the parts in reverse order of starting, and exits 0 when nothing was abandoned', async () => {
    const { life, lines } = setup();
    const order: string[] = [];
    for (const name of ['database', 'redis', 'worker']) await life.start(name, () => name, { stop: () => void order.push(name) });
    expect(await life.stop()).toBe(0);
    expect(order).toEqual(['worker', 'redis', 'database']);
    expect(lines.at(-1)?.['msg']).toBe('stopped');
  });

  it('bounds a part that hangs, names it, and still stops the parts after it', async () => {
    const { life, lines } = setup();
    const stopped: string[] = [];
    await life.start('database', () => 'db', { stop: () => void stopped.push('database') });
    await life.start('worker', () => 'w', { reserveMs: 3_000, stop: () => never });
    const code = life.stop();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(await code).toBe(1);
    expect(stopped).toEqual(['database']);
    expect(lines.at(-1)?.['abandoned']).toEqual(['worker: did not stop within its share of the budget']);
  });

  it('leaves the reserves of the parts still to stop: a hanging first part gets the budget minus them', async () => {
    const { life } = setup(10_000);
    let databaseStartedAt = -1;
    const t0 = Date.now();
    await life.start('database', () => 'db', { reserveMs: 1_000, stop: () => void (databaseStartedAt = Date.now() - t0) });
    await life.start('worker', () => 'w', { stop: () => never });
    const code = life.stop();
    await vi.advanceTimersByTimeAsync(10_000);
    await code;
    // 10 s budget − 0.5 s margin − 1 s reserve, plus the quarter-second a part gets to report.
    expect(databaseStartedAt).toBeGreaterThanOrEqual(8_500);
    expect(databaseStartedAt).toBeLessThanOrEqual(8_800);
  });

  it('ends the process shortly after a stop that abandoned something (a connection may still hold it open)', async () => {
    const { life, exits } = setup(5_000);
    await life.start('worker', () => 'w', { stop: () => never });
    void life.stop();
    await vi.advanceTimersByTimeAsync(4_750);
    expect(exits).toEqual([]);
    await vi.advanceTimersByTimeAsync(300);
    expect(exits).toEqual([1]);
  });

  it('a stop during start-up stops a part that finishes starting afterwards, and start throws StartInterrupted', async () => {
    const { life } = setup();
    const stopped: string[] = [];
    await life.start('database', () => 'db', { stop: () => void stopped.push('database') });
    let release!: (v: string) => void;
    const slow = life.start('redis', () => new Promise<string>((r) => (release = r)), { stop: () => void stopped.push('redis') });
    const code = life.stop();
    await vi.advanceTimersByTimeAsync(10);
    release('r');
    await expect(slow).rejects.toBeInstanceOf(StartInterrupted);
    expect(await code).toBe(0);
    expect(stopped.sort()).toEqual(['database', 'redis']);
    await expect(life.start('worker', () => 'w')).rejects.toBeInstanceOf(StartInterrupted);
  });

  it('within() says done, failed or timeout', async () => {
    expect(await within(Promise.resolve(1), 10)).toBe('done');
    expect(await within(Promise.reject(new Error('x')), 10)).toBe('failed');
    const t = within(never, 100);
    await vi.advanceTimersByTimeAsync(100);
    expect(await t).toBe('timeout');
  });
});
