/**
 * Data retention on a real Postgres database with an injected clock: what is anonymised and when,
 * what stays, the audit entries, idempotence, the dry run, the job processor and the CLI listing.
 */
import { and, asc, count, desc, eq, like } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { retentionRun } from '../../jobs/retention.js';
import type { WorkerDeps } from '../../src/worker/runtime.js';
import { readAudit, verifyAudit } from '../../src/db/audit.js';
import { auditLog, caughtMail, deadlines, incidentDelayNotices, incidents, notifications, securityCellPlacements } from '../../src/db/schema.js';
import { createLogger } from '../../src/logger.js';
import { ANONYMISED_TEXT, anonymiseExpired, findExpired, REMOVED_MARK, retentionCutoff } from '../../src/records/retention.js';
import type { RecordTypeName } from '../../src/records/kinds.js';
import { createArea, createInstitution } from '../../src/records/masterdata.js';
import { createRecord, type Actor, type ServiceContext } from '../../src/records/service.js';
import { runCli } from '../support/cli.js';
import { openTestDatabase, type TestDatabase } from '../support/db.js';

const ADMIN: Actor = { id: 'test', name: 'test', role: 'admin' };
// After 2027-02-03: a security-cell placement closed five years before ended under the 2022 circular letter (in force from 2022-02-03).
const NOW = new Date('2027-11-22T11:00:00Z');
const DAY = 86_400_000;
const FIVE_YEARS_AGO = new Date('2022-11-22T11:00:00Z');
const iso = (ms: number): string => new Date(ms).toISOString();

