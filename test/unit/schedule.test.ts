/** Reminder and escalation instants, computed by hand from the stage defaults. */
import { describe, expect, it } from 'vitest';
import { createCalendar, DEFAULT_SCHEDULE, formatLocalInstant, nextInWindow, planStages } from '../../src/domain/index.js';

const cal = createCalendar();
const fmt = (list: ReturnType<typeof planStages>) => list.map((s) => [s.stage, formatLocalInstant(s.plannedAt)]);

describe('planStages', () => {
  it('preliminary notice due Wed 01.04.2026: reminders before, escalations at once across Easter', () => {
    expect(fmt(planStages({ rule: 'incident.preliminary-notice', dueDate: '2026-04-01', obligation: 'duty', status: 'open' }, cal))).toEqual([
      ['reminder-2', '2026-03-30T08:00:00.000+02:00'], // Mon, 2 working days before
      ['reminder-1', '2026-03-31T08:00:00.000+02:00'],
      ['reminder-0', '2026-04-01T08:00:00.000+02:00'],
      ['escalation-1', '2026-04-02T00:00:00.000+02:00'], // breach at midnight; incident notices do not wait (Skærtorsdag)
      ['escalation-2', '2026-04-07T08:00:00.000+02:00'], // 1 working day after the breach day: Fri–Mon are Easter/weekend
    ]);
  });

  it('a due day on a Saturday is reminded on Friday; escalations wait for the window', () => {
    expect(fmt(planStages({ rule: 'cell.follow-up-conversation', dueDate: '2026-06-13', obligation: 'duty', status: 'open' }, cal))).toEqual([
      ['reminder-2', '2026-06-11T08:00:00.000+02:00'],
      ['reminder-1', '2026-06-12T08:00:00.000+02:00'], // reminder-0 (Sat) collapses into this Friday slot
      ['escalation-1', '2026-06-15T07:00:00.000+02:00'], // breach Sun 00:00 → Monday's window opening
      ['escalation-2', '2026-06-15T08:00:00.000+02:00'],
    ]);
  });

  it('winter time offsets and closure days', () => {
    const closed = createCalendar({ closureDays: ['12-24', '12-31'] });
    // Due Mon 04.01.2027: −1 wd skips Fri 01.01 (Nytårsdag) and 31.12 (closure) → Wed 30.12; −2 → Tue 29.12.
    expect(fmt(planStages({ rule: 'plan.create', dueDate: '2027-01-04', obligation: 'duty', status: 'open' }, closed)).slice(0, 2)).toEqual([
      ['reminder-2', '2026-12-29T08:00:00.000+01:00'],
      ['reminder-1', '2026-12-30T08:00:00.000+01:00'],
    ]);
  });

  it('needs nothing for met deadlines, rights and suspended deadlines', () => {
    expect(planStages({ rule: 'force.report', dueDate: '2026-06-01', obligation: 'duty', status: 'met' }, cal)).toEqual([]);
    expect(planStages({ rule: 'force.complaint-window', dueDate: '2026-06-01', obligation: 'right', status: 'open' }, cal)).toEqual([]);
    expect(planStages({ rule: 'cell.follow-up-conversation', dueDate: '2026-06-01', obligation: 'duty', status: 'open', suspended: true }, cal)).toEqual([]);
  });

  it('stages are tunable', () => {
    const config = { ...DEFAULT_SCHEDULE, stages: [{ id: 'reminder-5', kind: 'reminder' as const, audience: 'responsible' as const, workingDays: 5, at: '09:30' }] };
    expect(fmt(planStages({ rule: 'force.report', dueDate: '2026-06-12', obligation: 'duty', status: 'open' }, cal, config))).toEqual([['reminder-5', '2026-06-05T09:30:00.000+02:00']]);
  });

  it('nextInWindow moves evenings and weekends to the next opening', () => {
    const w = { from: '07:00', to: '18:00' };
    expect(formatLocalInstant(nextInWindow(Date.parse('2026-06-12T18:30:00+02:00'), cal, w))).toBe('2026-06-15T07:00:00.000+02:00');
    expect(formatLocalInstant(nextInWindow(Date.parse('2026-06-12T06:59:00+02:00'), cal, w))).toBe('2026-06-12T07:00:00.000+02:00');
    expect(formatLocalInstant(nextInWindow(Date.parse('2026-06-12T12:00:00+02:00'), cal, w))).toBe('2026-06-12T12:00:00.000+02:00');
  });
});
