/**
 * One process per embedded data directory. PGlite is a single-process database: two processes on
 * one directory each run their own Postgres over the same files and silently lose each other's
 * writes (and `start` would run two private redis-servers on one socket). So every process that
 * opens FRISTVAGT_DATA_DIR first takes this lock, and a second one is refused at once, naming the
 * directory and the holder.
 *
 * The lock is a listening unix socket whose address is derived from the directory's real path: on
 * Linux in the abstract namespace (no file; the kernel frees the name when the process dies, so a
 * crash never leaves a stale lock), a named pipe on Windows. Binding is atomic: the second process
 * gets EADDRINUSE. It then connects and the holder answers with its pid and command; the same
 * facts sit in `fristvagt.pid` in the directory in case the holder is too busy to answer. Other
 * platforms use a socket file in the directory, with a stale-file check (weaker: see ARCHITECTURE.md).
 *
 * Limit: abstract sockets are per network namespace, so two containers that share one volume do
 * not see each other's lock. Run one container per data volume (OPERATIONS.md).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { connect, createServer, type Server } from 'node:net';

export const HOLDER_FILE = 'fristvagt.pid';
/** How long a refused process waits for the holder's answer before it falls back to the holder file. */
const ASK_TIMEOUT_MS = 2_000;

export interface LockHolder {
  pid: number;
  command: string;
  /** ISO instant the lock was taken. */
  since?: string;
  host?: string;
}

export interface DataDirLock {
  /** The absolute, real path of the locked directory. */
  readonly dir: string;
  release(): Promise<void>;
}

export class DataDirInUseError extends Error {
  readonly code = 'DATA_DIR_IN_USE';
  readonly dir: string;
  readonly holder: LockHolder | undefined;
  constructor(dir: string, holder: LockHolder | undefined) {
    const who = holder ? `fristvagt process ${holder.pid} (${holder.command})` : 'another fristvagt process';
    super(`FRISTVAGT_DATA_DIR ${dir} is in use by ${who}: stop it first, or do this through the API of the running process`);
    this.name = 'DataDirInUseError';
    this.dir = dir;
    this.holder = holder;
  }
}

let ownCommand = 'fristvagt';

/** What this process says it is when another asks (the CLI sets its command name: `start`, `token create`, …). */
export function setLockCommand(command: string): void {
  ownCommand = command;
}

export type LockMode = 'abstract' | 'pipe' | 'file';

function defaultMode(): LockMode {
  if (process.platform === 'linux') return 'abstract';
  if (process.platform === 'win32') return 'pipe';
  return 'file';
}

function addressOf(dir: string, mode: LockMode): string {
  const key = createHash('sha256').update(dir).digest('hex');
  if (mode === 'abstract') return `\0fristvagt-${key}`;
  if (mode === 'pipe') return `\\\\.\\pipe\\fristvagt-${key}`;
  return join(dir, '.fristvagt.lock');
}

/** The real path, so that a symlink or a relative path names the same lock. */
function realDir(dataDir: string): string {
  const abs = resolve(dataDir);
  mkdirSync(abs, { recursive: true });
  return realpathSync(abs);
}

/** Only what an error message may show: a pid and a short command word, nothing a peer could smuggle in. */
function parseHolder(text: string): LockHolder | undefined {
  try {
    const v = JSON.parse(text) as Partial<Record<keyof LockHolder, unknown>>;
    if (!Number.isInteger(v.pid) || (v.pid as number) <= 0) return undefined;
    const command = typeof v.command === 'string' && /^[a-z][a-z -]{0,39}$/.test(v.command) ? v.command : 'unknown command';
    const holder: LockHolder = { pid: v.pid as number, command };
    if (typeof v.since === 'string' && /^[0-9T:.Z-]{10,30}$/.test(v.since)) holder.since = v.since;
    if (typeof v.host === 'string' && /^[A-Za-z0-9.-]{1,64}$/.test(v.host)) holder.host = v.host;
    return holder;
  } catch {
    return undefined;
  }
}

