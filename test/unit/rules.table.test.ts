/**
 * Independent, hand-computed table tests for every rule with a due date (DOMAIN.md).
 *
 * Every expected date below was worked out by hand from the rule catalogue (and cross-checked with a
 * throw-away python datetime/calendar script), never read off the implementation. Holidays used:
 *   2023: Store Bededag Fri 05.05, Kristi Himmelfart Thu 18.05
 *   2024: Store Bededag abolished (Fri 26.04 is a working day)
 *   2025: skærtorsdag 17.04, langfredag 18.04, påske 20.04, 2. påskedag 21.04, Kr. himmelfart Thu 29.05,
 *         pinse 08.06, 2. pinsedag 09.06, jul 25.–26.12
 *   2026: nytår Thu 01.01, skærtorsdag 02.04, langfredag 03.04, påske 05.04, 2. påskedag 06.04,
 *         Kr. himmelfart Thu 14.05, pinse 24.05, 2. pinsedag Mon 25.05, jul Fri 25.12 / Sat 26.12
 *   2027: nytår Fri 01.01
 * Not holidays: 01.05, 05.06, 24.12, 31.12 (working days unless closureDays say otherwise).
 * DST in Copenhagen: 2023 26.03–29.10, 2024 31.03–27.10, 2025 30.03–26.10, 2026 29.03–25.10,
 * 2027 28.03–31.10, 2028 26.03–29.10 (summer time +02:00 between, +01:00 otherwise).
 */
import { describe, expect, it } from 'vitest';
import { cell, compute, endOfDay, force, incident, last, LATE_NOW, lastSunday, offsetAtEndOf, plan, type Opts, type Status } from '../support/deadline-table.js';

describe('the DST helper of the deadline tables (self-check)', () => {
  it.each([
    [2023, '2023-03-26', '2023-10-29'],
    [2024, '2024-03-31', '2024-10-27'],
    [2025, '2025-03-30', '2025-10-26'],
    [2026, '2026-03-29', '2026-10-25'],
    [2027, '2027-03-28', '2027-10-31'],
    [2028, '2028-03-26', '2028-10-29'],
  ])('%i: %s – %s', (year, spring, autumn) => {
    expect(lastSunday(year, 3)).toBe(spring);
    expect(lastSunday(year, 10)).toBe(autumn);
    expect(offsetAtEndOf(spring)).toBe('+02:00');
    expect(offsetAtEndOf(autumn)).toBe('+01:00');
  });
});

interface Row {
  name: string;
  record: Record<string, unknown>;
  rule: string;
  due: string;
  basis?: 'law' | 'policy';
  closureDays?: string[];
}

// ───────────────────────────────────────────────────────────────────────────────────────────────
// Due dates, one table per rule. dueAt is always checked as the end of the local due day.
// ───────────────────────────────────────────────────────────────────────────────────────────────

const PRELIMINARY: Row[] = [
  // Issue example. Fri 27.03 + 3 wd: Mon 30, Tue 31, Wed 01.04. DST began Sun 29.03 → +02:00.
  { name: 'death Fri 27.03.2026 (issue example)', record: incident('death', '2026-03-27T14:00:00+01:00'), rule: 'incident.preliminary-notice', due: '2026-04-01', basis: 'law' },
  // Issue example. Wed 16.04.2025 + 3 wd: Thu 17 skærtorsdag, Fri 18 langfredag, Sat, Sun 20 påske, Mon 21 2. påskedag → Tue 22, Wed 23, Thu 24.
  { name: 'qualified_self_harm Wed 16.04.2025 over Easter (issue example)', record: incident('qualified_self_harm', '2025-04-16T10:00:00+02:00'), rule: 'incident.preliminary-notice', due: '2025-04-24', basis: 'law' },
  // Wed 01.04.2026: Thu 02 skærtorsdag, Fri 03 langfredag, Sat, Sun, Mon 06 2. påskedag → Tue 07, Wed 08, Thu 09.
  { name: 'suicide Wed 01.04.2026 over Easter', record: incident('suicide', '2026-04-01T08:00:00+02:00'), rule: 'incident.preliminary-notice', due: '2026-04-09' },
  // Tue 12.05.2026: Wed 13 (1), Thu 14 Kristi himmelfart skipped, Fri 15 (2), Mon 18 (3).
  { name: 'death Tue 12.05.2026 over Ascension', record: incident('death', '2026-05-12'), rule: 'incident.preliminary-notice', due: '2026-05-18' },
  // Fri 22.05.2026: Mon 25 2. pinsedag skipped → Tue 26, Wed 27, Thu 28.
  { name: 'qualified_suicide_attempt Fri 22.05.2026 over Whitsun', record: incident('qualified_suicide_attempt', '2026-05-22'), rule: 'incident.preliminary-notice', due: '2026-05-28' },
  // Wed 24.12.2025: Thu 25, Fri 26 jul, Sat, Sun → Mon 29, Tue 30, Wed 31 (31.12 is a working day by default).
  { name: 'death Wed 24.12.2025 over Christmas', record: incident('death', '2025-12-24T20:00:00+01:00'), rule: 'incident.preliminary-notice', due: '2025-12-31' },
  // Same with 31.12 closed (MM-DD): Mon 29, Tue 30, [31 closed], Thu 01.01 nytår → Fri 02.01.2026.
  { name: 'death Wed 24.12.2025 with closure 12-31', record: incident('death', '2025-12-24T20:00:00+01:00'), rule: 'incident.preliminary-notice', due: '2026-01-02', closureDays: ['12-31'] },
  // Tue 29.12.2026: Wed 30 (1), Thu 31 (2), Fri 01.01.2027 nytår, Sat, Sun → Mon 04.01.2027 (3).
  { name: 'suicide Tue 29.12.2026 over New Year', record: incident('suicide', '2026-12-29'), rule: 'incident.preliminary-notice', due: '2027-01-04' },
  // Wed 03.05.2023: Thu 04 (1), Fri 05 Store Bededag (holiday in 2023), Mon 08 (2), Tue 09 (3).
  { name: 'death Wed 03.05.2023 over Store Bededag 2023 (holiday)', record: incident('death', '2023-05-03'), rule: 'incident.preliminary-notice', due: '2023-05-09' },
  // Wed 24.04.2024: Thu 25 (1), Fri 26 former Store Bededag = working day from 2024 (2), Mon 29 (3).
  { name: 'death Wed 24.04.2024, Store Bededag 2024 is a working day', record: incident('death', '2024-04-24'), rule: 'incident.preliminary-notice', due: '2024-04-29' },
  // Tue 02.06.2026: Wed 03, Thu 04, Fri 05 Grundlovsdag (working day by default).
  { name: 'death Tue 02.06.2026, Grundlovsdag counted by default', record: incident('death', '2026-06-02'), rule: 'incident.preliminary-notice', due: '2026-06-05' },
  // Same with exact closure 2026-06-05: Wed 03, Thu 04, [Fri 05 closed], Mon 08.
  { name: 'death Tue 02.06.2026 with closure 2026-06-05', record: incident('death', '2026-06-02'), rule: 'incident.preliminary-notice', due: '2026-06-08', closureDays: ['2026-06-05'] },
  // An exact closure for another year (2025-06-05) does not close 05.06.2026 → still Fri 05.
  { name: 'death Tue 02.06.2026, closure 2025-06-05 does not apply in 2026', record: incident('death', '2026-06-02'), rule: 'incident.preliminary-notice', due: '2026-06-05', closureDays: ['2025-06-05'] },
  // Wed 29.04.2026: Thu 30 (1), Fri 01.05 (working day; also the abolished Store Bededag date of 2026) (2), Mon 04 (3).
  { name: 'death Wed 29.04.2026, 1 May counted', record: incident('death', '2026-04-29'), rule: 'incident.preliminary-notice', due: '2026-05-04' },
  // 22:30Z on Tue 09.06 = 00:30 +02:00 Wed 10.06 local: Thu 11, Fri 12, Mon 15 (reading it as 09.06 would give Fri 12).
  { name: 'UTC instant 2026-06-09T22:30Z is local Wed 10.06', record: incident('death', '2026-06-09T22:30:00Z'), rule: 'incident.preliminary-notice', due: '2026-06-15' },
  // 23:30Z on Thu 15.01 = 00:30 +01:00 Fri 16.01 local: Mon 19, Tue 20, Wed 21.
  { name: 'UTC instant 2026-01-15T23:30Z is local Fri 16.01', record: incident('death', '2026-01-15T23:30:00Z'), rule: 'incident.preliminary-notice', due: '2026-01-21' },
  // 22:59Z on Thu 15.01 = 23:59 +01:00 still Thu 15.01 local: Fri 16, Mon 19, Tue 20.
  { name: 'UTC instant 2026-01-15T22:59Z is still local Thu 15.01', record: incident('death', '2026-01-15T22:59:00Z'), rule: 'incident.preliminary-notice', due: '2026-01-20' },
  // Fri 23.10.2026: Mon 26, Tue 27, Wed 28. DST ended Sun 25.10 → +01:00.
  { name: 'death Fri 23.10.2026 across the autumn DST change', record: incident('death', '2026-10-23T12:00:00+02:00'), rule: 'incident.preliminary-notice', due: '2026-10-28' },
  // Sat 28.02.2026: Mon 02.03, Tue 03, Wed 04.
  { name: 'qualified_self_harm Sat 28.02.2026', record: incident('qualified_self_harm', '2026-02-28'), rule: 'incident.preliminary-notice', due: '2026-03-04' },
  // Fri 17.07.2015 = first day after the § 23 cut-off: Mon 20, Tue 21, Wed 22.
  { name: 'death Fri 17.07.2015 (first day in scope)', record: incident('death', '2015-07-17'), rule: 'incident.preliminary-notice', due: '2015-07-22' },
];

