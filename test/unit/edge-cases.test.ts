/**
 * Hand-computed edge cases of the deadline engine (DOMAIN.md "How time is counted"), across all record types.
 *
 * Every expected value was derived by hand from the rules (the derivation is the comment on each row) and
 * cross-checked with a throw-away python datetime/calendar script with its own holiday table, never read off
 * the implementation. The cases complement test/unit/rules.table.test.ts and do not repeat its rows.
 *
 * Holidays used (Easter Sunday E; skærtorsdag E−3, langfredag E−2, 2. påskedag E+1, Kr. himmelfart E+39,
 * 2. pinsedag E+50):
 *   2023: E 09.04 → Thu 06.04, Fri 07.04, Mon 10.04; Store Bededag Fri 05.05 (last year it is a holiday)
 *   2024: E 31.03 → Thu 28.03, Fri 29.03, Mon 01.04; Kr. himmelfart Thu 09.05; 2. pinsedag Mon 20.05
 *   2025: E 20.04 → Thu 17.04, Fri 18.04, Mon 21.04; Kr. himmelfart Thu 29.05; (Fri 16.05 = old Store Bededag, working)
 *   2026: jul Fri 25.12 / Sat 26.12
 *   2027: nytår Fri 01.01; E 28.03 → Thu 25.03, Fri 26.03, Mon 29.03; Kr. himmelfart Thu 06.05; 2. pinsedag Mon 17.05;
 *         jul Sat 25.12 / Sun 26.12 (no substitute day: Mon 27.12 is a working day)
 *   2028: nytår Sat 01.01; E 16.04 → Thu 13.04, Fri 14.04, Mon 17.04; Kr. himmelfart Thu 25.05;
 *         2. pinsedag Mon 05.06 = Grundlovsdag
 * Not holidays: 01.05, 05.06 (unless 2. pinsedag), 24.12, 31.12 — working days unless closureDays say otherwise.
 * DST in Copenhagen: 2024 31.03–27.10, 2025 30.03–26.10, 2026 29.03–25.10, 2027 28.03–31.10, 2028 26.03–29.10.
 */
import { describe, expect, it } from 'vitest';
import { cell, compute, endOfDay, force, incident, last, plan, type Status } from '../support/deadline-table.js';
const overview = (year: number, extra: Record<string, unknown> = {}) => ({ type: 'annual_overview', year, ...extra });

interface Row {
  name: string;
  record: Record<string, unknown>;
  rule: string;
  due: string;
  /** Local start date, checked when the event is an instant whose local date differs from its UTC date. */
  start?: string;
  /** Explicit dueAt, as a belt-and-braces check of the DST helper. */
  dueAt?: string;
  basis?: 'law' | 'policy';
  closureDays?: string[];
}

function checkRow({ record, rule, due, start, dueAt, basis, closureDays }: Row): void {
  const d = last(compute(record, closureDays ? { closureDays } : {}), rule);
  expect(d.dueDate).toBe(due);
  expect(d.dueAt).toBe(endOfDay(due));
  if (dueAt) expect(d.dueAt).toBe(dueAt);
  if (start) expect(d.startDate).toBe(start);
  if (basis) expect(d.basis).toBe(basis);
  expect(d.citation.length).toBeGreaterThan(0);
}

// ───────────────────────────────────────────────────────────────────────────────────────────────
// Incidents (seed 003)
// ───────────────────────────────────────────────────────────────────────────────────────────────

