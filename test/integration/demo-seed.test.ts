/** `fristvagt seed --demo` through the built CLI on a real Postgres database, read back through the API. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer } from '../../src/api/server.js';
import { createLogger } from '../../src/logger.js';
import { runCli } from '../support/cli.js';
import { openTestDatabase, type TestDatabase } from '../support/db.js';

const ADMIN = 'demo-admin-token-0123456789abcdef';

describe('seed --demo', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await openTestDatabase('postgres');
  });
  afterAll(async () => db?.drop());

  it('loads a realistic, obviously fake data set once, however often it runs', async () => {
    const env = { DATABASE_URL: db.url ?? '' };
    const first = await runCli(['seed', '--demo'], '', env);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const summary = JSON.parse(first.stdout) as { records: Record<string, number>; created: number; alreadyPresent: number; areas: number; institutions: number };
    expect(summary.created).toBe(300);
    expect(summary.areas).toBeGreaterThanOrEqual(2);
    expect(summary.institutions).toBeGreaterThanOrEqual(4);
    for (const type of ['incident', 'security_cell_placement', 'force_use', 'action_plan']) expect(summary.records[type]).toBeGreaterThan(20);

    const again = await runCli(['seed', '--demo'], '', env);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ created: 0, alreadyPresent: 300 });

    const app = await buildServer({
      database: db.database,
      config: { FRISTVAGT_ADMIN_TOKEN: ADMIN, FRISTVAGT_BODY_LIMIT: 64 * 1024, FRISTVAGT_CLOSURE_DAYS: [] },
      clock: () => new Date(),
      logger: createLogger({ level: 'silent' }),
    });
    try {
      const get = async (url: string) => {
        const res = await app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${ADMIN}` } });
        expect(res.statusCode).toBe(200);
        return JSON.parse(res.body) as { items: Array<Record<string, unknown>>; total: number };
      };
      const incidents = await get('/api/incidents?limit=500');
      expect(incidents.total).toBe(summary.records['incident']);
      // The admin role does not file legal notices, so it sees masked CPR numbers only.
      expect(incidents.items.every((i) => i['cpr'] === 'XXXXXX-XXXX')).toBe(true);
      expect(incidents.items.every((i) => String(i['inmateName']).match(/Demo|Testa|Prøve|Eksempel|Fiktiv|Opdigtet/))).toBe(true);
      const areas = (await app.inject({ method: 'GET', url: '/api/areas', headers: { authorization: `Bearer ${ADMIN}` } })).json() as Array<{ officeEmail: string }> | { items: Array<{ officeEmail: string }> };
      const areaList = Array.isArray(areas) ? areas : areas.items;
      expect(areaList.every((a) => a.officeEmail.endsWith('.invalid'))).toBe(true);

      // Some overdue, some met, some met late, some still open: what a demo must show.
      for (const status of ['breached', 'met', 'met_late', 'open']) {
        const list = await get(`/api/deadlines?status=${status}&limit=1`);
        expect(list.total, `deadlines with status ${status}`).toBeGreaterThan(0);
      }
    } finally {
      await app.close();
    }

    // Every write went through the audited service path.
    const audit = await runCli(['audit', 'verify'], '', env);
    expect(audit.code).toBe(0);
    expect(audit.stdout).toMatch(/audit chain ok: \d{3,} entries verified/);
  }, 90_000); // two CLI runs that write 300 records each; about 18 s on a loaded 2-core machine
});
