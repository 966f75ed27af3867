/**
 * Issue 10 (second legal pass) end to end: records with their histories stored and read back, the
 * planner's recipients and alerts taken from the engine, per-area policy, the re-plan after an
 * upgrade, and the migration of records stored before it. Real Postgres, real Redis, a real SMTP
 * sink; the clock is injected and every step waits on what it expects.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { and, count, eq, sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/postgres-js';
import { migrate as migrateTo } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CATALOGUE_VERSION, parseRecord } from '../../src/domain/index.js';
import { migrate, MIGRATIONS_DIR, openDatabase } from '../../src/db/client.js';
import { auditLog, deadlines, incidentDelayNotices, notifications, securityCellPlacements, settings, workerState } from '../../src/db/schema.js';
import { loadRulesInForce } from '../../src/records/calendar.js';
import { listDeadlines } from '../../src/records/deadline-list.js';
import { importRows, jsonlSource } from '../../src/records/import.js';
import { KINDS, type AnyRow } from '../../src/records/kinds.js';
import { createArea, createInstitution, createStaff } from '../../src/records/masterdata.js';
import { createRecord, getRecord, recordEvent, updateRecord, type Actor } from '../../src/records/service.js';
import { putSetting } from '../../src/records/settings.js';
import { planRecord } from '../../src/worker/planner.js';
import { settingsStamp } from '../../src/worker/runtime.js';
import { loadWorkerSettings } from '../../src/worker/settings.js';
import { ADMIN_URL, RUN_STAMP, urlFor } from '../support/db.js';
import { ADMIN, startWorkerHarness, type WorkerHarness } from '../support/worker.js';

const at = (iso: string): Date => new Date(iso);
const READER: Actor = { id: 'reader', name: 'reader', role: 'reader' };
const INSTITUTION: Actor = { id: 'inst', name: 'inst', role: 'institution', institutionId: 'vestre' };
type View = Record<string, any>;

describe('issue 10: the second legal pass through the records service, the planner and the worker', () => {
  let h: WorkerHarness;
  beforeAll(async () => {
    h = await startWorkerHarness('postgres', '2026-03-02T09:00:00+01:00');
    await h.start();
    await createArea(h.ctx, { id: 'nord', name: 'Kriminalforsorgen Nord', officeEmail: 'nord.omraade@kf.test', directorName: 'Direktør Nord', directorEmail: 'nord.direktor@kf.test' }, ADMIN);
    await createInstitution(h.ctx, { id: 'aalborg', areaId: 'nord', name: 'Arresthuset Aalborg', kind: 'local_jail', dutyManagerEmail: 'vagt.aalborg@kf.test' }, ADMIN);
    await createInstitution(h.ctx, { id: 'pension-nord', areaId: 'nord', name: 'Pension Nord', kind: 'halfway_house', dutyManagerEmail: 'vagt.pension@kf.test' }, ADMIN);
  });
  afterAll(async () => h?.close());

  const db = () => h.db.database.db;
  const rows = (recordId: string) => db().select().from(notifications).where(eq(notifications.recordId, recordId));
  const sentTo = (addr: string, pred: (m: { subject: string; text: string }) => boolean) => h.sink.received.filter((m) => m.to.includes(addr) && pred(m));
  const plan = async (type: 'incident' | 'security_cell_placement', id: string): Promise<void> => {
    await planRecord(db(), { closureDays: [], now: h.clock.now, settings: await loadWorkerSettings(db()) }, type, id);
  };
  const view = async (type: 'incident' | 'security_cell_placement', id: string, actor: Actor = INSTITUTION): Promise<View> => getRecord(h.ctx, type, id, actor) as Promise<View>;
  const deadline = (v: View, rule: string): View | undefined => (v['deadlines'] as View[]).find((d) => d['rule'] === rule);

  it('§ 7 stk. 2: a second delay notice is kept beside a timely first one, each judged against the deadline it met', async () => {
    h.clock.now = at('2026-03-02T09:00:00+01:00');
    const { id } = await createRecord(h.ctx, 'incident', { institutionId: 'vestre', journalNumber: 'L-D1', kind: 'death', occurredAt: '2026-03-02T06:00:00+01:00' }, ADMIN);
    h.clock.now = at('2026-03-20T10:00:00+01:00');
    await recordEvent(h.ctx, 'incident', id, { type: 'delay_notified', at: '2026-03-20T09:00:00+01:00', expectedDate: '2026-04-15', reason: 'Afventer obduktion' }, ADMIN);
    h.clock.now = at('2026-04-10T10:00:00+02:00');
    await recordEvent(h.ctx, 'incident', id, { type: 'delay_notified', at: '2026-04-10T09:00:00+02:00', expectedDate: '2026-05-01', reason: 'Afventer journal for 010190-4321' }, ADMIN);

    const v = await view('incident', id);
    expect(v['delayNotices'].map((n: View) => [n['notifiedAt'], n['expectedDate'], n['reason']])).toEqual([
      ['2026-03-20T09:00:00.000+01:00', '2026-04-15', 'Afventer obduktion'],
      ['2026-04-10T09:00:00.000+02:00', '2026-05-01', 'Afventer journal for 010190-4321'],
    ]);
    // The single fields repeat the latest notice (compatibility).
    expect(v).toMatchObject({ delayNotifiedAt: '2026-04-10T09:00:00.000+02:00', finalReportExpectedAt: '2026-05-01' });
    // 4 weeks from Mon 02.03 = Mon 30.03; the first notice (20.03) was in time for it, the second (10.04) in time for 15.04.
    expect(deadline(v, 'incident.final-report')).toMatchObject({
      dueDate: '2026-05-01',
      originalDueDate: '2026-03-30',
      status: 'open',
      delayNotices: [
        { expectedDate: '2026-04-15', inTime: true, dueBefore: '2026-03-30' },
        { expectedDate: '2026-05-01', inTime: true, dueBefore: '2026-04-15' },
      ],
    });
    // A reader sees the reasons masked; the audit log keeps them apart, as digests.
    expect((await view('incident', id, READER))['delayNotices'][1]['reason']).toBe('Afventer journal for XXXXXX-XXXX');
    const [entry] = await db().select().from(auditLog).where(and(eq(auditLog.entityId, id), eq(auditLog.action, 'incident.event.delay_notified'))).orderBy(sql`${auditLog.id} desc`).limit(1);
    expect(JSON.stringify(entry?.after)).not.toContain('010190');
    expect((entry?.after as View)['delayNoticeReasons']).toHaveProperty('$personal');

    // A correction of the single fields corrects the latest notice; the first stays as it was.
    await updateRecord(h.ctx, 'incident', id, { finalReportExpectedAt: '2026-05-04' }, ADMIN);
    const corrected = await view('incident', id);
    expect(corrected['delayNotices'].map((n: View) => n['expectedDate'])).toEqual(['2026-04-15', '2026-05-04']);
    expect(deadline(corrected, 'incident.final-report')?.['dueDate']).toBe('2026-05-04');
    await expect(updateRecord(h.ctx, 'incident', id, { delayNotifiedAt: null }, ADMIN)).rejects.toMatchObject({ code: 'VALIDATION', issues: [{ path: 'delayNotifiedAt' }] });
  });

  it('§ 11 stk. 2 / § 18 stk. 2: a reclassification to chapter 5 keeps the met and breached deadlines, ends their reminders, drops the open ones and lists the history', async () => {
    h.clock.now = at('2026-03-02T09:00:00+01:00');
    const { id } = await createRecord(h.ctx, 'incident', { institutionId: 'vestre', journalNumber: 'L-R1', kind: 'qualified_suicide_attempt', occurredAt: '2026-03-02T08:00:00+01:00' }, ADMIN);
    await plan('incident', id);
    h.clock.now = at('2026-03-03T11:00:00+01:00');
    await recordEvent(h.ctx, 'incident', id, { type: 'preliminary_notice_sent', at: '2026-03-03T10:00:00+01:00' }, ADMIN);
    await plan('incident', id);
    const scheduledBefore = (await rows(id)).filter((n) => n.status === 'scheduled').map((n) => n.stage);
    expect(scheduledBefore.some((s) => s.startsWith('incident.final-report:'))).toBe(true);
    expect(scheduledBefore.some((s) => s.startsWith('incident.inmate-conversation:escalation'))).toBe(true);

    h.clock.now = at('2026-03-10T10:00:00+01:00');
    await recordEvent(h.ctx, 'incident', id, { type: 'reclassified', kind: 'other_self_harm_behaviour', reason: 'Ikke nærliggende livsfare', at: '2026-03-10T09:00:00+01:00' }, ADMIN);
    await plan('incident', id);

    const v = await view('incident', id);
    expect(v['kind']).toBe('other_self_harm_behaviour');
    expect(v['reclassifications']).toEqual([expect.objectContaining({ at: '2026-03-10T09:00:00.000+01:00', fromKind: 'qualified_suicide_attempt', toKind: 'other_self_harm_behaviour', reason: 'Ikke nærliggende livsfare' })]);
    expect((v['deadlines'] as View[]).map((d) => [d['rule'], d['status'], d['endedBy'] ?? null])).toEqual([
      ['incident.preliminary-notice', 'met', 'reclassification'],
      ['incident.inmate-conversation', 'breached', 'reclassification'],
      ['incident.chapter5-closing', 'open', null],
    ]);

    // Stored: the kept ones stay active (compliance figures), the open final report is inactive.
    const stored = await db().select({ rule: deadlines.ruleId, active: deadlines.active, endedBy: deadlines.endedBy, endedAt: deadlines.endedAt, status: deadlines.status }).from(deadlines).where(eq(deadlines.recordId, id));
    expect(stored.find((d) => d.rule === 'incident.inmate-conversation')).toMatchObject({ active: true, endedBy: 'reclassification', endedAt: at('2026-03-10T09:00:00+01:00'), status: 'breached' });
    expect(stored.find((d) => d.rule === 'incident.final-report')?.active).toBe(false);
    const listed = await listDeadlines(h.ctx, ADMIN, { rule: 'incident.inmate-conversation', status: 'breached' });
    expect(listed.items.filter((d) => d.recordId === id)).toEqual([expect.objectContaining({ endedBy: 'reclassification', status: 'breached' })]);

    // No reminder or escalation waits for the chapter 4 duties any more; the chapter 5 closing is reminded to the delegate.
    const after = await rows(id);
    const chapter4 = after.filter((n) => /^incident\.(preliminary-notice|final-report|inmate-conversation):/.test(n.stage));
    expect(chapter4.filter((n) => n.status === 'scheduled')).toEqual([]);
    expect(chapter4.filter((n) => n.stage.startsWith('incident.final-report:')).every((n) => n.status === 'cancelled')).toBe(true);
    expect(after.filter((n) => n.stage.startsWith('incident.chapter5-closing:reminder') && n.status === 'scheduled').map((n) => n.recipient)).toEqual(['direktor@kf.test', 'direktor@kf.test', 'direktor@kf.test']);

    // The kind of a reclassified incident changes by an event only (the history stays whole).
    await expect(updateRecord(h.ctx, 'incident', id, { kind: 'qualified_self_harm' }, ADMIN)).rejects.toMatchObject({ issues: [{ path: 'kind' }] });

    // § 20 stk. 2: the chapter 5 case is closed as not reportable, which meets its closing and ends the record's mails.
    await recordEvent(h.ctx, 'incident', id, { type: 'closed_not_reportable', at: '2026-03-10T09:30:00+01:00' }, ADMIN);
    await plan('incident', id);
    const closed = await view('incident', id);
    expect(closed).toMatchObject({ closedNotReportableAt: '2026-03-10T09:30:00.000+01:00', closedAt: '2026-03-10T09:30:00.000+01:00' });
    expect(deadline(closed, 'incident.chapter5-closing')?.['status']).toBe('met');
    expect((await rows(id)).filter((n) => n.status === 'scheduled')).toEqual([]);
    const reportable = await createRecord(h.ctx, 'incident', { institutionId: 'vestre', journalNumber: 'L-R2', kind: 'qualified_self_harm', occurredAt: '2026-03-09T08:00:00+01:00' }, ADMIN);
    await expect(recordEvent(h.ctx, 'incident', reportable.id, { type: 'closed_not_reportable' }, ADMIN)).rejects.toMatchObject({ issues: [{ path: 'kind' }] });
  });

  it('000: a postponement decided after the due day leaves the follow-up breached; one decided by then suspends it', async () => {
    // Entered before the due day (a record arriving already breached is backlog, not escalated).
    h.clock.now = at('2026-03-05T10:00:00+01:00');
    const body = { institutionId: 'vestre', placedAt: '2026-03-02T01:00:00+01:00', endedAt: '2026-03-02T08:00:00+01:00' };
    const late = await createRecord(h.ctx, 'security_cell_placement', { ...body, journalNumber: 'L-C1' }, ADMIN);
    const timely = await createRecord(h.ctx, 'security_cell_placement', { ...body, journalNumber: 'L-C2' }, ADMIN);
    h.clock.now = at('2026-03-12T10:00:00+01:00');
    // 7 days after Mon 02.03 = Mon 09.03. Recorded today (12.03), decided today:
    await recordEvent(h.ctx, 'security_cell_placement', late.id, { type: 'follow_up_postponed', reason: 'Indlagt på psykiatrisk afdeling' }, ADMIN);
    await plan('security_cell_placement', late.id);
    const l = await view('security_cell_placement', late.id);
    expect(l['followUpPostponedAt']).toBe('2026-03-12T10:00:00.000+01:00');
    expect(deadline(l, 'cell.follow-up-conversation')).toMatchObject({ dueDate: '2026-03-09', status: 'breached', postponedLate: true });
    expect(deadline(l, 'cell.follow-up-conversation')?.['suspended']).toBeUndefined();
    expect((await rows(late.id)).filter((n) => n.stage.startsWith('cell.follow-up-conversation:escalation') && n.status === 'scheduled').length).toBeGreaterThan(0);
    // Recorded today, decided on the due day:
    await recordEvent(h.ctx, 'security_cell_placement', timely.id, { type: 'follow_up_postponed', reason: 'Indlagt på psykiatrisk afdeling', at: '2026-03-09T15:00:00+01:00' }, ADMIN);
    await plan('security_cell_placement', timely.id);
    expect(deadline(await view('security_cell_placement', timely.id), 'cell.follow-up-conversation')).toMatchObject({ status: 'open', suspended: true });
    expect((await rows(timely.id)).filter((n) => n.stage.startsWith('cell.follow-up-conversation:') && n.status === 'scheduled')).toEqual([]);
    // Setting the new date of the running postponement keeps the time it was decided.
    await recordEvent(h.ctx, 'security_cell_placement', timely.id, { type: 'follow_up_postponed', reason: 'Udskrevet, samtale aftalt', newDate: '2026-03-16' }, ADMIN);
    const moved = await view('security_cell_placement', timely.id);
    expect(moved['followUpPostponedAt']).toBe('2026-03-09T15:00:00.000+01:00');
    expect(deadline(moved, 'cell.follow-up-conversation')).toMatchObject({ dueDate: '2026-03-16', originalDueDate: '2026-03-09', status: 'open' });
  });

  it('000: the conversation offered and declined by the inmate meets the duty, at the offer', async () => {
    h.clock.now = at('2026-03-04T12:00:00+01:00');
    const { id } = await createRecord(h.ctx, 'security_cell_placement', { institutionId: 'vestre', journalNumber: 'L-C3', placedAt: '2026-03-02T01:00:00+01:00', endedAt: '2026-03-02T08:00:00+01:00' }, ADMIN);
    await plan('security_cell_placement', id);
    expect((await rows(id)).some((n) => n.stage.startsWith('cell.follow-up-conversation:reminder') && n.status === 'scheduled')).toBe(true);
    await recordEvent(h.ctx, 'security_cell_placement', id, { type: 'follow_up_offered', at: '2026-03-04T10:00:00+01:00' }, ADMIN);
    await recordEvent(h.ctx, 'security_cell_placement', id, { type: 'follow_up_declined', at: '2026-03-04T10:05:00+01:00' }, ADMIN);
    await plan('security_cell_placement', id);
    const v = await view('security_cell_placement', id);
    expect(v).toMatchObject({ followUpOfferedAt: '2026-03-04T10:00:00.000+01:00', followUpDeclinedAt: '2026-03-04T10:05:00.000+01:00', followUpHeldAt: null });
    expect(deadline(v, 'cell.follow-up-conversation')).toMatchObject({ status: 'met', completion: 'declined' });
    expect((await rows(id)).filter((n) => n.stage.startsWith('cell.follow-up-conversation:') && n.status === 'scheduled')).toEqual([]);
    // § 14: the note in the module is a completion field of its own; missing, it is a warning.
    expect((v['warnings'] as View[]).map((w) => w['field'])).toContain('followUpNoteAt');
    await recordEvent(h.ctx, 'security_cell_placement', id, { type: 'follow_up_note_recorded', at: '2026-03-04T11:00:00+01:00' }, ADMIN);
    expect(((await view('security_cell_placement', id))['warnings'] as View[]).map((w) => w['field'])).not.toContain('followUpNoteAt');
  });

  it('seed 001: the case review is reminded to the area office, recorded with reviewer and outcome, and an area can turn it off', async () => {
    h.clock.now = at('2026-03-02T12:00:00+01:00');
    await putSetting(h.ctx, 'policyByArea', { value: { nord: { 'cell.case-review': { enabled: 0 } } } }, ADMIN);
    await expect(putSetting(h.ctx, 'policyByArea', { value: { nord: { 'cell.case-review': { days: 3 } } } }, ADMIN)).rejects.toMatchObject({ issues: [{ path: 'value.nord.cell.case-review.days' }] });
    const body = { placedAt: '2026-03-02T01:00:00+01:00', endedAt: '2026-03-02T08:00:00+01:00' };
    const here = await createRecord(h.ctx, 'security_cell_placement', { ...body, institutionId: 'vestre', journalNumber: 'L-CR1' }, ADMIN);
    const there = await createRecord(h.ctx, 'security_cell_placement', { ...body, institutionId: 'aalborg', journalNumber: 'L-CR2' }, ADMIN);
    await plan('security_cell_placement', here.id);
    await plan('security_cell_placement', there.id);
    // 10 working days after Mon 02.03: Mon 16.03.
    expect(deadline(await view('security_cell_placement', here.id), 'cell.case-review')).toMatchObject({ dueDate: '2026-03-16', basis: 'policy', status: 'open' });
    expect(deadline(await getRecord(h.ctx, 'security_cell_placement', there.id, ADMIN) as View, 'cell.case-review')).toBeUndefined();
    expect(await db().select({ n: count() }).from(deadlines).where(and(eq(deadlines.recordId, there.id), eq(deadlines.ruleId, 'cell.case-review')))).toEqual([{ n: 0 }]);
    const reminders = (await rows(here.id)).filter((n) => n.stage.startsWith('cell.case-review:reminder'));
    expect(reminders.length).toBeGreaterThan(0);
    expect(reminders.every((n) => n.recipient === 'omraade@kf.test')).toBe(true);

    h.clock.now = at('2026-03-10T12:00:00+01:00');
    await recordEvent(h.ctx, 'security_cell_placement', here.id, { type: 'case_reviewed', at: '2026-03-10T11:00:00+01:00', reviewer: 'Jurist Hansen', outcome: 'Ingen bemærkninger; 010190-4321 orienteret' }, ADMIN);
    await plan('security_cell_placement', here.id);
    const v = await view('security_cell_placement', here.id);
    expect(v).toMatchObject({ caseReviewedAt: '2026-03-10T11:00:00.000+01:00', caseReviewer: 'Jurist Hansen', caseReviewOutcome: 'Ingen bemærkninger; 010190-4321 orienteret' });
    expect((await view('security_cell_placement', here.id, READER))['caseReviewOutcome']).toBe('Ingen bemærkninger; XXXXXX-XXXX orienteret');
    expect(deadline(v, 'cell.case-review')?.['status']).toBe('met');
    expect((await rows(here.id)).filter((n) => n.stage.startsWith('cell.case-review:') && n.status === 'scheduled')).toEqual([]);

    // The engine caches per policy object: the same settings give the same object, load after load.
    const [a, b] = [await loadRulesInForce(db(), []), await loadRulesInForce(db(), [])];
    expect(a.policyFor('nord')).toBe(b.policyFor('nord'));
    expect(a.policyFor('hovedstaden')).toBe(b.policy);
    expect(a.policyFor('nord')['cell.case-review']).toEqual({ enabled: 0 });
  });

  it('000: a security-cell placement at a halfway house is refused, by the API and the importer, and nothing is written', async () => {
    h.clock.now = at('2026-03-02T12:00:00+01:00');
    const counts = async () => Promise.all([securityCellPlacements, auditLog, deadlines].map(async (t) => (await db().select({ n: count() }).from(t))[0]?.n));
    const before = await counts();
    const refused = createRecord(h.ctx, 'security_cell_placement', { institutionId: 'pension-nord', journalNumber: 'L-H1', placedAt: '2026-03-02T10:00:00+01:00' }, ADMIN);
    await expect(refused).rejects.toMatchObject({ code: 'VALIDATION', issues: [{ path: 'institutionId', message: expect.stringContaining('Personalet i pensionerne må som hidtil efter direktoratets beslutning ikke anvende sikringsmidler') as string }] });
    const imported = await importRows(h.ctx, jsonlSource((async function* () {
      yield `${JSON.stringify({ institutionId: 'pension-nord', journalNumber: 'L-H2', placedAt: '2026-03-02T10:00:00+01:00' })}\n`;
    })()), { type: 'security_cell_placement' });
    expect(imported).toMatchObject({ created: 0, rejected: 1 });
    expect(imported.rejections[0]?.issues[0]?.field).toBe('institutionId');
    expect(await counts()).toEqual(before);
    // Other records at a halfway house are not affected.
    await createRecord(h.ctx, 'force_use', { institutionId: 'pension-nord', journalNumber: 'L-H3', occurredAt: '2026-03-02T10:00:00+01:00' }, ADMIN);
  });

  it('002 § 8, 004 pkt. 2, 10/15, 32: the report\'s complaint note, §§ 68–69 clients from the supervision conversation, the transition owner, the youth municipality contact with the first plan', async () => {
    h.clock.now = at('2026-03-10T12:00:00+01:00');
    // § 8: the report notes that the inmate was told of the right to complain; missing, the record warns.
    const force = await createRecord(h.ctx, 'force_use', { institutionId: 'vestre', journalNumber: 'L-F1', occurredAt: '2026-03-09T10:00:00+01:00' }, ADMIN);
    await recordEvent(h.ctx, 'force_use', force.id, { type: 'report_filed', at: '2026-03-09T15:00:00+01:00' }, ADMIN);
    const warned = (await getRecord(h.ctx, 'force_use', force.id, ADMIN)) as View;
    expect(warned).toMatchObject({ complaintInfoNoted: null, warnings: [expect.objectContaining({ rule: 'force.report', field: 'complaintInfoNoted' })] });
    await recordEvent(h.ctx, 'force_use', force.id, { type: 'report_filed', at: '2026-03-09T15:00:00+01:00', complaintInfoNoted: true }, ADMIN);
    expect((await getRecord(h.ctx, 'force_use', force.id, ADMIN)) as View).toMatchObject({ complaintInfoNoted: true, warnings: [] });

    // pkt. 2 / 17: a §§ 68–69 client's plan starts from the establishing supervision conversation (4 weeks: Mon 09.03 → Mon 06.04).
    const measure = await createRecord(h.ctx, 'action_plan', { institutionId: 'vestre', journalNumber: 'L-P1', clientCategory: 'measure_68_69', supervisionEstablishedAt: '2026-03-09T10:00:00+01:00' }, ADMIN);
    const m = (await getRecord(h.ctx, 'action_plan', measure.id, ADMIN)) as View;
    expect(m['admittedAt']).toBeNull();
    expect(m['deadlines'].find((d: View) => d['rule'] === 'plan.create')).toMatchObject({ startDate: '2026-03-09', dueDate: '2026-04-06' });

    // pkt. 32: youth home detention contacts the municipality with the first plan; pkt. 10/15: an owner on a transition placement.
    const owner = await createStaff(h.ctx, { areaId: 'hovedstaden', institutionId: 'vestre', name: 'Plan Ejer', email: 'l.plan.ejer@kf.test' }, ADMIN);
    const youth = await createRecord(h.ctx, 'action_plan', { institutionId: 'vestre', journalNumber: 'L-P2', clientCategory: 'youth_home_detention', admittedAt: '2026-03-02T10:00:00+01:00' }, ADMIN);
    await recordEvent(h.ctx, 'action_plan', youth.id, { type: 'created', at: '2026-03-05T10:00:00+01:00', municipalityContacted: true }, ADMIN);
    await recordEvent(h.ctx, 'action_plan', youth.id, { type: 'transition_placed', at: '2026-03-06T10:00:00+01:00' }, ADMIN);
    await recordEvent(h.ctx, 'action_plan', youth.id, { type: 'owner_assigned', ownerId: owner!.id, at: '2026-03-07T10:00:00+01:00' }, ADMIN);
    const y = (await getRecord(h.ctx, 'action_plan', youth.id, ADMIN)) as View;
    expect(y).toMatchObject({ planCreatedAt: '2026-03-05T10:00:00.000+01:00', municipalityContactedAt: '2026-03-05T10:00:00.000+01:00', transitionPlacedAt: '2026-03-06T10:00:00.000+01:00', transitionOwnerAssignedAt: '2026-03-07T10:00:00.000+01:00' });
    expect(y['deadlines'].find((d: View) => d['rule'] === 'plan.municipality-coordination')?.['status']).toBe('met');
  });

  it('§ 5, § 10, § 17, § 6 stk. 1: every chapter alerts the area director; only chapter 3 with media attention phones the directorate', async () => {
    const w = h.workers[0]!;
    h.clock.now = at('2026-03-02T09:00:00+01:00');
    const make = async (journalNumber: string, kind: string) => (await createRecord(h.ctx, 'incident', { institutionId: 'vestre', journalNumber, kind, occurredAt: '2026-03-02T07:00:00+01:00', mediaAttention: true }, ADMIN)).id;
    const ch5 = await make('L-A5', 'other_self_harm_behaviour');
    const ch4 = await make('L-A4', 'qualified_suicide_attempt');
    const ch3 = await make('L-A3', 'suicide');
    for (const id of [ch5, ch4, ch3]) await w.deps.planAndEnqueue('incident', id);
    await h.sink.waitFor(() =>
      sentTo('direktor@kf.test', (m) => /^Ny hændelse: .*\(j\.nr\. L-A[345],/.test(m.subject)).length === 3 && sentTo('vagt@kf.test', (m) => /^Ring til direktoratet nu.*L-A3/.test(m.subject)).length === 1,
    );
    const [chapter5] = sentTo('direktor@kf.test', (m) => m.subject.includes('L-A5'));
    expect(chapter5?.subject).toBe('Ny hændelse: anden selvmords- eller selvbeskadigelsesadfærd (j.nr. L-A5, Fængsel Vestre)');
    expect(chapter5?.text).toContain('Cirkulære om dødsfald m.v. § 17');
    // A chapter 5 case is not reportable: the mail claims no reporting duty (only the closing as not reportable is listed).
    expect(chapter5?.text).not.toMatch(/(?<!ikke-)indberetningspligtig|[Ff]oreløbig underretning/);
    expect(chapter5?.text).toContain('Sagen afsluttet som ikke-indberetningspligtig');
    expect(sentTo('direktor@kf.test', (m) => m.subject.includes('L-A4'))[0]?.text).toContain('§ 10');
    for (const id of [ch5, ch4]) expect((await rows(id)).filter((n) => n.stage === 'alert:directorate-phone')).toEqual([]);
    const phone = async () => (await rows(ch3)).filter((n) => n.stage === 'alert:directorate-phone').map((n) => [n.recipient, n.status]);
    // The mail is in; its row is marked right after the server's answer (re-read, never slept on).
    while ((await phone())[0]?.[1] === 'sending');
    expect(await phone()).toEqual([['vagt@kf.test', 'sent']]);
  });

  it('§ 21: the closing letter and its copy are reminded to the area office, with the institution in copy', async () => {
    const w = h.workers[0]!;
    h.clock.now = at('2026-03-02T09:00:00+01:00');
    const { id } = await createRecord(h.ctx, 'incident', { institutionId: 'vestre', journalNumber: 'L-CL1', kind: 'death', occurredAt: '2026-03-02T05:00:00+01:00', preliminaryNoticeSentAt: '2026-03-02T08:00:00+01:00', finalReportSubmittedAt: '2026-03-02T08:30:00+01:00' }, ADMIN);
    await plan('incident', id);
    // 4 weeks after the final report (Mon 02.03): Mon 30.03; reminder-2 two working days before, Thu 26.03 08:00.
    const letter = (await rows(id)).filter((n) => n.stage === 'incident.closing-letter:reminder-2' || n.stage === 'incident.closing-letter-copy:reminder-2');
    expect(letter.map((n) => [n.stage, n.recipient, n.plannedAt.toISOString()]).sort()).toEqual([
      ['incident.closing-letter-copy:reminder-2', 'omraade@kf.test', '2026-03-26T07:00:00.000Z'],
      ['incident.closing-letter-copy:reminder-2', 'vagt@kf.test', '2026-03-26T07:00:00.000Z'],
      ['incident.closing-letter:reminder-2', 'omraade@kf.test', '2026-03-26T07:00:00.000Z'],
      ['incident.closing-letter:reminder-2', 'vagt@kf.test', '2026-03-26T07:00:00.000Z'],
    ]);
    h.clock.now = at('2026-03-26T08:00:00+01:00');
    await w.sweep();
    const subject = /^Påmindelse: Afsluttende vurdering fra områdekontoret – frist mandag 30\.03\.2026 \(j\.nr\. L-CL1\)/;
    await h.sink.waitFor(() => ['omraade@kf.test', 'vagt@kf.test'].every((to) => sentTo(to, (m) => subject.test(m.subject)).length === 1));
    await h.sink.waitFor(() => ['omraade@kf.test', 'vagt@kf.test'].every((to) => sentTo(to, (m) => /^Påmindelse: Kopi af afsluttende skrivelse til Klientsager.*L-CL1/.test(m.subject)).length === 1));
  });

  it('an upgrade of the rule catalogue re-plans every stored record on the next sweep', async () => {
    const w = h.workers[0]!;
    h.clock.now = at('2026-03-27T09:00:00+01:00');
    await w.sweep();
    expect((await w.sweep()).planned).toBe(0);
    const stampRows = await db().select({ key: settings.key, updatedAt: settings.updatedAt }).from(settings);
    expect(settingsStamp(stampRows).startsWith(`catalogue@${CATALOGUE_VERSION}|`)).toBe(true);
    // The database as the previous release left it: its stamp had no catalogue version, its deadlines an older one.
    await db().update(workerState).set({ settingsStamp: settingsStamp(stampRows).split('|').slice(1).join('|') });
    await db().update(deadlines).set({ catalogueVersion: '2026.11.1' });
    const total = (await Promise.all(Object.values(KINDS).map(async (k) => (await db().select({ n: count() }).from(k.table))[0]?.n as number))).reduce((a, b) => a + b, 0);
    const first = await w.sweep();
    expect(first.planned).toBe(total);
    // Every deadline in force is recomputed; inactive ones (dropped by a reclassification) stay as history.
    expect(await db().selectDistinct({ v: deadlines.catalogueVersion }).from(deadlines).where(eq(deadlines.active, true))).toEqual([{ v: CATALOGUE_VERSION }]);
    expect((await w.sweep()).planned).toBe(0);
  });

  it('a stored record the rules in force refuse is left unplanned with an error naming it, and the sweep goes on', async () => {
    const w = h.workers[0]!;
    h.clock.now = at('2026-03-27T10:00:00+01:00');
    // Written straight into the table: a postponement of a placement that never ended (the rules refuse it).
    const [bad] = (await db().insert(securityCellPlacements).values({ institutionId: 'vestre', journalNumber: 'L-B1', placedAt: at('2026-03-27T01:00:00+01:00'), followUpPostponedReason: 'Testa Testesen syg', followUpPostponedAt: at('2026-03-27T02:00:00+01:00') }).returning({ id: securityCellPlacements.id }))!;
    const good = await createRecord(h.ctx, 'force_use', { institutionId: 'vestre', journalNumber: 'L-B2', occurredAt: '2026-03-27T08:00:00+01:00' }, ADMIN);
    h.logs.length = 0;
    await w.sweep();
    expect((await rows(good.id)).some((n) => n.stage.startsWith('force.report:'))).toBe(true);
    const line = h.logs.find((l) => l.includes('record not planned'));
    expect(line).toContain(bad?.id);
    expect(line).toContain('endedAt');
    expect(line).not.toContain('Testesen');
  });
});

describe('issue 10: the migration of records stored before it', () => {
  const name = `fristvagt_t_${RUN_STAMP}_${randomBytes(4).toString('hex')}`;
  let dir: string;
  let client: postgres.Sql;
  beforeAll(async () => {
    const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => undefined });
    try {
      await admin.unsafe(`CREATE DATABASE ${name}`);
    } finally {
      await admin.end();
    }
    // The migrations as the previous release shipped them: up to 0006.
    dir = mkdtempSync(join(tmpdir(), 'fristvagt-mig-'));
    cpSync(MIGRATIONS_DIR, dir, { recursive: true });
    const journal = JSON.parse(readFileSync(join(dir, 'meta/_journal.json'), 'utf8')) as { entries: Array<{ idx: number }> };
    journal.entries = journal.entries.filter((e) => e.idx <= 6);
    writeFileSync(join(dir, 'meta/_journal.json'), JSON.stringify(journal));
    client = postgres(urlFor(name), { max: 1, onnotice: () => undefined });
  });
  afterAll(async () => {
    await client?.end();
    rmSync(dir, { recursive: true, force: true });
    const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => undefined });
    try {
      await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    } finally {
      await admin.end();
    }
  });

  it('dates stored postponements from the audit log (else conservatively), keeps delay notices as history, and leaves records the engine accepts', async () => {
    await migrateTo(drizzle(client), { migrationsFolder: dir });
    await client`INSERT INTO areas (id, name, office_email, director_name, director_email) VALUES ('hovedstaden', 'Hovedstaden', 'omraade@kf.test', 'Direktør', 'direktor@kf.test')`;
    await client`INSERT INTO institutions (id, area_id, name, kind, duty_manager_email) VALUES ('vestre', 'hovedstaden', 'Fængsel Vestre', 'prison', 'vagt@kf.test')`;
    const cell = async (journal: string, reason: string | null, endedAt = '2026-01-05T08:00:00Z'): Promise<string> => {
      const [r] = await client`INSERT INTO security_cell_placements (institution_id, journal_number, placed_at, ended_at, follow_up_postponed_reason) VALUES ('vestre', ${journal}, '2026-01-05T01:00:00Z', ${endedAt}, ${reason}) RETURNING id`;
      return (r as { id: string }).id;
    };
    let n = 0;
    const audit = async (id: string, atIso: string, action: string, before: unknown, after: unknown): Promise<void> => {
      n++;
      await client`INSERT INTO audit_log (at, actor, action, entity_type, entity_id, before, after, prev_hash, hash) VALUES (${atIso}, 'api', ${action}, 'security_cell_placement', ${id}, ${before === null ? null : JSON.stringify(before)}::jsonb, ${JSON.stringify(after)}::jsonb, ${`p${n}`}, ${`h${n}`})`;
    };
    const sealed = (digest: string) => ({ followUpPostponedReason: { $personal: digest } });
    const none = { followUpPostponedReason: null };

    // Postponed by the event on 07.01, the reason reworded on 20.01: decided on 07.01.
    const byEvent = await cell('M-1', 'Indlagt, omformuleret');
    await audit(byEvent, '2026-01-05T10:00:00Z', 'security_cell_placement.create', null, none);
    await audit(byEvent, '2026-01-07T09:00:00Z', 'security_cell_placement.event.follow_up_postponed', none, sealed('a'));
    await audit(byEvent, '2026-01-20T09:00:00Z', 'security_cell_placement.update', sealed('a'), sealed('b'));
    // Created with the reason (an import, an integration): decided when it was created.
    const byCreate = await cell('M-2', 'Indlagt');
    await audit(byCreate, '2026-01-06T12:00:00Z', 'security_cell_placement.create', null, sealed('c'));
    // Postponed, withdrawn, postponed again: the postponement in force was decided the second time.
    const again = await cell('M-3', 'Indlagt igen');
    await audit(again, '2026-01-06T09:00:00Z', 'security_cell_placement.event.follow_up_postponed', none, sealed('d'));
    await audit(again, '2026-01-08T09:00:00Z', 'security_cell_placement.update', sealed('d'), none);
    await audit(again, '2026-01-14T09:00:00Z', 'security_cell_placement.event.follow_up_postponed', none, sealed('e'));
    // No trace in the audit log: the last change of the row, the latest it can have been decided.
    const untraced = await cell('M-4', 'Indlagt');
    const [{ t: untracedUpdatedAt }] = (await client`SELECT updated_at::text AS t FROM security_cell_placements WHERE id = ${untraced}`) as unknown as [{ t: string }];
    // An end entered after the audit entry: never before the placement ended.
    const endedLater = await cell('M-5', 'Indlagt', '2026-01-09T08:00:00Z');
    await audit(endedLater, '2026-01-07T09:00:00Z', 'security_cell_placement.event.follow_up_postponed', none, sealed('f'));
    const notPostponed = await cell('M-6', null);
    await client`INSERT INTO incidents (institution_id, journal_number, kind, occurred_at, delay_notified_at, final_report_expected_at, delay_reason) VALUES ('vestre', 'M-I1', 'death', '2026-01-02T10:00:00Z', '2026-01-20T09:00:00Z', '2026-02-20', 'Afventer obduktion')`;
    await client`INSERT INTO incidents (institution_id, journal_number, kind, occurred_at) VALUES ('vestre', 'M-I2', 'suicide', '2026-01-02T10:00:00Z')`;
    await client`INSERT INTO action_plans (institution_id, journal_number, client_category, admitted_at) VALUES ('vestre', 'M-P1', 'measure_68_69', '2026-01-02T10:00:00Z')`;

    // The upgrade, as a start with FRISTVAGT_MIGRATE_ON_START or `fristvagt migrate` runs it.
    const database = await openDatabase({ databaseUrl: urlFor(name), maxConnections: 1 });
    try {
      await migrate(database, { databaseUrl: urlFor(name) });
      const d = database.db;
      const postponedAt = async (id: string) => (await d.select({ at: securityCellPlacements.followUpPostponedAt }).from(securityCellPlacements).where(eq(securityCellPlacements.id, id)))[0]?.at ?? null;
      expect(await postponedAt(byEvent)).toEqual(at('2026-01-07T09:00:00Z'));
      expect(await postponedAt(byCreate)).toEqual(at('2026-01-06T12:00:00Z'));
      expect(await postponedAt(again)).toEqual(at('2026-01-14T09:00:00Z'));
      expect((await client`SELECT follow_up_postponed_at::text AS t FROM security_cell_placements WHERE id = ${untraced}`)[0]?.['t']).toBe(untracedUpdatedAt);
      expect(await postponedAt(endedLater)).toEqual(at('2026-01-09T08:00:00Z'));
      expect(await postponedAt(notPostponed)).toBeNull();
      // The reason and its time go together from now on.
      await expect(d.execute(sql`UPDATE security_cell_placements SET follow_up_postponed_at = NULL WHERE id = ${byEvent}`)).rejects.toThrow();

      const notices = await d.select().from(incidentDelayNotices);
      expect(notices.map((x) => [x.notifiedAt.toISOString(), x.expectedDate, x.reason])).toEqual([['2026-01-20T09:00:00.000Z', '2026-02-20', 'Afventer obduktion']]);
      // Every migrated record is one the rules in force accept.
      for (const kind of Object.values(KINDS)) {
        const ids = (await d.select({ id: kind.table.id }).from(kind.table)) as Array<{ id: string }>;
        for (const row of (await kind.load(d, ids.map((r) => r.id))) as AnyRow[]) expect(() => parseRecord(kind.toEngine(row), Date.parse('2026-03-01T00:00:00Z'))).not.toThrow();
      }
    } finally {
      await database.close();
    }
  });
});