describe('incident.preliminary-notice — § 6 stk. 2 / § 13: "inden 3 hverdage efter hændelsen"', () => {
  const rows: Row[] = [
    // Tue 23.03.2027: Wed 24 (1), Thu 25 skærtorsdag, Fri 26 langfredag, Sat 27, Sun 28 påske, Mon 29 2. påskedag,
    // Tue 30 (2), Wed 31 (3). DST began Sun 28.03.2027 → +02:00.
    { name: 'death Tue 23.03.2027 over Easter 2027', record: incident('death', '2027-03-23T10:00:00+01:00'), rule: 'incident.preliminary-notice', due: '2027-03-31', dueAt: '2027-03-31T23:59:59.999+02:00', basis: 'law' },
    // Wed 05.04.2023: Thu 06 skærtorsdag, Fri 07 langfredag, Sat, Sun 09, Mon 10 2. påskedag → Tue 11 (1), Wed 12 (2), Thu 13 (3).
    { name: 'suicide Wed 05.04.2023 over Easter 2023', record: incident('suicide', '2023-04-05'), rule: 'incident.preliminary-notice', due: '2023-04-13' },
    // On skærtorsdag itself, Thu 13.04.2028: Fri 14 langfredag, Sat, Sun 16, Mon 17 2. påskedag → Tue 18 (1), Wed 19 (2), Thu 20 (3).
    { name: 'qualified_suicide_attempt on skærtorsdag 13.04.2028', record: incident('qualified_suicide_attempt', '2028-04-13'), rule: 'incident.preliminary-notice', due: '2028-04-20', basis: 'law' },
    // Tue 04.05.2027: Wed 05 (1), Thu 06 Kristi himmelfartsdag skipped, Fri 07 (2), Mon 10 (3).
    { name: 'death Tue 04.05.2027 over Kristi himmelfartsdag', record: incident('death', '2027-05-04'), rule: 'incident.preliminary-notice', due: '2027-05-10' },
    // Fri 17.05.2024: Sat, Sun 19 pinse, Mon 20 2. pinsedag → Tue 21 (1), Wed 22 (2), Thu 23 (3).
    { name: 'qualified_self_harm Fri 17.05.2024 over 2. pinsedag', record: incident('qualified_self_harm', '2024-05-17'), rule: 'incident.preliminary-notice', due: '2024-05-23' },
    // Thu 23.12.2027: Fri 24 (1, working by default), Sat 25 juledag, Sun 26 2. juledag (no substitute), Mon 27 (2), Tue 28 (3).
    { name: 'death Thu 23.12.2027, jul on a weekend, 24.12 counted', record: incident('death', '2027-12-23'), rule: 'incident.preliminary-notice', due: '2027-12-28' },
    // Same with closures 12-24 and 12-31: [Fri 24 closed], Sat, Sun → Mon 27 (1), Tue 28 (2), Wed 29 (3).
    { name: 'death Thu 23.12.2027 with closures 12-24, 12-31', record: incident('death', '2027-12-23'), rule: 'incident.preliminary-notice', due: '2027-12-29', closureDays: ['12-24', '12-31'] },
    // Thu 30.12.2027: Fri 31 (1, working by default), Sat 01.01.2028 nytår, Sun 02 → Mon 03 (2), Tue 04 (3).
    { name: 'suicide Thu 30.12.2027 over New Year, 31.12 counted', record: incident('suicide', '2027-12-30'), rule: 'incident.preliminary-notice', due: '2028-01-04' },
    // Same with exact closure 2027-12-31: [Fri 31 closed], Sat 01.01, Sun → Mon 03 (1), Tue 04 (2), Wed 05 (3).
    { name: 'suicide Thu 30.12.2027 with exact closure 2027-12-31', record: incident('suicide', '2027-12-30'), rule: 'incident.preliminary-notice', due: '2028-01-05', closureDays: ['2027-12-31'] },
    // Tue 02.05.2023: Wed 03 (1), Thu 04 (2), Fri 05 Store Bededag (still a holiday in 2023), Sat, Sun → Mon 08 (3).
    { name: 'death Tue 02.05.2023, Store Bededag 2023 skipped', record: incident('death', '2023-05-02'), rule: 'incident.preliminary-notice', due: '2023-05-08' },
    // Wed 14.05.2025: Thu 15 (1), Fri 16 (2; would have been Store Bededag = E+26, abolished from 2024), Mon 19 (3).
    { name: 'death Wed 14.05.2025, former Store Bededag 16.05.2025 counted', record: incident('death', '2025-05-14'), rule: 'incident.preliminary-notice', due: '2025-05-19' },
    // Fri 02.06.2028: Sat, Sun 04 pinse, Mon 05 = 2. pinsedag (and Grundlovsdag): a holiday even without closures
    // → Tue 06 (1), Wed 07 (2), Thu 08 (3).
    { name: 'qualified_self_harm Fri 02.06.2028: 2. pinsedag falls on Grundlovsdag', record: incident('qualified_self_harm', '2028-06-02'), rule: 'incident.preliminary-notice', due: '2028-06-08' },
    // Same with closure 06-05: the closed day is already a holiday, nothing is skipped twice → still Thu 08.06.
    { name: 'qualified_self_harm Fri 02.06.2028 with closure 06-05 (no double skip)', record: incident('qualified_self_harm', '2028-06-02'), rule: 'incident.preliminary-notice', due: '2028-06-08', closureDays: ['06-05'] },
    // 23:30Z Sat 27.03.2027 is still +01:00 (DST starts 01:00Z on the 28th) → 00:30 local Sun 28.03 (påskedag).
    // Mon 29 2. påskedag skipped → Tue 30 (1), Wed 31 (2), Thu 01.04 (3).
    { name: 'UTC instant 2027-03-27T23:30Z is local Sun 28.03 (spring DST day)', record: incident('death', '2027-03-27T23:30:00Z'), rule: 'incident.preliminary-notice', due: '2027-04-01', start: '2027-03-28' },
  ];
  it.each(rows)('$name → $due', (row) => checkRow(row));
});

describe('incident.final-report — § 7 / § 14: "Senest 4 uger efter hændelsen" (same weekday, duty: not moved)', () => {
  const rows: Row[] = [
    // Thu 08.04.2027 + 28 days = Thu 06.05.2027 = Kristi himmelfartsdag: a duty, not moved.
    { name: 'Thu 08.04.2027 → Kr. himmelfart 06.05.2027, not moved', record: incident('qualified_suicide_attempt', '2027-04-08'), rule: 'incident.final-report', due: '2027-05-06', basis: 'law' },
    // Mon 19.04.2027 + 28 = Mon 17.05.2027 = 2. pinsedag: not moved.
    { name: 'Mon 19.04.2027 → 2. pinsedag 17.05.2027, not moved', record: incident('death', '2027-04-19'), rule: 'incident.final-report', due: '2027-05-17' },
    // Fri 12.03.2027 (+01:00) + 28 = Fri 09.04.2027 (+02:00): the lost DST hour does not shift the day.
    { name: 'Fri 12.03.2027 → Fri 09.04.2027 across spring DST', record: incident('suicide', '2027-03-12T00:15:00+01:00'), rule: 'incident.final-report', due: '2027-04-09', dueAt: '2027-04-09T23:59:59.999+02:00' },
    // 23:30Z Sat 27.03.2027 = local Sun 28.03 00:30 → + 28 = Sun 25.04.2027 (reading the UTC date would give Sat 24.04).
    { name: 'UTC instant 2027-03-27T23:30Z (local Sun 28.03) → Sun 25.04.2027', record: incident('death', '2027-03-27T23:30:00Z'), rule: 'incident.final-report', due: '2027-04-25', start: '2027-03-28' },
    // Mon 20.03.2028 23:45 +01:00 + 28 = Mon 17.04.2028 = 2. påskedag (not moved), summer time +02:00.
    { name: 'Mon 20.03.2028 23:45 → 2. påskedag 17.04.2028, not moved', record: incident('qualified_self_harm', '2028-03-20T23:45:00+01:00'), rule: 'incident.final-report', due: '2028-04-17', start: '2028-03-20' },
  ];
  it.each(rows)('$name → $due', (row) => checkRow(row));
});

