/**
 * The § 22 annual overview end to end: planned by the sweep in January, sent once to the directorate
 * (copy to the area office) with a CSV attachment, over a real SMTP server, driven by the clock.
 */
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { annualOverviews } from '../../src/db/schema.js';
import { createRecord, recordEvent } from '../../src/records/service.js';
import { ADMIN, startWorkerHarness, type WorkerHarness } from '../support/worker.js';

describe('annual overview (§ 22)', () => {
  let h: WorkerHarness;
  beforeAll(async () => {
    h = await startWorkerHarness('postgres', '2027-01-05T10:00:00+01:00');
  });
  afterAll(async () => h?.close());

  it('is planned in January, sent once two working days before 31 January, with the year’s figures as CSV', async () => {
    const w = await h.start();
    const incident = async (journalNumber: string, kind: string, occurredAt: string) =>
      (await createRecord(h.ctx, 'incident', { institutionId: 'vestre', journalNumber, kind, occurredAt, inmateName: 'Demo Person', cpr: '0101904321' }, ADMIN)).id;
    const onTime = await incident('AO-1', 'death', '2026-03-27T14:00:00+01:00');
    await recordEvent(h.ctx, 'incident', onTime, { type: 'preliminary_notice_sent', at: '2026-03-30T09:00:00+02:00' }, ADMIN);
    await recordEvent(h.ctx, 'incident', onTime, { type: 'final_report_submitted', at: '2026-04-20T09:00:00+02:00' }, ADMIN);
    await incident('AO-2', 'suicide', '2026-05-10T03:00:00+02:00');
    // 23:30 local on New Year's Eve still belongs to 2026; 00:30 on 1 January does not.
    await incident('AO-3', 'qualified_self_harm', '2026-12-31T23:30:00+01:00');
    await incident('AO-4', 'death', '2027-01-01T00:30:00+01:00');
    await incident('AO-5', 'other_self_harm_behaviour', '2026-06-01T12:00:00+02:00');

    const first = await w.sweep();
    expect(first.annualPlanned).toBe(1);
    const [row] = await h.db.database.db.select().from(annualOverviews);
    expect(row).toMatchObject({ areaId: 'hovedstaden', year: 2026, recipient: 'direktorat@kf.test', status: 'scheduled' });
    // Due Sunday 31.01.2027; two working days before at 08:00: Thursday 28.01.
    expect(row?.plannedAt.toISOString()).toBe('2027-01-28T07:00:00.000Z');
    expect((await w.sweep()).annualPlanned).toBe(0);

    h.clock.now = new Date('2027-01-28T08:00:00+01:00');
    await w.sweep();
    const [mail] = await h.sink.waitFor((all) => all.some((m) => m.subject.startsWith('Årlig oversigt 2026')));
    const sent = h.sink.received.filter((m) => m.subject.startsWith('Årlig oversigt 2026'));
    expect(sent).toHaveLength(1);
    expect(mail).toBeDefined();
    const overview = sent[0]!;
    expect(overview.subject).toBe('Årlig oversigt 2026 over indberetningspligtige hændelser – Kriminalforsorgen Hovedstaden (§ 22)');
    expect(overview.to.sort()).toEqual(['direktorat@kf.test', 'omraade@kf.test']);
    expect(overview.text).toContain('Hændelser i alt: 3');
    // AO-1 notice on time; AO-2 and AO-3 not made: 1 of 3.
    expect(overview.text).toContain('Foreløbige underretninger givet rettidigt: 33,3\u00a0%');
    expect(overview.text).toContain('søndag 31.01.2027');
    expect(overview.text).toContain('Cirkulære om dødsfald m.v. § 22');
    expect(overview.text + overview.html + overview.subject).not.toMatch(/0101904321|010190-4321|Demo Person/);
    expect(overview.attachments).toHaveLength(1);
    const csv = overview.attachments[0]!;
    expect(csv.filename).toBe('aarsoversigt-2026-hovedstaden.csv');
    expect(csv.contentType).toMatch(/^text\/csv/);
    expect(csv.content.split('\r\n').filter(Boolean)).toEqual([
      'institution,kind,kind_da,incidents,notice_on_time,notice_late,notice_missing_or_open,report_on_time,report_late,report_missing_or_open',
      'Fængsel Vestre,death,Dødsfald,1,1,0,0,1,0,0',
      'Fængsel Vestre,suicide,Selvmord,1,0,0,1,0,0,1',
      'Fængsel Vestre,qualified_self_harm,Kvalificeret selvskade,1,0,0,1,0,0,1',
    ]);

    // Once: further sweeps and a second worker send nothing more.
    const w2 = await h.start();
    await Promise.all([w.sweep(), w2.sweep()]);
    const [after] = await h.db.database.db.select().from(annualOverviews).where(eq(annualOverviews.year, 2026));
    expect(after?.status).toBe('sent');
    expect(after?.messageId).toBe(overview.messageId);
    expect(h.sink.received.filter((m) => m.subject.startsWith('Årlig oversigt'))).toHaveLength(1);
  });
});

describe('annual overview (§ 22), a greylisting directorate', () => {
  let h: WorkerHarness;
  beforeAll(async () => {
    h = await startWorkerHarness('postgres', '2027-01-05T10:00:00+01:00');
  });
  afterAll(async () => h?.close());

  it("retries when only the directorate's copy is refused for now (4xx), instead of giving up", async () => {
    const w = await h.start();
    // Reported on time, so that the only mail to the directorate is the overview.
    const { id } = await createRecord(h.ctx, 'incident', { institutionId: 'vestre', journalNumber: 'AO-G1', kind: 'death', occurredAt: '2026-08-01T12:00:00+02:00' }, ADMIN);
    await recordEvent(h.ctx, 'incident', id, { type: 'preliminary_notice_sent', at: '2026-08-03T09:00:00+02:00' }, ADMIN);
    await recordEvent(h.ctx, 'incident', id, { type: 'final_report_submitted', at: '2026-08-20T09:00:00+02:00' }, ADMIN);
    await recordEvent(h.ctx, 'incident', id, { type: 'closing_letter_sent', at: '2026-09-01T09:00:00+02:00' }, ADMIN);
    await recordEvent(h.ctx, 'incident', id, { type: 'closing_letter_copy_sent', at: '2026-09-01T09:00:00+02:00' }, ADMIN);
    expect((await w.sweep()).annualPlanned).toBe(1);
    const row = async () => (await h.db.database.db.select().from(annualOverviews))[0]!;
    // The office's copy is accepted, the directorate's greylisted once: nodemailer does not throw for that.
    let refusals = 0;
    h.sink.refuseRcpt = (addr) => (addr === 'direktorat@kf.test' && refusals++ === 0 ? 451 : undefined);
    h.clock.now = (await row()).plannedAt;
    await w.sweep();
    await h.sink.waitFor((all) => all.some((m) => m.subject.startsWith('Årlig oversigt 2026') && m.to.includes('direktorat@kf.test')));
    for (;;) {
      const r = await row();
      if (r.status !== 'sending' && r.status !== 'scheduled') break;
    }
    expect(refusals).toBe(2);
    expect(await row()).toMatchObject({ status: 'sent', attempts: 2 });
    // The office accepted its copy on the first attempt and is not copied again on the retry.
    const overviews = h.sink.received.filter((m) => m.subject.startsWith('Årlig oversigt 2026'));
    expect(overviews.flatMap((m) => m.to).filter((a) => a === 'omraade@kf.test')).toHaveLength(1);
    expect((await row()).officeCopySentAt).not.toBeNull();
  });
});
