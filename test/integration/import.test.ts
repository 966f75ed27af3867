/**
 * `fristvagt import`: the CSV parser, good and bad files of every type through importFile on a
 * real Postgres database, the exit codes and output of the built CLI, re-imports, a 1,000-row
 * file, and one PGlite case.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { and, asc, count, eq, max, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateImportBodies, seedBenchMasterData, toCsv, toJsonl } from '../../bench/import.js';
import { verifyAudit } from '../../src/db/audit.js';
import type { Db } from '../../src/db/client.js';
import { actionPlans, auditLog, backlogItems, deadlines, forceUses, incidents, notifications, securityCellPlacements } from '../../src/db/schema.js';
import { importFile, parseCsv, typeFromFileName } from '../../src/records/import.js';
import { KINDS, type IncidentFull, type RecordTypeName } from '../../src/records/kinds.js';
import { createArea, createInstitution, createStaff } from '../../src/records/masterdata.js';
import { createRecord, type Actor, type ServiceContext } from '../../src/records/service.js';
import { runCli } from '../support/cli.js';
import { openTestDatabase, type TestDatabase } from '../support/db.js';

const ADMIN: Actor = { id: 'test', name: 'test', role: 'admin' };
const NOW = '2026-11-22T12:00:00+01:00';
const TABLES = { incident: incidents, security_cell_placement: securityCellPlacements, force_use: forceUses, action_plan: actionPlans } as const;

async function seedMaster(ctx: ServiceContext): Promise<string> {
  await createArea(ctx, { id: 'hovedstaden', name: 'Kriminalforsorgen Hovedstaden', officeEmail: 'omraade@kf.test', directorName: 'Direktør', directorEmail: 'direktor@kf.test' }, ADMIN);
  await createInstitution(ctx, { id: 'vestre', areaId: 'hovedstaden', name: 'Fængsel Vestre', kind: 'prison', dutyManagerEmail: 'vagt.vestre@kf.test' }, ADMIN);
  await createInstitution(ctx, { id: 'herstedvester', areaId: 'hovedstaden', name: 'Anstalten ved Herstedvester', kind: 'prison', dutyManagerEmail: 'vagt.herstedvester@kf.test' }, ADMIN);
  const owner = await createStaff(ctx, { areaId: 'hovedstaden', institutionId: 'vestre', name: 'Sagsbehandler Test', email: 'sagsbehandler@kf.test' }, ADMIN);
  return (owner as { id: string }).id;
}

/** Good rows of every type, written as API bodies; CSV and JSONL fixtures are made from them. */
function goodBodies(prefix: string, ownerId: string): Record<RecordTypeName, Array<Record<string, unknown>>> {
  return {
    incident: [
      { institutionId: 'vestre', journalNumber: `${prefix}-I-1`, kind: 'death', occurredAt: '2026-03-27T14:00:00+01:00', inmateName: 'Testa Testesen', cpr: '010190-0000', description: 'Fundet i celle 4, "livløs"\r\nLæge tilkaldt kl. 14.05', preliminaryNoticeSentAt: '2026-03-30T09:00:00+02:00', mediaAttention: true,
        delayNotices: [{ notifiedAt: '2026-04-20T09:00:00+02:00', expectedDate: '2026-05-15', reason: 'Afventer obduktion' }, { notifiedAt: '2026-05-12T09:00:00+02:00', expectedDate: '2026-06-01', reason: null }] },
      { institutionId: 'vestre', journalNumber: `${prefix}-I-2`, kind: 'qualified_self_harm', occurredAt: '2026-10-01', inmateConversationHeldAt: '2026-10-02',
        reclassifications: [{ at: '2026-10-01T18:00:00+02:00', fromKind: 'other_self_harm_behaviour', toKind: 'qualified_self_harm', reason: 'Livsfare, "vurderet" af læge' }] },
    ],
    security_cell_placement: [
      { institutionId: 'vestre', journalNumber: `${prefix}-S-1`, placedAt: '2026-11-01T22:10:00+01:00', endedAt: '2026-11-02T06:00:00+01:00', mechanicalRestraint: true, followUpPostponedReason: 'Indsatte overført, "akut"', followUpPostponedAt: '2026-11-03T09:00:00+01:00', followUpRescheduledTo: '2026-11-12' },
      { institutionId: 'herstedvester', journalNumber: `${prefix}-S-2`, placedAt: '2026-11-20T10:00:00+01:00' },
    ],
    force_use: [
      { institutionId: 'vestre', journalNumber: `${prefix}-F-1`, occurredAt: '2026-11-03T08:15:00+01:00', reportFiledAt: '2026-11-03T12:00:00+01:00', complaintInfoNoted: true, description: 'Fastholdelse, kortvarig' },
      { institutionId: 'vestre', journalNumber: `${prefix}-F-2`, occurredAt: '2026-09-03', complaintReceivedAt: '2026-10-01' },
    ],
    action_plan: [
      {
        institutionId: 'vestre', journalNumber: `${prefix}-P-1`, clientCategory: 'convicted_from_liberty', admittedAt: '2025-06-02T10:00:00+02:00', ownerId, ownerAssignedAt: '2025-06-02T11:00:00+02:00',
        sentenceStartDate: '2025-06-02', possibleParoleDate: '2027-02-01', expectedReleaseDate: '2028-06-01', planCreatedAt: '2025-06-09T10:00:00+02:00', elaboratedAt: '2025-06-25T10:00:00+02:00',
        evaluations: ['2025-09-20T10:00:00+02:00', '2025-12-18T10:00:00+01:00'],
        transfers: [{ at: '2026-01-10T09:00:00+01:00', toInstitutionId: 'herstedvester', planUpdatedAt: '2026-01-14T09:00:00+01:00' }],
        paroleDecisions: [{ at: '2026-02-01T09:00:00+01:00', outcome: 'refused' }],
      },
      { institutionId: 'vestre', journalNumber: `${prefix}-P-2`, clientCategory: 'supervision', supervisionEstablishedAt: '2026-10-15T10:00:00+02:00', expelled: false },
    ],
  };
}