describe('incident.inmate-conversation — § 12 nr. 3 "snarest muligt" (policy 1 hverdag, chapter 4)', () => {
  const rows: Row[] = [
    // Wed 12.04.2028 + 1 wd: Thu 13 skærtorsdag, Fri 14 langfredag, Sat, Sun 16, Mon 17 2. påskedag → Tue 18.04.
    { name: 'qualified_self_harm Wed 12.04.2028 over Easter 2028', record: incident('qualified_self_harm', '2028-04-12'), rule: 'incident.inmate-conversation', due: '2028-04-18', basis: 'policy' },
    // Thu 23.12.2027 + 1 wd: Fri 24.12 (working by default).
    { name: 'qualified_suicide_attempt Thu 23.12.2027, 24.12 counted', record: incident('qualified_suicide_attempt', '2027-12-23'), rule: 'incident.inmate-conversation', due: '2027-12-24' },
    // Same with closure 12-24: [Fri 24 closed], Sat 25 juledag, Sun 26 2. juledag → Mon 27.12 (working).
    { name: 'qualified_suicide_attempt Thu 23.12.2027 with closure 12-24', record: incident('qualified_suicide_attempt', '2027-12-23'), rule: 'incident.inmate-conversation', due: '2027-12-27', closureDays: ['12-24'] },
    // 23:30Z Thu 23.12.2027 = 00:30 +01:00 Fri 24.12 local → + 1 wd: Sat, Sun → Mon 27.12.
    { name: 'UTC instant 2027-12-23T23:30Z is local Fri 24.12', record: incident('qualified_self_harm', '2027-12-23T23:30:00Z'), rule: 'incident.inmate-conversation', due: '2027-12-27', start: '2027-12-24' },
  ];
  it.each(rows)('$name → $due', (row) => checkRow(row));
});

describe('incident.closing-letter — § 21 (policy 4 uger after the final report)', () => {
  const rows: Row[] = [
    // Final report Fri 02.10.2026 + 28 = Fri 30.10.2026; DST ended Sun 25.10 → +01:00.
    {
      name: 'final report Fri 02.10.2026 → Fri 30.10 across autumn DST',
      record: incident('death', '2026-09-10', { finalReportSubmittedAt: '2026-10-02T15:00:00+02:00' }),
      rule: 'incident.closing-letter',
      due: '2026-10-30',
      dueAt: '2026-10-30T23:59:59.999+01:00',
      basis: 'policy',
    },
    // Final report 23:30Z Sun 28.02.2027 = 00:30 +01:00 Mon 01.03 local → + 28 = Mon 29.03.2027 = 2. påskedag (not moved), +02:00.
    {
      name: 'final report 2027-02-28T23:30Z (local Mon 01.03) → 2. påskedag 29.03, not moved',
      record: incident('suicide', '2027-02-10', { finalReportSubmittedAt: '2027-02-28T23:30:00Z' }),
      rule: 'incident.closing-letter',
      due: '2027-03-29',
      dueAt: '2027-03-29T23:59:59.999+02:00',
    },
  ];
  it.each(rows)('$name → $due', (row) => checkRow(row));
});

describe('incident.annual-overview — § 22 "årligt en oversigt" (policy 31 January of the next year)', () => {
  const rows: Row[] = [
    // Overview for 2026 → Sun 31.01.2027: a duty, not moved off the Sunday; winter time.
    { name: 'overview for 2026 → Sun 31.01.2027, not moved', record: overview(2026), rule: 'incident.annual-overview', due: '2027-01-31', dueAt: '2027-01-31T23:59:59.999+01:00' },
    // Overview for 2027 → Mon 31.01.2028.
    { name: 'overview for 2027 → Mon 31.01.2028', record: overview(2027), rule: 'incident.annual-overview', due: '2028-01-31' },
  ];
  it.each(rows)('$name → $due', (row) => checkRow(row));
});

// ───────────────────────────────────────────────────────────────────────────────────────────────
// Security cell (seed 000 pkt. 3): "ikke senere end 7 dage efter ophøret af anbringelsen"
// ───────────────────────────────────────────────────────────────────────────────────────────────

describe('cell.follow-up-conversation — "ikke senere end 7 dage efter ophøret" (calendar days, not moved)', () => {
  const rows: Row[] = [
    // Ended Fri 11.04.2025 + 7 = Fri 18.04.2025 = langfredag: a duty, not moved.
    { name: 'ended Fri 11.04.2025 → langfredag 18.04, not moved', record: cell('2025-04-11'), rule: 'cell.follow-up-conversation', due: '2025-04-18', basis: 'law' },
    // Ended Mon 29.05.2028 + 7 = Mon 05.06.2028 = 2. pinsedag/Grundlovsdag: not moved.
    { name: 'ended Mon 29.05.2028 → 2. pinsedag 05.06, not moved', record: cell('2028-05-29'), rule: 'cell.follow-up-conversation', due: '2028-06-05' },
    // 23:30Z Sat 28.03.2026 is +01:00 (DST from 01:00Z on the 29th) → local Sun 29.03 00:30 → + 7 = Sun 05.04.2026 påskedag
    // (reading the UTC date would give Sat 04.04).
    { name: 'ended 2026-03-28T23:30Z (local Sun 29.03) → Sun 05.04', record: cell('2026-03-28T23:30:00Z'), rule: 'cell.follow-up-conversation', due: '2026-04-05', start: '2026-03-29', dueAt: '2026-04-05T23:59:59.999+02:00' },
    // 22:30Z Sat 24.10.2026 is still +02:00 (DST ends 01:00Z on the 25th) → local Sun 25.10 00:30 → + 7 = Sun 01.11, +01:00.
    { name: 'ended 2026-10-24T22:30Z (local Sun 25.10) → Sun 01.11', record: cell('2026-10-24T22:30:00Z'), rule: 'cell.follow-up-conversation', due: '2026-11-01', start: '2026-10-25', dueAt: '2026-11-01T23:59:59.999+01:00' },
    // 21:30Z Sat 24.10.2026 = 23:30 +02:00, still local Sat 24.10 → + 7 = Sat 31.10.
    { name: 'ended 2026-10-24T21:30Z (still local Sat 24.10) → Sat 31.10', record: cell('2026-10-24T21:30:00Z'), rule: 'cell.follow-up-conversation', due: '2026-10-31', start: '2026-10-24' },
    // Sat 30.10.2027 23:30 +02:00 + 7 = Sat 06.11.2027; the extra autumn hour (Sun 31.10) does not shift the day.
    { name: 'ended Sat 30.10.2027 23:30 → Sat 06.11 across autumn DST', record: cell('2027-10-30T23:30:00+02:00'), rule: 'cell.follow-up-conversation', due: '2027-11-06', dueAt: '2027-11-06T23:59:59.999+01:00' },
  ];
  it.each(rows)('$name → $due', (row) => checkRow(row));
});

