/**
 * The postgres.js patch (scripts/patch-postgres.mjs): the installed driver carries it, the script
 * is idempotent and refuses loudly what it does not know, and the crash it fixes is real: a
 * transaction whose connection the server drops goes on with its next statement, and the
 * unpatched driver throws from a setImmediate (the process dies) where the patched one rejects;
 * and a dropped session leaves nothing to the next one (statements, the error, the rows counter),
 * where the unpatched driver answers the next session's statements with a missing first row or
 * resolves a statement of the dead session with the new session's startup (no row).
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../support/cli.js';
import { ADMIN_URL, openTestDatabase, type TestDatabase } from '../support/db.js';

const SCRIPT = join(ROOT, 'scripts/patch-postgres.mjs');
const INSTALLED = join(ROOT, 'node_modules/postgres');
const COPIES = ['src', 'cjs/src', 'cf/src'];

interface Hunk {
  name: string;
  find: string;
  replace: string;
}
const { HUNKS, PINNED, patchPostgres } = (await import(pathToFileURL(SCRIPT).href)) as {
  HUNKS: Record<string, Hunk[]>;
  PINNED: string;
  patchPostgres(dir: string, opts?: { check?: boolean }): string[];
};

/** A copy of the installed driver with the patch taken out again: what npm unpacks. */
function pristineCopy(): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'fv-pg-')), 'postgres');
  cpSync(INSTALLED, dir, { recursive: true });
  for (const copy of COPIES) {
    for (const [file, hunks] of Object.entries(HUNKS)) {
      const path = join(dir, copy, file);
      let text = readFileSync(path, 'utf8');
      for (const h of hunks) text = text.replace(h.replace, h.find);
      writeFileSync(path, text);
    }
  }
  return dir;
}