describe('CSV parser (RFC 4180)', () => {
  it('reads quotes, doubled quotes, CRLF, line breaks inside quotes and a BOM, with the line each record starts on', () => {
    const text = '\uFEFFa,b,c\r\n1,"x, y","say ""hi"""\r\n2,"multi\r\nline",\r\n\r\n3,,"last"';
    expect(parseCsv(text)).toEqual([
      { line: 1, fields: ['a', 'b', 'c'] },
      { line: 2, fields: ['1', 'x, y', 'say "hi"'] },
      { line: 3, fields: ['2', 'multi\r\nline', ''] },
      { line: 6, fields: ['3', '', 'last'] },
    ]);
  });

  it('accepts LF line ends, a missing final line break and a chunk boundary anywhere', async () => {
    const { CsvParser } = await import('../../src/records/import.js');
    const text = 'a,b\n"q,""1""",2\r\n"x\ny",3\r';
    for (let cut = 0; cut <= text.length; cut++) {
      const p = new CsvParser();
      const items = [...p.push(text.slice(0, cut)), ...p.push(text.slice(cut)), ...p.end()];
      expect(items, `cut at ${cut}`).toEqual([
        { line: 1, fields: ['a', 'b'] },
        { line: 2, fields: ['q,"1"', '2'] },
        { line: 3, fields: ['x\ny', '3'] },
      ]);
    }
  });

  it('reports a malformed record with its line and goes on with the next one', () => {
    const items = parseCsv('a,b\nx"y,1\n"ok",2\n"closed"z,3\n"never closed,4\n5,6\n');
    expect(items[0]).toEqual({ line: 1, fields: ['a', 'b'] });
    expect(items[1]).toMatchObject({ line: 2, error: expect.stringMatching(/double quote inside an unquoted field/) });
    expect(items[2]).toEqual({ line: 3, fields: ['ok', '2'] });
    expect(items[3]).toMatchObject({ line: 4, error: expect.stringMatching(/after the closing quote/) });
    expect(items[4]).toMatchObject({ line: 5, error: expect.stringMatching(/opened on line 5 is never closed/) });
    expect(items).toHaveLength(5);
  });

  it('infers the type from a file name', () => {
    expect(typeFromFileName('/x/incidents-2026.csv')).toBe('incident');
    expect(typeFromFileName('security-cell-placements.jsonl')).toBe('security_cell_placement');
    expect(typeFromFileName('force_use_q3.csv')).toBe('force_use');
    expect(typeFromFileName('action-plans.ndjson')).toBe('action_plan');
    expect(typeFromFileName('records.csv')).toBeUndefined();
  });
});

describe('CSV cells by field', () => {
  it('reads each field as its create schema says: booleans, lists of dates, JSON arrays of objects, text', async () => {
    const { CELL_KINDS } = await import('../../src/records/import.js');
    const special = Object.fromEntries([...CELL_KINDS].filter(([, cell]) => cell !== 'text'));
    expect(special).toEqual({
      mediaAttention: 'boolean', mechanicalRestraint: 'boolean', complaintInfoNoted: 'boolean', expelled: 'boolean',
      evaluations: 'list',
      delayNotices: 'json', reclassifications: 'json', transfers: 'json', paroleDecisions: 'json',
    });
    for (const field of ['institutionId', 'journalNumber', 'cpr', 'occurredAt', 'kind', 'clientCategory', 'finalReportExpectedAt', 'ownerId']) expect(CELL_KINDS.get(field)).toBe('text');
  });
});