const FINAL_REPORT: Row[] = [
  // Issue example. Fri 27.03 + 4 weeks = Fri 24.04.2026.
  { name: 'death Fri 27.03.2026 (issue example)', record: incident('death', '2026-03-27T14:00:00+01:00'), rule: 'incident.final-report', due: '2026-04-24', basis: 'law' },
  // Sat 28.02.2026 + 28 days = Sat 28.03.2026: a duty, not moved off the weekend.
  { name: 'Sat 28.02.2026 → Sat 28.03, not moved', record: incident('qualified_self_harm', '2026-02-28'), rule: 'incident.final-report', due: '2026-03-28' },
  // Fri 06.03.2026 + 28 = Fri 03.04.2026 langfredag: not moved.
  { name: 'Fri 06.03.2026 → langfredag 03.04, not moved', record: incident('suicide', '2026-03-06'), rule: 'incident.final-report', due: '2026-04-03' },
  // Thu 27.11.2025 + 28 = Thu 25.12.2025 juledag: not moved.
  { name: 'Thu 27.11.2025 → juledag 25.12, not moved', record: incident('death', '2025-11-27'), rule: 'incident.final-report', due: '2025-12-25' },
  // Fri 09.10.2026 + 28 = Fri 06.11.2026 (crosses the DST end → +01:00).
  { name: 'Fri 09.10.2026 → 06.11 across DST end', record: incident('death', '2026-10-09T09:00:00+02:00'), rule: 'incident.final-report', due: '2026-11-06' },
  // Thu 10.12.2026 + 28 = Thu 07.01.2027 (over New Year).
  { name: 'Thu 10.12.2026 → 07.01.2027', record: incident('qualified_suicide_attempt', '2026-12-10'), rule: 'incident.final-report', due: '2027-01-07' },
  // Tue 01.02.2028 + 28 = Tue 29.02.2028 (leap day).
  { name: 'Tue 01.02.2028 → leap day 29.02.2028', record: incident('death', '2028-02-01'), rule: 'incident.final-report', due: '2028-02-29' },
  // 22:30Z 09.06 = local Wed 10.06.2026 + 28 = Wed 08.07.2026.
  { name: 'UTC instant 2026-06-09T22:30Z → from local 10.06', record: incident('death', '2026-06-09T22:30:00Z'), rule: 'incident.final-report', due: '2026-07-08' },
  // Fri 17.07.2015 + 28 = Fri 14.08.2015.
  { name: 'Fri 17.07.2015 (first day in scope)', record: incident('death', '2015-07-17'), rule: 'incident.final-report', due: '2015-08-14' },
];

const INMATE_CONVERSATION: Row[] = [
  // Wed 01.04.2026 + 1 wd: Thu 02, Fri 03, Sat, Sun, Mon 06 skipped → Tue 07.04.
  { name: 'qualified_suicide_attempt Wed 01.04.2026 over Easter', record: incident('qualified_suicide_attempt', '2026-04-01'), rule: 'incident.inmate-conversation', due: '2026-04-07', basis: 'policy' },
  // Fri 16.01.2026 + 1 wd: Mon 19.01.
  { name: 'qualified_self_harm Fri 16.01.2026 over a weekend', record: incident('qualified_self_harm', '2026-01-16'), rule: 'incident.inmate-conversation', due: '2026-01-19', basis: 'policy' },
  // Wed 13.05.2026 + 1 wd: Thu 14 Kristi himmelfart → Fri 15.
  { name: 'qualified_self_harm Wed 13.05.2026 over Ascension', record: incident('qualified_self_harm', '2026-05-13'), rule: 'incident.inmate-conversation', due: '2026-05-15' },
  // Thu 04.06.2026 + 1 wd: Fri 05 Grundlovsdag counted by default.
  { name: 'qualified_self_harm Thu 04.06.2026, Grundlovsdag counted', record: incident('qualified_self_harm', '2026-06-04'), rule: 'incident.inmate-conversation', due: '2026-06-05' },
  // Same with closure 06-05: Fri 05 closed, Sat, Sun → Mon 08.
  { name: 'qualified_self_harm Thu 04.06.2026 with closure 06-05', record: incident('qualified_self_harm', '2026-06-04'), rule: 'incident.inmate-conversation', due: '2026-06-08', closureDays: ['06-05'] },
  // Thu 04.05.2023 + 1 wd: Fri 05 Store Bededag 2023 → Mon 08.
  { name: 'qualified_suicide_attempt Thu 04.05.2023, Store Bededag 2023 skipped', record: incident('qualified_suicide_attempt', '2023-05-04'), rule: 'incident.inmate-conversation', due: '2023-05-08' },
  // Thu 25.04.2024 + 1 wd: Fri 26 (no Store Bededag any more).
  { name: 'qualified_suicide_attempt Thu 25.04.2024, Store Bededag 2024 counted', record: incident('qualified_suicide_attempt', '2024-04-25'), rule: 'incident.inmate-conversation', due: '2024-04-26' },
];

const CLOSING_LETTER: Row[] = [
  // Final report Mon 20.04.2026 + 4 weeks = Mon 18.05.2026.
  { name: 'final report Mon 20.04.2026', record: incident('death', '2026-03-27', { finalReportSubmittedAt: '2026-04-20' }), rule: 'incident.closing-letter', due: '2026-05-18', basis: 'policy' },
  // Final report at 23:30Z 03.12 = local Thu 04.12.2025 + 28 = Thu 01.01.2026 nytår (duty: not moved).
  { name: 'final report 2025-12-03T23:30Z (local 04.12) → nytårsdag, not moved', record: incident('suicide', '2025-11-20', { finalReportSubmittedAt: '2025-12-03T23:30:00Z' }), rule: 'incident.closing-letter', due: '2026-01-01', basis: 'policy' },
];

const ANNUAL_OVERVIEW: Row[] = [
  // Overview for 2025 due 31 January 2026 (a Saturday; a duty, not moved).
  { name: 'overview for 2025 → Sat 31.01.2026', record: { type: 'annual_overview', year: 2025 }, rule: 'incident.annual-overview', due: '2026-01-31' },
];

const CELL: Row[] = [
  // Ended Tue 02.06.2026 + 7 days = Tue 09.06.
  { name: 'ended Tue 02.06.2026', record: { type: 'security_cell_placement', placedAt: '2026-06-01T10:00:00+02:00', endedAt: '2026-06-02T09:00:00+02:00' }, rule: 'cell.follow-up-conversation', due: '2026-06-09', basis: 'law' },
  // Ended Sat 06.06 + 7 = Sat 13.06: a duty, not moved.
  { name: 'ended Sat 06.06.2026 → Sat 13.06, not moved', record: cell('2026-06-06'), rule: 'cell.follow-up-conversation', due: '2026-06-13' },
  // Ended Sun 22.03.2026 + 7 = Sun 29.03.2026, the spring DST day itself: end of day is +02:00.
  { name: 'ended Sun 22.03.2026 → Sun 29.03 (spring DST day)', record: cell('2026-03-22T15:00:00+01:00'), rule: 'cell.follow-up-conversation', due: '2026-03-29' },
  // Ended Sun 18.10.2026 + 7 = Sun 25.10.2026, the autumn DST day itself: end of day is +01:00.
  { name: 'ended Sun 18.10.2026 → Sun 25.10 (autumn DST day)', record: cell('2026-10-18T15:00:00+02:00'), rule: 'cell.follow-up-conversation', due: '2026-10-25' },
  // Ended Thu 18.12.2025 + 7 = Thu 25.12 juledag: not moved.
  { name: 'ended Thu 18.12.2025 → juledag, not moved', record: cell('2025-12-18'), rule: 'cell.follow-up-conversation', due: '2025-12-25' },
  // Ended 22:15Z 30.06 = local Wed 01.07.2026 + 7 = Wed 08.07.
  { name: 'ended 2026-06-30T22:15Z (local 01.07)', record: { type: 'security_cell_placement', placedAt: '2026-06-30T08:00:00+02:00', endedAt: '2026-06-30T22:15:00Z' }, rule: 'cell.follow-up-conversation', due: '2026-07-08' },
  // Ended Mon 28.12.2026 + 7 = Mon 04.01.2027.
  { name: 'ended Mon 28.12.2026 → 04.01.2027', record: cell('2026-12-28'), rule: 'cell.follow-up-conversation', due: '2027-01-04' },
];