// ───────────────────────────────────────────────────────────────────────────────────────────────
// Use of force (seed 002)
// ───────────────────────────────────────────────────────────────────────────────────────────────

describe('force.report — § 8 "så hurtigt som muligt" (policy 1 hverdag)', () => {
  const rows: Row[] = [
    // Wed 24.03.2027: Thu 25 skærtorsdag, Fri 26 langfredag, Sat, Sun 28, Mon 29 2. påskedag → Tue 30.03 (+02:00).
    { name: 'Wed 24.03.2027 over Easter 2027', record: force('2027-03-24'), rule: 'force.report', due: '2027-03-30', basis: 'policy' },
    // Fri 14.05.2027: Sat, Sun 16 pinse, Mon 17 2. pinsedag → Tue 18.05.
    { name: 'Fri 14.05.2027 over Whitsun', record: force('2027-05-14'), rule: 'force.report', due: '2027-05-18' },
    // 23:30Z Sun 25.10.2026 is +01:00 (DST ended that morning) → local Mon 26.10 00:30 → + 1 wd = Tue 27.10
    // (reading the UTC date Sun 25.10 would give Mon 26.10).
    { name: 'UTC instant 2026-10-25T23:30Z (local Mon 26.10) → Tue 27.10', record: force('2026-10-25T23:30:00Z'), rule: 'force.report', due: '2026-10-27', start: '2026-10-26' },
    // Wed 04.06.2025 + 1 wd = Thu 05.06.2025 Grundlovsdag (working by default).
    { name: 'Wed 04.06.2025, Grundlovsdag 2025 counted', record: force('2025-06-04'), rule: 'force.report', due: '2025-06-05' },
    // Same with exact closure 2025-06-05 → Fri 06.06.2025.
    { name: 'Wed 04.06.2025 with exact closure 2025-06-05', record: force('2025-06-04'), rule: 'force.report', due: '2025-06-06', closureDays: ['2025-06-05'] },
  ];
  it.each(rows)('$name → $due', (row) => checkRow(row));
});

describe('force.complaint-window — § 9 stk. 2 "inden to måneder efter, at indgrebet er foretaget" (moved to next working day)', () => {
  const rows: Row[] = [
    // Sun 31.12.2023 + 2 months = 31.02 → last day of Feb 2024 (leap year) = Thu 29.02.2024, working.
    { name: '31.12.2023 → leap day Thu 29.02.2024', record: force('2023-12-31'), rule: 'force.complaint-window', due: '2024-02-29', basis: 'law' },
    // Tue 31.12.2024 + 2 months = 31.02 → Fri 28.02.2025, working.
    { name: '31.12.2024 → clamped Fri 28.02.2025', record: force('2024-12-31'), rule: 'force.complaint-window', due: '2025-02-28' },
    // Mon 31.08.2026 + 2 months = Sat 31.10.2026 → Sun 01.11 → Mon 02.11.2026 (+01:00).
    { name: '31.08.2026 → Sat 31.10 moved to Mon 02.11', record: force('2026-08-31'), rule: 'force.complaint-window', due: '2026-11-02' },
    // Sun 31.10.2027 + 2 months = Fri 31.12.2027, working by default: not moved.
    { name: '31.10.2027 → Fri 31.12.2027 stays by default', record: force('2027-10-31'), rule: 'force.complaint-window', due: '2027-12-31' },
    // Same with closure 12-31: [Fri 31 closed], Sat 01.01.2028 nytår, Sun 02 → Mon 03.01.2028.
    { name: '31.10.2027 with closure 12-31 → Mon 03.01.2028', record: force('2027-10-31'), rule: 'force.complaint-window', due: '2028-01-03', closureDays: ['12-31'] },
    // Thu 17.02.2028 + 2 months = Mon 17.04.2028 = 2. påskedag → Tue 18.04.2028.
    { name: '17.02.2028 → 2. påskedag moved to Tue 18.04', record: force('2028-02-17'), rule: 'force.complaint-window', due: '2028-04-18' },
    // Mon 14.02.2028 + 2 months = Fri 14.04.2028 langfredag, Sat, Sun 16 påske, Mon 17 2. påskedag → Tue 18.04.2028.
    { name: '14.02.2028 → langfredag moved over Easter to Tue 18.04', record: force('2028-02-14'), rule: 'force.complaint-window', due: '2028-04-18' },
    // Mon 25.01.2027 + 2 months = Thu 25.03.2027 skærtorsdag, Fri 26, Sat, Sun 28, Mon 29 → Tue 30.03.2027.
    { name: '25.01.2027 → skærtorsdag moved over Easter to Tue 30.03', record: force('2027-01-25'), rule: 'force.complaint-window', due: '2027-03-30' },
    // Wed 20.03.2024 + 2 months = Mon 20.05.2024 = 2. pinsedag → Tue 21.05.2024.
    { name: '20.03.2024 → 2. pinsedag moved to Tue 21.05', record: force('2024-03-20'), rule: 'force.complaint-window', due: '2024-05-21' },
    // Wed 05.04.2028 + 2 months = Mon 05.06.2028 = 2. pinsedag (also Grundlovsdag) → moved without any closure → Tue 06.06.2028.
    { name: '05.04.2028 → 2. pinsedag/Grundlovsdag 05.06 moved to Tue 06.06', record: force('2028-04-05'), rule: 'force.complaint-window', due: '2028-06-06' },
    // Sat 29.03.2025 + 2 months = Thu 29.05.2025 = Kristi himmelfartsdag → Fri 30.05.2025.
    { name: '29.03.2025 → Kr. himmelfart moved to Fri 30.05', record: force('2025-03-29'), rule: 'force.complaint-window', due: '2025-05-30' },
    // Tue 26.10.2027 + 2 months = Sun 26.12.2027 (2. juledag on a Sunday) → Mon 27.12.2027, a working day.
    { name: '26.10.2027 → Sun 26.12 moved to Mon 27.12 (no substitute holiday)', record: force('2027-10-26'), rule: 'force.complaint-window', due: '2027-12-27' },
    // Fri 25.09.2026 23:30 +02:00 + 2 months = Wed 25.11.2026, winter time: the DST hour does not shift the day.
    { name: 'Fri 25.09.2026 23:30 +02:00 → Wed 25.11 across autumn DST', record: force('2026-09-25T23:30:00+02:00'), rule: 'force.complaint-window', due: '2026-11-25', dueAt: '2026-11-25T23:59:59.999+01:00' },
  ];
  it.each(rows)('$name → $due', (row) => checkRow(row));
});

