/** § 22 annual overview: when it is planned and sent, and what it counts. */
import { describe, expect, it } from 'vitest';
import { annualOverviewCsv, annualOverviewPlan, summariseAnnualOverview, type OverviewIncident } from '../../src/domain/annual-overview.js';
import { createCalendar, DEFAULT_SCHEDULE } from '../../src/domain/index.js';

const cal = createCalendar();
const at = (s: string): number => Date.parse(s);

describe('annualOverviewPlan', () => {
  it.each([
    // Due Sunday 31.01.2027 (duty deadlines are not moved); two working days before: Thu 28.01 08:00 local.
    ['2027-01-05T10:00:00+01:00', 2026, '2027-01-31', '2027-01-28T07:00:00.000Z'],
    // Due Wednesday 31.01.2029; two working days before: Mon 29.01.
    ['2029-01-02T09:00:00+01:00', 2028, '2029-01-31', '2029-01-29T07:00:00.000Z'],
    // Still planned shortly after the due date (a worker that was down), sent late rather than never.
    ['2027-02-20T09:00:00+01:00', 2026, '2027-01-31', '2027-01-28T07:00:00.000Z'],
  ])('now %s → overview of %i, due %s, sent %s', (now, year, due, planned) => {
    const p = annualOverviewPlan(at(now), cal, DEFAULT_SCHEDULE.window);
    expect(p).toBeDefined();
    expect(p?.year).toBe(year);
    expect(p?.dueDate).toBe(due);
    expect(new Date(p?.plannedAt ?? 0).toISOString()).toBe(planned);
    expect(p?.citation).toMatch(/§ 22/);
  });

  it('plans nothing outside the period: a new installation in November does not send last year’s overview', () => {
    expect(annualOverviewPlan(at('2026-11-22T12:00:00+01:00'), cal, DEFAULT_SCHEDULE.window)).toBeUndefined();
    expect(annualOverviewPlan(at('2027-03-05T12:00:00+01:00'), cal, DEFAULT_SCHEDULE.window)).toBeUndefined();
  });

  it('follows an administrator’s policy date', () => {
    const p = annualOverviewPlan(at('2027-01-05T10:00:00+01:00'), cal, DEFAULT_SCHEDULE.window, { 'incident.annual-overview': { month: 1, day: 15 } });
    expect(p?.dueDate).toBe('2027-01-15');
    // Fri 15.01 → two working days before: Wed 13.01.
    expect(new Date(p?.plannedAt ?? 0).toISOString()).toBe('2027-01-13T07:00:00.000Z');
  });
});

describe('summariseAnnualOverview', () => {
  const inc = (over: Partial<OverviewIncident>): OverviewIncident => ({ institutionName: 'Vestre', kind: 'death', occurredAtMs: at('2026-03-27T14:00:00+01:00'), notice: 'met', report: 'met', ...over });

  it('counts reportable incidents of the local year per institution and kind, with on-time rates', () => {
    const o = summariseAnnualOverview(2026, [
      inc({}),
      inc({ kind: 'suicide', notice: 'met_late', report: 'breached' }),
      inc({ kind: 'death', notice: 'breached', report: 'open' }),
      inc({ institutionName: 'Aalborg', kind: 'qualified_self_harm', notice: 'met', report: 'none' }),
      // 23:30 on 31 December local is 22:30 UTC: still 2026.
      inc({ institutionName: 'Aalborg', kind: 'qualified_suicide_attempt', occurredAtMs: at('2026-12-31T22:30:00Z') }),
      // 00:30 on 1 January local is 23:30 UTC on 31 December: already 2027.
      inc({ occurredAtMs: at('2026-12-31T23:30:00Z') }),
      // Chapter 5 carries no reporting duty.
      inc({ kind: 'other_self_harm_behaviour' }),
    ]);
    expect(o.total).toBe(5);
    // Danish collation: "Aa" is Å, the last letter, so Aalborg comes after Vestre.
    expect(o.rows.map((r) => [r.institution, r.kind, r.incidents])).toEqual([
      ['Vestre', 'death', 2],
      ['Vestre', 'suicide', 1],
      ['Aalborg', 'qualified_suicide_attempt', 1],
      ['Aalborg', 'qualified_self_harm', 1],
    ]);
    const death = o.rows.find((r) => r.kind === 'death');
    expect(death).toMatchObject({ noticeOnTime: 1, noticeMissing: 1, reportOnTime: 1, reportMissing: 1 });
    expect(o.noticeOnTimeRate).toBeCloseTo(3 / 5);
    expect(o.reportOnTimeRate).toBeCloseTo(2 / 4);
  });

  it('writes RFC 4180 CSV and defuses spreadsheet formulas in names', () => {
    const csv = annualOverviewCsv(summariseAnnualOverview(2026, [inc({ institutionName: '=HYPERLINK("x")' }), inc({ institutionName: 'Fængsel, "Vest"' })]));
    const lines = csv.split('\r\n');
    expect(lines[0]).toBe('institution,kind,kind_da,incidents,notice_on_time,notice_late,notice_missing_or_open,report_on_time,report_late,report_missing_or_open');
    expect(csv).toContain(`"'=HYPERLINK(""x"")",death,Dødsfald,1,1,0,0,1,0,0`);
    expect(csv).toContain('"Fængsel, ""Vest""",death');
    expect(csv.endsWith('\r\n')).toBe(true);
  });

  it('reports no rate when nothing was due', () => {
    const o = summariseAnnualOverview(2026, []);
    expect(o.total).toBe(0);
    expect(o.noticeOnTimeRate).toBeUndefined();
  });
});
