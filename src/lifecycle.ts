/**
 * Start-up and stop of the long-running commands (`worker`, `start`): all or nothing, and a stop
 * that ends within one budget (FRISTVAGT_SHUTDOWN_TIMEOUT_MS) whatever Redis, Postgres or SMTP do.
 *
 * Parts start in order and stop in reverse order. A part that fails to start stops the ones already
 * running, and the command exits non-zero with the reason. The first SIGTERM/SIGINT starts the stop
 * at any time, during start-up too: each part stops with what is left of the budget after the
 * reserves of the parts stopping after it, and what does not finish in time is abandoned and named
 * in the log (never personal data: part names, job ids, connections). When the budget is used up,
 * or a second signal comes, the process logs what is still open and exits at once.
 */
import type { Logger } from 'pino';
import { TimeoutError, withTimeout } from './ops/redis.js';

export type Settled = 'done' | 'failed' | 'timeout';

/**
 * Waits at most `ms` for `work`. 'timeout' means it is still running and is left behind; 'failed'
 * that it threw (a stop step that fails has ended, which is all a stop needs to know).
 */
export async function within(work: Promise<unknown> | (() => Promise<unknown>), ms: number): Promise<Settled> {
  try {
    const p = typeof work === 'function' ? Promise.resolve().then(work) : work;
    await withTimeout(p, Math.max(0, Math.floor(ms)), 'stop step');
    return 'done';
  } catch (err) {
    return err instanceof TimeoutError ? 'timeout' : 'failed';
  }
}

export interface StopBudget {
  /** Milliseconds this part may still take (0 when its share is used up). */
  left(): number;
}

export interface PartStop<T> {
  /** Stops the part; returns what it had to abandon (short, no personal data). */
  stop(value: T, budget: StopBudget): Promise<string[] | void> | string[] | void;
  /** What the parts stopping before this one must leave for it, in ms (default 0). */
  reserveMs?: number;
}

/** Thrown by `start` when a stop began while a part was starting. */
export class StartInterrupted extends Error {
  constructor(part: string) {
    super(`stopped during start-up (while starting: ${part})`);
    this.name = 'StartInterrupted';
  }
}

interface Part {
  name: string;
  reserveMs: number;
  stop(budget: StopBudget): Promise<string[] | void> | string[] | void;
}

export interface LifecycleOptions {
  log: Logger;
  budgetMs: number;
  /** Ends the process; tests pass their own. */
  exit?: (code: number) => void;
}

/** The orderly stop ends this long before the budget, so the last-resort exit stays a last resort. */
const MARGIN_MS = 500;
/** After the stop, a process still held open (by a connection that was abandoned) exits after this. */
const LINGER_MS = 300;

export class Lifecycle {
  private readonly log: Logger;
  private readonly budgetMs: number;
  private readonly exit: (code: number) => void;
  private readonly parts: Part[] = [];
  private readonly abandoned: string[] = [];
  /** The part being started, and the promise that settles when it has started (and, if a stop began meanwhile, stopped). */
  private starting: { name: string; settled: Promise<unknown> } | undefined;
  /** The parts being stopped now (a part that finished starting during the stop stops alongside). */
  private readonly current = new Set<string>();
  private deadline = 0;
  private run: Promise<number> | undefined;
  private requested!: () => void;
  private readonly requestedP = new Promise<void>((resolve) => (this.requested = resolve));

  constructor(o: LifecycleOptions) {
    this.log = o.log;
    this.budgetMs = o.budgetMs;
    this.exit = o.exit ?? ((code) => process.exit(code));
  }

  get stopping(): boolean {
    return this.run !== undefined;
  }

  /**
   * Starts a part. Its stop runs at the stop (in reverse order of starting). When a stop began while
   * the part was starting, the part is stopped at once and StartInterrupted is thrown.
   */
  async start<T>(name: string, open: () => Promise<T> | T, stop?: PartStop<T>): Promise<T> {
    if (this.run) throw new StartInterrupted(name);
    const attempt = (async () => {
      const value = await open();
      if (stop) {
        const part: Part = { name, reserveMs: stop.reserveMs ?? 0, stop: (b) => stop.stop(value, b) };
        if (this.run) await this.stopPart(part, this.parts);
        else this.parts.push(part);
      }
      return value;
    })();
    this.starting = { name, settled: attempt.catch(() => undefined) };
    try {
      const value = await attempt;
      if (this.run) throw new StartInterrupted(name);
      return value;
    } catch (err) {
      if (this.run && !(err instanceof StartInterrupted)) throw new StartInterrupted(name);
      throw err;
    } finally {
      this.starting = undefined;
    }
  }