// ───────────────────────────────────────────────────────────────────────────────────────────────
// Action plans (seed 004)
// ───────────────────────────────────────────────────────────────────────────────────────────────

describe('plan.create — pkt. 16 "senest 7 hverdage fra indsættelsesdatoen"; pkt. 17 "senest 4 uger fra den etablerende tilsynssamtale"', () => {
  const rows: Row[] = [
    // Mon 22.03.2027: Tue 23 (1), Wed 24 (2), [Thu 25–Mon 29 Easter], Tue 30 (3), Wed 31 (4), Thu 01.04 (5), Fri 02 (6), Mon 05 (7).
    { name: 'convicted_from_liberty Mon 22.03.2027 over Easter 2027', record: plan('convicted_from_liberty', { admittedAt: '2027-03-22' }), rule: 'plan.create', due: '2027-04-05', basis: 'law' },
    // Fri 07.04.2028: Mon 10 (1), Tue 11 (2), Wed 12 (3), [Thu 13–Mon 17 Easter], Tue 18 (4), Wed 19 (5), Thu 20 (6), Fri 21 (7).
    { name: 'remand Fri 07.04.2028 over Easter 2028', record: plan('remand', { admittedAt: '2028-04-07' }), rule: 'plan.create', due: '2028-04-21' },
    // Mon 22.05.2028: Tue 23 (1), Wed 24 (2), Thu 25 Kr. himmelfart, Fri 26 (3), Mon 29 (4), Tue 30 (5), Wed 31 (6), Thu 01.06 (7).
    { name: 'remand Mon 22.05.2028 over Kristi himmelfartsdag', record: plan('remand', { admittedAt: '2028-05-22' }), rule: 'plan.create', due: '2028-06-01' },
    // Tue 30.05.2028: Wed 31 (1), Thu 01.06 (2), Fri 02 (3), Mon 05 2. pinsedag, Tue 06 (4), Wed 07 (5), Thu 08 (6), Fri 09 (7).
    { name: 'convicted_from_liberty Tue 30.05.2028 over 2. pinsedag = Grundlovsdag', record: plan('convicted_from_liberty', { admittedAt: '2028-05-30' }), rule: 'plan.create', due: '2028-06-09' },
    // Wed 22.12.2027: Thu 23 (1), Fri 24 (2), [Sat 25, Sun 26], Mon 27 (3), Tue 28 (4), Wed 29 (5), Thu 30 (6), Fri 31 (7).
    { name: 'convicted_from_liberty Wed 22.12.2027, 24.12 and 31.12 counted', record: plan('convicted_from_liberty', { admittedAt: '2027-12-22' }), rule: 'plan.create', due: '2027-12-31' },
    // Same with closures 12-24, 12-31: Thu 23 (1), Mon 27 (2), Tue 28 (3), Wed 29 (4), Thu 30 (5), [Fri 31 closed, Sat 01.01 nytår, Sun],
    // Mon 03.01.2028 (6), Tue 04 (7).
    { name: 'convicted_from_liberty Wed 22.12.2027 with closures 12-24, 12-31', record: plan('convicted_from_liberty', { admittedAt: '2027-12-22' }), rule: 'plan.create', due: '2028-01-04', closureDays: ['12-24', '12-31'] },
    // supervision: Thu 25.02.2027 + 4 weeks = Thu 25.03.2027 skærtorsdag (duty: not moved), still winter time (DST from 28.03).
    { name: 'supervision Thu 25.02.2027 → skærtorsdag 25.03, not moved', record: plan('supervision', { supervisionEstablishedAt: '2027-02-25' }), rule: 'plan.create', due: '2027-03-25', dueAt: '2027-03-25T23:59:59.999+01:00' },
  ];
  it.each(rows)('$name → $due', (row) => checkRow(row));
});

describe('plan.elaborate — pkt. 16/17 "senest 4 uger"', () => {
  const rows: Row[] = [
    // convicted_from_liberty Mon 01.03.2027 + 28 = Mon 29.03.2027 = 2. påskedag: not moved; +02:00.
    { name: 'convicted_from_liberty Mon 01.03.2027 → 2. påskedag 29.03, not moved', record: plan('convicted_from_liberty', { admittedAt: '2027-03-01' }), rule: 'plan.elaborate', due: '2027-03-29', dueAt: '2027-03-29T23:59:59.999+02:00', basis: 'law' },
    // supervision Thu 27.04.2028 + 28 = Thu 25.05.2028 = Kristi himmelfartsdag: not moved.
    { name: 'supervision Thu 27.04.2028 → Kr. himmelfart 25.05, not moved', record: plan('supervision', { supervisionEstablishedAt: '2028-04-27' }), rule: 'plan.elaborate', due: '2028-05-25' },
  ];
  it.each(rows)('$name → $due', (row) => checkRow(row));
});

