/**
 * The planning core (src/domain/plan.ts), without I/O: who gets which reminder when, and what the
 * worker must change in an outbox. Expected instants are worked out by hand from the default
 * schedule (reminders 2, 1 and 0 working days before the due day at 08:00; the first escalation
 * on the breach day, moved into the 07:00–18:00 window; the second a working day later at 08:00).
 */
import { describe, expect, it } from 'vitest';
import {
  applyOutboxDiff,
  calendarFor,
  computeDeadlines,
  DEFAULT_SCHEDULE,
  desiredNotifications,
  diffOutbox,
  isRecent,
  planNotifications,
  planOwnerOf,
  watchedDeadlineKeys,
  type DeadlineSet,
  type DesiredNotification,
  type OutboxRow,
  type PlanRecordInput,
} from '../../src/domain/index.js';

const calendar = calendarFor([]);
const addresses = { areaDirector: 'direktor@omr.test', areaOffice: 'kontor@omr.test', areaLeadership: 'ledelse@omr.test', dutyManager: 'vagt@inst.test', directorate: 'csf@dir.test' };

function input(record: Record<string, unknown>, now: string, extra: Partial<PlanRecordInput> = {}): PlanRecordInput {
  const set = computeDeadlines(record, { now });
  // By default the record arrives the moment it is planned (a record entered late); `arrivedAt` says otherwise.
  return { recordType: record['type'] as string, closed: false, arrivedAt: new Date(now), recentWorkingDays: 2, addresses, set, calendar, schedule: DEFAULT_SCHEDULE, now: new Date(now), existing: [], planOwner: () => null, ...extra };
}

const view = (list: DesiredNotification[]) => list.map((d) => [d.stage, d.recipient, d.plannedAt.toISOString(), d.stale]);
const force = { type: 'force_use', occurredAt: '2026-12-01T05:30:00+01:00' }; // report due Wednesday 2026-12-02