  /** SIGTERM and SIGINT start the stop; a second one exits at once. */
  trapSignals(): void {
    const onSignal = (signal: NodeJS.Signals): void => {
      if (this.run) {
        this.exitNow(`second signal (${signal})`);
        return;
      }
      this.log.info({ signal, budgetMs: this.budgetMs }, 'shutting down');
      void this.stop();
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  }

  /** Resolves with the exit code once a stop (by signal or by `stop()`) has finished. */
  async stopped(): Promise<number> {
    await this.requestedP;
    return this.run as Promise<number>;
  }

  /** Stops every started part, the last started first, within the budget: 0 when nothing was abandoned, else 1. */
  stop(): Promise<number> {
    this.run ??= this.stopAll();
    this.requested();
    return this.run;
  }

  private async stopAll(): Promise<number> {
    this.deadline = Date.now() + this.budgetMs;
    // The last resort: whatever hangs (a connection, a part that ignores its share), the process ends.
    const lastResort = setTimeout(() => this.exitNow('the stop budget (FRISTVAGT_SHUTDOWN_TIMEOUT_MS) is used up'), this.budgetMs);
    lastResort.unref();
    while (this.parts.length > 0) await this.stopPart(this.parts[this.parts.length - 1] as Part, this.parts);
    // A part still starting stops itself once started (see `start`); wait for that within the budget.
    const starting = this.starting;
    if (starting && (await within(starting.settled, this.softDeadline() - Date.now())) === 'timeout') this.abandoned.push(`${starting.name}: still starting`);
    const code = this.abandoned.length > 0 ? 1 : 0;
    if (code === 0) this.log.info('stopped');
    else this.log.warn({ abandoned: this.abandoned }, `stopped within the budget; abandoned: ${this.abandoned.join('; ')}`);
    clearTimeout(lastResort);
    // Whatever was abandoned may still hold the process open (a socket to a host that does not answer).
    setTimeout(() => this.exit(typeof process.exitCode === 'number' ? process.exitCode : code), LINGER_MS).unref();
    return code;
  }

  private softDeadline(): number {
    return this.deadline - MARGIN_MS;
  }

  /** Stops one part with what is left after the reserves of the parts still to stop after it; removes it from `list`. */
  private async stopPart(part: Part, list: Part[]): Promise<void> {
    const index = list.indexOf(part);
    if (index >= 0) list.splice(index, 1);
    const reserve = list.reduce((sum, p) => sum + p.reserveMs, 0);
    const soft = this.softDeadline();
    // Never more than half of what is left goes to the reserves: a small budget still lets each part try.
    const until = soft - Math.min(reserve, Math.max(0, soft - Date.now()) / 2);
    const budget: StopBudget = { left: () => Math.max(0, until - Date.now()) };
    this.current.add(part.name);
    let dropped: string[] | void = undefined;
    // A part bounds its own steps by `budget`; the extra moment lets it report what it abandoned.
    const settled = await within(async () => {
      dropped = await part.stop(budget);
    }, budget.left() + MARGIN_MS / 2);
    this.current.delete(part.name);
    if (settled === 'timeout') this.abandoned.push(`${part.name}: did not stop within its share of the budget`);
    if (settled === 'failed') this.abandoned.push(`${part.name}: failed to stop`);
    for (const d of (dropped as string[] | void) ?? []) this.abandoned.push(`${part.name}: ${d}`);
  }

  private exitNow(reason: string): void {
    const open = [...[...this.current].map((name) => `${name}: stopping`), ...this.parts.map((p) => `${p.name}: not stopped`), ...(this.starting ? [`${this.starting.name}: still starting`] : [])];
    this.log.error({ reason, abandoned: [...this.abandoned, ...open] }, `exiting now (${reason}); abandoned: ${[...this.abandoned, ...open].join('; ') || 'nothing'}`);
    this.exit(1);
  }
}
