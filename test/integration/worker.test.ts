/**
 * The watchdog end to end: real Postgres, real Redis, a real SMTP server. Time is driven by the
 * injected clock; each step waits on the mails it expects, never on a timer.
 */
import { QueueEvents } from 'bullmq';
import { and, eq, sql } from 'drizzle-orm';
import { Redis } from 'ioredis';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { notifications } from '../../src/db/schema.js';
import { QUEUE_NAME } from '../../src/queue/registry.js';
import { createRecord, recordEvent } from '../../src/records/service.js';
import { createArea, createInstitution, createStaff } from '../../src/records/masterdata.js';
import { planRecord } from '../../src/worker/planner.js';
import { retryDelayMs } from '../../src/worker/delivery.js';
import { sendNotification } from '../../src/worker/send.js';
import { loadWorkerSettings } from '../../src/worker/settings.js';
import { ADMIN, REDIS_URL, startWorkerHarness, type WorkerHarness } from '../support/worker.js';

const at = (iso: string): Date => new Date(iso);
const rowsOf = <T,>(res: unknown): T[] => (Array.isArray(res) ? res : (res as { rows: unknown[] }).rows) as T[];

/** Re-checks a database condition after each round trip (no timers); gives up after 10 s. */
async function until(cond: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error('condition not reached');
  }
}