const FORCE_REPORT: Row[] = [
  // Fri 27.03.2026 + 1 wd = Mon 30.03 (after the DST change → +02:00).
  { name: 'Fri 27.03.2026', record: force('2026-03-27T18:00:00+01:00'), rule: 'force.report', due: '2026-03-30', basis: 'policy' },
  // Wed 24.12.2025: Thu 25, Fri 26 jul, weekend → Mon 29.12.
  { name: 'Wed 24.12.2025 over Christmas', record: force('2025-12-24'), rule: 'force.report', due: '2025-12-29' },
  // Thu 31.12.2026: Fri 01.01.2027 nytår, weekend → Mon 04.01.2027.
  { name: 'Thu 31.12.2026 over New Year', record: force('2026-12-31'), rule: 'force.report', due: '2027-01-04' },
  // Thu 02.04.2026 (skærtorsdag itself): Fri 03, Sat, Sun, Mon 06 → Tue 07.
  { name: 'on skærtorsdag 02.04.2026', record: force('2026-04-02'), rule: 'force.report', due: '2026-04-07' },
  // 23:30 -05:00 on Sat 28.03 = 04:30Z = 06:30 +02:00 Sun 29.03 local → Mon 30.03.
  { name: 'instant with a foreign offset, local Sun 29.03.2026', record: force('2026-03-28T23:30:00-05:00'), rule: 'force.report', due: '2026-03-30' },
  // Wed 23.12.2026 + 1 wd = Thu 24.12 (working day by default).
  { name: 'Wed 23.12.2026, 24.12 counted by default', record: force('2026-12-23'), rule: 'force.report', due: '2026-12-24' },
  // Same with closure 12-24: Thu 24 closed, Fri 25 + Sat 26 jul, Sun 27 → Mon 28.12.
  { name: 'Wed 23.12.2026 with closure 12-24', record: force('2026-12-23'), rule: 'force.report', due: '2026-12-28', closureDays: ['12-24'] },
];

const COMPLAINT_WINDOW: Row[] = [
  // Tue 30.06.2026 + 2 months = Sun 30.08 → moved to Mon 31.08.
  { name: '30.06.2026 → Sun 30.08 moved to Mon 31.08', record: force('2026-06-30'), rule: 'force.complaint-window', due: '2026-08-31', basis: 'law' },
  // 22:30Z 30.06 = local Wed 01.07.2026 + 2 months = Tue 01.09.
  { name: 'UTC instant 2026-06-30T22:30Z (local 01.07) → 01.09', record: force('2026-06-30T22:30:00Z'), rule: 'force.complaint-window', due: '2026-09-01' },
  // Wed 31.12.2025 + 2 months = 28.02.2026 (clamped; Sat) → Mon 02.03.2026.
  { name: '31.12.2025 → clamped Sat 28.02.2026 → Mon 02.03', record: force('2025-12-31'), rule: 'force.complaint-window', due: '2026-03-02' },
  // Fri 31.12.2027 + 2 months = Tue 29.02.2028 (leap year, clamped from 31).
  { name: '31.12.2027 → leap day Tue 29.02.2028', record: force('2027-12-31'), rule: 'force.complaint-window', due: '2028-02-29' },
  // Thu 31.12.2026 + 2 months = Sun 28.02.2027 (clamped) → Mon 01.03.2027.
  { name: '31.12.2026 → clamped Sun 28.02.2027 → Mon 01.03', record: force('2026-12-31'), rule: 'force.complaint-window', due: '2027-03-01' },
  // Fri 31.07.2026 + 2 months = 30.09 (clamped; Wed, working).
  { name: '31.07.2026 → clamped Wed 30.09', record: force('2026-07-31'), rule: 'force.complaint-window', due: '2026-09-30' },
  // Tue 03.02.2026 + 2 months = Fri 03.04 langfredag → Sat, Sun påske, Mon 06 2. påskedag → Tue 07.04.
  { name: '03.02.2026 → langfredag moved to Tue 07.04', record: force('2026-02-03'), rule: 'force.complaint-window', due: '2026-04-07' },
  // Sat 14.03.2026 + 2 months = Thu 14.05 Kristi himmelfart → Fri 15.05.
  { name: '14.03.2026 → Ascension moved to Fri 15.05', record: force('2026-03-14'), rule: 'force.complaint-window', due: '2026-05-15' },
  // Wed 25.03.2026 + 2 months = Mon 25.05 2. pinsedag → Tue 26.05.
  { name: '25.03.2026 → 2. pinsedag moved to Tue 26.05', record: force('2026-03-25'), rule: 'force.complaint-window', due: '2026-05-26' },
  // Sun 25.10.2026 + 2 months = Fri 25.12 juledag, Sat 26 2. juledag, Sun 27 → Mon 28.12.
  { name: '25.10.2026 → juledag moved to Mon 28.12', record: force('2026-10-25'), rule: 'force.complaint-window', due: '2026-12-28' },
  // Sat 01.11.2025 + 2 months = Thu 01.01.2026 nytår → Fri 02.01.
  { name: '01.11.2025 → nytårsdag moved to Fri 02.01.2026', record: force('2025-11-01'), rule: 'force.complaint-window', due: '2026-01-02' },
  // Sun 05.03.2023 + 2 months = Fri 05.05.2023 Store Bededag (holiday in 2023) → Sat, Sun → Mon 08.05.
  { name: '05.03.2023 → Store Bededag 2023 moved to Mon 08.05', record: force('2023-03-05'), rule: 'force.complaint-window', due: '2023-05-08' },
  // Mon 26.02.2024 + 2 months = Fri 26.04.2024, a working day since Store Bededag was abolished: not moved.
  { name: '26.02.2024 → Fri 26.04.2024 stays (no Store Bededag)', record: force('2024-02-26'), rule: 'force.complaint-window', due: '2024-04-26' },
  // Sun 05.04.2026 + 2 months = Fri 05.06 Grundlovsdag: a working day by default, not moved.
  { name: '05.04.2026 → Grundlovsdag 05.06 stays by default', record: force('2026-04-05'), rule: 'force.complaint-window', due: '2026-06-05' },
  // Same with closure 06-05: Fri 05.06 closed, Sat, Sun → Mon 08.06.
  { name: '05.04.2026 with closure 06-05 → Mon 08.06', record: force('2026-04-05'), rule: 'force.complaint-window', due: '2026-06-08', closureDays: ['06-05'] },
  // Sat 31.10.2026 + 2 months = Thu 31.12.2026 (working day by default).
  { name: '31.10.2026 → 31.12 stays by default', record: force('2026-10-31'), rule: 'force.complaint-window', due: '2026-12-31' },
  // Same with exact closure 2026-12-31: Thu 31 closed, Fri 01.01.2027 nytår, weekend → Mon 04.01.2027.
  { name: '31.10.2026 with closure 2026-12-31 → Mon 04.01.2027', record: force('2026-10-31'), rule: 'force.complaint-window', due: '2027-01-04', closureDays: ['2026-12-31'] },
];

