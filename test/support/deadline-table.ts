/**
 * Helpers of the hand-computed deadline tables (test/unit/rules.table.test.ts,
 * test/unit/edge-cases.test.ts): pure, no I/O. The DST rule here is written independently of
 * src/domain/zone.ts, so that expected `dueAt` values never come from the code under test.
 */
import { expect } from 'vitest';
import { computeDeadlines, type Deadline } from '../../src/domain/index.js';

export type Status = Deadline['status'];

/** Far enough after every event in the tables that no record is "in the future". */
export const LATE_NOW = '2030-06-01T12:00:00+02:00';

export interface Opts {
  now?: string;
  closureDays?: string[];
  lang?: 'da' | 'en';
}

export function compute(record: Record<string, unknown>, opts: Opts = {}): Deadline[] {
  return computeDeadlines(record, {
    now: opts.now ?? LATE_NOW,
    ...(opts.closureDays ? { closureDays: opts.closureDays } : {}),
    ...(opts.lang ? { lang: opts.lang } : {}),
  }).deadlines;
}

/** The current (last) deadline of a rule. */
export function last(list: Deadline[], rule: string): Deadline {
  const found = list.filter((d) => d.rule === rule);
  expect(found.map((d) => d.rule), `deadlines for ${rule} in [${list.map((d) => d.rule).join(', ')}]`).not.toHaveLength(0);
  return found[found.length - 1] as Deadline;
}

/** Independent DST rule for Europe/Copenhagen (EU): summer time from the last Sunday of March to the last Sunday of October. */
export function lastSunday(year: number, month: number): string {
  const lastDay = new Date(Date.UTC(year, month, 0)); // day 0 of the next month = last day of `month`
  const d = lastDay.getUTCDate() - lastDay.getUTCDay();
  return `${year}-${String(month).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
}
/** Offset in force at 23:59:59.999 local on `date` (on the March change day already +02:00, on the October one already +01:00). */
export function offsetAtEndOf(date: string): string {
  const y = Number(date.slice(0, 4));
  return date >= lastSunday(y, 3) && date < lastSunday(y, 10) ? '+02:00' : '+01:00';
}
export function endOfDay(date: string): string {
  return `${date}T23:59:59.999${offsetAtEndOf(date)}`;
}

export const incident = (kind: string, occurredAt: string, extra: Record<string, unknown> = {}) => ({ type: 'incident', kind, occurredAt, ...extra });
export const cell = (endedAt: string, extra: Record<string, unknown> = {}) => ({ type: 'security_cell_placement', placedAt: endedAt, endedAt, ...extra });
export const force = (occurredAt: string, extra: Record<string, unknown> = {}) => ({ type: 'force_use', occurredAt, ...extra });
export const plan = (clientCategory: string, extra: Record<string, unknown>) => ({ type: 'action_plan', clientCategory, ...extra });