describe('watchdog worker', () => {
  let h: WorkerHarness;
  beforeAll(async () => {
    h = await startWorkerHarness('postgres', '2026-03-27T15:00:00+01:00');
    await h.start();
  });
  afterAll(async () => h?.close());

  async function rows(recordId: string) {
    return h.db.database.db.select().from(notifications).where(eq(notifications.recordId, recordId));
  }
  const sentTo = (addr: string, subject: RegExp) => h.sink.received.filter((m) => m.to.includes(addr) && subject.test(m.subject));
  /** Plans a record as the worker would, at the harness clock, without enqueueing anything. */
  const plan = async (type: 'force_use' | 'incident', id: string): Promise<void> => {
    await planRecord(h.db.database.db, { closureDays: [], now: h.clock.now, settings: await loadWorkerSettings(h.db.database.db) }, type, id);
  };
  /** A use of force (report not filed) at `occurredAt`, planned now; its reminder-0 row. */
  const forceWithReminder = async (journalNumber: string, occurredAt: string) => {
    const f = await createRecord(h.ctx, 'force_use', { institutionId: 'vestre', journalNumber, occurredAt }, ADMIN);
    await plan('force_use', f.id);
    return { f, r0: (await rows(f.id)).find((n) => n.stage === 'force.report:reminder-0')! };
  };

  it('alerts the area director at once and reminds, then a met deadline cancels its pending mails', async () => {
    const w = h.workers[0]!;
    const inc = await createRecord(h.ctx, 'incident', { institutionId: 'vestre', journalNumber: 'W-1', kind: 'death', occurredAt: '2026-03-27T14:00:00+01:00', inmateName: 'Demo Person', cpr: '0101904321' }, ADMIN);
    await w.deps.planAndEnqueue('incident', inc.id);
    const [alert] = await h.sink.waitFor(() => sentTo('direktor@kf.test', /^Ny hændelse: dødsfald/).length === 1);
    expect(alert).toBeDefined();
    const alertMail = sentTo('direktor@kf.test', /^Ny hændelse/)[0]!;
    expect(alertMail.messageId).toMatch(/^<notification-[0-9a-f-]{36}@kriminalforsorgen\.test>$/);
    expect(alertMail.text).toContain('Foreløbig underretning: onsdag 01.04.2026');
    expect(JSON.stringify(h.sink.received)).not.toContain('0101904321');

    // The planned instants are the schedule's: preliminary notice reminders Mon/Tue/Wed 08:00, escalations from Thu 00:00.
    const planned = (await rows(inc.id)).filter((n) => n.stage.startsWith('incident.preliminary-notice')).map((n) => [n.stage.split(':')[1], n.recipient, n.plannedAt.toISOString()]);
    expect(planned).toEqual(expect.arrayContaining([
      ['reminder-2', 'direktor@kf.test', '2026-03-30T06:00:00.000Z'],
      ['reminder-1', 'direktor@kf.test', '2026-03-31T06:00:00.000Z'],
      ['reminder-0', 'direktor@kf.test', '2026-04-01T06:00:00.000Z'],
      ['escalation-1', 'omraade@kf.test', '2026-04-01T22:00:00.000Z'],
      ['escalation-2', 'direktorat@kf.test', '2026-04-07T06:00:00.000Z'],
    ]));

    h.clock.now = at('2026-03-30T08:00:00+02:00');
    await w.sweep();
    await h.sink.waitFor(() => sentTo('direktor@kf.test', /^Påmindelse: Foreløbig underretning – frist onsdag 01\.04\.2026/).length === 1);
    const reminder = sentTo('direktor@kf.test', /^Påmindelse/)[0]!;
    expect(reminder.text).toContain('Cirkulære om dødsfald m.v. § 6, stk. 2');
    expect(reminder.text).toContain('https://fristvagt.kf.test/records/incidents/');
    expect(reminder.html).toContain('<a href="https://fristvagt.kf.test/records/incidents/');

    h.clock.now = at('2026-03-30T10:00:00+02:00');
    await recordEvent(h.ctx, 'incident', inc.id, { type: 'preliminary_notice_sent', at: '2026-03-30T09:30:00+02:00' }, ADMIN);
    await w.deps.planAndEnqueue('incident', inc.id);
    const after = (await rows(inc.id)).filter((n) => n.stage.startsWith('incident.preliminary-notice'));
    expect(after.filter((n) => n.status === 'sent').map((n) => n.stage)).toEqual(['incident.preliminary-notice:reminder-2']);
    expect(after.filter((n) => n.status === 'cancelled')).toHaveLength(4);

    // Past the old due date nothing more goes out for the notice.
    h.clock.now = at('2026-04-07T09:00:00+02:00');
    const before = h.sink.received.length;
    const s = await w.sweep();
    expect(s.leader).toBe(true);
    expect(sentTo('omraade@kf.test', /Foreløbig underretning/)).toHaveLength(0);
    expect(h.sink.received.length).toBe(before);
  });

  it('a moved deadline moves its reminders; a breach escalates along the ladder', async () => {
    const w = h.workers[0]!;
    h.clock.now = at('2026-04-07T09:00:00+02:00');
    const inc = await createRecord(h.ctx, 'incident', { institutionId: 'vestre', journalNumber: 'W-2', kind: 'suicide', occurredAt: '2026-04-06T10:00:00+02:00', preliminaryNoticeSentAt: '2026-04-07T08:00:00+02:00' }, ADMIN);
    await w.deps.planAndEnqueue('incident', inc.id);
    const before = (await rows(inc.id)).find((n) => n.stage === 'incident.final-report:reminder-1')!;
    expect(before.plannedAt.toISOString()).toBe('2026-05-01T06:00:00.000Z'); // due Mon 04.05, −1 wd = Fri 01.05 (1 May is a working day)
    h.clock.now = at('2026-04-20T10:00:00+02:00');
    await recordEvent(h.ctx, 'incident', inc.id, { type: 'delay_notified', at: '2026-04-20T09:00:00+02:00', expectedDate: '2026-05-20', reason: 'Afventer obduktion' }, ADMIN);
    await w.deps.planAndEnqueue('incident', inc.id);
    const moved = (await rows(inc.id)).find((n) => n.stage === 'incident.final-report:reminder-1')!;
    expect(moved.plannedAt.toISOString()).toBe('2026-05-19T06:00:00.000Z');
    expect(moved.version).toBeGreaterThan(before.version);

    h.clock.now = at('2026-04-07T09:00:00+02:00');
    const force = await createRecord(h.ctx, 'force_use', { institutionId: 'vestre', journalNumber: 'W-F1', occurredAt: '2026-04-07T08:30:00+02:00' }, ADMIN);
    await w.deps.planAndEnqueue('force_use', force.id);
    // force.report due Wed 08.04; breach Thu 09.04 00:00 → escalation-1 at the window opening 07:00, escalation-2 on Fri 10.04 08:00.
    h.clock.now = at('2026-04-09T07:00:00+02:00');
    await w.sweep();
    await h.sink.waitFor(() => sentTo('omraade@kf.test', /^Overskredet frist: Rapport om magtanvendelse/).length === 1);
    h.clock.now = at('2026-04-10T08:00:00+02:00');
    await w.sweep();
    await h.sink.waitFor(() => sentTo('ledelse@kf.test', /^Overskredet frist: Rapport om magtanvendelse/).length === 1);
    const second = sentTo('ledelse@kf.test', /^Overskredet frist/)[0]!;
    expect(second.text).toContain('anden rykker');
  });

  it("sends an absent plan owner's reminders to the substitute, and an ownerless plan's to the area office", async () => {
    const w = h.workers[0]!;
    h.clock.now = at('2026-06-01T09:00:00+02:00');
    const sub = await createStaff(h.ctx, { areaId: 'hovedstaden', institutionId: 'vestre', name: 'Stedfortræder', email: 'stedfortraeder@kf.test' }, ADMIN);
    const owner = await createStaff(h.ctx, { areaId: 'hovedstaden', institutionId: 'vestre', name: 'Planejer', email: 'planejer@kf.test', substituteId: sub!.id, absences: [{ from: '2026-06-01', until: '2026-06-30', reason: 'ferie' }] }, ADMIN);
    const plan = await createRecord(h.ctx, 'action_plan', { institutionId: 'vestre', journalNumber: 'W-P1', clientCategory: 'remand', admittedAt: '2026-06-01', ownerId: owner!.id, ownerAssignedAt: '2026-06-01' }, ADMIN);
    await w.deps.planAndEnqueue('action_plan', plan.id);
    const r = (await rows(plan.id)).find((n) => n.stage === 'plan.create:reminder-2')!;
    expect(r.recipient).toBe('stedfortraeder@kf.test');
    h.clock.now = r.plannedAt;
    await w.sweep();
    await h.sink.waitFor(() => sentTo('stedfortraeder@kf.test', /^Dine handleplansfrister: 1 påmindelser/).length === 1);
    expect(sentTo('stedfortraeder@kf.test', /^Dine handleplansfrister/)[0]!.text).toContain('Handleplan oprettet, j.nr. W-P1');

    const orphan = await createRecord(h.ctx, 'action_plan', { institutionId: 'vestre', journalNumber: 'W-P2', clientCategory: 'remand', admittedAt: '2026-06-08' }, ADMIN);
    await w.deps.planAndEnqueue('action_plan', orphan.id);
    const o = (await rows(orphan.id)).filter((n) => n.stage.endsWith(':no-owner'));
    // One mail per deadline, not one per reminder stage, to the area office at once.
    // Remand clients too are coordinated with the municipality (004 pkt. 30: "i alle sager"; a policy default).
    expect(o.map((n) => n.stage).sort()).toEqual(['plan.create:no-owner', 'plan.municipality-coordination:no-owner', 'plan.owner-assigned:no-owner']);
    expect(o.every((n) => n.recipient === 'omraade@kf.test' && n.plannedAt.getTime() <= h.clock.now.getTime())).toBe(true);
    await h.sink.waitFor(() => sentTo('omraade@kf.test', /W-P2/).length === 3);
    expect(sentTo('omraade@kf.test', /W-P2/)[0]!.text).toContain('ingen handleplansansvarlig');
  });

  it("groups a plan owner's due reminders into one daily digest", async () => {
    const w = h.workers[0]!;
    h.clock.now = at('2026-07-01T09:00:00+02:00');
    const owner = await createStaff(h.ctx, { areaId: 'hovedstaden', institutionId: 'vestre', name: 'Digest Ejer', email: 'digest.ejer@kf.test' }, ADMIN);
    const plans: string[] = [];
    for (const j of ['W-D1', 'W-D2', 'W-D3']) {
      const p = await createRecord(h.ctx, 'action_plan', { institutionId: 'vestre', journalNumber: j, clientCategory: 'remand', admittedAt: '2026-07-01', ownerId: owner!.id, ownerAssignedAt: '2026-07-01' }, ADMIN);
      plans.push(p.id);
      await w.deps.planAndEnqueue('action_plan', p.id);
    }
    // All three plan.create deadlines are due Fri 10.07; reminder-2 fires Wed 08.07 08:00 for each.
    h.clock.now = at('2026-07-08T08:00:00+02:00');
    await w.sweep();
    await h.sink.waitFor(() => sentTo('digest.ejer@kf.test', /^Dine handleplansfrister: 3 påmindelser onsdag 08\.07\.2026/).length === 1);
    const digest = sentTo('digest.ejer@kf.test', /^Dine handleplansfrister/);
    expect(digest).toHaveLength(1);
    for (const j of ['W-D1', 'W-D2', 'W-D3']) expect(digest[0]!.text).toContain(`j.nr. ${j}: frist fredag 10.07.2026`);
    const reminders = async () => (await Promise.all(plans.map((id) => rows(id)))).flat().filter((n) => n.stage === 'plan.create:reminder-2');
    await until(async () => (await reminders()).every((n) => n.status === 'sent'));
    const sent = await reminders();
    expect(sent).toHaveLength(3);
    expect(new Set(sent.map((n) => n.messageId)).size).toBe(1);
  });

  it('fails only the record that cannot be composed for good, and still sends its siblings in the digest', async () => {
    const w = h.workers[0]!;
    h.clock.now = at('2026-07-01T09:00:00+02:00');
    const owner = await createStaff(h.ctx, { areaId: 'hovedstaden', institutionId: 'vestre', name: 'Delvis Ejer', email: 'delvis.ejer@kf.test' }, ADMIN);
    const plans: string[] = [];
    for (const j of ['W-B1', 'W-B2', 'W-B3']) {
      const p = await createRecord(h.ctx, 'action_plan', { institutionId: 'vestre', journalNumber: j, clientCategory: 'remand', admittedAt: '2026-07-01', ownerId: owner!.id, ownerAssignedAt: '2026-07-01' }, ADMIN);
      plans.push(p.id);
      await w.deps.planAndEnqueue('action_plan', p.id);
    }
    // The catch-up passes these records now, so that it does not re-plan them below.
    await w.sweep();
    const bad = plans[1]!;
    // W-B2 becomes unreadable for the engine (parole before the sentence began), written past the
    // change feed's trigger so that no re-plan notices it; its reminder has used up the attempts an
    // unclassified fault gets, so this failure is final for it alone.
    await h.db.database.db.transaction(async (tx) => {
      await tx.execute(sql`SET LOCAL session_replication_role = replica`);
      await tx.execute(sql`UPDATE action_plans SET sentence_start_date = '2026-07-01', possible_parole_date = '2026-01-01' WHERE id = ${bad}`);
    });
    await h.db.database.db.update(notifications).set({ attempts: 8 }).where(and(eq(notifications.recordId, bad), eq(notifications.stage, 'plan.create:reminder-2')));
    h.clock.now = at('2026-07-08T08:00:00+02:00');
    await w.sweep();
    await h.sink.waitFor(() => sentTo('delvis.ejer@kf.test', /^Dine handleplansfrister/).length === 1);
    const digest = sentTo('delvis.ejer@kf.test', /^Dine handleplansfrister/)[0]!;
    expect(digest.text).toContain('j.nr. W-B1');
    expect(digest.text).toContain('j.nr. W-B3');
    expect(digest.text).not.toContain('W-B2');
    const reminder = async (id: string) => (await rows(id)).find((n) => n.stage === 'plan.create:reminder-2')!;
    await until(async () => (await reminder(plans[0]!)).status === 'sent' && (await reminder(plans[2]!)).status === 'sent');
    expect((await reminder(bad)).status).toBe('failed');
    // The administrators hear of the one that failed.
    expect((await rows(bad)).filter((n) => n.template === 'failure-report').map((n) => n.recipient)).toEqual(['drift@kf.test']);
  });

  it('sends one digest, not several halves, when the sibling jobs run at the same instant', async () => {
    const w = h.workers[0]!;
    h.clock.now = at('2026-07-01T09:00:00+02:00');
    const owner = await createStaff(h.ctx, { areaId: 'hovedstaden', institutionId: 'vestre', name: 'Samtidig Ejer', email: 'samtidig.ejer@kf.test' }, ADMIN);
    const plans: string[] = [];
    for (const j of ['W-C1', 'W-C2', 'W-C3', 'W-C4']) {
      const p = await createRecord(h.ctx, 'action_plan', { institutionId: 'vestre', journalNumber: j, clientCategory: 'remand', admittedAt: '2026-07-01', ownerId: owner!.id, ownerAssignedAt: '2026-07-01' }, ADMIN);
      plans.push(p.id);
      await w.deps.planAndEnqueue('action_plan', p.id);
    }
    h.clock.now = at('2026-07-08T08:00:00+02:00');
    const due = (await Promise.all(plans.map((id) => rows(id)))).flat().filter((n) => n.stage === 'plan.create:reminder-2');
    expect(due).toHaveLength(4);
    // What a worker with concurrency > 1 (or two workers) does: all four jobs claim at once.
    const outcomes = await Promise.all(due.map((n) => sendNotification(w.deps.send, n.id)));
    expect(outcomes.filter((o) => o === 'sent')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'not-claimable')).toHaveLength(3);
    const digests = sentTo('samtidig.ejer@kf.test', /^Dine handleplansfrister/);
    expect(digests.map((m) => m.subject)).toEqual([expect.stringMatching(/^Dine handleplansfrister: 4 påmindelser onsdag 08\.07\.2026/)]);
  });

  it('drops a waiting reminder that a settings change moved into the past, instead of firing it out of turn', async () => {
    h.clock.now = at('2026-07-06T09:00:00+02:00');
    const owner = await createStaff(h.ctx, { areaId: 'hovedstaden', institutionId: 'vestre', name: 'Flyttet Ejer', email: 'flyttet.ejer@kf.test' }, ADMIN);
    const p = await createRecord(h.ctx, 'action_plan', { institutionId: 'vestre', journalNumber: 'W-M1', clientCategory: 'remand', admittedAt: '2026-07-01', ownerId: owner!.id, ownerAssignedAt: '2026-07-01' }, ADMIN);
    const settings = await loadWorkerSettings(h.db.database.db);
    await planRecord(h.db.database.db, { closureDays: [], now: h.clock.now, settings }, 'action_plan', p.id);
    const reminder2 = async () => (await rows(p.id)).find((n) => n.stage === 'plan.create:reminder-2')!;
    // Due Fri 10.07: reminder-2 waits for Wed 08.07 08:00.
    expect((await reminder2()).status).toBe('scheduled');
    expect((await reminder2()).plannedAt.toISOString()).toBe('2026-07-08T06:00:00.000Z');
    // Five working days before instead: Fri 03.07, already past, while reminder-1 (Thu 09.07) is still to come.
    const moved = { ...settings, schedule: { ...settings.schedule, stages: settings.schedule.stages.map((st) => (st.id === 'reminder-2' ? { ...st, workingDays: 5 } : st)) } };
    await planRecord(h.db.database.db, { closureDays: [], now: h.clock.now, settings: moved }, 'action_plan', p.id);
    expect((await reminder2()).status).toBe('superseded');
    expect((await rows(p.id)).find((n) => n.stage === 'plan.create:reminder-1')?.status).toBe('scheduled');
  });

  it('loses nothing when Redis is flushed, and two workers never send twice', async () => {
    const w1 = h.workers[0]!;
    h.clock.now = at('2026-09-01T06:00:00+02:00');
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) {
      const f = await createRecord(h.ctx, 'force_use', { institutionId: 'vestre', journalNumber: `W-B${i}`, occurredAt: '2026-08-31T10:00:00+02:00' }, ADMIN);
      ids.push(f.id);
      await w1.deps.planAndEnqueue('force_use', f.id);
    }
    // Due Tue 01.09: reminder-0 at 08:00 for all twelve. Queue them two hours ahead, then lose Redis.
    const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    const keysBefore = await redis.keys(`${h.prefix}:*`);
    expect(keysBefore.length).toBeGreaterThan(0);
    await redis.del(...keysBefore);
    redis.disconnect();
    const w2 = await h.start();
    h.clock.now = at('2026-09-01T08:00:00+02:00');
    await Promise.all([w1.sweep(), w2.sweep()]);
    await h.sink.waitFor((all) => all.filter((m) => /^Påmindelse: Rapport om magtanvendelse – frist tirsdag 01\.09\.2026/.test(m.subject)).length >= 12);
    // Sweep again from both: nothing is sent twice.
    await Promise.all([w1.sweep(), w2.sweep()]);
    const sent = await h.db.database.db.select().from(notifications).where(and(eq(notifications.status, 'sent'), eq(notifications.recordType, 'force_use')));
    const forBatch = sent.filter((n) => ids.includes(n.recordId));
    expect(forBatch).toHaveLength(12);
    const ids12 = h.sink.received.filter((m) => /frist tirsdag 01\.09\.2026/.test(m.subject)).map((m) => m.messageId);
    expect(new Set(ids12).size).toBe(ids12.length);
    expect(ids12).toHaveLength(12);
  });

  it('retries SMTP 451 until it recovers, and records and reports a permanent 550', async () => {
    const w = h.workers[0]!;
    // Entered the day it happened (a record arriving already breached would be backlog, not escalated),
    // at an institution of an area of its own, so that only its escalation meets the refusing address.
    h.clock.now = at('2026-09-29T11:00:00+02:00');
    await createArea(h.ctx, { id: 'refusing', name: 'Kriminalforsorgen Afvisning', officeEmail: 'omraade-afviser@kf.test', directorName: 'Områdedirektør', directorEmail: 'direktor-afviser@kf.test' }, ADMIN);
    await createInstitution(h.ctx, { id: 'afviser', areaId: 'refusing', name: 'Fængsel Afviser', kind: 'prison', dutyManagerEmail: 'vagt-afviser@kf.test' }, ADMIN);
    h.sink.refuseRcpt = (addr) => (addr === 'omraade-afviser@kf.test' ? 550 : undefined);
    const f = await createRecord(h.ctx, 'force_use', { institutionId: 'afviser', journalNumber: 'W-R1', occurredAt: '2026-09-29T10:00:00+02:00' }, ADMIN);
    await w.deps.planAndEnqueue('force_use', f.id);
    // Due Wed 30.09, breached: escalation-1 to the area office (refused with 550) is due now.
    h.clock.now = at('2026-10-01T08:00:00+02:00');
    await w.sweep();
    // The report is a row of its own, written when the escalation fails; a sweep after that sends it
    // (one already running when it was written may not see it: sweep until it is out).
    await until(async () => {
      await w.sweep();
      return sentTo('drift@kf.test', /^fristvagt: en mail kunne ikke afleveres/).length >= 1;
    });
    expect(sentTo('drift@kf.test', /^fristvagt: en mail kunne ikke afleveres/)).toHaveLength(1);
    const failed = (await rows(f.id)).find((n) => n.stage === 'force.report:escalation-1')!;
    expect(failed.status).toBe('failed');
    expect(failed.lastError).toMatch(/550/);

    h.clock.now = at('2026-10-01T07:40:00+02:00');
    const g = await createRecord(h.ctx, 'force_use', { institutionId: 'vestre', journalNumber: 'W-R2', occurredAt: '2026-10-01T07:30:00+02:00' }, ADMIN);
    await w.deps.planAndEnqueue('force_use', g.id);
    // Due Fri 02.10: reminder-1 Thu 01.10 08:00 is still to come; reminder-2 (Tue 29.09) was past
    // before the record existed, so it is never planned (no row: it never was, nor will be, sent).
    const planned = await rows(g.id);
    expect(planned.find((n) => n.stage === 'force.report:reminder-2')).toBeUndefined();
    const reminder = planned.find((n) => n.stage === 'force.report:reminder-1')!;
    expect(reminder.plannedAt.toISOString()).toBe('2026-10-01T06:00:00.000Z');
    let refusals = 0;
    h.sink.refuseRcpt = (addr) => {
      if (addr !== 'vagt@kf.test' || refusals >= 2) return undefined;
      refusals++;
      return 451;
    };
    h.clock.now = reminder.plannedAt;
    await w.sweep();
    await h.sink.waitFor(() => sentTo('vagt@kf.test', /W-R2/).length === 1);
    await until(async () => (await rows(g.id)).find((n) => n.stage === 'force.report:reminder-1')?.status === 'sent');
    expect(refusals).toBe(2);
    const done = (await rows(g.id)).find((n) => n.stage === 'force.report:reminder-1')!;
    expect(done, JSON.stringify(done)).toMatchObject({ status: 'sent', attempts: 3 });
    h.sink.refuseRcpt = undefined;
  });

  it("puts a row another job's batch had to defer back at its backoff, not at the delay its job was added with", async () => {
    const w = h.workers[0]!;
    await createInstitution(h.ctx, { id: 'oestre', areaId: 'hovedstaden', name: 'Fængsel Østre', kind: 'prison', dutyManagerEmail: 'vagt-oestre@kf.test' }, ADMIN);
    // Two uses of force the same morning: both reports due Tue 15.12, both reminder-0s at 08:00.
    // Planned the day before, so each row's job waits in Redis for almost a day.
    h.clock.now = at('2026-12-14T09:00:00+01:00');
    const reminderOf = async (institutionId: string, journalNumber: string) => {
      const f = await createRecord(h.ctx, 'force_use', { institutionId, journalNumber, occurredAt: '2026-12-14T08:00:00+01:00' }, ADMIN);
      await w.deps.planAndEnqueue('force_use', f.id);
      return (await rows(f.id)).find((n) => n.stage === 'force.report:reminder-0')!;
    };
    const a = await reminderOf('vestre', 'W-Q1');
    const b = await reminderOf('oestre', 'W-Q2');
    expect(b.plannedAt).toEqual(a.plannedAt);
    const jobOf = (r: typeof b) => w.queue.getJob(`send-${r.id}-${r.version}`);
    expect(await (await jobOf(b))?.getState()).toBe('delayed');
    let refusals = 0;
    h.sink.refuseRcpt = (addr) => (addr === 'vagt-oestre@kf.test' && refusals++ === 0 ? 451 : undefined);
    try {
      // A's job fires first and its claim takes B along (due at the same instant); B meets a 451.
      h.clock.now = a.plannedAt;
      expect(await sendNotification(w.deps.send, a.id)).toBe('sent');
      expect(refusals).toBe(1);
      // B's own job, still delayed by almost a day, now fires at B's backoff and sends it.
      await h.sink.waitFor(() => sentTo('vagt-oestre@kf.test', /W-Q2/).length === 1);
      await until(async () => (await rows(b.recordId)).find((n) => n.id === b.id)?.status === 'sent');
      expect((await rows(b.recordId)).find((n) => n.id === b.id)).toMatchObject({ status: 'sent', attempts: 2 });
    } finally {
      h.sink.refuseRcpt = undefined;
    }
  });

  it('takes over a row a dead worker left half-sent, and a clean stop hands the sweep over at once', async () => {
    h.clock.now = at('2026-11-02T09:00:00+01:00');
    // Due Tue 03.11: reminder-0 at 08:00. A worker claimed it and died before it could finish.
    const { f, r0 } = await forceWithReminder('W-K1', '2026-11-02T08:00:00+01:00');
    expect(r0.plannedAt.toISOString()).toBe('2026-11-03T07:00:00.000Z');
    const halfSent = (claimedAt: string) => h.db.database.db.update(notifications).set({ status: 'sending', claimedAt: at(claimedAt) }).where(eq(notifications.id, r0.id));
    h.clock.now = at('2026-11-03T08:20:00+01:00');
    const w = h.workers[0]!;
    // Claimed two minutes ago: that worker may still be talking to the SMTP server.
    await halfSent('2026-11-03T08:18:00+01:00');
    expect(await sendNotification(w.deps.send, r0.id)).toBe('not-claimable');
    // Claimed ten minutes ago (the stale limit is five): the job BullMQ hands over takes it.
    await halfSent('2026-11-03T08:10:00+01:00');
    expect(await sendNotification(w.deps.send, r0.id)).toBe('sent');
    expect(sentTo('vagt@kf.test', /W-K1/)).toHaveLength(1);
    expect((await rows(f.id)).find((n) => n.id === r0.id)).toMatchObject({ status: 'sent', attempts: 1 });

    // The sweep lease: held by the last leader, handed over when it stops cleanly, not minutes later.
    expect((await w.sweep()).leader).toBe(true);
    const next = await h.start();
    expect((await next.sweep()).leader).toBe(false);
    await w.stop();
    h.workers.splice(h.workers.indexOf(w), 1);
    expect((await next.sweep()).leader).toBe(true);
  });

  it('records an accepted mail despite a database hiccup at the mark, instead of sending it again', async () => {
    const w = h.workers[0]!;
    h.clock.now = at('2026-11-09T09:00:00+01:00');
    const { f, r0 } = await forceWithReminder('W-H1', '2026-11-09T08:00:00+01:00');
    h.clock.now = r0.plannedAt;
    // The first attempt to mark it sent fails, as a database failover would make it.
    await h.db.database.db.execute(sql.raw(`
      CREATE SEQUENCE hiccup_seq;
      CREATE FUNCTION hiccup() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
        IF NEW.status = 'sent' AND OLD.status = 'sending' AND nextval('hiccup_seq') = 1 THEN RAISE EXCEPTION 'simulated failover'; END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER hiccup BEFORE UPDATE ON notifications FOR EACH ROW EXECUTE FUNCTION hiccup();`));
    try {
      expect(await sendNotification(w.deps.send, r0.id)).toBe('sent');
    } finally {
      await h.db.database.db.execute(sql.raw('DROP TRIGGER hiccup ON notifications; DROP FUNCTION hiccup(); DROP SEQUENCE hiccup_seq;'));
    }
    expect(sentTo('vagt@kf.test', /W-H1/)).toHaveLength(1);
    expect((await rows(f.id)).find((n) => n.id === r0.id)).toMatchObject({ status: 'sent' });
    expect(await sendNotification(w.deps.send, r0.id)).toBe('not-claimable');
    expect(sentTo('vagt@kf.test', /W-H1/)).toHaveLength(1);
  });

  it('replaces a finished job that holds the id of a row still due, so the row is sent after all', async () => {
    const w = h.workers[0]!;
    h.clock.now = at('2026-11-16T09:00:00+01:00');
    const { f, r0 } = await forceWithReminder('W-J1', '2026-11-16T08:00:00+01:00');
    // What ten failed attempts before the claim leave behind (Postgres down longer than the retries):
    // a failed job under the row's deterministic id, and the row still scheduled.
    const events = new QueueEvents(QUEUE_NAME, { connection: new Redis(REDIS_URL, { maxRetriesPerRequest: null }), prefix: h.prefix });
    await events.waitUntilReady();
    const poisoned = await w.queue.add('notification.send', { notificationId: 'not-a-uuid' }, { jobId: `send-${r0.id}-${r0.version}` });
    await expect(poisoned.waitUntilFinished(events)).rejects.toThrow();
    await events.close();
    expect(await poisoned.getState()).toBe('failed');
    h.clock.now = r0.plannedAt;
    await w.sweep();
    await h.sink.waitFor(() => sentTo('vagt@kf.test', /W-J1/).length === 1);
    await until(async () => (await rows(f.id)).find((n) => n.id === r0.id)?.status === 'sent');
  });

  it('does not re-send an interrupted preliminary notice on its own: a person decides', async () => {
    const w = h.workers[0]!;
    h.clock.now = at('2026-11-20T10:00:00+01:00');
    const inc = await createRecord(h.ctx, 'incident', { institutionId: 'vestre', journalNumber: 'W-N1', kind: 'death', occurredAt: '2026-11-20T08:00:00+01:00' }, ADMIN);
    const [row] = await h.db.database.db
      .insert(notifications)
      .values({ recordType: 'incident', recordId: inc.id, stage: 'notice:preliminary', kind: 'alert', template: 'preliminary-notice', recipient: 'ombudsmand@ombud.test', plannedAt: h.clock.now, status: 'sending', claimedAt: at('2026-11-20T09:00:00+01:00'), attempts: 1 })
      .returning();
    await w.sweep();
    const after = (await rows(inc.id)).find((n) => n.id === row!.id)!;
    expect(after.status).toBe('failed');
    expect(after.lastError).toMatch(/check with the recipient/);
  });

  it('does not let its catch-up skip a change whose transaction commits after a later one', async () => {
    const w = h.workers[0]!;
    h.clock.now = at('2026-11-23T09:00:00+01:00');
    // An integration writes a use of force in a long transaction; meanwhile the API commits another.
    const integration = postgres(h.db.url ?? '', { max: 1, onnotice: () => undefined });
    let commit!: () => void;
    const open = new Promise<void>((resolve) => (commit = resolve));
    let written!: () => void;
    const inserted = new Promise<void>((resolve) => (written = resolve));
    let slowId = '';
    const slow = integration.begin(async (tx) => {
      // created_at is the record's arrival: the test's clock, not the database's.
      const [row] = await tx`INSERT INTO force_uses (institution_id, journal_number, occurred_at, created_at) VALUES ('vestre', 'W-T1', '2026-11-23T08:00:00+01:00', '2026-11-23T09:00:00+01:00') RETURNING id`;
      slowId = (row as { id: string }).id;
      written();
      await open;
    });
    await inserted;
    const fast = await createRecord(h.ctx, 'force_use', { institutionId: 'vestre', journalNumber: 'W-T2', occurredAt: '2026-11-23T08:30:00+01:00' }, ADMIN);
    await w.sweep();
    commit();
    await slow;
    await integration.end();
    // Both records get planned: the one committed late is not passed over by the watermark. (Other
    // test files' transactions on the same cluster can hold the settled point back a sweep or two.)
    const planned = async (id: string): Promise<boolean> => (await rows(id)).some((n) => n.stage === 'force.report:reminder-0');
    await until(async () => {
      await w.sweep();
      return (await planned(slowId)) && (await planned(fast.id));
    });
  });

  it('sends a planned alert late after a long outage instead of dropping it', async () => {
    const w = h.workers[0]!;
    h.clock.now = at('2026-11-24T09:00:00+01:00');
    // The workers are down: nothing is taken from the queue until they come back (without this the
    // running worker's change feed could send the alert at once, before the outage begins).
    await w.queue.pause();
    const inc = await createRecord(h.ctx, 'incident', { institutionId: 'vestre', journalNumber: 'W-O1', kind: 'suicide', occurredAt: '2026-11-24T07:00:00+01:00' }, ADMIN);
    await planRecord(h.db.database.db, { closureDays: [], now: h.clock.now, settings: await loadWorkerSettings(h.db.database.db) }, 'incident', inc.id);
    expect((await rows(inc.id)).find((n) => n.stage === 'alert:area-director')?.status).toBe('scheduled');
    // The workers were down for two days; the first sweep afterwards re-plans the record.
    h.clock.now = at('2026-11-26T09:00:00+01:00');
    await w.queue.resume();
    await w.sweep();
    await h.sink.waitFor(() => sentTo('direktor@kf.test', /^Ny hændelse: selvmord \(j\.nr\. W-O1/).length === 1);
    // An incident registered at its source more than two working days before it arrives here alerts no one (policy `recency`).
    const late = await createRecord(h.ctx, 'incident', { institutionId: 'vestre', journalNumber: 'W-O2', kind: 'suicide', occurredAt: '2026-11-20T07:00:00+01:00', registeredAt: '2026-11-20T08:00:00+01:00' }, ADMIN);
    await planRecord(h.db.database.db, { closureDays: [], now: h.clock.now, settings: await loadWorkerSettings(h.db.database.db) }, 'incident', late.id);
    expect((await rows(late.id)).find((n) => n.stage === 'alert:area-director')).toBeUndefined();
  });

  it('masks a CPR-shaped journal number written straight into the table instead of losing the reminder', async () => {
    const w = h.workers[0]!;
    h.clock.now = at('2026-11-25T09:00:00+01:00');
    // The API refuses such a journal number; an integration writing the table directly may not.
    const [row] = rowsOf<{ id: string }>(await h.db.database.db.execute(sql`INSERT INTO force_uses (institution_id, journal_number, occurred_at, created_at) VALUES ('vestre', '010190-4321', '2026-11-25T08:00:00+01:00', '2026-11-25T09:00:00+01:00') RETURNING id`));
    await plan('force_use', row!.id);
    const r0 = (await rows(row!.id)).find((n) => n.stage === 'force.report:reminder-0')!;
    h.clock.now = r0.plannedAt;
    expect(await sendNotification(w.deps.send, r0.id)).toBe('sent');
    const mail = h.sink.received.find((m) => m.messageId === `<notification-${r0.id}@kriminalforsorgen.test>`)!;
    expect(mail.subject).toContain('XXXXXX-XXXX');
    expect(mail.subject + mail.text + mail.html).not.toContain('4321');
  });

  it("keeps BullMQ's backoff after a transient failure instead of firing the row's next job at the sweep", async () => {
    const w = h.workers[0]!;
    h.clock.now = at('2026-11-30T09:00:00+01:00');
    const { f, r0 } = await forceWithReminder('W-G1', '2026-11-30T08:00:00+01:00');
    h.clock.now = r0.plannedAt;
    // Seven attempts failed with a 451 just now; the next may go after 50 ms × 2⁶ (the harness's
    // retry delay), scaled by the row's fixed jitter into [1600, 3200] ms: delivery.ts's retryDelayMs.
    await h.db.database.db.update(notifications).set({ attempts: 7, lastError: 'SMTP 451: try again later', updatedAt: h.clock.now }).where(eq(notifications.id, r0.id));
    await w.sweep();
    const [row] = await rows(f.id).then((all) => all.filter((n) => n.id === r0.id));
    const job = await w.queue.getJob(`send-${r0.id}-${row!.version}`);
    expect(await job?.getState()).toBe('delayed');
    expect(job?.opts.delay).toBe(retryDelayMs(r0.id, 7, 50));
    expect(job?.opts.delay).toBeGreaterThanOrEqual(1600);
    expect(job?.opts.delay).toBeLessThanOrEqual(3200);
    await h.sink.waitFor(() => sentTo('vagt@kf.test', /W-G1/).length === 1);
  });
});