describe('desiredNotifications', () => {
  it('plans the duty manager’s reminders, the area office’s escalation and the leadership’s, at their hand-computed instants', () => {
    expect(view(desiredNotifications(input(force, '2026-12-01T06:00:00+01:00')))).toEqual([
      // Monday 08:00: already past at 06:00 on Tuesday, with Tuesday's reminder still to come, so stale.
      ['force.report:reminder-2', 'vagt@inst.test', '2026-11-30T07:00:00.000Z', true],
      ['force.report:reminder-1', 'vagt@inst.test', '2026-12-01T07:00:00.000Z', false], // Tuesday 08:00
      ['force.report:reminder-0', 'vagt@inst.test', '2026-12-02T07:00:00.000Z', false], // the due day 08:00
      ['force.report:escalation-1', 'kontor@omr.test', '2026-12-03T06:00:00.000Z', false], // breach day, 00:00 → 07:00
      ['force.report:escalation-2', 'ledelse@omr.test', '2026-12-04T07:00:00.000Z', false], // a working day on, 08:00
    ]);
  });

  it('entered late: past reminders with a later one to come are stale; the last past one moves into the send window', () => {
    const midday = desiredNotifications(input(force, '2026-12-01T12:00:00+01:00'));
    expect(view(midday).slice(0, 3)).toEqual([
      ['force.report:reminder-2', 'vagt@inst.test', '2026-11-30T07:00:00.000Z', true],
      ['force.report:reminder-1', 'vagt@inst.test', '2026-12-01T07:00:00.000Z', true],
      ['force.report:reminder-0', 'vagt@inst.test', '2026-12-02T07:00:00.000Z', false],
    ]);
    // Due day, 08:30: no reminder to come, the latest past one goes out now, still before the deadline.
    const early = desiredNotifications(input(force, '2026-12-02T08:30:00+01:00', { arrivedAt: new Date('2026-12-01T06:00:00+01:00') }));
    expect(view(early).slice(0, 3)).toEqual([
      ['force.report:reminder-2', 'vagt@inst.test', '2026-11-30T07:00:00.000Z', true],
      ['force.report:reminder-1', 'vagt@inst.test', '2026-12-01T07:00:00.000Z', true],
      ['force.report:reminder-0', 'vagt@inst.test', '2026-12-02T07:30:00.000Z', false],
    ]);
    // Evening of the due day: the window opens again only after the deadline has passed, when the
    // escalation goes out: a due-day reminder is never planned after the escalation.
    const evening = desiredNotifications(input(force, '2026-12-02T19:00:00+01:00', { arrivedAt: new Date('2026-12-01T06:00:00+01:00') }));
    expect(view(evening).slice(0, 4)).toEqual([
      ['force.report:reminder-2', 'vagt@inst.test', '2026-11-30T07:00:00.000Z', true],
      ['force.report:reminder-1', 'vagt@inst.test', '2026-12-01T07:00:00.000Z', true],
      ['force.report:reminder-0', 'vagt@inst.test', '2026-12-02T07:00:00.000Z', true],
      ['force.report:escalation-1', 'kontor@omr.test', '2026-12-03T06:00:00.000Z', false],
    ]);
  });

  it('planned late (the record arrived in time): of past escalations only the latest goes out', () => {
    const arrivedAt = new Date('2026-12-01T06:00:00+01:00');
    const late = desiredNotifications(input(force, '2026-12-07T10:00:00+01:00', { arrivedAt }));
    const esc = late.filter((d) => d.kind === 'escalation').map((d) => [d.stage, d.stale]);
    expect(esc).toEqual([['force.report:escalation-1', false], ['force.report:escalation-2', false]]);
    // Different recipients, different groups: each one's latest is sent. Same recipient for both:
    const office = desiredNotifications(input(force, '2026-12-07T10:00:00+01:00', { arrivedAt, addresses: { ...addresses, areaLeadership: null } }));
    expect(office.filter((d) => d.kind === 'escalation').map((d) => [d.stage, d.recipient, d.stale])).toEqual([
      ['force.report:escalation-1', 'kontor@omr.test', true],
      ['force.report:escalation-2', 'kontor@omr.test', false],
    ]);
  });

  it('a closed record wants nothing', () => {
    expect(desiredNotifications(input(force, '2026-12-01T06:00:00+01:00', { closed: true }))).toEqual([]);
  });

  it('a plan goes to its owner, to the substitute while the owner is away, and to the area office once when neither is there', () => {
    const plan = { type: 'action_plan', clientCategory: 'remand', admittedAt: '2026-12-01' };
    const staff = new Map([
      ['o', { id: 'o', email: 'ejer@inst.test', active: true, substituteId: 's' }],
      ['s', { id: 's', email: 'stedfortraeder@inst.test', active: true, substituteId: null }],
    ]);
    const now = '2026-12-01T06:00:00+01:00';
    const present = desiredNotifications(input(plan, now, { planOwner: planOwnerOf('o', staff, []) }));
    const reminders = present.filter((d) => d.kind === 'reminder');
    expect(reminders.length).toBeGreaterThan(0);
    expect(new Set(reminders.map((d) => d.recipient))).toEqual(new Set(['ejer@inst.test']));
    const ownerAway = desiredNotifications(input(plan, now, { planOwner: planOwnerOf('o', staff, [{ staffId: 'o', fromDate: '2026-11-01', untilDate: '2027-12-31' }]) }));
    expect(new Set(ownerAway.filter((d) => d.kind === 'reminder').map((d) => d.recipient))).toEqual(new Set(['stedfortraeder@inst.test']));
    const bothAway = desiredNotifications(input(plan, now, { planOwner: planOwnerOf('o', staff, [{ staffId: 'o', fromDate: '2026-11-01', untilDate: '2027-12-31' }, { staffId: 's', fromDate: '2026-11-01', untilDate: '2027-12-31' }]) }));
    const noOwner = bothAway.filter((d) => d.kind === 'reminder');
    // One per deadline, to the area office, at once: now, or when the send window opens at 07:00.
    expect(noOwner.every((d) => d.stage.endsWith(':no-owner') && d.recipient === 'kontor@omr.test' && d.plannedAt.getTime() <= Date.parse('2026-12-01T07:00:00+01:00'))).toBe(true);
    expect(new Set(noOwner.map((d) => d.deadlineKey)).size).toBe(noOwner.length);
  });

  it('alerts the area director when the incident arrives within the recency window of its registration; an older one is backlog unless an alert is already planned', () => {
    const suicide = { type: 'incident', kind: 'suicide', occurredAt: '2026-12-01T10:00:00+01:00', registeredAt: '2026-12-01T11:00:00+01:00' };
    const registeredAt = new Date('2026-12-01T11:00:00+01:00');
    const fresh = desiredNotifications(input(suicide, '2026-12-01T12:00:00+01:00', { arrivedAt: registeredAt }));
    expect(fresh.filter((d) => d.kind === 'alert').map((d) => [d.stage, d.recipient, d.plannedAt.toISOString()])).toEqual([['alert:area-director', 'direktor@omr.test', '2026-12-01T10:00:00.000Z']]);
    // The notices are the area director's delegate's duty, the final report escalates to the directorate.
    expect(fresh.find((d) => d.stage === 'incident.preliminary-notice:reminder-0')?.recipient).toBe('direktor@omr.test');
    expect(fresh.find((d) => d.stage === 'incident.final-report:escalation-2')?.recipient).toBe('csf@dir.test');
    // Arrived two working days later (Thursday): still recent; planned when it arrived, never before.
    const thursday = planNotifications(input(suicide, '2026-12-03T12:00:00+01:00'));
    expect(thursday.desired.filter((d) => d.kind === 'alert').map((d) => [d.stage, d.plannedAt.toISOString()])).toEqual([['alert:area-director', '2026-12-03T11:00:00.000Z']]);
    // Friday is the third working day: backlog, not mailed.
    const friday = planNotifications(input(suicide, '2026-12-04T12:00:00+01:00'));
    expect(friday.desired.filter((d) => d.kind === 'alert')).toEqual([]);
    expect(friday.backlog.filter((b) => b.kind === 'alert').map((b) => [b.key, b.rule, b.dueDate])).toEqual([['alert:area-director', 'incident.area-director-alert', '2026-12-01']]);
    // Planned later (a settings change, the sweep): the arrival decides, not the planning time.
    const replanned = planNotifications(input(suicide, '2027-02-01T12:00:00+01:00', { arrivedAt: registeredAt }));
    expect(replanned.desired.filter((d) => d.kind === 'alert').map((d) => d.stage)).toEqual(['alert:area-director']);
    const kept = desiredNotifications(input(suicide, '2026-12-04T12:00:00+01:00', { existing: [{ stage: 'alert:area-director', recipient: 'direktor@omr.test', status: 'scheduled', plannedAt: registeredAt }] }));
    expect(kept.filter((d) => d.kind === 'alert').map((d) => d.stage)).toEqual(['alert:area-director']);
  });
});