describe('plan.evaluate — pkt. 19 "mindst hver tredje måned"; "resterende opholdstid på mere end to år … hvert halve år"', () => {
  const base = { admittedAt: '2027-04-05', createdAt: '2027-04-12', elaboratedAt: '2027-05-31' };
  const rows: Row[] = [
    // Elaborated Mon 31.05.2027, release 31.05.2029 = exactly 2 years later, not more → 3 months → Tue 31.08.2027.
    { name: 'elaborated 31.05.2027, release exactly 2 years later → 3 months → 31.08.2027', record: plan('convicted_from_liberty', { ...base, expectedReleaseDate: '2029-05-31' }), rule: 'plan.evaluate', due: '2027-08-31', basis: 'law' },
    // Elaborated 31.05.2027, release 30.11.2029 > 31.05.2029 → 6 months: 31.11 does not exist → Tue 30.11.2027.
    { name: 'elaborated 31.05.2027, release 30.11.2029 (> 2 years) → 6 months → 30.11.2027 (clamped)', record: plan('convicted_from_liberty', { ...base, expectedReleaseDate: '2029-11-30' }), rule: 'plan.evaluate', due: '2027-11-30' },
    // Cadence re-decided at the evaluation of Tue 30.11.2027: release 30.11.2029 is exactly 2 years later → 3 months:
    // 30.02.2028 does not exist → Tue 29.02.2028 (leap year).
    {
      name: 'evaluated 30.11.2027, now exactly 2 years left → back to 3 months → 29.02.2028',
      record: plan('convicted_from_liberty', { ...base, evaluations: ['2027-11-30'], expectedReleaseDate: '2029-11-30' }),
      rule: 'plan.evaluate',
      due: '2028-02-29',
    },
    // Evaluated Tue 31.08.2027, release 01.01.2030 > 31.08.2029 → 6 months: 31.02.2028 → Tue 29.02.2028 (leap year).
    {
      name: 'evaluated 31.08.2027 + 6 months → leap day 29.02.2028 (clamped)',
      record: plan('convicted_from_liberty', { ...base, evaluations: ['2027-08-31'], expectedReleaseDate: '2030-01-01' }),
      rule: 'plan.evaluate',
      due: '2028-02-29',
    },
    // remand: base is the creation, Sun 31.05.2026 + 3 months = Mon 31.08.2026.
    { name: 'remand created Sun 31.05.2026 + 3 months → 31.08.2026', record: plan('remand', { admittedAt: '2026-05-22', createdAt: '2026-05-31' }), rule: 'plan.evaluate', due: '2026-08-31' },
  ];
  it.each(rows)('$name → $due', (row) => checkRow(row));
});

describe('plan.transfer-update (pkt. 20 "senest 7 hverdage efter overførslen") and plan.parole-update (pkt. 7, policy 7 hverdage)', () => {
  const rows: Row[] = [
    // Transfer Wed 05.05.2027: Thu 06 Kr. himmelfart, Fri 07 (1), Mon 10 (2), Tue 11 (3), Wed 12 (4), Thu 13 (5), Fri 14 (6),
    // Mon 17 2. pinsedag, Tue 18 (7).
    { name: 'transfer Wed 05.05.2027 over Ascension and Whitsun', record: plan('remand', { admittedAt: '2027-01-04', transfers: [{ at: '2027-05-05' }] }), rule: 'plan.transfer-update', due: '2027-05-18', basis: 'law' },
    // Parole decision Mon 21.12.2026: Tue 22 (1), Wed 23 (2), Thu 24 (3), Fri 25 / Sat 26 jul, Sun 27, Mon 28 (4), Tue 29 (5),
    // Wed 30 (6), Thu 31 (7).
    { name: 'parole decision Mon 21.12.2026, 24.12 and 31.12 counted', record: plan('convicted_from_liberty', { admittedAt: '2026-01-05', paroleDecisions: [{ at: '2026-12-21' }] }), rule: 'plan.parole-update', due: '2026-12-31', basis: 'policy' },
    // Same with closures 12-24, 12-31: Tue 22 (1), Wed 23 (2), Mon 28 (3), Tue 29 (4), Wed 30 (5), [Thu 31 closed, Fri 01.01.2027 nytår,
    // Sat, Sun], Mon 04.01 (6), Tue 05.01.2027 (7).
    { name: 'parole decision Mon 21.12.2026 with closures 12-24, 12-31', record: plan('convicted_from_liberty', { admittedAt: '2026-01-05', paroleDecisions: [{ at: '2026-12-21' }] }), rule: 'plan.parole-update', due: '2027-01-05', closureDays: ['12-24', '12-31'] },
  ];
  it.each(rows)('$name → $due', (row) => checkRow(row));
});

