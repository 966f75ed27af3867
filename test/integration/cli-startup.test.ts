/**
 * `fristvagt` loads a sub-command's modules only when that sub-command runs (issue 11, item 7):
 * `--help` loads no library, `deadlines` the engine only, and every sub-command still reaches its
 * own module. What a process loaded is read with test/support/module-trace.mjs; timings are
 * bench/cli.ts's business, never a test's. `deadlines` prints exactly the bytes it printed before
 * (fixtures written by the command as it was before start-up was made lazy).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, runCli, type CliResult } from '../support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'fristvagt-startup-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const fixture = (name: string): string => readFileSync(join(import.meta.dirname, 'fixtures', name), 'utf8');

/** Libraries only the server, the worker and the database commands need. */
const HEAVY = ['drizzle-orm', 'postgres', '@electric-sql/pglite', 'bullmq', 'ioredis', 'fastify', 'nodemailer', 'pino', '@bull-board/api', 'prom-client'];

interface Traced extends CliResult {
  /** Package names with at least one module loaded. */
  packages: Set<string>;
  /** Our own modules, relative to dist/ (`src/cli.js`). */
  own: string[];
  /** Whether date-holidays' code ran (its package.json alone is read for the calendar stamp). */
  dateHolidays: boolean;
}

let traces = 0;
async function traced(args: string[], stdin = ''): Promise<Traced> {
  const file = join(dir, `trace-${++traces}.txt`);
  const res = await runCli(args, stdin, {
    NODE_OPTIONS: `--import ${join(ROOT, 'test/support/module-trace.mjs')}`,
    FRISTVAGT_MODULE_TRACE: file,
  });
  const lines = [...new Set(readFileSync(file, 'utf8').split('\n').filter(Boolean))].map((l) => decodeURIComponent(l.replace(/^file:\/\//, '')));
  const packages = new Set<string>();
  for (const l of lines) {
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(l);
    if (m?.[1]) packages.add(m[1]);
  }
  const own = lines.filter((l) => l.startsWith(join(ROOT, 'dist/'))).map((l) => l.slice(join(ROOT, 'dist/').length)).sort();
  const dateHolidays = lines.some((l) => /node_modules\/date-holidays\/(src|lib)\//.test(l));
  return { ...res, packages, own, dateHolidays };
}

describe('fristvagt --help', () => {
  it('prints the usage of every command and loads no library, only the dispatcher', async () => {
    const res = await traced(['--help']);
    expect(res.code).toBe(0);
    expect(res.stderr).toBe('');
    for (const command of ['deadlines', 'rules', 'migrate', 'seed', 'token create', 'audit verify', 'api', 'worker', 'start', 'import', 'retention', 'evidence verify', 'evidence export', 'config check']) {
      expect(res.stdout, command).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
    }
    expect([...res.packages]).toEqual([]);
    expect(res.own).toEqual(['src/cli.js', 'src/cli/io.js']);
  });

  it('without a command: the usage and exit 2, no library', async () => {
    const res = await traced([]);
    expect(res.code).toBe(2);
    expect(res.stdout).toMatch(/^Usage: fristvagt <command>/);
    expect([...res.packages]).toEqual([]);
  });
});

describe('fristvagt deadlines', () => {
  it('one record: the engine (zod, luxon) and nothing of the database, queue, mail or holiday libraries; output unchanged', async () => {
    const res = await traced(['deadlines', '--now', '2026-12-15T12:00:00+01:00', '--lang', 'en'], fixture('cli-deadlines-one.json'));
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(res.stdout).toBe(fixture('cli-deadlines-one-en.txt'));
    expect([...res.packages].sort()).toEqual(['luxon', 'zod']);
    expect(res.dateHolidays).toBe(false);
    // data-dir-lock (node built-ins only) is where the dispatcher tells the command's name to a lock holder.
    expect(res.own.filter((f) => /^src\/(api|db|queue|worker|mail|records|ui)\//.test(f) && f !== 'src/db/data-dir-lock.js')).toEqual([]);
  });

  it('an array of every record type prints byte for byte what it printed before', async () => {
    const res = await runCli(['deadlines', '--now', '2026-12-15T12:00:00+01:00', '--closure-days', '06-05,12-24'], fixture('cli-deadlines-input.json'));
    expect(res.code).toBe(0);
    expect(res.stdout).toBe(fixture('cli-deadlines-output.txt'));
  });

  it('a year outside the holiday table (2250) loads date-holidays then, with the same result as before', async () => {
    const res = await traced(['deadlines', '--now', '2251-02-01'], fixture('cli-deadlines-2250.json'));
    expect(res.code).toBe(0);
    expect(res.stdout).toBe(fixture('cli-deadlines-2250.txt'));
    // Juledag and Anden Juledag 2250 move the report to Friday: the fallback really answered.
    expect(res.stdout).toContain('"dueDate": "2250-12-27"');
    expect(res.dateHolidays).toBe(true);
  });

  it('an empty array is still "[]"', async () => {
    const res = await runCli(['deadlines'], '[]');
    expect(res).toMatchObject({ code: 0, stdout: '[]\n' });
  });

  it('a bad record after good ones: exit 2 and nothing on stdout', async () => {
    const input = JSON.parse(fixture('cli-deadlines-input.json')) as unknown[];
    const res = await runCli(['deadlines', '--now', '2026-12-15T12:00:00+01:00'], JSON.stringify([...input, { type: 'force_use' }]));
    expect(res.code).toBe(2);
    expect(res.stdout).toBe('');
    expect(res.stderr).toBe(`fristvagt deadlines: [${input.length}].occurredAt: is required\n`);
  });
});

describe('every sub-command still loads its own module when it runs', () => {
  // A usage error is the cheapest run that reaches the sub-command's own code (no database needed).
  it.each([
    [['rules', '--bogus'], 'src/cli/rules.js', /^fristvagt rules: Unknown option '--bogus'/, 2],
    [['migrate', '--bogus'], 'src/cli/admin.js', /^fristvagt migrate: Unknown option '--bogus'/, 2],
    [['seed'], 'src/cli/admin.js', /only --demo is supported/, 2],
    [['token'], 'src/cli/admin.js', /token: use "token create/, 2],
    [['audit'], 'src/cli/admin.js', /audit: use "audit verify"/, 2],
    [['api', '--bogus'], 'src/cli/admin.js', /^fristvagt api: Unknown option '--bogus'/, 2],
    [['worker', '--bogus'], 'src/cli/worker.js', /^fristvagt worker: Unknown option '--bogus'/, 2],
    [['start', '--bogus'], 'src/cli/worker.js', /^fristvagt start: Unknown option '--bogus'/, 2],
    [['import'], 'src/cli/import.js', /import: give exactly one file/, 2],
    [['retention', '--bogus'], 'src/cli/retention.js', /^fristvagt retention: Unknown option '--bogus'/, 2],
    [['config'], 'src/cli/config-check.js', /config: use "config check"/, 2],
    [['evidence'], 'src/cli/evidence.js', /evidence: use "evidence verify <pack.zip>"/, 2],
    [['deadlines', '--bogus'], 'src/cli/deadlines.js', /^fristvagt deadlines: Unknown option '--bogus'/, 2],
  ] as const)('%j → %s', async (args, module, message, code) => {
    const res = await traced([...args]);
    expect(res.stderr).toMatch(message);
    expect(res.code).toBe(code);
    expect(res.own).toContain(module);
  });

  it('the database commands do not load the HTTP server, the queue or the logger until they need them', async () => {
    const res = await traced(['migrate', '--bogus']);
    expect(res.code).toBe(2);
    expect(res.packages.has('drizzle-orm')).toBe(true); // the database layer is its own work
    for (const pkg of ['fastify', 'bullmq', 'ioredis', 'pino', '@bull-board/api']) expect(res.packages.has(pkg), pkg).toBe(false);
  });

  it('rules and deadlines load none of the heavy libraries', async () => {
    for (const args of [['rules'], ['deadlines', '--bogus']]) {
      const res = await traced(args);
      expect(HEAVY.filter((p) => res.packages.has(p)), args.join(' ')).toEqual([]);
      expect(res.dateHolidays).toBe(false);
    }
  });

  it('evidence verify reads a pack with the ZIP reader only: no database, server or PDF library', async () => {
    const file = join(dir, 'not-a-pack.zip');
    writeFileSync(file, 'not a zip');
    const res = await traced(['evidence', 'verify', file]);
    expect(res.code).toBe(1);
    expect(res.stdout).toContain('not a readable ZIP file');
    expect(res.own).toContain('src/evidence/verify.js');
    // The ZIP module's two small libraries (reader and writer) and theirs: nothing else.
    expect([...res.packages].sort()).toEqual(['buffer-crc32', 'pend', 'yauzl', 'yazl']);
  });
});