function readHolderFile(dir: string): LockHolder | undefined {
  try {
    return parseHolder(readFileSync(join(dir, HOLDER_FILE), 'utf8'));
  } catch {
    return undefined;
  }
}

type Answer = { state: 'answered'; holder: LockHolder | undefined } | { state: 'gone' } | { state: 'silent' };

/** Connects to the lock's address: the holder answers with its JSON; nobody listening means it is free. */
function ask(address: string): Promise<Answer> {
  return new Promise((done) => {
    let text = '';
    const socket = connect({ path: address });
    const timer = setTimeout(() => finish({ state: 'silent' }), ASK_TIMEOUT_MS);
    function finish(answer: Answer): void {
      clearTimeout(timer);
      socket.destroy();
      done(answer);
    }
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      text += d;
      if (text.length > 4096) finish({ state: 'answered', holder: undefined });
    });
    socket.on('end', () => finish({ state: 'answered', holder: parseHolder(text) }));
    socket.on('error', (err: NodeJS.ErrnoException) => finish(err.code === 'ECONNREFUSED' || err.code === 'ENOENT' ? { state: 'gone' } : { state: 'silent' }));
  });
}

function listen(server: Server, address: string): Promise<void> {
  return new Promise((done, fail) => {
    server.once('error', fail);
    server.listen({ path: address, exclusive: true }, () => {
      server.off('error', fail);
      done();
    });
  });
}

/**
 * Who holds the directory's lock, without taking it (`config check`): the holder's answer, or
 * undefined when nobody holds it. Never creates the directory.
 */
export async function lockHolder(dataDir: string, mode: LockMode = defaultMode()): Promise<LockHolder | 'unknown' | undefined> {
  let dir: string;
  try {
    dir = realpathSync(resolve(dataDir));
  } catch {
    return undefined;
  }
  const answer = await ask(addressOf(dir, mode));
  if (answer.state === 'gone') return undefined;
  return (answer.state === 'answered' ? answer.holder : undefined) ?? readHolderFile(dir) ?? 'unknown';
}

/**
 * Takes the directory's lock or throws DataDirInUseError naming the holder. The lock is released
 * by `release()`, or by the kernel when the process ends however it ends.
 */
export async function lockDataDir(dataDir: string, opts: { command?: string; mode?: LockMode } = {}): Promise<DataDirLock> {
  const dir = realDir(dataDir);
  const mode = opts.mode ?? defaultMode();
  const address = addressOf(dir, mode);
  const me: LockHolder = { pid: process.pid, command: opts.command ?? ownCommand, since: new Date().toISOString(), host: hostname() };
  const reply = JSON.stringify(me);
  // A few rounds only for the moment between a holder's bind and its listen, or its exit.
  for (let round = 0; ; round++) {
    const server = createServer((socket) => {
      socket.on('error', () => undefined);
      socket.unref();
      socket.end(reply);
    });
    try {
      await listen(server, address);
    } catch (err) {
      server.close();
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
      const answer = round < 4 ? await ask(address) : ({ state: 'silent' } as const);
      if (answer.state === 'gone') {
        // The holder ended between our bind and our question; a socket file it left behind is stale.
        if (mode === 'file') rmSync(address, { force: true });
        continue;
      }
      throw new DataDirInUseError(dir, (answer.state === 'answered' ? answer.holder : undefined) ?? readHolderFile(dir));
    }
    // The lock must not keep a finished command alive.
    server.unref();
    const holderFile = join(dir, HOLDER_FILE);
    try {
      writeFileSync(holderFile, `${reply}\n`, { mode: 0o644 });
    } catch {
      // Only the fallback for the refusal message; the socket is the lock.
    }
    let released = false;
    return {
      dir,
      async release() {
        if (released) return;
        released = true;
        if (readHolderFile(dir)?.pid === process.pid) rmSync(holderFile, { force: true });
        await new Promise<void>((done) => server.close(() => done()));
      },
    };
  }
}