describe('progress output', () => {
  const p = (read: number, bytes: number) => ({ read, created: read, unchanged: 0, rejected: 0, bytes });

  it('redraws a bar in place on a terminal and clears it for a rejection', async () => {
    const { progressReporter } = await import('../../src/cli/import.js');
    const out: string[] = [];
    const r = progressReporter({ isTTY: true, columns: 200, write: (t) => out.push(t) }, 1000);
    r.progress(p(500, 500));
    r.reject({ line: 7, issues: [{ field: 'cpr', reason: 'not a valid CPR number' }] });
    r.done(p(1000, 1000));
    expect(out[0]?.startsWith('\r\u001b[K')).toBe(true);
    expect(out[0]?.slice(4)).toMatch(/^\[#{12}-{12}\] {2}50% 500 rows read, 500 created, 0 unchanged, 0 rejected \(\d[\d,]* rows\/s\)$/);
    expect(out[1]).toBe('\r\x1b[K');
    expect(out[2]).toBe('line 7: cpr: not a valid CPR number\n');
    expect(out[out.length - 1]).toMatch(/^\[#{24}\] 100% 1,000 rows read/);
  });

  it('writes a plain line per tenth of the file elsewhere', async () => {
    const { progressReporter } = await import('../../src/cli/import.js');
    const out: string[] = [];
    const r = progressReporter({ isTTY: false, write: (t) => out.push(t) }, 1000);
    for (let b = 50; b <= 1000; b += 50) r.progress(p(b, b));
    r.done(p(1000, 1000));
    expect(out).toHaveLength(10);
    expect(out[0]).toBe('import: 10% of the file, 100 rows read, 100 created, 0 unchanged, 0 rejected\n');
    expect(out[9]).toBe('import: 100% of the file, 1,000 rows read, 1,000 created, 0 unchanged, 0 rejected\n');
    expect(out.join('')).not.toContain('\r');
    expect(out.join('')).not.toContain('\u001b');
  });
});

describe('progress output while planning', () => {
  const p = (read: number, bytes: number, planned: number, phase: 'writing' | 'planning' = 'writing') => ({ phase, read, created: read, unchanged: 0, rejected: 0, bytes, planned });

  it('counts planned records while writing, then follows the planning to its end', async () => {
    const { progressReporter } = await import('../../src/cli/import.js');
    const out: string[] = [];
    const r = progressReporter({ isTTY: false, write: (t) => out.push(t) }, 1000, { planning: true });
    for (let b = 100; b <= 1000; b += 100) r.progress(p(b, b, b / 2));
    for (let planned = 500; planned <= 1000; planned += 50) r.progress(p(1000, 1000, planned, 'planning'));
    r.done(p(1000, 1000, 1000, 'planning'));
    expect(out[0]).toBe('import: 10% of the file, 100 rows read, 100 created, 0 unchanged, 0 rejected, 50 planned\n');
    expect(out).toContain('import: 100% of the file, 1,000 rows read, 1,000 created, 0 unchanged, 0 rejected, 500 planned\n');
    expect(out).toContain('import: planned 60% of the created records (600 of 1,000)\n');
    expect(out[out.length - 1]).toBe('import: 1,000 of 1,000 created records planned\n');
    expect(out.filter((l) => l.startsWith('import: planned ')).map((l) => l.slice(16, 19))).toEqual(['50%', '60%', '70%', '80%', '90%']);
  });

  it('on a terminal, leaves the file’s bar and draws the planning’s below it', async () => {
    const { progressReporter } = await import('../../src/cli/import.js');
    const out: string[] = [];
    const r = progressReporter({ isTTY: true, columns: 200, write: (t) => out.push(t) }, 1000, { planning: true });
    r.progress(p(1000, 1000, 400, 'planning'));
    r.done(p(1000, 1000, 1000, 'planning'));
    const text = out.join('');
    expect(text).toMatch(/\[#{24}\] 100% 1,000 rows read, 1,000 created, 0 unchanged, 0 rejected, 400 planned \(\d[\d,]* rows\/s\)\n/);
    expect(text).toMatch(/planning \[#{10}-{14}\] {2}40% 400 of 1,000 created records planned/);
    expect(out[out.length - 1]).toMatch(/^planning \[#{24}\] 100% 1,000 of 1,000 created records planned \(\d[\d,]* records\/s\)\n$/);
  });
});

describe('import on Postgres', () => {
  let db: TestDatabase;
  let ctx: ServiceContext;
  let ownerId: string;
  const dir = mkdtempSync(join(tmpdir(), 'fristvagt-import-'));
  const file = (name: string, text: string): string => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  const dbOf = (): Db => db.database.db;
  const countOf = async (table: (typeof TABLES)[RecordTypeName] | typeof deadlines | typeof auditLog): Promise<number> => (await dbOf().select({ n: count() }).from(table))[0]?.n ?? 0;

  beforeAll(async () => {
    db = await openTestDatabase('postgres');
    ctx = { db: db.database.db, clock: () => new Date(NOW), closureDays: [] };
    ownerId = await seedMaster(ctx);
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await db?.drop();
  });

  it('imports good CSV and JSON Lines files of every type, as createRecord would store them', async () => {
    const csv = goodBodies('CSV', ownerId);
    const jsonl = goodBodies('JSONL', ownerId);
    for (const type of Object.keys(TABLES) as RecordTypeName[]) {
      // CSV: type from the file name, a BOM in front. JSONL: type from each line's `type`.
      const a = await importFile(ctx, file(`${type}-good.csv`, `\uFEFF${toCsv(csv[type])}`), { actor: 'test-import' });
      expect(a, `${type} csv`).toMatchObject({ type, format: 'csv', read: 2, created: 2, unchanged: 0, rejected: 0, rejections: [] });
      const b = await importFile(ctx, file(`good-${type}.jsonl`, toJsonl(jsonl[type], type)), { actor: 'test-import' });
      expect(b, `${type} jsonl`).toMatchObject({ type, format: 'jsonl', read: 2, created: 2, rejected: 0 });
      expect(b.byType[type]).toEqual({ read: 2, created: 2, unchanged: 0, rejected: 0 });
    }

    // Quoted text with a comma, doubled quotes and a CRLF survives the CSV round trip.
    const [incident] = await dbOf().select().from(incidents).where(eq(incidents.journalNumber, 'CSV-I-1'));
    expect(incident?.description).toBe('Fundet i celle 4, "livløs"\r\nLæge tilkaldt kl. 14.05');
    expect(incident?.cpr).toBe('0101900000');
    expect(incident?.mediaAttention).toBe(true);
    // Evaluations as a `;` list and transfers as JSON in a CSV cell.
    const [plan] = await dbOf().select({ id: actionPlans.id, institutionId: actionPlans.institutionId }).from(actionPlans).where(eq(actionPlans.journalNumber, 'CSV-P-1'));
    const [full] = (await KINDS.action_plan.load(dbOf(), [plan?.id as string])) as Array<{ evaluations: unknown[]; transfers: Array<{ planUpdatedAt: Date | null }>; paroleDecisions: unknown[] }>;
    expect(full?.evaluations).toHaveLength(2);
    expect(full?.transfers[0]?.planUpdatedAt?.toISOString()).toBe('2026-01-14T08:00:00.000Z');
    expect(full?.paroleDecisions).toHaveLength(1);
    // An incident's delay notices and reclassifications, as JSON in a CSV cell; the single delay columns repeat the latest notice.
    const [withHistory] = (await KINDS.incident.load(dbOf(), [incident?.id as string])) as IncidentFull[];
    expect(withHistory?.delayNotices.map((n) => [n.expectedDate, n.reason])).toEqual([['2026-05-15', 'Afventer obduktion'], ['2026-06-01', null]]);
    expect(withHistory).toMatchObject({ finalReportExpectedAt: '2026-06-01', delayReason: null });
    const [reclassified] = await dbOf().select({ id: incidents.id }).from(incidents).where(eq(incidents.journalNumber, 'CSV-I-2'));
    expect(((await KINDS.incident.load(dbOf(), [reclassified?.id as string])) as IncidentFull[])[0]?.reclassifications.map((x) => [x.fromKind, x.toKind, x.reason])).toEqual([['other_self_harm_behaviour', 'qualified_self_harm', 'Livsfare, "vurderet" af læge']]);

    // The same body through createRecord gives the same deadlines.
    let compared = 0;
    for (const type of Object.keys(TABLES) as RecordTypeName[]) {
      for (const body of csv[type]) {
        const twin = { ...body, journalNumber: `TWIN-${String(body['journalNumber'])}` };
        const { id: twinId } = await createRecord(ctx, type, twin, ADMIN);
        const [imported] = await dbOf().select({ id: TABLES[type].id }).from(TABLES[type]).where(eq(TABLES[type].journalNumber, body['journalNumber'] as string));
        const shape = async (id: string) => (await dbOf().select().from(deadlines).where(and(eq(deadlines.recordType, type), eq(deadlines.recordId, id))).orderBy(asc(deadlines.key))).map((d) => ({ key: d.key, rule: d.ruleId, start: d.startDate, due: d.dueDate, dueAt: d.dueAt.toISOString(), status: d.status, suspended: d.suspended, explanation: d.explanation, area: d.areaId, active: d.active }));
        const expected = await shape(twinId);
        compared += expected.length;
        expect(await shape(imported?.id as string)).toEqual(expected);
      }
    }

    expect(compared).toBeGreaterThan(10);

    // One audit entry per record, action `<type>.create`, CPR masked, and the chain holds.
    const entries = await dbOf().select().from(auditLog).where(eq(auditLog.actor, 'test-import'));
    expect(entries).toHaveLength(16);
    expect(new Set(entries.map((e) => e.action))).toEqual(new Set(['incident.create', 'security_cell_placement.create', 'force_use.create', 'action_plan.create']));
    expect(JSON.stringify(entries)).not.toMatch(/0101900000|010190-0000/);
    expect((await verifyAudit(dbOf())).ok).toBe(true);
  });

  it('re-importing the same file changes nothing; a changed row is a conflict and the record is left alone', async () => {
    const path = file('incident-again.csv', toCsv(goodBodies('AGAIN', ownerId).incident));
    const first = await importFile(ctx, path);
    expect(first).toMatchObject({ created: 2, unchanged: 0, rejected: 0 });
    const before = { records: await countOf(incidents), deadlines: await countOf(deadlines), audit: await countOf(auditLog), seq: (await dbOf().select({ m: max(incidents.changeSeq) }).from(incidents))[0]?.m };
    const second = await importFile(ctx, path);
    expect(second).toMatchObject({ read: 2, created: 0, unchanged: 2, rejected: 0, conflicts: 0 });
    const after = { records: await countOf(incidents), deadlines: await countOf(deadlines), audit: await countOf(auditLog), seq: (await dbOf().select({ m: max(incidents.changeSeq) }).from(incidents))[0]?.m };
    expect(after).toEqual(before);

    const changed = goodBodies('AGAIN', ownerId).incident.map((b, i) => (i === 1 ? { ...b, inmateConversationHeldAt: '2026-10-03', inmateName: 'Ændret Navn' } : b));
    const third = await importFile(ctx, file('incident-changed.csv', toCsv(changed)));
    expect(third).toMatchObject({ created: 0, unchanged: 1, rejected: 1, conflicts: 1 });
    expect(third.rejections[0]).toEqual({ line: 4, issues: [{ field: 'journalNumber', reason: expect.stringMatching(/stored already with other values in inmateName, inmateConversationHeldAt/) }] });
    const [stored] = await dbOf().select().from(incidents).where(eq(incidents.journalNumber, 'AGAIN-I-2'));
    expect(stored?.inmateName).toBeNull();
    expect(await countOf(auditLog)).toBe(before.audit);
  });

  it('a dry run checks everything and writes nothing', async () => {
    const before = { records: await countOf(forceUses), audit: await countOf(auditLog) };
    const res = await importFile(ctx, file('force_use-dry.jsonl', toJsonl(goodBodies('DRY', ownerId).force_use)), { dryRun: true });
    expect(res).toMatchObject({ dryRun: true, read: 2, created: 2, rejected: 0 });
    expect({ records: await countOf(forceUses), audit: await countOf(auditLog) }).toEqual(before);
  });

  it('a row the database refuses is rejected alone; the rest of its batch is stored', async () => {
    // Stands in for a refusal only the database sees (a constraint, a concurrent writer).
    await dbOf().execute(sql.raw(`CREATE FUNCTION test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.journal_number = 'BOOM-2' THEN RAISE EXCEPTION 'refused' USING ERRCODE = '23514', CONSTRAINT = 'test_refuse'; END IF; RETURN NEW; END $$`));
    await dbOf().execute(sql.raw('CREATE TRIGGER test_refuse BEFORE INSERT ON force_uses FOR EACH ROW EXECUTE FUNCTION test_refuse()'));
    try {
      const rows = [1, 2, 3, 4].map((n) => ({ institutionId: 'vestre', journalNumber: `BOOM-${n}`, occurredAt: '2026-11-01', inmateName: `Person ${n}` }));
      const res = await importFile(ctx, file('force-uses-boom.csv', toCsv(rows)), { batchSize: 10 });
      expect(res).toMatchObject({ read: 4, created: 3, rejected: 1 });
      expect(res.rejections).toEqual([{ line: 3, issues: [{ field: 'test_refuse', reason: 'refused by the database (SQLSTATE 23514)' }] }]);
      const stored = await dbOf().select({ j: forceUses.journalNumber }).from(forceUses).where(eq(forceUses.institutionId, 'vestre'));
      expect(stored.map((s) => s.j).filter((j) => j.startsWith('BOOM')).sort()).toEqual(['BOOM-1', 'BOOM-3', 'BOOM-4']);
      expect((await verifyAudit(dbOf())).ok).toBe(true);
    } finally {
      await dbOf().execute(sql.raw('DROP TRIGGER test_refuse ON force_uses'));
    }
  });

  it('imports a 1,000-row file in batches, audit chain intact', async () => {
    await seedBenchMasterData(ctx);
    const bodies = generateImportBodies('action_plan', 1000, { nowMs: Date.parse(NOW), prefix: 'THOUSAND' });
    const res = await importFile(ctx, file('action_plans-1000.csv', toCsv(bodies)), { batchSize: 150 });
    expect(res).toMatchObject({ read: 1000, created: 1000, rejected: 0 });
    const plans = await dbOf().select({ n: count() }).from(actionPlans).where(eq(actionPlans.institutionId, 'bench-vest'));
    expect(plans[0]?.n).toBeGreaterThan(100);
    const audit = await verifyAudit(dbOf());
    expect(audit.ok).toBe(true);
    const again = await importFile(ctx, file('action_plans-1000.csv', toCsv(bodies)));
    expect(again).toMatchObject({ created: 0, unchanged: 1000, rejected: 0 });
  });

  describe('through the built CLI', () => {
    const env = (): NodeJS.ProcessEnv => ({ DATABASE_URL: db.url ?? '', FRISTVAGT_MIGRATE_ON_START: 'false' });
    const VALID_CPR = '150385-1234';
    const BAD_CPR = '320185-4321';

    it('imports the good rows, reports every bad one by line and field, never echoes a CPR number, exits 2', async () => {
      const header = 'institutionId,journalNumber,kind,occurredAt,inmateName,cpr,description,mediaAttention';
      const lines = [
        header,
        `vestre,BAD-1,death,2026-03-27T14:00:00+01:00,Testa Testesen,${VALID_CPR},"ok, with ""quotes""",no`, // 2: good
        `vestre,BAD-2,suicide,,,,,`, // 3: missing occurredAt
        `vestre,BAD-3,suicide,2026-02-30,,,,`, // 4: impossible date
        `nowhere,BAD-4,suicide,2026-03-01,,${VALID_CPR},,`, // 5: unknown institution (a valid CPR in the same row)
        `vestre,BAD-5,suicide,2026-03-01,,${BAD_CPR},,`, // 6: bad CPR
        `vestre,BAD-6,deth,2026-03-01,,,,`, // 7: bad enum
        `vestre,BAD-1,death,2026-03-01,,,,`, // 8: duplicate journal number in the file
        `vestre,BAD-8,death,2026-03-01,x"y,${VALID_CPR},,`, // 9: malformed quote
        `vestre,BAD-9,death,2026-03-01,,,"a"b,`, // 10: text after a closing quote
        `vestre,BAD-10,death,2026-03-01,,,,maybe`, // 11: not a boolean
        `vestre,BAD-11,death,2099-01-01,,,,`, // 12: in the future
        `vestre,BAD-12,qualified_self_harm,"2026-11-01T10:00:00+01:00",,,"Two
line description",`, // 13–14: good, a quoted line break
      ];
      const path = file('incidents-bad.csv', `${lines.join('\r\n')}\r\n`);
      const res = await runCli(['import', path], '', env());
      expect(res.code).toBe(2);
      const summary = JSON.parse(res.stdout) as { read: number; created: number; rejected: number; rejections: Array<{ line: number; issues: Array<{ field: string | null; reason: string }> }> };
      expect(summary).toMatchObject({ read: 12, created: 2, unchanged: 0, rejected: 10 });
      const byLine = new Map(summary.rejections.map((r) => [r.line, r.issues]));
      expect(byLine.get(3)).toEqual([{ field: 'occurredAt', reason: 'is required' }]);
      expect(byLine.get(4)).toEqual([{ field: 'occurredAt', reason: expect.stringMatching(/not a date/) }]);
      expect(byLine.get(5)).toEqual([{ field: 'institutionId', reason: 'unknown institution "nowhere"' }]);
      expect(byLine.get(6)).toEqual([{ field: 'cpr', reason: expect.stringMatching(/not a valid CPR number/) }]);
      expect(byLine.get(7)).toEqual([{ field: 'kind', reason: expect.stringMatching(/expected one of/) }]);
      expect(byLine.get(8)).toEqual([{ field: 'journalNumber', reason: 'duplicate: line 2 of this file has the same journal number' }]);
      expect(byLine.get(9)).toEqual([{ field: null, reason: expect.stringMatching(/malformed CSV: a double quote inside an unquoted field \(field 5\)/) }]);
      expect(byLine.get(10)).toEqual([{ field: null, reason: expect.stringMatching(/malformed CSV: text after the closing quote of field 7/) }]);
      expect(byLine.get(11)).toEqual([{ field: 'mediaAttention', reason: 'not a boolean (true or false)' }]);
      expect(byLine.get(12)).toEqual(expect.arrayContaining([{ field: 'occurredAt', reason: expect.stringMatching(/in the future/) }]));
      expect(res.stderr).toMatch(/^line 3: occurredAt: is required$/m);
      expect(res.stderr).toMatch(/^line 5: institutionId: unknown institution "nowhere"$/m);
      expect(res.stderr).toMatch(/fristvagt import: 10 of 12 rows rejected/);
      for (const out of [res.stdout, res.stderr]) {
        for (const cpr of [VALID_CPR, BAD_CPR, VALID_CPR.replace('-', ''), BAD_CPR.replace('-', ''), BAD_CPR.slice(0, 6)]) expect(out).not.toContain(cpr);
      }
      const stored = await dbOf().select({ j: incidents.journalNumber, d: incidents.description }).from(incidents).where(eq(incidents.institutionId, 'vestre'));
      const bad = stored.filter((s) => s.j.startsWith('BAD-'));
      expect(bad.map((s) => s.j).sort()).toEqual(['BAD-1', 'BAD-12']);
      expect(bad.find((s) => s.j === 'BAD-12')?.d).toBe('Two\nline description');
      expect((await verifyAudit(dbOf())).ok).toBe(true);

      // The second run: the good rows are unchanged, the bad ones reported again, nothing written.
      const auditBefore = await countOf(auditLog);
      const again = await runCli(['import', path], '', env());
      expect(again.code).toBe(2);
      expect(JSON.parse(again.stdout)).toMatchObject({ created: 0, unchanged: 2, rejected: 10 });
      expect(await countOf(auditLog)).toBe(auditBefore);
    });

    it('--historical: closed rows are imported and planned with no notification or backlog; an open row is refused naming closedAt', async () => {
      const path = file('incidents-history.csv', [
        'institutionId,journalNumber,kind,occurredAt,registeredAt,closedAt',
        'vestre,HIST-1,death,2019-03-01T10:00:00+01:00,2019-03-01T11:00:00+01:00,2019-06-01',
        'vestre,HIST-2,qualified_self_harm,2020-05-04T10:00:00+02:00,2020-05-04,',
      ].join('\r\n'));
      const res = await runCli(['import', path, '--historical'], '', env());
      expect(res.code).toBe(2);
      expect(JSON.parse(res.stdout)).toMatchObject({ historical: true, created: 1, rejected: 1, planned: 1, rejections: [{ line: 3, issues: [{ field: 'closedAt', reason: expect.stringMatching(/^is required with --historical/) }] }] });
      const [row] = await dbOf().select({ id: incidents.id, registeredAt: incidents.registeredAt }).from(incidents).where(eq(incidents.journalNumber, 'HIST-1'));
      expect(row?.registeredAt.toISOString()).toBe('2019-03-01T10:00:00.000Z');
      expect((await dbOf().select({ n: count() }).from(deadlines).where(eq(deadlines.recordId, row?.id ?? '')))[0]?.n).toBeGreaterThan(0);
      expect(await dbOf().select().from(notifications).where(eq(notifications.recordId, row?.id ?? ''))).toEqual([]);
      expect(await dbOf().select().from(backlogItems).where(eq(backlogItems.recordId, row?.id ?? ''))).toEqual([]);
    });

    it('refuses a CSV with an unknown column as a whole, naming it', async () => {
      const before = await countOf(incidents);
      const path = file('incidents-unknown-column.csv', 'institutionId,journalNumber,kind,occurredAt,preliminaryNoticeSent\r\nvestre,COL-1,death,2026-03-01,2026-03-02\r\n');
      const res = await runCli(['import', path], '', env());
      expect(res.code).toBe(2);
      expect(res.stderr).toMatch(/unknown column "preliminaryNoticeSent" for incident records.*nothing was imported/);
      expect(res.stdout).toBe('');
      expect(await countOf(incidents)).toBe(before);
    });

    it('JSON Lines: unknown fields, broken lines and a type that does not match are rows of their own', async () => {
      const lines = [
        JSON.stringify({ type: 'force_use', institutionId: 'vestre', journalNumber: 'JL-1', occurredAt: '2026-11-01' }),
        JSON.stringify({ type: 'force_use', institutionId: 'vestre', journalNumber: 'JL-2', occurredAt: '2026-11-01', reportFiled: '2026-11-02' }),
        `{"type":"force_use","institutionId":"vestre","journalNumber":"JL-3","cpr":"${VALID_CPR}",`,
        '',
        JSON.stringify({ type: 'incident', institutionId: 'vestre', journalNumber: 'JL-4', kind: 'death', occurredAt: '2026-11-01' }),
        '[1,2]',
      ];
      const res = await runCli(['import', file('uses.jsonl', `${lines.join('\n')}\n`)], '', env());
      expect(res.code).toBe(2);
      const summary = JSON.parse(res.stdout) as { type: string; created: number; rejections: Array<{ line: number; issues: unknown[] }> };
      expect(summary).toMatchObject({ type: 'force_use', read: 5, created: 1, rejected: 4 });
      expect(summary.rejections).toEqual([
        { line: 2, issues: [{ field: 'reportFiled', reason: 'unknown field' }] },
        { line: 3, issues: [{ field: null, reason: expect.stringMatching(/^not valid JSON/) }] },
        { line: 5, issues: [{ field: 'type', reason: 'is "incident", but this file holds force_use records (one type per file)' }] },
        { line: 6, issues: [{ field: null, reason: 'not a JSON object' }] },
      ]);
      expect(res.stdout + res.stderr).not.toContain(VALID_CPR);
    });

    it('--type decides, a file without any hint is refused, --dry-run writes nothing', async () => {
      const body = goodBodies('TYPED', ownerId).security_cell_placement;
      const noHint = file('records.csv', toCsv(body));
      const refused = await runCli(['import', noHint], '', env());
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(/cannot tell the record type/);
      const before = await countOf(securityCellPlacements);
      const dry = await runCli(['import', noHint, '--type', 'security_cell_placement', '--dry-run'], '', env());
      expect(dry.code).toBe(0);
      expect(JSON.parse(dry.stdout)).toMatchObject({ dryRun: true, created: 2, byType: { security_cell_placement: { created: 2 } } });
      expect(await countOf(securityCellPlacements)).toBe(before);
      const real = await runCli(['import', noHint, '--type', 'security_cell_placement'], '', env());
      expect(real.code).toBe(0);
      expect(real.stderr).toMatch(/import: 100% of the file, 2 rows read, 2 created/);
      expect(await countOf(securityCellPlacements)).toBe(before + 2);
      const wrongType = await runCli(['import', noHint, '--type', 'prison'], '', env());
      expect(wrongType.code).toBe(2);
      expect(wrongType.stderr).toMatch(/--type: must be one of/);
      const missing = await runCli(['import', join(dir, 'nope.csv')], '', env());
      expect(missing.code).toBe(2);
      expect(missing.stderr).toMatch(/no such file/);
    });

    it('exits 1 on a system error (the database is unreachable)', async () => {
      const path = file('incident-sys.csv', toCsv(goodBodies('SYS', ownerId).incident));
      const res = await runCli(['import', path], '', { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none', FRISTVAGT_MIGRATE_ON_START: 'false' });
      expect(res.code).toBe(1);
    });
  });
});

describe('import on PGlite', () => {
  let db: TestDatabase;
  const dir = mkdtempSync(join(tmpdir(), 'fristvagt-import-pglite-'));
  beforeAll(async () => {
    db = await openTestDatabase('pglite');
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await db?.drop();
  });

  it('imports, re-imports unchanged, and keeps the audit chain', async () => {
    const ctx: ServiceContext = { db: db.database.db, clock: () => new Date(NOW), closureDays: [] };
    const ownerId = await seedMaster(ctx);
    const bodies = goodBodies('LITE', ownerId).action_plan;
    const path = join(dir, 'plans.jsonl');
    writeFileSync(path, toJsonl(bodies, 'action_plan'));
    expect(await importFile(ctx, path)).toMatchObject({ type: 'action_plan', created: 2, rejected: 0 });
    expect(await importFile(ctx, path)).toMatchObject({ created: 0, unchanged: 2, rejected: 0 });
    expect((await verifyAudit(ctx.db)).ok).toBe(true);
    const d = await ctx.db.select({ n: count() }).from(deadlines);
    expect(d[0]?.n).toBeGreaterThan(4);
  });
});