const PLAN_CREATE: Row[] = [
  // Issue example. Mon 26.05.2025 + 7 wd: Tue 27 (1), Wed 28 (2), Thu 29 Kr. himmelfart skipped, Fri 30 (3), Mon 02.06 (4), Tue 03 (5), Wed 04 (6), Thu 05 Grundlovsdag (7).
  { name: 'remand Mon 26.05.2025 (issue example)', record: plan('remand', { admittedAt: '2025-05-26' }), rule: 'plan.create', due: '2025-06-05', basis: 'law' },
  // Issue example with 05.06 closed: the 7th working day becomes Fri 06.06.
  { name: 'remand Mon 26.05.2025 with closure 06-05 (issue example)', record: plan('remand', { admittedAt: '2025-05-26' }), rule: 'plan.create', due: '2025-06-06', closureDays: ['06-05'] },
  // Mon 30.03.2026: Tue 31 (1), Wed 01 (2), Thu 02–Mon 06 Easter skipped, Tue 07 (3), Wed 08 (4), Thu 09 (5), Fri 10 (6), Mon 13 (7).
  { name: 'convicted_from_liberty Mon 30.03.2026 over Easter', record: plan('convicted_from_liberty', { admittedAt: '2026-03-30' }), rule: 'plan.create', due: '2026-04-13', basis: 'law' },
  // Fri 19.12.2025: Mon 22 (1), Tue 23 (2), Wed 24 (3), Thu 25/Fri 26 jul, Mon 29 (4), Tue 30 (5), Wed 31 (6), Thu 01.01 nytår, Fri 02.01.2026 (7).
  { name: 'remand Fri 19.12.2025 over Christmas and New Year', record: plan('remand', { admittedAt: '2025-12-19' }), rule: 'plan.create', due: '2026-01-02' },
  // Same with closures 12-24 and 12-31: Mon 22 (1), Tue 23 (2), Mon 29 (3), Tue 30 (4), Fri 02.01 (5), Mon 05 (6), Tue 06 (7).
  { name: 'remand Fri 19.12.2025 with closures 12-24 and 12-31', record: plan('remand', { admittedAt: '2025-12-19' }), rule: 'plan.create', due: '2026-01-06', closureDays: ['12-24', '12-31'] },
  // Mon 01.05.2023: Tue 02 (1), Wed 03 (2), Thu 04 (3), Fri 05 Store Bededag skipped, Mon 08 (4), Tue 09 (5), Wed 10 (6), Thu 11 (7).
  { name: 'remand Mon 01.05.2023 over Store Bededag 2023', record: plan('remand', { admittedAt: '2023-05-01' }), rule: 'plan.create', due: '2023-05-11' },
  // Mon 22.04.2024: Tue 23, Wed 24, Thu 25, Fri 26 (no Store Bededag), Mon 29, Tue 30, Wed 01.05 (1 May counted) = 7.
  { name: 'remand Mon 22.04.2024, Store Bededag 2024 and 1 May counted', record: plan('remand', { admittedAt: '2024-04-22' }), rule: 'plan.create', due: '2024-05-01' },
  // Wed 20.05.2026: Thu 21 (1), Fri 22 (2), Mon 25 2. pinsedag skipped, Tue 26 (3), Wed 27 (4), Thu 28 (5), Fri 29 (6), Mon 01.06 (7).
  { name: 'convicted_from_liberty Wed 20.05.2026 over Whitsun', record: plan('convicted_from_liberty', { admittedAt: '2026-05-20' }), rule: 'plan.create', due: '2026-06-01' },
  // Fri 20.03.2026: Mon 23 … Fri 27 (5), Mon 30 (6), Tue 31 (7); DST began Sun 29.03 → +02:00.
  { name: 'remand Fri 20.03.2026 across the spring DST change', record: plan('remand', { admittedAt: '2026-03-20' }), rule: 'plan.create', due: '2026-03-31' },
  // 23:30Z on Thu 19.03 = 00:30 +01:00 Fri 20.03 local → same as the row above.
  { name: 'remand admitted 2026-03-19T23:30Z (local Fri 20.03)', record: plan('remand', { admittedAt: '2026-03-19T23:30:00Z' }), rule: 'plan.create', due: '2026-03-31' },
  // supervision: Wed 07.01.2026 + 4 weeks = Wed 04.02.
  { name: 'supervision established Wed 07.01.2026 → 4 weeks', record: plan('supervision', { supervisionEstablishedAt: '2026-01-07' }), rule: 'plan.create', due: '2026-02-04', basis: 'law' },
  // youth_home_detention (policy 7 wd): Fri 08.05.2026: Mon 11 (1), Tue 12 (2), Wed 13 (3), Thu 14 Kr. himmelfart, Fri 15 (4), Mon 18 (5), Tue 19 (6), Wed 20 (7).
  { name: 'youth_home_detention Fri 08.05.2026 (policy) over Ascension', record: plan('youth_home_detention', { admittedAt: '2026-05-08' }), rule: 'plan.create', due: '2026-05-20', basis: 'policy' },
];

const PLAN_ELABORATE: Row[] = [
  // convicted_from_liberty: Mon 05.01.2026 + 4 weeks = Mon 02.02.
  { name: 'convicted_from_liberty Mon 05.01.2026', record: plan('convicted_from_liberty', { admittedAt: '2026-01-05' }), rule: 'plan.elaborate', due: '2026-02-02', basis: 'law' },
  // Thu 05.03.2026 + 28 = Thu 02.04 skærtorsdag: a duty, not moved; DST → +02:00.
  { name: 'convicted_from_liberty Thu 05.03.2026 → skærtorsdag, not moved', record: plan('convicted_from_liberty', { admittedAt: '2026-03-05' }), rule: 'plan.elaborate', due: '2026-04-02' },
  // supervision: Thu 01.10.2026 + 28 = Thu 29.10 (after the DST end → +01:00).
  { name: 'supervision established Thu 01.10.2026', record: plan('supervision', { supervisionEstablishedAt: '2026-10-01' }), rule: 'plan.elaborate', due: '2026-10-29', basis: 'law' },
];

const PLAN_EVALUATE: Row[] = [
  // Elaborated Mon 31.08.2026, release 01.06.2027 (< 2 years) → 3 months: 31.11 does not exist → Mon 30.11.2026.
  {
    name: 'elaborated 31.08.2026 + 3 months → 30.11 (clamped)',
    record: plan('convicted_from_liberty', { admittedAt: '2026-08-03', createdAt: '2026-08-10', elaboratedAt: '2026-08-31', expectedReleaseDate: '2027-06-01' }),
    rule: 'plan.evaluate',
    due: '2026-11-30',
    basis: 'law',
  },
  // Last evaluation Mon 30.11.2026, release 01.06.2027 → 3 months: 30.02 does not exist → Sun 28.02.2027 (not moved).
  {
    name: 'evaluated 30.11.2026 + 3 months → 28.02.2027 (clamped)',
    record: plan('convicted_from_liberty', { admittedAt: '2026-08-03', createdAt: '2026-08-10', elaboratedAt: '2026-08-31', evaluations: ['2026-11-30'], expectedReleaseDate: '2027-06-01' }),
    rule: 'plan.evaluate',
    due: '2027-02-28',
  },
  // Last evaluation Tue 30.11.2027, release 01.06.2028 → 3 months → Tue 29.02.2028 (leap year).
  {
    name: 'evaluated 30.11.2027 + 3 months → 29.02.2028 (leap)',
    record: plan('convicted_from_liberty', { admittedAt: '2027-06-01', createdAt: '2027-06-08', elaboratedAt: '2027-06-15', evaluations: ['2027-09-14', '2027-11-30'], expectedReleaseDate: '2028-06-01' }),
    rule: 'plan.evaluate',
    due: '2028-02-29',
  },
  // Elaborated Tue 10.03.2026, release 11.03.2028 is more than 2 years after → 6 months → Thu 10.09.2026.
  {
    name: 'release more than 2 years away → 6 months',
    record: plan('convicted_from_liberty', { admittedAt: '2026-02-09', createdAt: '2026-02-16', elaboratedAt: '2026-03-10', expectedReleaseDate: '2028-03-11' }),
    rule: 'plan.evaluate',
    due: '2026-09-10',
  },
  // Release 10.03.2028 is exactly 2 years after 10.03.2026 — not *more than* 2 years → 3 months → Wed 10.06.2026.
  {
    name: 'release exactly 2 years away → still 3 months',
    record: plan('convicted_from_liberty', { admittedAt: '2026-02-09', createdAt: '2026-02-16', elaboratedAt: '2026-03-10', expectedReleaseDate: '2028-03-10' }),
    rule: 'plan.evaluate',
    due: '2026-06-10',
  },
  // Elaborated Sun 31.08.2025, release 01.12.2027 (> 31.08.2027) → 6 months: 31.02 → Sat 28.02.2026.
  {
    name: 'elaborated 31.08.2025 + 6 months → 28.02.2026 (clamped)',
    record: plan('convicted_from_liberty', { admittedAt: '2025-08-04', createdAt: '2025-08-11', elaboratedAt: '2025-08-31', expectedReleaseDate: '2027-12-01' }),
    rule: 'plan.evaluate',
    due: '2026-02-28',
  },
  // Last evaluation Tue 29.02.2028 (leap day), release 01.01.2031 → 6 months → Tue 29.08.2028.
  {
    name: 'evaluated on leap day 29.02.2028 + 6 months → 29.08.2028',
    record: plan('convicted_from_liberty', { admittedAt: '2027-08-02', createdAt: '2027-08-09', elaboratedAt: '2027-09-01', evaluations: ['2028-02-29'], expectedReleaseDate: '2031-01-01' }),
    rule: 'plan.evaluate',
    due: '2028-08-29',
  },
  // measure_68_69 always 6 months, even with release soon: last evaluation Mon 31.08.2026 → 31.02 → Sun 28.02.2027.
  {
    name: 'measure_68_69 always 6 months (release soon) → 28.02.2027',
    record: plan('measure_68_69', { admittedAt: '2026-01-05', createdAt: '2026-01-08', elaboratedAt: '2026-02-27', evaluations: ['2026-08-31'], expectedReleaseDate: '2027-01-01' }),
    rule: 'plan.evaluate',
    due: '2027-02-28',
    basis: 'law',
  },
  // remand: base is the creation, Sun 30.11.2025 + 3 months → 30.02 → Sat 28.02.2026.
  {
    name: 'remand from creation 30.11.2025 + 3 months → 28.02.2026',
    record: plan('remand', { admittedAt: '2025-11-20', createdAt: '2025-11-30' }),
    rule: 'plan.evaluate',
    due: '2026-02-28',
  },
];