describe('arrival: the backlog, and no mail before the record arrived', () => {
  // A use of force in July, report due 2 July (Thursday); a placement whose follow-up falls due after arrival.
  const july = { type: 'force_use', occurredAt: '2026-07-01T09:00:00+02:00' };
  const cases: Array<{ name: string; record: Record<string, unknown>; arrived: string; now: string; backlog: string[]; stages: string[] }> = [
    // The demo's "reminder-0 for July deadlines after both escalations": arrived in November, all breached: backlog only.
    { name: 'July deadline, arrives in November', record: july, arrived: '2026-11-27T10:00:00+01:00', now: '2026-11-27T10:00:00+01:00', backlog: ['force.report'], stages: [] },
    // The same record planned again months later (after a settings change): still backlog, still no mail.
    { name: 'same, re-planned in February', record: july, arrived: '2026-11-27T10:00:00+01:00', now: '2027-02-01T09:00:00+01:00', backlog: ['force.report'], stages: [] },
    // Arrived the day after the use of force, before the due day's end: reminders from the first still to come, then the escalations.
    { name: 'arrives on the due day', record: july, arrived: '2026-07-02T10:00:00+02:00', now: '2026-07-02T10:00:00+02:00', backlog: [], stages: ['force.report:reminder-0', 'force.report:escalation-1', 'force.report:escalation-2'] },
    // Arrived in time, planned after the breach (worker down): the latest escalation to the office only, no reminder after it.
    { name: 'arrived in time, planned late', record: july, arrived: '2026-07-01T10:00:00+02:00', now: '2026-07-06T10:00:00+02:00', backlog: [], stages: ['force.report:escalation-2'] },
  ];
  it.each(cases)('$name', ({ record, arrived, now, backlog, stages }) => {
    const p = planNotifications(input(record, now, { arrivedAt: new Date(arrived), addresses: { ...addresses, areaLeadership: null } }));
    expect(p.backlog.map((b) => b.key)).toEqual(backlog);
    const live = p.desired.filter((d) => !d.stale);
    expect(live.map((d) => d.stage)).toEqual(stages);
    // Nothing is planned before the record arrived.
    for (const d of live) expect(d.plannedAt.getTime()).toBeGreaterThanOrEqual(Date.parse(arrived));
    // Of escalations to one recipient, at most one is in the past; no reminder after the first escalation.
    const firstEscalation = Math.min(...live.filter((d) => d.kind === 'escalation').map((d) => d.plannedAt.getTime()));
    for (const d of live.filter((x) => x.kind === 'reminder')) expect(d.plannedAt.getTime()).toBeLessThan(firstEscalation);
  });

  it('a deadline met before arrival is neither mailed nor backlog; one met after arrival leaves its backlog entry to the store', () => {
    const met = planNotifications(input({ ...july, reportFiledAt: '2026-07-02T09:00:00+02:00' }, '2026-11-27T10:00:00+01:00'));
    expect(met.backlog.filter((b) => b.kind === 'deadline')).toEqual([]);
    expect(met.desired.filter((d) => d.deadlineKey === 'force.report')).toEqual([]);
  });

  it('a closed record has no backlog either (historical import)', () => {
    expect(planNotifications(input(july, '2026-11-27T10:00:00+01:00', { closed: true }))).toEqual({ desired: [], backlog: [], unaddressed: 0 });
  });

  it('the recency window is a setting: 0 working days alerts only what arrives on its registration day', () => {
    const death = { type: 'incident', kind: 'death', occurredAt: '2026-12-01T10:00:00+01:00', registeredAt: '2026-12-01T11:00:00+01:00' };
    const sameDay = planNotifications(input(death, '2026-12-01T20:00:00+01:00', { recentWorkingDays: 0 }));
    expect(sameDay.desired.some((d) => d.stage === 'alert:area-director')).toBe(true);
    const nextDay = planNotifications(input(death, '2026-12-02T08:00:00+01:00', { recentWorkingDays: 0 }));
    expect(nextDay.desired.some((d) => d.kind === 'alert')).toBe(false);
    expect(nextDay.backlog.map((b) => b.key)).toEqual(['alert:area-director']);
  });

  it('the directorate unset: its escalations are left out and counted, the rest is planned', () => {
    const death = { type: 'incident', kind: 'death', occurredAt: '2026-12-01T10:00:00+01:00', registeredAt: '2026-12-01T11:00:00+01:00' };
    const p = planNotifications(input(death, '2026-12-01T12:00:00+01:00', { addresses: { ...addresses, directorate: null } }));
    expect(p.unaddressed).toBeGreaterThan(0);
    expect(p.desired.some((d) => d.stage.endsWith(':escalation-2'))).toBe(false);
    expect(p.desired.some((d) => d.stage.endsWith(':escalation-1'))).toBe(true);
  });

  it('isRecent counts working days from the event day', () => {
    const fri = Date.parse('2026-11-27T15:00:00+01:00');
    expect(isRecent(fri, Date.parse('2026-12-01T23:00:00+01:00'), 2, calendar)).toBe(true); // Mon 1, Tue 2
    expect(isRecent(fri, Date.parse('2026-12-02T00:30:00+01:00'), 2, calendar)).toBe(false);
  });
});