describe('postgres driver patch', () => {
  const dirs: string[] = [];
  const copy = (): string => {
    const d = pristineCopy();
    dirs.push(d);
    return d;
  };
  afterAll(() => {
    for (const d of dirs) rmSync(join(d, '..'), { recursive: true, force: true });
  });

  it('is applied to the installed driver', () => {
    const r = spawnSync(process.execPath, [SCRIPT, '--check'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(INSTALLED, 'package.json'), 'utf8')).version).toBe(PINNED);
  });

  it('applies once, then finds everything applied (idempotent)', () => {
    const dir = copy();
    expect(() => patchPostgres(dir, { check: true })).toThrow(/not applied/);
    expect(patchPostgres(dir).every((l) => l.includes('applied'))).toBe(true);
    const after = readFileSync(join(dir, 'src/connection.js'), 'utf8');
    expect(patchPostgres(dir).every((l) => l.includes('already patched'))).toBe(true);
    expect(readFileSync(join(dir, 'src/connection.js'), 'utf8')).toBe(after);
    expect(() => patchPostgres(dir, { check: true })).not.toThrow();
  });

  it('fails the install loudly on another version or on code it does not recognise', () => {
    const other = copy();
    const pkg = JSON.parse(readFileSync(join(other, 'package.json'), 'utf8'));
    writeFileSync(join(other, 'package.json'), JSON.stringify({ ...pkg, version: '3.4.10' }));
    const r = spawnSync(process.execPath, [SCRIPT, '--dir', other], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/FAILED: postgres 3\.4\.10 is installed, the patch is written for 3\.4\.9/);

    const changed = copy();
    const file = join(changed, 'cjs/src/connection.js');
    writeFileSync(file, readFileSync(file, 'utf8').replace('const x = socket.write(chunk, fn)', 'const x = socket.write(chunk, fn) // upstream changed'));
    const r2 = spawnSync(process.execPath, [SCRIPT, '--dir', changed], { encoding: 'utf8' });
    expect(r2.status).toBe(1);
    expect(r2.stderr).toMatch(/nextWrite guards a null socket.*NOT patched/);
  });

  describe('a transaction that goes on after the server dropped its connection', () => {
    let db: TestDatabase;
    beforeAll(async () => {
      db = await openTestDatabase('postgres');
    });
    afterAll(async () => db?.drop());

    /**
     * Runs the scenario with the driver in `dir`; prints what the transaction, its next statement
     * and a later query got. `reconnectFirst`: the pool (one connection) reconnects before the
     * transaction's next statement, which must still not run on that new session.
     */
    function scenario(dir: string, reconnectFirst = false) {
      const program = `
        const { default: postgres } = await import(${JSON.stringify(pathToFileURL(join(dir, 'src/index.js')).href)});
        const sql = postgres(${JSON.stringify(db.url)}, { max: ${reconnectFirst ? 1 : 2}, onnotice: () => {} });
        const killer = postgres(${JSON.stringify(ADMIN_URL)}, { max: 1 });
        let settle, dropped;
        const next = new Promise((r) => (settle = r));
        const droppedSeen = new Promise((r) => (dropped = r));
        const outcome = await sql.begin(async (tx) => {
          const [{ pid }] = await tx\`select pg_backend_pid() as pid\`;
          await killer\`select pg_terminate_backend(\${pid})\`;
          // The callback goes on once the driver has seen the drop (begin() rejected), as a slow one would.
          await droppedSeen;
          ${reconnectFirst ? "console.log('meanwhile ' + (await sql`select 'reconnected' as s`)[0].s);" : ''}
          settle(await tx\`select 1\`.then(() => 'ran', (e) => 'rejected ' + e.code));
        }).then(() => 'committed', (e) => 'rejected ' + e.code).finally(() => dropped());
        console.log('transaction ' + outcome);
        console.log('next statement ' + (await next));
        const [{ x }] = await sql\`select 42 as x\`;
        console.log('pool answers ' + x);
        await sql.end(); await killer.end();`;
      return spawnSync(process.execPath, ['--input-type=module', '-e', program], { encoding: 'utf8', timeout: 60_000 });
    }

    it('crashes the unpatched driver with the TypeError from issue 9', () => {
      const r = scenario(copy());
      expect(r.status).not.toBe(0);
      expect(r.stderr).toContain("Cannot read properties of null (reading 'write')");
    });

    it('rejects with CONNECTION_CLOSED on the patched driver, and the pool serves again', () => {
      const r = scenario(INSTALLED);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toBe('transaction rejected CONNECTION_CLOSED\nnext statement rejected CONNECTION_CLOSED\npool answers 42\n');
    });

    it('never runs the dropped transaction\'s next statement on the connection\'s next session', () => {
      const r = scenario(INSTALLED, true);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toBe('transaction rejected CONNECTION_CLOSED\nmeanwhile reconnected\nnext statement rejected CONNECTION_CLOSED\npool answers 42\n');
    });
  });

  describe('nothing of a dropped session, or of a failed statement, reaches the next statement', () => {
    let db: TestDatabase;
    beforeAll(async () => {
      db = await openTestDatabase('postgres');
    });
    afterAll(async () => db?.drop());

    function run(dir: string, body: string) {
      const u = new URL(db.url as string);
      const program = `
        const { default: postgres } = await import(${JSON.stringify(pathToFileURL(join(dir, 'src/index.js')).href)});
        const net = await import('node:net');
        const sockets = [];
        // One connection; its sockets are made here so that the scenario can reach them.
        const sql = postgres(${JSON.stringify(db.url)}, { max: 1, onnotice: () => {}, socket: () => new Promise((resolve, reject) => {
          const s = net.connect(${Number(u.port || 5432)}, ${JSON.stringify(u.hostname)});
          sockets.push(s);
          s.once('connect', () => resolve(s)).once('error', reject);
        }) });
        const killer = postgres(${JSON.stringify(ADMIN_URL)}, { max: 1, onnotice: () => {} });
        const outcome = (p) => p.then((rows) => rows.length + ' row(s)' + (rows.length && !(0 in rows) ? ', the first missing' : ''), (e) => 'rejected ' + e.code);
        ${body}
        await sql.end(); await killer.end();`;
      return spawnSync(process.execPath, ['--input-type=module', '-e', program], { encoding: 'utf8', timeout: 60_000 });
    }

    /** Each scenario, its output on the unpatched driver (the bug) and on the installed one. */
    const scenarios: { name: string; body: string; unpatched: string; patched: string }[] = [
      {
        // The server kills the backend while the rows are coming (after the first of two rows, while
        // the second sleeps): the client holds one row counted and the FATAL 57P01 when the socket closes.
        name: 'a statement cut short by the drop',
        body: `
          const [{ pid }] = await sql\`select pg_backend_pid() as pid\`;
          const slow = outcome(sql\`select g from generate_series(1, 2) g where g = 1 or pg_sleep(60) is not null\`);
          // Waits for the event (the backend sleeping on the second row), not for a time.
          while ((await killer\`select wait_event from pg_stat_activity where pid = \${pid}\`)[0]?.wait_event !== 'PgSleep');
          await killer\`select pg_terminate_backend(\${pid})\`;
          console.log('cut short: ' + await slow);
          console.log('next session, first statement: ' + await outcome(sql\`select 1 as x\`));
          console.log('then: ' + await outcome(sql\`select 42 as x\`));`,
        unpatched: 'cut short: rejected CONNECTION_CLOSED\nnext session, first statement: rejected 57P01\nthen: 2 row(s), the first missing\n',
        patched: 'cut short: rejected CONNECTION_CLOSED\nnext session, first statement: 1 row(s)\nthen: 1 row(s)\n',
      },
      {
        // porsager/postgres#1181, on a live session.
        name: 'a statement that fails amid its rows',
        body: `
          console.log('failed: ' + await outcome(sql\`select 1 / (4 - g) as x from generate_series(1, 10) g\`));
          console.log('next: ' + await outcome(sql\`select g from generate_series(1, 2) g\`));`,
        unpatched: 'failed: rejected 22012\nnext: 5 row(s), the first missing\n',
        patched: 'failed: rejected 22012\nnext: 2 row(s)\n',
      },
      {
        // A socket's 'error' (here ECONNRESET, as when the server's RST answers a write) comes turns
        // before its 'close'; the pool hands the connection a statement in between.
        name: 'a statement handed over between the socket\'s error and close',
        body: `
          await sql\`select 1\`;
          const s = sockets.at(-1);
          let between;
          s.once('error', () => { between = outcome(sql\`select 7 as x\`); });
          const closed = new Promise((r) => s.once('close', r));
          s.destroy(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }));
          await closed;
          const next = await outcome(sql\`select 42 as x\`);
          let timer;
          console.log('between error and close: ' + await Promise.race([between, new Promise((r) => (timer = setTimeout(r, 2000, 'still pending')))]));
          clearTimeout(timer);
          console.log('next session: ' + next);`,
        // Resolved by the next session's startup, with no row.
        unpatched: 'between error and close: 0 row(s)\nnext session: 1 row(s)\n',
        patched: 'between error and close: rejected CONNECTION_CLOSED\nnext session: 1 row(s)\n',
      },
    ];

    for (const c of scenarios) {
      it(`${c.name}: the unpatched driver gets it wrong`, () => {
        const r = run(copy(), c.body);
        expect(r.status, r.stderr).toBe(0);
        expect(r.stdout).toBe(c.unpatched);
      });
      it(`${c.name}: the patched driver answers each statement with its own rows or rejects it`, () => {
        const r = run(INSTALLED, c.body);
        expect(r.status, r.stderr).toBe(0);
        expect(r.stdout).toBe(c.patched);
      });
    }
  });
});