const PLAN_TRANSFER: Row[] = [
  // Transfer Thu 30.04.2026: Fri 01.05 (1; 1 May and the abolished Store Bededag both counted), Mon 04 (2), Tue 05 (3), Wed 06 (4), Thu 07 (5), Fri 08 (6), Mon 11 (7).
  { name: 'transfer Thu 30.04.2026, 1 May counted', record: plan('remand', { admittedAt: '2026-01-05', transfers: [{ at: '2026-04-30' }] }), rule: 'plan.transfer-update', due: '2026-05-11', basis: 'law' },
  // Transfer Fri 23.05.2025: Mon 26 (1), Tue 27 (2), Wed 28 (3), Thu 29 Kr. himmelfart, Fri 30 (4), Mon 02.06 (5), Tue 03 (6), Wed 04 (7).
  { name: 'transfer Fri 23.05.2025 over Ascension', record: plan('convicted_from_liberty', { admittedAt: '2025-01-06', transfers: [{ at: '2025-05-23' }] }), rule: 'plan.transfer-update', due: '2025-06-04' },
  // Two transfers; the last (Mon 30.03.2026) counts: Tue 31, Wed 01, [Easter 02–06], Tue 07, Wed 08, Thu 09, Fri 10, Mon 13.
  {
    name: 'second transfer Mon 30.03.2026 over Easter (last in order)',
    record: plan('remand', { admittedAt: '2026-01-05', transfers: [{ at: '2026-02-02', planUpdatedAt: '2026-02-05' }, { at: '2026-03-30' }] }),
    rule: 'plan.transfer-update',
    due: '2026-04-13',
  },
  // Transfer Mon 21.12.2026 with exact closure 2026-12-24: Tue 22 (1), Wed 23 (2), [24 closed, 25–26 jul, 27 Sun], Mon 28 (3), Tue 29 (4), Wed 30 (5), Thu 31 (6), [01.01 nytår, weekend], Mon 04.01.2027 (7).
  { name: 'transfer Mon 21.12.2026 with closure 2026-12-24', record: plan('remand', { admittedAt: '2026-01-05', transfers: [{ at: '2026-12-21' }] }), rule: 'plan.transfer-update', due: '2027-01-04', closureDays: ['2026-12-24'] },
];

const PLAN_PAROLE: Row[] = [
  // Parole decision Tue 31.03.2026 (policy 7 wd): Wed 01 (1), [Easter 02–06], Tue 07 (2), Wed 08 (3), Thu 09 (4), Fri 10 (5), Mon 13 (6), Tue 14 (7).
  { name: 'parole decision Tue 31.03.2026 over Easter', record: plan('convicted_from_liberty', { admittedAt: '2025-06-02', paroleDecisions: [{ at: '2026-03-31' }] }), rule: 'plan.parole-update', due: '2026-04-14', basis: 'policy' },
  // Fri 20.12.2024: Mon 23 (1), Tue 24 (2), [25–26 jul], Fri 27 (3), Mon 30 (4), Tue 31 (5), [Wed 01.01 nytår], Thu 02 (6), Fri 03.01.2025 (7).
  { name: 'parole decision Fri 20.12.2024 over Christmas and New Year', record: plan('convicted_from_liberty', { admittedAt: '2024-06-03', paroleDecisions: [{ at: '2024-12-20' }] }), rule: 'plan.parole-update', due: '2025-01-03', basis: 'policy' },
];

const PLAN_MUNICIPALITY: Row[] = [
  // Possible parole Tue 29.02.2028 − 1 year: 29.02.2027 does not exist → Sun 28.02.2027.
  {
    name: 'parole 29.02.2028 − 1 year → 28.02.2027 (clamped)',
    record: plan('convicted_from_liberty', { admittedAt: '2026-01-05', sentenceStartDate: '2026-01-05', possibleParoleDate: '2028-02-29' }),
    rule: 'plan.municipality-coordination',
    due: '2027-02-28',
    basis: 'law',
  },
  // Possible parole Tue 31.08.2027 − 1 year → Mon 31.08.2026.
  {
    name: 'parole 31.08.2027 − 1 year → 31.08.2026',
    record: plan('convicted_from_liberty', { admittedAt: '2026-01-05', sentenceStartDate: '2026-01-05', possibleParoleDate: '2027-08-31' }),
    rule: 'plan.municipality-coordination',
    due: '2026-08-31',
  },
  // Less than 1 year left at sentence start (05.01.2026 → parole 01.10.2026): start + 4 weeks = Mon 02.02.2026.
  {
    name: 'less than a year left → start 05.01.2026 + 4 weeks',
    record: plan('convicted_from_liberty', { admittedAt: '2026-01-05', sentenceStartDate: '2026-01-05', possibleParoleDate: '2026-10-01' }),
    rule: 'plan.municipality-coordination',
    due: '2026-02-02',
  },
  // Less than 1 year left (31.03.2026 → 15.02.2027): Tue 31.03 + 28 = Tue 28.04.2026.
  {
    name: 'less than a year left → start 31.03.2026 + 4 weeks',
    record: plan('convicted_from_liberty', { admittedAt: '2026-03-31', sentenceStartDate: '2026-03-31', possibleParoleDate: '2027-02-15' }),
    rule: 'plan.municipality-coordination',
    due: '2026-04-28',
  },
  // supervision: Thu 12.11.2026 + 4 weeks = Thu 10.12.2026.
  { name: 'supervision established Thu 12.11.2026 → 4 weeks', record: plan('supervision', { supervisionEstablishedAt: '2026-11-12' }), rule: 'plan.municipality-coordination', due: '2026-12-10', basis: 'law' },
  // youth_home_detention: together with the first plan = plan.create due (Fri 08.05.2026 + 7 wd = Wed 20.05, see above).
  { name: 'youth_home_detention: together with the first plan', record: plan('youth_home_detention', { admittedAt: '2026-05-08' }), rule: 'plan.municipality-coordination', due: '2026-05-20' },
];

const TABLES: [string, Row[]][] = [
  ['incident.preliminary-notice (3 hverdage)', PRELIMINARY],
  ['incident.final-report (4 uger)', FINAL_REPORT],
  ['incident.inmate-conversation (policy 1 hverdag, chapter 4)', INMATE_CONVERSATION],
  ['incident.closing-letter (policy 4 uger after the final report)', CLOSING_LETTER],
  ['incident.annual-overview (31 January)', ANNUAL_OVERVIEW],
  ['cell.follow-up-conversation (7 dage, not moved)', CELL],
  ['force.report (policy 1 hverdag)', FORCE_REPORT],
  ['force.complaint-window (2 måneder, moved to the next working day)', COMPLAINT_WINDOW],
  ['plan.create', PLAN_CREATE],
  ['plan.elaborate (4 uger)', PLAN_ELABORATE],
  ['plan.evaluate (3 / 6 måneder)', PLAN_EVALUATE],
  ['plan.transfer-update (7 hverdage)', PLAN_TRANSFER],
  ['plan.parole-update (policy 7 hverdage)', PLAN_PAROLE],
  ['plan.municipality-coordination', PLAN_MUNICIPALITY],
];

describe.each(TABLES)('%s', (_title, rows) => {
  it.each(rows)('$name → $due', ({ record, rule, due, basis, closureDays }) => {
    const d = last(compute(record, closureDays ? { closureDays } : {}), rule);
    expect(d.dueDate).toBe(due);
    expect(d.dueAt).toBe(endOfDay(due));
    if (basis) expect(d.basis).toBe(basis);
    expect(d.citation.length).toBeGreaterThan(0);
  });
});

// ───────────────────────────────────────────────────────────────────────────────────────────────
// dueAt with explicit offsets (belt and braces for the DST helper above)
// ───────────────────────────────────────────────────────────────────────────────────────────────