describe('diffOutbox and applyOutboxDiff', () => {
  const now = new Date('2026-12-01T12:00:00+01:00');
  const row = (stage: string, recipient: string, status: string, plannedAt: string, id = stage): OutboxRow => ({ id, stage, recipient, kind: stage.includes('escalation') ? 'escalation' : 'reminder', status, plannedAt: new Date(plannedAt), version: 1 });
  const desired = (stage: string, recipient: string, plannedAt: string, stale = false): DesiredNotification => ({ deadlineKey: stage.split(':')[0] ?? null, stage, kind: 'reminder', template: 'reminder', recipient, plannedAt: new Date(plannedAt), stale });
  const watched = new Set(['force.report']);

  it('inserts new stages (never one already stale), moves waiting rows, leaves equal ones alone', () => {
    const existing = [row('force.report:reminder-0', 'a@x.test', 'scheduled', '2026-12-02T07:00:00Z'), row('force.report:reminder-1', 'a@x.test', 'scheduled', '2026-12-01T07:00:00Z')];
    const diff = diffOutbox(existing, [desired('force.report:reminder-0', 'a@x.test', '2026-12-03T07:00:00Z'), desired('force.report:reminder-1', 'a@x.test', '2026-12-01T07:00:00Z'), desired('force.report:reminder-2', 'a@x.test', '2026-11-30T07:00:00Z', true), desired('force.report:escalation-1', 'b@x.test', '2026-12-04T06:00:00Z')], { now, closed: false, watched });
    expect(diff.insert.map((d) => [d.stage, d.status])).toEqual([['force.report:escalation-1', 'scheduled']]);
    expect(diff.change.map((c) => [c.id, c.op, c.status, c.plannedAt.toISOString()])).toEqual([['force.report:reminder-0', 'move', 'scheduled', '2026-12-03T07:00:00.000Z']]);
    expect([diff.scheduled, diff.cancelled, diff.moved]).toEqual([1, 0, 1]);
  });

  it('cancels what a done deadline or a closed record no longer needs, supersedes what a new schedule replaced, never touches sent, failure or notice rows', () => {
    const existing = [
      row('force.report:reminder-3', 'a@x.test', 'scheduled', '2026-12-01T07:00:00Z'),
      row('force.report:reminder-2', 'a@x.test', 'sent', '2026-11-30T07:00:00Z'),
      row('failure:123', 'admin@x.test', 'scheduled', '2026-12-01T07:00:00Z'),
      row('notice:preliminary', 'ombud@x.test', 'scheduled', '2026-12-01T07:00:00Z'),
      row('other.rule:reminder-0', 'a@x.test', 'scheduled', '2026-12-05T07:00:00Z'),
    ];
    const open = diffOutbox(existing, [], { now, closed: false, watched });
    expect(open.change.map((c) => [c.id, c.op])).toEqual([['force.report:reminder-3', 'supersede'], ['other.rule:reminder-0', 'cancel']]);
    const closed = diffOutbox(existing, [], { now, closed: true, watched });
    expect(closed.change.map((c) => [c.id, c.op])).toEqual([['force.report:reminder-3', 'cancel'], ['other.rule:reminder-0', 'cancel']]);
    expect(closed.cancelled).toBe(2);
  });

  it('supersedes a waiting row whose stage became stale, reopens a cancelled one wanted again in the future but not in the past', () => {
    const existing = [row('force.report:reminder-1', 'a@x.test', 'scheduled', '2026-12-01T07:00:00Z'), row('force.report:reminder-0', 'a@x.test', 'cancelled', '2026-12-02T07:00:00Z'), row('force.report:escalation-1', 'b@x.test', 'cancelled', '2026-11-20T07:00:00Z')];
    const diff = diffOutbox(existing, [desired('force.report:reminder-1', 'a@x.test', '2026-12-01T07:00:00Z', true), desired('force.report:reminder-0', 'a@x.test', '2026-12-02T07:00:00Z'), desired('force.report:escalation-1', 'b@x.test', '2026-11-20T07:00:00Z')], { now, closed: false, watched });
    expect(diff.change.map((c) => [c.id, c.op, c.from, c.status])).toEqual([
      ['force.report:reminder-1', 'supersede', 'scheduled', 'superseded'],
      ['force.report:reminder-0', 'reopen', 'cancelled', 'scheduled'],
    ]);
    expect([diff.scheduled, diff.cancelled, diff.moved]).toEqual([1, 1, 0]);
  });

  it('applies a change only to a row still in the state the diff saw (a sender may have claimed it)', () => {
    const existing = [row('force.report:reminder-0', 'a@x.test', 'scheduled', '2026-12-02T07:00:00Z')];
    const diff = diffOutbox(existing, [desired('force.report:reminder-0', 'a@x.test', '2026-12-03T07:00:00Z'), desired('force.report:reminder-x', 'a@x.test', '2026-12-03T08:00:00Z')], { now, closed: false, watched });
    expect(applyOutboxDiff(existing, diff).map((r) => [r.stage, r.status, r.plannedAt.toISOString(), r.stored])).toEqual([
      ['force.report:reminder-0', 'scheduled', '2026-12-03T07:00:00.000Z', true],
      ['force.report:reminder-x', 'scheduled', '2026-12-03T08:00:00.000Z', false],
    ]);
    const claimed = [{ ...existing[0] as OutboxRow, status: 'sending' }];
    expect(applyOutboxDiff(claimed, diff)[0]).toMatchObject({ status: 'sending', plannedAt: new Date('2026-12-02T07:00:00Z') });
  });

  it('watches only deadlines still to be done', () => {
    const set: DeadlineSet = computeDeadlines({ type: 'force_use', occurredAt: '2026-12-01T10:00:00+01:00', reportFiledAt: '2026-12-01T15:00:00+01:00' }, { now: '2026-12-01T16:00:00+01:00' });
    expect(set.deadlines.find((d) => d.rule === 'force.report')?.status).toBe('met');
    expect(watchedDeadlineKeys(set).has('force.report')).toBe(false);
    expect(desiredNotifications(input({ type: 'force_use', occurredAt: '2026-12-01T10:00:00+01:00', reportFiledAt: '2026-12-01T15:00:00+01:00' }, '2026-12-01T16:00:00+01:00')).filter((d) => d.stage.startsWith('force.report:'))).toEqual([]);
  });
});
