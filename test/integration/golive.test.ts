/**
 * Go-live (issue 12, section 1) end to end: real Postgres, real Redis, a real SMTP server, the
 * worker on an injected clock. An import of old open cases sends no mail about them one by one,
 * only one backlog summary per area office; `--historical` sends nothing at all; the demo start
 * mails only about recent events.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { and, eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backlogItems, backlogSummaries, deadlines, incidents, notifications } from '../../src/db/schema.js';
import { isRecent } from '../../src/domain/index.js';
import { loadRulesInForce } from '../../src/records/calendar.js';
import { seedDemo } from '../../src/records/demo.js';
import { importFile } from '../../src/records/import.js';
import { createArea, createInstitution } from '../../src/records/masterdata.js';
import { createRecord } from '../../src/records/service.js';
import { putSetting } from '../../src/records/settings.js';
import { planRecords, type RecordRef } from '../../src/worker/planner.js';
import { loadWorkerSettings } from '../../src/worker/settings.js';
import { ADMIN, startWorkerHarness, type WorkerHarness } from '../support/worker.js';

const KINDS = ['death', 'suicide', 'qualified_suicide_attempt', 'qualified_self_harm', 'other_self_harm_behaviour'];
/** A fixed sequence, so the file is the same every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('go-live', () => {
  let h: WorkerHarness;
  let dir: string;
  // Friday 27 November 2026, 10:00: the backlog summaries go out on Monday at the send window's start (07:00).
  const NOW = '2026-11-27T10:00:00+01:00';
  const MONDAY = new Date('2026-11-30T07:00:00+01:00');

  beforeAll(async () => {
    h = await startWorkerHarness('postgres', NOW);
    await createArea(h.ctx, { id: 'nord', name: 'Kriminalforsorgen Nord', officeEmail: 'nord@kf.test', directorName: 'Områdedirektør Nord', directorEmail: 'direktor-nord@kf.test' }, ADMIN);
    await createInstitution(h.ctx, { id: 'nordfaengsel', areaId: 'nord', name: 'Fængsel Nord', kind: 'prison', dutyManagerEmail: 'vagt-nord@kf.test' }, ADMIN);
    dir = mkdtempSync(join(tmpdir(), 'fv-golive-'));
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await h?.close();
  });

  const db = () => h.db.database.db;
  const plan = async (refs: RecordRef[]) => planRecords(db(), { closureDays: [], now: h.clock.now, settings: await loadWorkerSettings(db()) }, refs);
  const ids = async (prefix: string): Promise<string[]> => (await db().select({ id: incidents.id, j: incidents.journalNumber }).from(incidents)).filter((r) => r.j.startsWith(prefix)).map((r) => r.id);

  /** `n` incidents spread over ten years, the newest two months old, registered an hour after; half in each area. */
  function csv(name: string, prefix: string, n: number, closed: boolean): string {
    const rnd = prng(12);
    const now = Date.parse(NOW);
    const lines = ['institutionId,journalNumber,kind,occurredAt,registeredAt,closedAt'];
    for (let i = 0; i < n; i++) {
      const occurred = now - (60 + Math.floor(rnd() * 3590)) * 86_400_000 - Math.floor(rnd() * 86_400_000);
      const iso = (ms: number) => new Date(ms).toISOString();
      lines.push([i % 2 === 0 ? 'vestre' : 'nordfaengsel', `${prefix}-${i + 1}`, KINDS[i % KINDS.length], iso(occurred), iso(occurred + 3_600_000), closed ? iso(occurred + 40 * 86_400_000) : ''].join(','));
    }
    const path = join(dir, name);
    writeFileSync(path, `${lines.join('\n')}\n`);
    return path;
  }

  it('2,000 old open incidents: no mail about them one by one, one backlog summary per area office, listing them', async () => {
    const w = await h.start();
    const summary = await importFile(h.ctx, csv('incident-open.csv', 'GL', 2000, false), { actor: 'test-import', plan });
    expect(summary.created).toBe(2000);
    expect(summary.planned).toBe(2000);
    const mine = await ids('GL-');
    // Nothing to mail one by one: no alert (registered years before it arrived), no reminder, no escalation.
    expect(await db().select().from(notifications).where(inArray(notifications.recordId, mine))).toEqual([]);
    // Everything breached when it arrived is listed: the alerts too old to send, the deadlines already overdue.
    const items = await db().select().from(backlogItems).where(inArray(backlogItems.recordId, mine));
    expect(new Set(items.filter((i) => i.kind === 'alert').map((i) => i.recordId)).size).toBe(2000);
    const open = await db().select({ recordId: deadlines.recordId, key: deadlines.key }).from(deadlines).where(and(inArray(deadlines.recordId, mine), eq(deadlines.status, 'breached'), eq(deadlines.active, true)));
    expect(items.filter((i) => i.kind === 'deadline').length).toBe(open.length);
    const summaries = await db().select().from(backlogSummaries);
    expect(summaries.map((s) => [s.areaId, s.recipient, s.plannedAt.toISOString(), s.status]).sort()).toEqual([
      ['hovedstaden', 'omraade@kf.test', MONDAY.toISOString(), 'scheduled'],
      ['nord', 'nord@kf.test', MONDAY.toISOString(), 'scheduled'],
    ]);

    // Planning again (the sweep after a settings change, an edit) lists nothing new and mails nothing.
    h.clock.now = new Date('2026-11-27T15:00:00+01:00');
    const again = await plan(mine.map((id) => ({ type: 'incident', id })));
    expect(again.backlogListed).toBe(0);
    expect(again.scheduled).toBe(0);

    // Monday morning: one summary per area office, and nothing else.
    h.clock.now = MONDAY;
    await w.sweep();
    const mails = await h.sink.waitFor((all) => all.length >= 2);
    expect(mails.map((m) => m.to.join()).sort()).toEqual(['nord@kf.test', 'omraade@kf.test']);
    for (const m of mails) {
      expect(m.subject).toMatch(/^Restance fra idriftsættelse\/sen registrering: \d+ forhold i Kriminalforsorgen (Hovedstaden|Nord) \(/);
      expect(m.messageId).toMatch(/^<backlog-summary-[0-9a-f-]{36}@kriminalforsorgen\.test>$/);
      // Journal numbers, rule, due date and days overdue; the rest is on the backlog page.
      expect(m.text).toMatch(/GL-\d+ +Foreløbig underretning[^\n]* +\d{2}\.\d{2}\.\d{4} +\d+/);
      expect(m.text).toContain('https://fristvagt.kf.test/backlog');
      expect(m.text).toMatch(/… og \d+ flere: se restancelisten i fristvagt\./);
      expect(m.text.indexOf('Til Kriminalforsorgen')).toBeLessThan(m.text.indexOf('-- English --'));
    }
    // Marked sent right after the server's 250 (group commit): re-read until both are.
    const deadline = Date.now() + 10_000;
    while ((await db().select().from(backlogSummaries)).some((s) => s.status !== 'sent')) if (Date.now() > deadline) throw new Error('summaries not marked sent');
    // Still no notification row for these records: nothing else can go out about them.
    expect(await db().select({ id: notifications.id }).from(notifications).where(inArray(notifications.recordId, mine))).toEqual([]);
  });

  it('--historical: closed history only, no notification and no backlog at all; an open row is refused naming closedAt', async () => {
    h.clock.now = new Date('2026-11-30T10:00:00+01:00');
    const summary = await importFile(h.ctx, csv('incident-closed.csv', 'HI', 300, true), { actor: 'test-import', plan, historical: true });
    expect(summary).toMatchObject({ created: 300, rejected: 0, historical: true, planned: 300 });
    const mine = await ids('HI-');
    expect(await db().select().from(notifications).where(inArray(notifications.recordId, mine))).toEqual([]);
    expect(await db().select().from(backlogItems).where(inArray(backlogItems.recordId, mine))).toEqual([]);
    // Deadlines are there for the figures.
    expect((await db().select({ id: deadlines.id }).from(deadlines).where(inArray(deadlines.recordId, mine))).length).toBeGreaterThan(300);
    const open = await importFile(h.ctx, csv('incident-mixed.csv', 'HJ', 2, false), { actor: 'test-import', plan, historical: true });
    expect(open.created).toBe(0);
    expect(open.rejections.map((r) => r.issues.map((i) => i.field))).toEqual([['closedAt'], ['closedAt']]);
  });

  it('registeredAt: an API field on every record type, refused in the future or before its event, naming the field', async () => {
    h.clock.now = new Date('2026-11-30T10:00:00+01:00');
    const cell = await createRecord(h.ctx, 'security_cell_placement', { institutionId: 'vestre', journalNumber: 'GL-C1', placedAt: '2026-11-30T08:00:00+01:00', registeredAt: '2026-11-30T09:00:00+01:00' }, ADMIN);
    expect(cell.id).toBeDefined();
    const future = createRecord(h.ctx, 'force_use', { institutionId: 'vestre', journalNumber: 'GL-F1', occurredAt: '2026-11-30T08:00:00+01:00', registeredAt: '2026-11-30T10:05:00+01:00' }, ADMIN);
    await expect(future).rejects.toMatchObject({ code: 'VALIDATION', issues: [{ path: 'registeredAt', message: expect.stringMatching(/in the future/) }] });
    const before = createRecord(h.ctx, 'action_plan', { institutionId: 'vestre', journalNumber: 'GL-P1', clientCategory: 'remand', admittedAt: '2026-11-20', registeredAt: '2026-11-19' }, ADMIN);
    await expect(before).rejects.toMatchObject({ code: 'VALIDATION', issues: [{ path: 'registeredAt', message: expect.stringMatching(/before admittedAt/) }] });
    // A bare date on the event's own day is not "before" it.
    const sameDay = await createRecord(h.ctx, 'force_use', { institutionId: 'vestre', journalNumber: 'GL-F2', occurredAt: '2026-11-30T08:00:00+01:00', registeredAt: '2026-11-30' }, ADMIN);
    expect(sameDay.id).toBeDefined();
  });

  it('recency is a setting an administrator changes (audited); a bad value is refused naming the field', async () => {
    await expect(putSetting(h.ctx, 'recency', { value: { workingDays: 31 } }, ADMIN)).rejects.toMatchObject({ code: 'VALIDATION', issues: [{ path: 'value.workingDays' }] });
    await expect(putSetting(h.ctx, 'recency', { value: { workingDays: 2, days: 3 } }, ADMIN)).rejects.toMatchObject({ code: 'VALIDATION' });
    await putSetting(h.ctx, 'recency', { value: { workingDays: 3 } }, ADMIN);
    expect((await loadWorkerSettings(db())).recency).toEqual({ workingDays: 3 });
    await putSetting(h.ctx, 'recency', { value: { workingDays: 2 } }, ADMIN);
  });

  it('the demo start mails only about recent events: alerts within the window, deadlines not yet breached when they arrived', async () => {
    const w = h.workers[0]!;
    h.clock.now = new Date('2026-12-01T10:00:00+01:00');
    const before = h.sink.received.length;
    const seeded = await seedDemo(h.ctx, { records: 300 });
    expect(seeded.created).toBe(300);
    await w.sweep();
    const rules = await loadRulesInForce(db(), []);
    const demo = await db().select({ id: incidents.id, registeredAt: incidents.registeredAt, createdAt: incidents.createdAt }).from(incidents);
    const incidentsById = new Map(demo.map((r) => [r.id, r]));
    const rows = (await db().select().from(notifications)).filter((n) => n.recipient.endsWith('.invalid'));
    expect(rows.length).toBeGreaterThan(0);
    const dueBy = new Map((await db().select({ id: deadlines.id, dueAt: deadlines.dueAt }).from(deadlines)).map((d) => [d.id, d.dueAt]));
    for (const n of rows) {
      // Never planned before the record arrived.
      expect(n.plannedAt.getTime(), `${n.stage} ${n.status} ${n.plannedAt.toISOString()}`).toBeGreaterThanOrEqual(h.clock.now.getTime() - 60_000);
      if (n.kind === 'alert') {
        const inc = incidentsById.get(n.recordId)!;
        expect(isRecent(inc.registeredAt.getTime(), inc.createdAt.getTime(), 2, rules.calendar)).toBe(true);
      } else {
        // A reminder or escalation of a deadline that was still open when its record arrived.
        expect(dueBy.get(n.deadlineId ?? '')!.getTime()).toBeGreaterThanOrEqual(h.clock.now.getTime() - 60_000);
      }
    }
    // Everything due now goes out, and every mail that went is one of those rows.
    const dueNow = rows.filter((n) => n.plannedAt.getTime() <= h.clock.now.getTime());
    const demoMails = (all: typeof h.sink.received) => all.slice(before).filter((m) => m.to.some((a) => a.endsWith('.invalid')));
    const got = demoMails(await h.sink.waitFor((all) => demoMails(all).length >= dueNow.length));
    const ids = new Set(rows.map((n) => `<notification-${n.id}@kriminalforsorgen.test>`));
    for (const m of got) {
      expect(ids.has(m.messageId)).toBe(true);
      expect(m.to.every((a) => a.endsWith('.invalid'))).toBe(true);
    }
    // The rest of the demo's history is the demo areas' backlog, summarised once per area office.
    const summaries = (await db().select().from(backlogSummaries)).filter((s) => s.recipient.endsWith('.invalid'));
    expect(summaries.length).toBe(3);
  });
});