describe('dueAt is the end of the local due day with the right offset', () => {
  it.each([
    // record, rule, expected dueAt
    // Fri 27.03.2026 + 3 wd = Wed 01.04, summer time (DST began Sun 29.03).
    [incident('death', '2026-03-27T14:00:00+01:00'), 'incident.preliminary-notice', '2026-04-01T23:59:59.999+02:00'],
    // Fri 27.03 + 1 wd = Mon 30.03, the first weekday of summer time.
    [force('2026-03-27T14:00:00+01:00'), 'force.report', '2026-03-30T23:59:59.999+02:00'],
    // Ended Sun 22.03 + 7 = Sun 29.03: the change day itself is +02:00 at 23:59.
    [cell('2026-03-22'), 'cell.follow-up-conversation', '2026-03-29T23:59:59.999+02:00'],
    // Ended Sat 21.03 + 7 = Sat 28.03: the day before the change is still +01:00.
    [cell('2026-03-21'), 'cell.follow-up-conversation', '2026-03-28T23:59:59.999+01:00'],
    // Ended Sun 18.10 + 7 = Sun 25.10: the autumn change day is +01:00 at 23:59.
    [cell('2026-10-18'), 'cell.follow-up-conversation', '2026-10-25T23:59:59.999+01:00'],
    // Ended Sat 17.10 + 7 = Sat 24.10: the day before the change is still +02:00.
    [cell('2026-10-17'), 'cell.follow-up-conversation', '2026-10-24T23:59:59.999+02:00'],
    // Fri 23.10.2026 + 3 wd = Wed 28.10, winter time.
    [incident('death', '2026-10-23T12:00:00+02:00'), 'incident.preliminary-notice', '2026-10-28T23:59:59.999+01:00'],
    // Thu 24.10.2024 + 3 wd = Fri 25, Mon 28, Tue 29.10.2024 (DST ended Sun 27.10.2024).
    [incident('qualified_self_harm', '2024-10-24T09:00:00+02:00'), 'incident.preliminary-notice', '2024-10-29T23:59:59.999+01:00'],
    // Wed 26.03.2025 + 3 wd = Thu 27, Fri 28, Mon 31.03.2025 (DST began Sun 30.03.2025).
    [incident('qualified_self_harm', '2025-03-26T09:00:00+01:00'), 'incident.preliminary-notice', '2025-03-31T23:59:59.999+02:00'],
  ])('%j %s → %s', (record, rule, dueAt) => {
    expect(last(compute(record), rule).dueAt).toBe(dueAt);
  });
});

// ───────────────────────────────────────────────────────────────────────────────────────────────
// Statuses at a given `now`
// ───────────────────────────────────────────────────────────────────────────────────────────────

interface StatusRow {
  name: string;
  record: Record<string, unknown>;
  now: string;
  rule: string;
  due: string;
  status: Status;
  closureDays?: string[];
}

const death2703 = incident('death', '2026-03-27T14:00:00+01:00'); // preliminary due Wed 01.04, final report Fri 24.04
const cell0206 = { type: 'security_cell_placement', placedAt: '2026-06-01T10:00:00+02:00', endedAt: '2026-06-02T09:00:00+02:00' }; // due Tue 09.06

const STATUS_ROWS: StatusRow[] = [
  // Preliminary notice due Wed 01.04.2026 (end 23:59:59.999 +02:00).
  { name: 'nothing sent, now Tue 31.03 → open', record: death2703, now: '2026-03-31T10:00:00+02:00', rule: 'incident.preliminary-notice', due: '2026-04-01', status: 'open' },
  { name: 'nothing sent, now last minute of 01.04 → open', record: death2703, now: '2026-04-01T23:59:00+02:00', rule: 'incident.preliminary-notice', due: '2026-04-01', status: 'open' },
  { name: 'nothing sent, now 00:00:01 on 02.04 → breached', record: death2703, now: '2026-04-02T00:00:01+02:00', rule: 'incident.preliminary-notice', due: '2026-04-01', status: 'breached' },
  { name: 'sent 01.04 16:00 → met', record: { ...death2703, preliminaryNoticeSentAt: '2026-04-01T16:00:00+02:00' }, now: '2026-04-10T12:00:00+02:00', rule: 'incident.preliminary-notice', due: '2026-04-01', status: 'met' },
  { name: 'sent 02.04 08:00 → met_late', record: { ...death2703, preliminaryNoticeSentAt: '2026-04-02T08:00:00+02:00' }, now: '2026-04-10T12:00:00+02:00', rule: 'incident.preliminary-notice', due: '2026-04-01', status: 'met_late' },
  // 21:59Z = 23:59 +02:00 on 01.04 local → on time.
  { name: 'sent 2026-04-01T21:59Z (local 23:59 on 01.04) → met', record: { ...death2703, preliminaryNoticeSentAt: '2026-04-01T21:59:00Z' }, now: '2026-04-10T12:00:00+02:00', rule: 'incident.preliminary-notice', due: '2026-04-01', status: 'met' },
  // 22:00Z = 00:00 +02:00 on 02.04 local → late.
  { name: 'sent 2026-04-01T22:00Z (local 00:00 on 02.04) → met_late', record: { ...death2703, preliminaryNoticeSentAt: '2026-04-01T22:00:00Z' }, now: '2026-04-10T12:00:00+02:00', rule: 'incident.preliminary-notice', due: '2026-04-01', status: 'met_late' },
  // Incident 22:59Z Thu 15.01 (local Thu 15) → due Tue 20.01; sent 23:30Z on 20.01 = 00:30 +01:00 Wed 21.01 → late.
  {
    name: 'winter: sent 2026-01-20T23:30Z (local 21.01) → met_late',
    record: incident('death', '2026-01-15T22:59:00Z', { preliminaryNoticeSentAt: '2026-01-20T23:30:00Z' }),
    now: '2026-02-01T12:00:00+01:00',
    rule: 'incident.preliminary-notice',
    due: '2026-01-20',
    status: 'met_late',
  },
  // Final report due Fri 24.04.2026.
  { name: 'final report submitted 24.04 → met', record: { ...death2703, finalReportSubmittedAt: '2026-04-24' }, now: '2026-05-10T12:00:00+02:00', rule: 'incident.final-report', due: '2026-04-24', status: 'met' },
  { name: 'final report submitted Mon 27.04 → met_late', record: { ...death2703, finalReportSubmittedAt: '2026-04-27' }, now: '2026-05-10T12:00:00+02:00', rule: 'incident.final-report', due: '2026-04-24', status: 'met_late' },
  { name: 'final report missing, now 24.04 noon → open', record: death2703, now: '2026-04-24T12:00:00+02:00', rule: 'incident.final-report', due: '2026-04-24', status: 'open' },
  { name: 'final report missing, now 25.04 00:00:01 → breached', record: death2703, now: '2026-04-25T00:00:01+02:00', rule: 'incident.final-report', due: '2026-04-24', status: 'breached' },
  // Inmate conversation: Wed 01.04.2026 chapter 4 → due Tue 07.04; held Mon 06.04 (a holiday, but before the due date) → met.
  {
    name: 'inmate conversation held 06.04 (before due 07.04) → met',
    record: incident('qualified_self_harm', '2026-04-01', { inmateConversationHeldAt: '2026-04-06T10:00:00+02:00' }),
    now: '2026-04-20T12:00:00+02:00',
    rule: 'incident.inmate-conversation',
    due: '2026-04-07',
    status: 'met',
  },
  {
    name: 'inmate conversation held 08.04 → met_late',
    record: incident('qualified_self_harm', '2026-04-01', { inmateConversationHeldAt: '2026-04-08' }),
    now: '2026-04-20T12:00:00+02:00',
    rule: 'incident.inmate-conversation',
    due: '2026-04-07',
    status: 'met_late',
  },
  // Closing letter: final report Mon 20.04 → due Mon 18.05; sent 19.05 → met_late.
  {
    name: 'closing letter sent 19.05 → met_late',
    record: { ...death2703, finalReportSubmittedAt: '2026-04-20', closingLetterSentAt: '2026-05-19' },
    now: '2026-06-01T12:00:00+02:00',
    rule: 'incident.closing-letter',
    due: '2026-05-18',
    status: 'met_late',
  },
  // Security cell: due Tue 09.06.2026.
  { name: 'follow-up held 09.06 → met', record: { ...cell0206, followUpHeldAt: '2026-06-09T15:00:00+02:00' }, now: '2026-06-20T12:00:00+02:00', rule: 'cell.follow-up-conversation', due: '2026-06-09', status: 'met' },
  { name: 'follow-up held 10.06 → met_late', record: { ...cell0206, followUpHeldAt: '2026-06-10' }, now: '2026-06-20T12:00:00+02:00', rule: 'cell.follow-up-conversation', due: '2026-06-09', status: 'met_late' },
  { name: 'follow-up missing, now 09.06 23:30 → open', record: cell0206, now: '2026-06-09T23:30:00+02:00', rule: 'cell.follow-up-conversation', due: '2026-06-09', status: 'open' },
  // 22:30Z on 09.06 = 00:30 +02:00 on 10.06 → past the end of 09.06.
  { name: 'follow-up missing, now 2026-06-09T22:30Z (local 10.06) → breached', record: cell0206, now: '2026-06-09T22:30:00Z', rule: 'cell.follow-up-conversation', due: '2026-06-09', status: 'breached' },
  // Force report: Wed 23.12.2026 → due Thu 24.12 by default, Mon 28.12 with closure 12-24.
  { name: 'force report filed 24.12 → met', record: force('2026-12-23', { reportFiledAt: '2026-12-24' }), now: '2027-01-10T12:00:00+01:00', rule: 'force.report', due: '2026-12-24', status: 'met' },
  { name: 'force report filed 28.12 → met_late (24.12 is a working day)', record: force('2026-12-23', { reportFiledAt: '2026-12-28' }), now: '2027-01-10T12:00:00+01:00', rule: 'force.report', due: '2026-12-24', status: 'met_late' },
  { name: 'force report filed 28.12 with closure 12-24 → met', record: force('2026-12-23', { reportFiledAt: '2026-12-28' }), now: '2027-01-10T12:00:00+01:00', rule: 'force.report', due: '2026-12-28', status: 'met', closureDays: ['12-24'] },
  // plan.create remand 26.05.2025 → due Thu 05.06.2025 (Fri 06.06 with closure 06-05).
  { name: 'plan created 05.06.2025 → met', record: plan('remand', { admittedAt: '2025-05-26', createdAt: '2025-06-05' }), now: '2025-07-01T12:00:00+02:00', rule: 'plan.create', due: '2025-06-05', status: 'met' },
  { name: 'plan created 06.06.2025 → met_late', record: plan('remand', { admittedAt: '2025-05-26', createdAt: '2025-06-06' }), now: '2025-07-01T12:00:00+02:00', rule: 'plan.create', due: '2025-06-05', status: 'met_late' },
  { name: 'plan created 06.06.2025 with closure 06-05 → met', record: plan('remand', { admittedAt: '2025-05-26', createdAt: '2025-06-06' }), now: '2025-07-01T12:00:00+02:00', rule: 'plan.create', due: '2025-06-06', status: 'met', closureDays: ['06-05'] },
  { name: 'no plan, now 04.06.2025 → open', record: plan('remand', { admittedAt: '2025-05-26' }), now: '2025-06-04T12:00:00+02:00', rule: 'plan.create', due: '2025-06-05', status: 'open' },
  { name: 'no plan, now 06.06.2025 → breached', record: plan('remand', { admittedAt: '2025-05-26' }), now: '2025-06-06T08:00:00+02:00', rule: 'plan.create', due: '2025-06-05', status: 'breached' },
  // Transfer Thu 30.04.2026 → due Mon 11.05; plan updated Fri 08.05 → met.
  {
    name: 'transfer: plan updated 08.05 → met',
    record: plan('remand', { admittedAt: '2026-01-05', transfers: [{ at: '2026-04-30', planUpdatedAt: '2026-05-08' }] }),
    now: '2026-06-01T12:00:00+02:00',
    rule: 'plan.transfer-update',
    due: '2026-05-11',
    status: 'met',
  },
  // Parole decision Tue 31.03.2026 → due Tue 14.04; updated Wed 15.04 → met_late.
  {
    name: 'parole: plan updated 15.04 → met_late',
    record: plan('convicted_from_liberty', { admittedAt: '2025-06-02', paroleDecisions: [{ at: '2026-03-31', planUpdatedAt: '2026-04-15' }] }),
    now: '2026-05-01T12:00:00+02:00',
    rule: 'plan.parole-update',
    due: '2026-04-14',
    status: 'met_late',
  },
  // Municipality: start 05.01.2026, parole 01.10.2026 → due Mon 02.02.2026; contacted 30.01 → met.
  {
    name: 'municipality contacted 30.01.2026 → met',
    record: plan('convicted_from_liberty', { admittedAt: '2026-01-05', sentenceStartDate: '2026-01-05', possibleParoleDate: '2026-10-01', municipalityContactedAt: '2026-01-30' }),
    now: '2026-03-01T12:00:00+01:00',
    rule: 'plan.municipality-coordination',
    due: '2026-02-02',
    status: 'met',
  },
  // Evaluate: elaborated 31.08.2026 → due 30.11.2026; now 15.11 → open; now 01.12 → breached.
  {
    name: 'evaluation pending, now 15.11.2026 → open',
    record: plan('convicted_from_liberty', { admittedAt: '2026-08-03', createdAt: '2026-08-10', elaboratedAt: '2026-08-31', expectedReleaseDate: '2027-06-01' }),
    now: '2026-11-15T12:00:00+01:00',
    rule: 'plan.evaluate',
    due: '2026-11-30',
    status: 'open',
  },
  {
    name: 'evaluation pending, now 01.12.2026 → breached',
    record: plan('convicted_from_liberty', { admittedAt: '2026-08-03', createdAt: '2026-08-10', elaboratedAt: '2026-08-31', expectedReleaseDate: '2027-06-01' }),
    now: '2026-12-01T00:30:00+01:00',
    rule: 'plan.evaluate',
    due: '2026-11-30',
    status: 'breached',
  },
];