describe('plan.municipality-coordination — pkt. 32 "senest 1 år inden datoen for en eventuel prøveløsladelse"; "mindre end 1 år … senest 4 uger efter, at straffen er iværksat"', () => {
  const rows: Row[] = [
    // Sentence start Mon 15.03.2027, possible parole Wed 15.03.2028 = exactly 1 year: not "mindre end 1 år" →
    // 1 year before parole = Mon 15.03.2027 (the start day itself), winter time.
    {
      name: 'parole exactly 1 year after sentence start → 1-year branch → 15.03.2027',
      record: plan('convicted_from_liberty', { admittedAt: '2027-03-15', sentenceStartDate: '2027-03-15', possibleParoleDate: '2028-03-15' }),
      rule: 'plan.municipality-coordination',
      due: '2027-03-15',
      dueAt: '2027-03-15T23:59:59.999+01:00',
      basis: 'law',
    },
    // Parole Tue 14.03.2028 = one day less than 1 year → 4 weeks after the start: Mon 15.03.2027 + 28 = Mon 12.04.2027 (+02:00).
    {
      name: 'parole 1 year minus 1 day after sentence start → 4 weeks → 12.04.2027',
      record: plan('convicted_from_liberty', { admittedAt: '2027-03-15', sentenceStartDate: '2027-03-15', possibleParoleDate: '2028-03-14' }),
      rule: 'plan.municipality-coordination',
      due: '2027-04-12',
      dueAt: '2027-04-12T23:59:59.999+02:00',
    },
    // No sentenceStartDate → admittedAt Mon 15.03.2027 is the start; parole 15.03.2028 exactly 1 year → 15.03.2027.
    {
      name: 'no sentenceStartDate, admittedAt used: exactly 1 year → 15.03.2027',
      record: plan('convicted_from_liberty', { admittedAt: '2027-03-15', possibleParoleDate: '2028-03-15' }),
      rule: 'plan.municipality-coordination',
      due: '2027-03-15',
    },
    // No sentenceStartDate, parole 14.03.2028 (< 1 year from admission 15.03.2027) → admission + 28 = Mon 12.04.2027.
    {
      name: 'no sentenceStartDate, admittedAt used: 1 year minus 1 day → 12.04.2027',
      record: plan('convicted_from_liberty', { admittedAt: '2027-03-15', possibleParoleDate: '2028-03-14' }),
      rule: 'plan.municipality-coordination',
      due: '2027-04-12',
    },
    // "ved straffens iværksættelse": the sentence start (Mon 15.03.2027) decides, not the later admission (Mon 22.03.2027).
    // Parole Fri 17.03.2028 is more than 1 year after 15.03.2027 → 1 year before parole = Wed 17.03.2027.
    // (Measured from the admission it would be less than a year and give 22.03 + 28 = 19.04.2027.)
    {
      name: 'sentence start 15.03.2027 before admission 22.03.2027 decides the branch → 17.03.2027',
      record: plan('convicted_from_liberty', { admittedAt: '2027-03-22', sentenceStartDate: '2027-03-15', possibleParoleDate: '2028-03-17' }),
      rule: 'plan.municipality-coordination',
      due: '2027-03-17',
    },
  ];
  it.each(rows)('$name → $due', (row) => checkRow(row));
});

// ───────────────────────────────────────────────────────────────────────────────────────────────
// Statuses at the very edge of the due day (end is 23:59:59.999 local, inclusive)
// ───────────────────────────────────────────────────────────────────────────────────────────────

interface StatusRow {
  name: string;
  record: Record<string, unknown>;
  now: string;
  rule: string;
  due: string;
  status: Status;
}

const death2303 = incident('death', '2027-03-23T10:00:00+01:00'); // preliminary notice due Wed 31.03.2027 (see above)
const cell1401 = cell('2026-01-14T11:00:00+01:00'); // Wed 14.01.2026 + 7 = Wed 21.01.2026, winter time

