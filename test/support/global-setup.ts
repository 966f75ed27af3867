/**
 * Once per run: build dist/ (CLI tests run the compiled command, never a stale build) and migrate
 * the Postgres template database that each test file clones.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import postgres from 'postgres';
import { migrate, openDatabase } from '../../src/db/client.js';

/** Databases of runs older than this are leftovers of aborted runs (no run lasts this long). */
const STALE_AFTER_S = 3 * 3600;

export default async function setup(): Promise<() => Promise<void>> {
  // The integration and fault projects both name this setup; vitest runs it once per project, in
  // one process. The first call builds and migrates, a second one finds it done.
  if (process.env['FRISTVAGT_TEST_SETUP_DONE'] === '1') return async () => undefined;
  const root = join(import.meta.dirname, '../..');
  // The stamp reaches the test workers through the environment; db.ts names every database with it.
  process.env['FRISTVAGT_TEST_RUN'] ??= `${Math.floor(Date.now() / 1000)}_${process.pid}`;
  const { ADMIN_URL, TEMPLATE_DB, urlFor } = await import('./db.js');
  // FRISTVAGT_TEST_SKIP_BUILD=1 saves the build when only non-CLI tests are run by hand.
  if (process.env['FRISTVAGT_TEST_SKIP_BUILD'] !== '1') {
    execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')], { cwd: root, stdio: 'inherit' });
  }

  const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => undefined });
  try {
    // Old clones and templates from aborted runs would otherwise pile up; a run still going is left alone.
    const nowS = Math.floor(Date.now() / 1000);
    const all = await admin<{ datname: string }[]>`SELECT datname FROM pg_database WHERE datname ~ '^fristvagt_(t|tpl)_[0-9]+_' OR datname = 'fristvagt_template' OR datname ~ '^fristvagt_t_[0-9a-f]{12}$'`;
    for (const { datname } of all) {
      const stamp = /^fristvagt_(?:t|tpl)_(\d+)_/.exec(datname)?.[1];
      if (stamp && nowS - Number(stamp) < STALE_AFTER_S) continue;
      await admin.unsafe(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`);
    }
    await admin.unsafe(`CREATE DATABASE ${TEMPLATE_DB}`);
  } finally {
    await admin.end();
  }
  const url = urlFor(TEMPLATE_DB);
  const database = await openDatabase({ databaseUrl: url, maxConnections: 1 });
  try {
    await migrate(database, { databaseUrl: url });
  } finally {
    await database.close();
  }
  process.env['FRISTVAGT_TEST_SETUP_DONE'] = '1';
  return async () => {
    const a = postgres(ADMIN_URL, { max: 1, onnotice: () => undefined });
    try {
      await a.unsafe(`DROP DATABASE IF EXISTS ${TEMPLATE_DB} WITH (FORCE)`);
    } finally {
      await a.end();
    }
  };
}