describe('statuses (on/before due → met, after → met_late, none and past → breached, else open)', () => {
  it.each(STATUS_ROWS)('$name', ({ record, now, rule, due, status, closureDays }) => {
    const d = last(compute(record, { now, ...(closureDays ? { closureDays } : {}) }), rule);
    expect(d.dueDate).toBe(due);
    expect(d.status).toBe(status);
  });
});

// ───────────────────────────────────────────────────────────────────────────────────────────────
// Final-report delay (§ 7 stk. 2, § 14 stk. 2)
// ───────────────────────────────────────────────────────────────────────────────────────────────

interface DelayRow {
  name: string;
  record: Record<string, unknown>;
  now: string;
  due: string;
  originalDueDate: string | undefined;
  status: Status;
}

const DELAY_ROWS: DelayRow[] = [
  // Due Fri 24.04.2026; told Mon 20.04 (before) with expected Fri 15.05 → watched date 15.05, original 24.04.
  { name: 'told 20.04 (before) → moved to 15.05, open', record: { ...death2703, delayNotifiedAt: '2026-04-20', finalReportExpectedAt: '2026-05-15' }, now: '2026-05-01T12:00:00+02:00', due: '2026-05-15', originalDueDate: '2026-04-24', status: 'open' },
  // Told on the due day itself (24.04 10:00) still counts as on time.
  { name: 'told on the due day 24.04 → moved', record: { ...death2703, delayNotifiedAt: '2026-04-24T10:00:00+02:00', finalReportExpectedAt: '2026-05-15' }, now: '2026-05-01T12:00:00+02:00', due: '2026-05-15', originalDueDate: '2026-04-24', status: 'open' },
  // 21:30Z on 24.04 = 23:30 +02:00 local 24.04 → still on the due day → moved.
  { name: 'told 2026-04-24T21:30Z (local 23:30 on 24.04) → moved', record: { ...death2703, delayNotifiedAt: '2026-04-24T21:30:00Z', finalReportExpectedAt: '2026-05-15' }, now: '2026-05-01T12:00:00+02:00', due: '2026-05-15', originalDueDate: '2026-04-24', status: 'open' },
  // 22:30Z on 24.04 = 00:30 +02:00 local 25.04 → after the due date → breach stands.
  { name: 'told 2026-04-24T22:30Z (local 25.04) → not moved, breached', record: { ...death2703, delayNotifiedAt: '2026-04-24T22:30:00Z', finalReportExpectedAt: '2026-05-15' }, now: '2026-05-01T12:00:00+02:00', due: '2026-04-24', originalDueDate: undefined, status: 'breached' },
  // Told Sat 25.04 (after) → stays 24.04, breached.
  { name: 'told 25.04 (after) → not moved, breached', record: { ...death2703, delayNotifiedAt: '2026-04-25', finalReportExpectedAt: '2026-05-15' }, now: '2026-05-01T12:00:00+02:00', due: '2026-04-24', originalDueDate: undefined, status: 'breached' },
  // Moved to 15.05; submitted Thu 14.05 → met.
  { name: 'moved to 15.05, submitted 14.05 → met', record: { ...death2703, delayNotifiedAt: '2026-04-20', finalReportExpectedAt: '2026-05-15', finalReportSubmittedAt: '2026-05-14' }, now: '2026-06-01T12:00:00+02:00', due: '2026-05-15', originalDueDate: '2026-04-24', status: 'met' },
  // Moved to 15.05; submitted Mon 18.05 → met_late against the moved date.
  { name: 'moved to 15.05, submitted 18.05 → met_late', record: { ...death2703, delayNotifiedAt: '2026-04-20', finalReportExpectedAt: '2026-05-15', finalReportSubmittedAt: '2026-05-18' }, now: '2026-06-01T12:00:00+02:00', due: '2026-05-15', originalDueDate: '2026-04-24', status: 'met_late' },
  // Moved to 15.05; nothing submitted, now 16.05 00:00:01 → breached against the moved date.
  { name: 'moved to 15.05, nothing by 16.05 → breached', record: { ...death2703, delayNotifiedAt: '2026-04-20', finalReportExpectedAt: '2026-05-15' }, now: '2026-05-16T00:00:01+02:00', due: '2026-05-15', originalDueDate: '2026-04-24', status: 'breached' },
  // Chapter 4: Mon 02.03.2026 + 28 = Mon 30.03; told Fri 27.03 with expected Fri 10.04 → moved.
  {
    name: 'chapter 4: told 27.03 before due 30.03 → moved to 10.04',
    record: incident('qualified_suicide_attempt', '2026-03-02', { delayNotifiedAt: '2026-03-27', finalReportExpectedAt: '2026-04-10' }),
    now: '2026-04-01T12:00:00+02:00',
    due: '2026-04-10',
    originalDueDate: '2026-03-30',
    status: 'open',
  },
];