const STATUS_ROWS: StatusRow[] = [
  // Preliminary notice due Wed 31.03.2027, end 23:59:59.999 +02:00 = 21:59:59.999Z.
  { name: 'preliminary: now exactly 31.03.2027 23:59:59.999 +02:00 → open', record: death2303, now: '2027-03-31T23:59:59.999+02:00', rule: 'incident.preliminary-notice', due: '2027-03-31', status: 'open' },
  { name: 'preliminary: now one ms later, 2027-03-31T22:00:00.000Z (local 01.04 00:00) → breached', record: death2303, now: '2027-03-31T22:00:00.000Z', rule: 'incident.preliminary-notice', due: '2027-03-31', status: 'breached' },
  // Thu 23.12.2027 → due Tue 28.12.2027 (winter, +01:00): 22:59:59Z = 23:59:59 local 28.12 → met; 23:00Z = 00:00 local 29.12 → met_late.
  {
    name: 'preliminary: sent 2027-12-28T22:59:59Z (local 23:59:59 on 28.12) → met',
    record: incident('death', '2027-12-23', { preliminaryNoticeSentAt: '2027-12-28T22:59:59Z' }),
    now: '2028-01-10T12:00:00+01:00',
    rule: 'incident.preliminary-notice',
    due: '2027-12-28',
    status: 'met',
  },
  {
    name: 'preliminary: sent 2027-12-28T23:00:00Z (local 00:00 on 29.12) → met_late',
    record: incident('death', '2027-12-23', { preliminaryNoticeSentAt: '2027-12-28T23:00:00Z' }),
    now: '2028-01-10T12:00:00+01:00',
    rule: 'incident.preliminary-notice',
    due: '2027-12-28',
    status: 'met_late',
  },
  // Final report Thu 08.04.2027 → due Thu 06.05.2027 (summer): 21:59:59Z = 23:59:59 local → met; 22:00Z = 00:00 local 07.05 → met_late.
  {
    name: 'final report: submitted 2027-05-06T21:59:59Z (local 23:59:59 on 06.05) → met',
    record: incident('qualified_suicide_attempt', '2027-04-08', { finalReportSubmittedAt: '2027-05-06T21:59:59Z' }),
    now: '2027-06-01T12:00:00+02:00',
    rule: 'incident.final-report',
    due: '2027-05-06',
    status: 'met',
  },
  {
    name: 'final report: submitted 2027-05-06T22:00:00Z (local 00:00 on 07.05) → met_late',
    record: incident('qualified_suicide_attempt', '2027-04-08', { finalReportSubmittedAt: '2027-05-06T22:00:00Z' }),
    now: '2027-06-01T12:00:00+02:00',
    rule: 'incident.final-report',
    due: '2027-05-06',
    status: 'met_late',
  },
  // Security cell due Wed 21.01.2026.
  { name: 'cell: follow-up held 21.01.2026 23:59 local → met', record: { ...cell1401, followUpHeldAt: '2026-01-21T23:59:00+01:00' }, now: '2026-02-01T12:00:00+01:00', rule: 'cell.follow-up-conversation', due: '2026-01-21', status: 'met' },
  { name: 'cell: follow-up held 22.01.2026 00:00 local → met_late', record: { ...cell1401, followUpHeldAt: '2026-01-22T00:00:00+01:00' }, now: '2026-02-01T12:00:00+01:00', rule: 'cell.follow-up-conversation', due: '2026-01-21', status: 'met_late' },
  { name: 'cell: nothing held, now exactly 21.01.2026 23:59:59.999 → open', record: cell1401, now: '2026-01-21T23:59:59.999+01:00', rule: 'cell.follow-up-conversation', due: '2026-01-21', status: 'open' },
  { name: 'cell: nothing held, now one ms later (22.01 00:00:00.000) → breached', record: cell1401, now: '2026-01-22T00:00:00.000+01:00', rule: 'cell.follow-up-conversation', due: '2026-01-21', status: 'breached' },
  // Force report Wed 24.03.2027 → due Tue 30.03.2027 (summer): 21:59Z = 23:59 local → met; 22:00Z = 00:00 local 31.03 → met_late.
  { name: 'force report filed 2027-03-30T21:59Z (local 23:59) → met', record: force('2027-03-24', { reportFiledAt: '2027-03-30T21:59:00Z' }), now: '2027-04-15T12:00:00+02:00', rule: 'force.report', due: '2027-03-30', status: 'met' },
  { name: 'force report filed 2027-03-30T22:00Z (local 31.03 00:00) → met_late', record: force('2027-03-24', { reportFiledAt: '2027-03-30T22:00:00Z' }), now: '2027-04-15T12:00:00+02:00', rule: 'force.report', due: '2027-03-30', status: 'met_late' },
  // Transfer Wed 05.05.2027 → due Tue 18.05.2027 (summer).
  {
    name: 'transfer: plan updated 2027-05-18T21:59Z (local 23:59) → met',
    record: plan('remand', { admittedAt: '2027-01-04', transfers: [{ at: '2027-05-05', planUpdatedAt: '2027-05-18T21:59:00Z' }] }),
    now: '2027-06-01T12:00:00+02:00',
    rule: 'plan.transfer-update',
    due: '2027-05-18',
    status: 'met',
  },
  {
    name: 'transfer: plan updated 2027-05-18T22:00Z (local 19.05 00:00) → met_late',
    record: plan('remand', { admittedAt: '2027-01-04', transfers: [{ at: '2027-05-05', planUpdatedAt: '2027-05-18T22:00:00Z' }] }),
    now: '2027-06-01T12:00:00+02:00',
    rule: 'plan.transfer-update',
    due: '2027-05-18',
    status: 'met_late',
  },
  // Municipality: sentence start 15.03.2027, parole 14.03.2028 → due Mon 12.04.2027 (4-week branch).
  {
    name: 'municipality contacted 12.04.2027 23:59 local → met',
    record: plan('convicted_from_liberty', { admittedAt: '2027-03-15', sentenceStartDate: '2027-03-15', possibleParoleDate: '2028-03-14', municipalityContactedAt: '2027-04-12T23:59:00+02:00' }),
    now: '2027-05-01T12:00:00+02:00',
    rule: 'plan.municipality-coordination',
    due: '2027-04-12',
    status: 'met',
  },
  {
    name: 'municipality contacted 13.04.2027 00:00 local → met_late',
    record: plan('convicted_from_liberty', { admittedAt: '2027-03-15', sentenceStartDate: '2027-03-15', possibleParoleDate: '2028-03-14', municipalityContactedAt: '2027-04-13T00:00:00+02:00' }),
    now: '2027-05-01T12:00:00+02:00',
    rule: 'plan.municipality-coordination',
    due: '2027-04-12',
    status: 'met_late',
  },
  // Annual overview for 2027 → due Mon 31.01.2028 (winter): 22:59:59Z = 23:59:59 local → met; 23:00Z = 00:00 local 01.02 → met_late.
  { name: 'overview 2027 submitted 2028-01-31T22:59:59Z (local 23:59:59) → met', record: overview(2027, { submittedAt: '2028-01-31T22:59:59Z' }), now: '2028-03-01T12:00:00+01:00', rule: 'incident.annual-overview', due: '2028-01-31', status: 'met' },
  { name: 'overview 2027 submitted 2028-01-31T23:00:00Z (local 01.02 00:00) → met_late', record: overview(2027, { submittedAt: '2028-01-31T23:00:00Z' }), now: '2028-03-01T12:00:00+01:00', rule: 'incident.annual-overview', due: '2028-01-31', status: 'met_late' },
  // Annual overview for 2023 → due Wed 31.01.2024.
  { name: 'overview 2023 missing, now exactly 31.01.2024 23:59:59.999 → open', record: overview(2023), now: '2024-01-31T23:59:59.999+01:00', rule: 'incident.annual-overview', due: '2024-01-31', status: 'open' },
  { name: 'overview 2023 missing, now one ms later (01.02.2024 00:00:00.000) → breached', record: overview(2023), now: '2024-02-01T00:00:00.000+01:00', rule: 'incident.annual-overview', due: '2024-01-31', status: 'breached' },
];

describe('statuses at the edge of the due day (completion on the due day → met, from 00:00 next local day → met_late)', () => {
  it.each(STATUS_ROWS)('$name', ({ record, now, rule, due, status }) => {
    const d = last(compute(record, { now }), rule);
    expect(d.dueDate).toBe(due);
    expect(d.dueAt).toBe(endOfDay(due));
    expect(d.status).toBe(status);
  });
});
