/**
 * Long-running CLI processes (`start`, `worker`, the quick start script) for fault tests: their
 * output, waiting for a log line, signalling them (or their whole process group, as a terminal's
 * Ctrl+C does) and timing the stop from the signal to the exit.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, ROOT } from './cli.js';

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Running {
  child: ChildProcess;
  pid: number;
  output(): string;
  /** Resolves with the first match of `re` in the output; rejects (with the output) on exit or after `timeoutMs`. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  exited: Promise<Exit>;
  /** Sends `signal` (to the process group with `group`) and resolves with the exit and the ms from the signal to it. */
  signal(signal: NodeJS.Signals, o?: { group?: boolean; timeoutMs?: number }): Promise<Exit & { ms: number }>;
  /** SIGKILL (to the group when detached), if it still runs: for cleanup. */
  kill(): void;
}

export interface SpawnOptions {
  env: NodeJS.ProcessEnv;
  /** Own process group (and session), so the test can signal the group as a terminal would. */
  detached?: boolean;
}

/** The environment of a CLI process: the test's own, minus every variable that would point it elsewhere. */
export function cliEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { ...process.env, DATABASE_URL: '', REDIS_URL: '', SMTP_URL: '', FRISTVAGT_ADMIN_TOKEN: '', LOG_LEVEL: 'info', HOST: '127.0.0.1', PORT: '0', ...env };
}

export function spawnCommand(command: string, args: string[], o: SpawnOptions): Running {
  const child = spawn(command, args, { cwd: ROOT, env: o.env, stdio: ['ignore', 'pipe', 'pipe'], detached: o.detached ?? false });
  let out = '';
  const listeners = new Set<() => void>();
  const onData = (d: string): void => {
    out += d;
    for (const l of listeners) l();
  };
  child.stdout?.setEncoding('utf8').on('data', onData);
  child.stderr?.setEncoding('utf8').on('data', onData);
  const exited = new Promise<Exit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const pid = child.pid as number;
  const running: Running = {
    child,
    pid,
    output: () => out,
    waitFor(re, timeoutMs = 90_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const m = re.exec(out);
          if (!m) return;
          done();
          resolve(m);
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${re}; output:\n${out.slice(-4000)}`));
        }, timeoutMs);
        const done = (): void => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        void exited.then((e) => {
          if (!listeners.has(check)) return;
          check();
          if (!listeners.has(check)) return;
          done();
          reject(new Error(`exited (${e.code ?? e.signal}) before ${re} appeared; output:\n${out.slice(-4000)}`));
        });
        check();
      });
    },
    exited,
    async signal(signal, so = {}) {
      const started = Date.now();
      process.kill(so.group ? -pid : pid, signal);
      const timeoutMs = so.timeoutMs ?? 60_000;
      let timer: NodeJS.Timeout | undefined;
      const gaveUp = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
      const e = await Promise.race([exited, gaveUp]);
      clearTimeout(timer);
      if (e === 'timeout') {
        running.kill();
        const killed = await exited;
        return { ...killed, ms: Date.now() - started };
      }
      return { ...e, ms: Date.now() - started };
    },
    kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      try {
        process.kill(o.detached ? -pid : pid, 'SIGKILL');
      } catch {
        // already gone
      }
    },
  };
  return running;
}

/** `node dist/src/cli.js <args>` with `env` (see cliEnv). */
export function spawnCli(args: string[], o: SpawnOptions): Running {
  return spawnCommand(process.execPath, [CLI, ...args], o);
}

/** Whether `pid` is a live process (a zombie waiting to be reaped counts as gone). */
export function pidAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Polls (every 50 ms) until `pid` is gone; false if it still runs after `timeoutMs`. */
export async function waitGone(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (pidAlive(pid)) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

/** The live redis-server processes serving a unix socket under `dir` (a private Redis of `start`). */
export function redisServersUnder(dir: string): number[] {
  const out = spawnSync('pgrep', ['-f', `redis-server unixsocket:${dir}`], { encoding: 'utf8' });
  return out.stdout.split('\n').filter(Boolean).map(Number).filter(pidAlive);
}

/** Every live process whose command line mentions `text` (e.g. a test's temp dir). */
export function processesMentioning(text: string): number[] {
  const out = spawnSync('pgrep', ['-f', text], { encoding: 'utf8' });
  return out.stdout.split('\n').filter(Boolean).map(Number).filter((p) => p !== process.pid && pidAlive(p));
}

/** The structured log lines (pino JSON) in a process's output. */
export function logLines(output: string): Array<Record<string, unknown>> {
  return output
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
}

/** A test file's processes and temp dirs, with the cleanup that kills whatever a failed assertion left running. */
export interface ProcessFixture {
  tempDir(): string;
  track<T extends Running>(p: T): T;
  /** SIGKILLs the tracked processes (their groups when detached) and waits for them. */
  killAll(): Promise<void>;
  /** SIGKILLs any redis-server left under the dirs, and removes them. */
  removeDirs(): void;
}

export function processFixture(prefix: string): ProcessFixture {
  const procs: Running[] = [];
  const dirs: string[] = [];
  return {
    tempDir() {
      const dir = mkdtempSync(join(tmpdir(), prefix));
      dirs.push(dir);
      return dir;
    },
    track(p) {
      procs.push(p);
      return p;
    },
    async killAll() {
      for (const p of procs.splice(0)) {
        p.kill();
        await p.exited;
      }
    },
    removeDirs() {
      for (const dir of dirs.splice(0)) {
        for (const pid of redisServersUnder(dir)) process.kill(pid, 'SIGKILL');
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