describe('final-report delay: told before the deadline moves the watched date; told after, the breach stands', () => {
  it.each(DELAY_ROWS)('$name', ({ record, now, due, originalDueDate, status }) => {
    const d = last(compute(record, { now }), 'incident.final-report');
    expect(d.dueDate).toBe(due);
    expect(d.dueAt).toBe(endOfDay(due));
    expect(d.originalDueDate).toBe(originalDueDate);
    expect(d.status).toBe(status);
  });
});

// ───────────────────────────────────────────────────────────────────────────────────────────────
// Which rules apply at all
// ───────────────────────────────────────────────────────────────────────────────────────────────

describe('applicability', () => {
  const rulesOf = (record: Record<string, unknown>, now = LATE_NOW) => compute(record, { now }).map((d) => d.rule);

  it.each([
    // kind, chapter-3/4 reporting deadlines?, inmate conversation?
    ['death', true, false],
    ['suicide', true, false],
    ['qualified_suicide_attempt', true, true],
    ['qualified_self_harm', true, true],
    ['other_self_harm_behaviour', false, false],
  ])('%s: reporting deadlines %s, inmate conversation %s', (kind, reporting, conversation) => {
    const rules = rulesOf(incident(kind, '2026-03-27'));
    expect(rules.includes('incident.preliminary-notice')).toBe(reporting);
    expect(rules.includes('incident.final-report')).toBe(reporting);
    expect(rules.includes('incident.inmate-conversation')).toBe(conversation);
  });

  it.each([
    // occurredAt, any deadlines? — § 23: only incidents after 16 July 2015.
    ['2015-07-16', false],
    ['2015-07-16T23:30:00+02:00', false],
    // 21:30Z on 16.07 = 23:30 +02:00 local 16.07 → still out of scope.
    ['2015-07-16T21:30:00Z', false],
    // 22:30Z on 16.07 = 00:30 +02:00 local 17.07 → in scope.
    ['2015-07-16T22:30:00Z', true],
    ['2015-07-17', true],
  ])('incident at %s has deadlines: %s', (occurredAt, any) => {
    const list = compute(incident('death', occurredAt));
    if (any) {
      expect(last(list, 'incident.preliminary-notice').dueDate).toBe('2015-07-22'); // Fri 17.07 → Mon 20, Tue 21, Wed 22
    } else {
      expect(list).toEqual([]);
    }
  });

  it('no closing letter before the final report exists', () => {
    expect(rulesOf(death2703)).not.toContain('incident.closing-letter');
  });

  it('no security-cell follow-up while the placement is ongoing', () => {
    expect(rulesOf({ type: 'security_cell_placement', placedAt: '2026-06-01', endedAt: null })).not.toContain('cell.follow-up-conversation');
  });

  it('no municipality coordination for a client expelled by judgment', () => {
    const rules = rulesOf(plan('convicted_from_liberty', { admittedAt: '2026-01-05', sentenceStartDate: '2026-01-05', possibleParoleDate: '2028-02-29', expelled: true }));
    expect(rules).not.toContain('plan.municipality-coordination');
    expect(rules).toContain('plan.create');
  });

  it('postponed follow-up without a new date: suspended and open, never breached', () => {
    const d = last(compute({ ...cell0206, followUpPostponedReason: 'Indsat indlagt', followUpPostponedAt: '2026-06-04' }, { now: '2026-07-01T12:00:00+02:00' }), 'cell.follow-up-conversation');
    expect(d.suspended).toBe(true);
    expect(d.status).toBe('open');
  });

  it('postponed follow-up with a new date: that date is watched, original kept', () => {
    // Original Tue 09.06.2026; rescheduled to Fri 19.06; now Sat 20.06 → breached.
    const d = last(compute({ ...cell0206, followUpPostponedReason: 'Indsat indlagt', followUpPostponedAt: '2026-06-09T15:00:00+02:00', followUpRescheduledTo: '2026-06-19' }, { now: '2026-06-20T12:00:00+02:00' }), 'cell.follow-up-conversation');
    expect(d.dueDate).toBe('2026-06-19');
    expect(d.originalDueDate).toBe('2026-06-09');
    expect(d.status).toBe('breached');
  });

  it('several transfers get distinct keys, the last one last', () => {
    const list = compute(plan('remand', { admittedAt: '2026-01-05', transfers: [{ at: '2026-02-02', planUpdatedAt: '2026-02-05' }, { at: '2026-03-30' }] })).filter(
      (d) => d.rule === 'plan.transfer-update',
    );
    // Mon 02.02.2026 + 7 wd: Tue 03 … Fri 06 (4), Mon 09 (5), Tue 10 (6), Wed 11 (7); second as in the table: Mon 13.04.
    expect(list.map((d) => d.dueDate)).toEqual(['2026-02-11', '2026-04-13']);
    expect(new Set(list.map((d) => d.key)).size).toBe(2);
  });
});

// ───────────────────────────────────────────────────────────────────────────────────────────────
// Explanations
// ───────────────────────────────────────────────────────────────────────────────────────────────

describe('explanations', () => {
  it.each([
    // record, rule, due as dd.mm.yyyy, opts
    [death2703, 'incident.preliminary-notice', '01.04.2026', {}],
    [death2703, 'incident.final-report', '24.04.2026', {}],
    [force('2025-12-31'), 'force.complaint-window', '02.03.2026', {}],
    [cell0206, 'cell.follow-up-conversation', '09.06.2026', {}],
    [plan('remand', { admittedAt: '2025-05-26' }), 'plan.create', '06.06.2025', { closureDays: ['06-05'] }],
    [plan('convicted_from_liberty', { admittedAt: '2026-08-03', createdAt: '2026-08-10', elaboratedAt: '2026-08-31', expectedReleaseDate: '2027-06-01' }), 'plan.evaluate', '30.11.2026', {}],
  ] as [Record<string, unknown>, string, string, Opts][])('da: %j %s mentions %s and the citation', (record, rule, dueText, opts) => {
    const d = last(compute(record, { ...opts, lang: 'da' }), rule);
    expect(d.citation).toMatch(/§|pkt\./);
    expect(d.explanation).toContain(dueText);
    expect(d.explanation).toContain(d.citation);
  });

  it('da: the preliminary notice names § 6 and the Danish weekday of the due date', () => {
    const d = last(compute(death2703, { lang: 'da' }), 'incident.preliminary-notice');
    expect(d.citation).toMatch(/§ 6/);
    expect(d.explanation).toMatch(/onsdag 01\.04\.2026/);
    expect(d.explanation).toMatch(/hverdag/);
  });

  it.each([
    [death2703, 'incident.preliminary-notice', '01.04.2026'],
    [force('2026-06-30'), 'force.complaint-window', '31.08.2026'],
    [plan('remand', { admittedAt: '2025-05-26' }), 'plan.create', '05.06.2025'],
  ] as [Record<string, unknown>, string, string][])('en: %j %s is English and mentions %s', (record, rule, dueText) => {
    const d = last(compute(record, { lang: 'en' }), rule);
    expect(d.explanation).toContain(dueText);
    expect(d.explanation).toMatch(/\b(the|working days?|deadline|due|after)\b/i);
    expect(d.explanation).not.toMatch(/\bhverdag(e)?\b|\bFrist\b|\bHændelsen\b|\bfristen\b/);
  });

  it('en: the preliminary notice names the English weekday of the due date', () => {
    const d = last(compute(death2703, { lang: 'en' }), 'incident.preliminary-notice');
    expect(d.explanation).toMatch(/Wednesday 01\.04\.2026/);
  });
});
