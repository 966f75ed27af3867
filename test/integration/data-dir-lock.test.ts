/** The data-directory lock on its own: refusal, release, symlinks, a busy holder, the socket-file variant after a crash. */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DataDirInUseError, HOLDER_FILE, lockDataDir, lockHolder } from '../../src/db/data-dir-lock.js';
import { ROOT } from '../support/cli.js';

const LOCK_MODULE = join(ROOT, 'dist/src/db/data-dir-lock.js');

/** A node process that takes the lock, says so, and then does what `then` says (JS source). */
function holderProcess(dir: string, then: string, mode = ''): Promise<{ child: ChildProcess; exited: Promise<unknown> }> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', `const m = await import(${JSON.stringify(LOCK_MODULE)}); await m.lockDataDir(${JSON.stringify(dir)}, { command: 'start'${mode ? `, mode: '${mode}'` : ''} }); console.log('locked'); ${then}`], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  return new Promise((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      if (d.includes('locked')) resolve({ child, exited });
    });
    void exited.then((code) => reject(new Error(`holder exited ${String(code)}`)));
  });
}

describe('data directory lock', () => {
  let work: string;
  const children: ChildProcess[] = [];
  beforeEach(() => {
    work = mkdtempSync(join(tmpdir(), 'fristvagt-dirlock-'));
  });
  afterEach(() => {
    for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    rmSync(work, { recursive: true, force: true });
  });

  it('refuses a second taker naming the holder, also through a symlink, until released', async () => {
    const dir = join(work, 'data');
    const lock = await lockDataDir(dir, { command: 'api' });
    expect(JSON.parse(readFileSync(join(dir, HOLDER_FILE), 'utf8'))).toMatchObject({ pid: process.pid, command: 'api' });
    expect(await lockHolder(dir)).toMatchObject({ pid: process.pid, command: 'api' });
    symlinkSync(dir, join(work, 'link'));
    for (const path of [dir, join(work, 'link'), `${work}/./data/`]) {
      const err = await lockDataDir(path).then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(DataDirInUseError);
      expect((err as Error).message).toBe(`FRISTVAGT_DATA_DIR ${lock.dir} is in use by fristvagt process ${process.pid} (api): stop it first, or do this through the API of the running process`);
    }
    await lock.release();
    expect(existsSync(join(dir, HOLDER_FILE))).toBe(false);
    expect(await lockHolder(dir)).toBeUndefined();
    const again = await lockDataDir(dir);
    await again.release();
  });

  it('names a holder too busy to answer from its pid file', async () => {
    const dir = join(work, 'data');
    mkdirSync(dir);
    // A holder whose event loop never comes back (as during a long synchronous PGlite query).
    const { child } = await holderProcess(dir, 'for (;;) {}');
    children.push(child);
    const err = await lockDataDir(dir).then(() => undefined, (e: unknown) => e);
    expect((err as Error).message).toMatch(new RegExp(`in use by fristvagt process ${child.pid} \\(start\\)`));
  });

  it('is free the moment its holder is killed', async () => {
    const dir = join(work, 'data');
    const { child, exited } = await holderProcess(dir, 'setInterval(() => undefined, 1000);');
    children.push(child);
    await expect(lockDataDir(dir)).rejects.toThrow(`process ${child.pid} (start)`);
    child.kill('SIGKILL');
    await exited;
    // The dead holder's pid file is still there; the lock is not.
    expect(existsSync(join(dir, HOLDER_FILE))).toBe(true);
    const lock = await lockDataDir(dir);
    expect(JSON.parse(readFileSync(join(dir, HOLDER_FILE), 'utf8'))).toMatchObject({ pid: process.pid });
    await lock.release();
  });

  it('the socket-file variant (platforms without abstract sockets) removes a dead holder\'s socket', async () => {
    const dir = join(work, 'data');
    const { child, exited } = await holderProcess(dir, 'setInterval(() => undefined, 1000);', 'file');
    children.push(child);
    await expect(lockDataDir(dir, { mode: 'file' })).rejects.toThrow(`process ${child.pid} (start)`);
    child.kill('SIGKILL');
    await exited;
    expect(existsSync(join(dir, '.fristvagt.lock'))).toBe(true);
    const lock = await lockDataDir(dir, { mode: 'file' });
    await expect(lockDataDir(dir, { mode: 'file' })).rejects.toThrow(`process ${process.pid}`);
    await lock.release();
    expect(existsSync(join(dir, '.fristvagt.lock'))).toBe(false);
  });
});