describe('retention', () => {
  let db: TestDatabase;
  let ctx: ServiceContext;
  const ids: Record<string, { type: RecordTypeName; id: string }> = {};

  const create = async (key: string, type: RecordTypeName, body: Record<string, unknown>): Promise<void> => {
    const { id } = await createRecord(ctx, type, { institutionId: 'vestre', journalNumber: `RET-${key}`, ...body }, ADMIN);
    ids[key] = { type, id };
  };
  const auditCount = async (): Promise<number> => (await db.database.db.select({ n: count() }).from(auditLog))[0]?.n ?? 0;
  const deadlineShape = async (type: RecordTypeName, id: string) =>
    (await db.database.db.select().from(deadlines).where(and(eq(deadlines.recordType, type), eq(deadlines.recordId, id))).orderBy(asc(deadlines.key))).map((d) => ({ key: d.key, start: d.startDate, due: d.dueDate, status: d.status, active: d.active, completedAt: d.completedAt?.toISOString() ?? null }));

  beforeAll(async () => {
    db = await openTestDatabase('postgres');
    ctx = { db: db.database.db, clock: () => NOW, closureDays: [] };
    await createArea(ctx, { id: 'hovedstaden', name: 'Hovedstaden', officeEmail: 'omraade@kf.test', directorName: 'Direktør', directorEmail: 'direktor@kf.test' }, ADMIN);
    await createInstitution(ctx, { id: 'vestre', areaId: 'hovedstaden', name: 'Fængsel Vestre', kind: 'prison', dutyManagerEmail: 'vagt@kf.test' }, ADMIN);
    const person = { inmateName: 'Testa Testesen', cpr: '010170-0000' };
    // Closed 5 years + 1 day ago: expired. Closed 5 years − 1 day ago: kept.
    await create('old-incident', 'incident', { ...person, kind: 'death', occurredAt: '2021-09-01T10:00:00+02:00', description: 'Fundet af betjent Jensen i celle 12', preliminaryNoticeSentAt: '2021-09-02T10:00:00+02:00', delayNotifiedAt: '2021-09-20T10:00:00+02:00', finalReportExpectedAt: '2021-10-15', delayReason: 'Afventer obduktion af Testa Testesen', closedAt: iso(FIVE_YEARS_AGO.getTime() - DAY) });
    await create('recent-incident', 'incident', { ...person, kind: 'death', occurredAt: '2021-09-01T10:00:00+02:00', description: 'Stadig inden for fristen', closedAt: iso(FIVE_YEARS_AGO.getTime() + DAY) });
    await create('open-incident', 'incident', { ...person, kind: 'suicide', occurredAt: '2015-12-01T10:00:00+01:00', description: 'Aldrig lukket' });
    await create('old-cell', 'security_cell_placement', { ...person, placedAt: '2022-05-01T22:00:00+02:00', endedAt: '2022-05-02T06:00:00+02:00', followUpPostponedReason: 'Testa Testesen indlagt på Rigshospitalet', followUpPostponedAt: '2022-05-03T10:00:00+02:00', closedAt: '2022-06-01T10:00:00+02:00' });
    await create('old-force', 'force_use', { ...person, occurredAt: '2019-03-01T10:00:00+01:00', description: 'Fastholdt af to betjente', closedAt: '2019-04-01T10:00:00+02:00' });
    await create('old-plan', 'action_plan', { ...person, clientCategory: 'remand', admittedAt: '2018-01-02T10:00:00+01:00', planCreatedAt: '2018-01-05T10:00:00+01:00', evaluations: ['2018-04-01T10:00:00+02:00'], closedAt: '2018-06-01T10:00:00+02:00' });
    await create('old-nameless', 'force_use', { occurredAt: '2019-03-01T10:00:00+01:00', closedAt: '2019-04-01T10:00:00+02:00' });
  });
  afterAll(async () => db?.drop());

  it('puts the cutoff whole calendar years back', () => {
    expect(retentionCutoff(NOW, 5).toISOString()).toBe('2022-11-22T11:00:00.000Z');
    expect(retentionCutoff(new Date('2028-02-29T12:00:00Z'), 1).toISOString()).toBe('2027-03-01T12:00:00.000Z');
    expect(() => retentionCutoff(NOW, 0)).toThrow(RangeError);
  });

  it('finds closed records past the period that still hold personal data, and nothing else', async () => {
    const found = await findExpired(db.database.db, { now: NOW, years: 5 });
    expect(found.map((f) => f.journalNumber)).toEqual(['RET-old-plan', 'RET-old-force', 'RET-old-cell', 'RET-old-incident']);
    expect(found.every((f) => Object.keys(f).sort().join() === 'closedAt,id,journalNumber,type')).toBe(true);
    // A day later the other closed incident is due as well.
    const later = await findExpired(db.database.db, { now: new Date(NOW.getTime() + 2 * DAY), years: 5 });
    expect(later.map((f) => f.journalNumber)).toContain('RET-recent-incident');
  });

  it('a dry run lists and changes nothing', async () => {
    const before = await auditCount();
    const res = await anonymiseExpired(db.database.db, { now: NOW, years: 5, dryRun: true });
    expect(res.dryRun).toBe(true);
    expect(res.records).toHaveLength(4);
    expect(await auditCount()).toBe(before);
    const [row] = await db.database.db.select().from(incidents).where(eq(incidents.id, ids['old-incident']?.id ?? ''));
    expect(row?.inmateName).toBe('Testa Testesen');
  });

  it('anonymises expired records: name, CPR and free text go, dates, statuses and deadlines stay, one audit entry each', async () => {
    const old = ids['old-incident'] as { type: RecordTypeName; id: string };
    const cell = ids['old-cell'] as { type: RecordTypeName; id: string };
    const deadlinesBefore = await deadlineShape(old.type, old.id);
    const cellDeadlinesBefore = await deadlineShape(cell.type, cell.id);
    expect(deadlinesBefore.length).toBeGreaterThan(0);
    const [cellExplanation] = await db.database.db.select({ e: deadlines.explanation }).from(deadlines).where(and(eq(deadlines.recordId, cell.id), like(deadlines.explanation, '%Rigshospitalet%')));
    expect(cellExplanation).toBeDefined();
    // A copy of a sent preliminary notice in the built-in mail catcher.
    const [n] = await db.database.db.insert(notifications).values({ recordType: 'incident', recordId: old.id, stage: 'notice:preliminary', kind: 'notice', template: 'preliminary-notice', recipient: 'ombudsmand@ombud.test', plannedAt: new Date('2021-09-02T08:00:00Z'), status: 'sent', messageId: '<n1@kf.test>' }).returning({ id: notifications.id });
    await db.database.db.insert(caughtMail).values({ messageId: '<n1@kf.test>', notificationId: n?.id ?? null, fromAddress: 'fristvagt@kf.test', recipients: ['ombudsmand@ombud.test'], subject: 'Foreløbig underretning', text: 'Den indsattes navn: Testa Testesen\nPersonnummer: 010170-0000' });
    const auditBefore = await auditCount();

    const res = await anonymiseExpired(db.database.db, { now: NOW, years: 5, actor: 'retention-test' });
    expect(res.records.map((r) => r.journalNumber).sort()).toEqual(['RET-old-cell', 'RET-old-force', 'RET-old-incident', 'RET-old-plan']);

    const [inc] = await db.database.db.select().from(incidents).where(eq(incidents.id, old.id));
    expect(inc).toMatchObject({ inmateName: null, cpr: null, description: null, delayReason: ANONYMISED_TEXT, kind: 'death', journalNumber: 'RET-old-incident' });
    expect(inc?.occurredAt.toISOString()).toBe('2021-09-01T08:00:00.000Z');
    expect(inc?.preliminaryNoticeSentAt?.toISOString()).toBe('2021-09-02T08:00:00.000Z');
    expect(inc?.closedAt?.toISOString()).toBe(iso(FIVE_YEARS_AGO.getTime() - DAY));
    // The delay notice history keeps its dates; its reason goes like the latest-notice column's.
    expect(await db.database.db.select({ at: incidentDelayNotices.notifiedAt, reason: incidentDelayNotices.reason }).from(incidentDelayNotices).where(eq(incidentDelayNotices.incidentId, old.id))).toEqual([{ at: new Date('2021-09-20T08:00:00Z'), reason: ANONYMISED_TEXT }]);
    expect(await deadlineShape(old.type, old.id)).toEqual(deadlinesBefore);
    const [c] = await db.database.db.select().from(securityCellPlacements).where(eq(securityCellPlacements.id, cell.id));
    expect(c).toMatchObject({ inmateName: null, cpr: null, followUpPostponedReason: ANONYMISED_TEXT });
    expect(await deadlineShape(cell.type, cell.id)).toEqual(cellDeadlinesBefore);
    const explanations = await db.database.db.select({ e: deadlines.explanation }).from(deadlines).where(eq(deadlines.recordId, cell.id));
    expect(explanations.map((e) => e.e).join(' ')).not.toMatch(/Rigshospitalet|Testesen/);
    // Only the quoted reason is replaced; the rest of the explanation reads as before.
    expect(explanations.map((e) => e.e).join(' ')).toContain(`Samtalen er udsat (${ANONYMISED_TEXT})`);
    expect(await db.database.db.select().from(caughtMail)).toHaveLength(0);

    // The other records are untouched.
    for (const key of ['recent-incident', 'open-incident']) {
      const [row] = await db.database.db.select().from(incidents).where(eq(incidents.id, ids[key]?.id ?? ''));
      expect(row?.inmateName, key).toBe('Testa Testesen');
      expect(row?.cpr, key).toBe('0101700000');
    }

    // One `<type>.anonymise` entry per record, without the personal data, and the chain verifies.
    const entries = await db.database.db.select().from(auditLog).where(like(auditLog.action, '%.anonymise'));
    expect(entries.map((e) => e.action).sort()).toEqual(['action_plan.anonymise', 'force_use.anonymise', 'incident.anonymise', 'security_cell_placement.anonymise']);
    expect(await auditCount()).toBe(auditBefore + 4);
    const text = JSON.stringify(entries);
    for (const secret of ['Testesen', '010170', '0101700000', 'Jensen', 'Rigshospitalet', 'obduktion', 'Fastholdt']) expect(text).not.toContain(secret);
    const incidentEntry = entries.find((e) => e.action === 'incident.anonymise');
    expect(incidentEntry).toMatchObject({ actor: 'retention-test', entityId: old.id, before: { inmateName: REMOVED_MARK, cpr: REMOVED_MARK, description: REMOVED_MARK, delayReason: REMOVED_MARK }, after: { inmateName: null, cpr: null, description: null, delayReason: ANONYMISED_TEXT } });
    expect((await verifyAudit(db.database.db)).ok).toBe(true);

    // The earlier, append-only entries keep only digests; the values beside them are gone with the record's.
    const [created] = await db.database.db.select().from(auditLog).where(and(eq(auditLog.entityId, old.id), eq(auditLog.action, 'incident.create')));
    expect(JSON.stringify(created?.after)).not.toContain('Testesen');
    expect(JSON.stringify(created?.after)).toContain('$personal');
    const history = await readAudit(db.database.db, and(eq(auditLog.entityId, old.id), eq(auditLog.action, 'incident.create')), '[erased]');
    expect(history[0]).toMatchObject({ after: { inmateName: '[erased]', description: '[erased]', journalNumber: expect.any(String) as string } });
    expect(history[0]?.erased.sort()).toEqual(['cpr', 'delayNoticeReasons', 'delayReason', 'description', 'inmateName']);
    // A record still within its period keeps its history readable.
    const recent = await readAudit(db.database.db, and(eq(auditLog.entityId, ids['recent-incident']?.id ?? ''), eq(auditLog.action, 'incident.create')));
    expect(recent[0]).toMatchObject({ after: { inmateName: 'Testa Testesen' }, erased: [] });
  });

  it('running again is a no-op', async () => {
    const before = await auditCount();
    const [row] = await db.database.db.select({ version: incidents.version }).from(incidents).where(eq(incidents.id, ids['old-incident']?.id ?? ''));
    const res = await anonymiseExpired(db.database.db, { now: NOW, years: 5 });
    expect(res.records).toEqual([]);
    expect(await auditCount()).toBe(before);
    const [again] = await db.database.db.select({ version: incidents.version }).from(incidents).where(eq(incidents.id, ids['old-incident']?.id ?? ''));
    expect(again?.version).toBe(row?.version);
  });

  it('the retention.run job anonymises with the worker clock', async () => {
    const deps = { retentionYears: 5, send: { db: db.database.db, clock: () => new Date(NOW.getTime() + 2 * DAY), logger: createLogger({ level: 'silent' }) } } as unknown as WorkerDeps;
    const result = (await retentionRun({ name: 'retention.run', data: {} } as never, deps)) as { anonymised: number; ids: string[]; auditHead: { id: number; hash: string } };
    expect(result).toMatchObject({ anonymised: 1, ids: [ids['recent-incident']?.id] });
    // The chain's head is reported (and logged) for keeping outside the database.
    const [last] = await db.database.db.select().from(auditLog).orderBy(desc(auditLog.id)).limit(1);
    expect(result.auditHead).toEqual({ id: last?.id, hash: last?.hash });
    await expect(retentionRun({ name: 'retention.run', data: { extra: 1 } } as never, deps)).rejects.toThrow();
    expect((await verifyAudit(db.database.db)).ok).toBe(true);
  });

  it('`fristvagt retention --dry-run` lists type, id, journal number and closing date, never a name', async () => {
    // The CLI runs on the real clock: a record closed six years before today.
    const closed = new Date(Date.now() - 6 * 366 * DAY);
    await create('cli', 'force_use', { inmateName: 'Cli Testesen', cpr: '020280-0000', occurredAt: iso(closed.getTime() - 30 * DAY), closedAt: iso(closed.getTime()) });
    const env = { DATABASE_URL: db.url ?? '', FRISTVAGT_MIGRATE_ON_START: 'false' };
    const dry = await runCli(['retention', '--dry-run'], '', env);
    expect(dry.stderr).toBe('');
    expect(dry.code).toBe(0);
    const out = JSON.parse(dry.stdout) as { dryRun: boolean; years: number; wouldAnonymise: number; records: Array<Record<string, unknown>> };
    expect(out).toMatchObject({ dryRun: true, years: 5, wouldAnonymise: 1 });
    expect(out.records).toEqual([{ type: 'force_use', id: ids['cli']?.id, journalNumber: 'RET-cli', closedOn: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/) }]);
    expect(dry.stdout).not.toMatch(/Testesen|020280/);
    const longer = await runCli(['retention', '--dry-run'], '', { ...env, FRISTVAGT_RETENTION_YEARS: '7' });
    expect(JSON.parse(longer.stdout)).toMatchObject({ years: 7, wouldAnonymise: 0 });
    const bad = await runCli(['retention'], '', { ...env, FRISTVAGT_RETENTION_YEARS: '0' });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/FRISTVAGT_RETENTION_YEARS/);
    const real = await runCli(['retention'], '', env);
    expect(real.code).toBe(0);
    expect(JSON.parse(real.stdout)).toMatchObject({ dryRun: false, anonymised: 1 });
    expect((await verifyAudit(db.database.db)).ok).toBe(true);
  });
});
