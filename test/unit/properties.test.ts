/**
 * Properties of the date arithmetic, checked over thousands of generated dates (fast-check).
 * The zone table is compared against luxon, the reference it is built from.
 */
import fc from 'fast-check';
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import {
  addMonths,
  civilFromDays,
  createCalendar,
  daysFromCivil,
  daysInMonth,
  formatIsoDate,
  localDayOfInstant,
  instantOfLocal,
  formatLocalInstant,
  END_OF_DAY_MS,
  parseIsoDate,
  computeDeadlines,
} from '../../src/domain/index.js';

const DAY_2000 = daysFromCivil(2000, 1, 1);
const DAY_2060 = daysFromCivil(2060, 12, 31);
const anyDay = fc.integer({ min: DAY_2000, max: DAY_2060 });
const closureSpecs = fc.array(
  fc.oneof(
    fc.tuple(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 28 })).map(([m, d]) => `${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`),
    anyDay.map(formatIsoDate),
  ),
  { maxLength: 5 },
);

describe('working-day arithmetic', () => {
  it('adding N working days lands on a working day, at least N calendar days later', () => {
    fc.assert(
      fc.property(anyDay, fc.integer({ min: 1, max: 30 }), closureSpecs, (start, n, specs) => {
        const cal = createCalendar({ closureDays: specs });
        const due = cal.addWorkingDaysEpoch(start, n);
        expect(cal.isWorkingDayEpoch(due)).toBe(true);
        expect(due - start).toBeGreaterThanOrEqual(n);
        // Exactly n working days in (start, due].
        let count = 0;
        for (let d = start + 1; d <= due; d++) if (cal.isWorkingDayEpoch(d)) count++;
        expect(count).toBe(n);
      }),
      { numRuns: 2000 },
    );
  });

  it('is monotonic in the start date and in N', () => {
    const cal = createCalendar();
    fc.assert(
      fc.property(anyDay, anyDay, fc.integer({ min: 0, max: 20 }), (a, b, n) => {
        const [lo, hi] = a <= b ? [a, b] : [b, a];
        expect(cal.addWorkingDaysEpoch(lo, n)).toBeLessThanOrEqual(cal.addWorkingDaysEpoch(hi, n));
        expect(cal.addWorkingDaysEpoch(lo, n)).toBeLessThanOrEqual(cal.addWorkingDaysEpoch(lo, n + 1));
      }),
      { numRuns: 2000 },
    );
  });

  it('closure days never make a deadline earlier (the stricter reading is the default)', () => {
    const plain = createCalendar();
    fc.assert(
      fc.property(anyDay, fc.integer({ min: 1, max: 10 }), closureSpecs, (start, n, specs) => {
        const closed = createCalendar({ closureDays: specs });
        expect(closed.addWorkingDaysEpoch(start, n)).toBeGreaterThanOrEqual(plain.addWorkingDaysEpoch(start, n));
      }),
      { numRuns: 1000 },
    );
  });

  it('subtracting inverts adding on working days', () => {
    const cal = createCalendar();
    fc.assert(
      fc.property(anyDay, fc.integer({ min: 0, max: 15 }), (start, n) => {
        const s = cal.nextWorkingDayOnOrAfter(start);
        expect(cal.subtractWorkingDaysEpoch(cal.addWorkingDaysEpoch(s, n), n)).toBe(s);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('month arithmetic', () => {
  it('keeps the day of month or clamps to the last day', () => {
    fc.assert(
      fc.property(anyDay, fc.integer({ min: -24, max: 24 }), (start, n) => {
        const { day, clamped } = addMonths(start, n);
        const a = civilFromDays(start);
        const b = civilFromDays(day);
        expect((b.year - a.year) * 12 + (b.month - a.month)).toBe(n);
        if (clamped) {
          expect(a.day).toBeGreaterThan(daysInMonth(b.year, b.month));
          expect(b.day).toBe(daysInMonth(b.year, b.month));
        } else {
          expect(b.day).toBe(a.day);
        }
        // luxon agrees (it clamps the same way).
        expect(formatIsoDate(day)).toBe(DateTime.fromISO(formatIsoDate(start), { zone: 'Europe/Copenhagen' }).plus({ months: n }).toISODate());
      }),
      { numRuns: 3000 },
    );
  });

  it('civil ↔ epoch day round-trips', () => {
    fc.assert(
      fc.property(anyDay, (d) => {
        expect(parseIsoDate(formatIsoDate(d))).toBe(d);
      }),
    );
  });
});

describe('Europe/Copenhagen conversions', () => {
  const anyInstant = fc.integer({ min: Date.UTC(1996, 0, 1), max: Date.UTC(2060, 0, 1) });

  it('the local date of an instant matches luxon', () => {
    fc.assert(
      fc.property(anyInstant, (ms) => {
        expect(formatIsoDate(localDayOfInstant(ms))).toBe(DateTime.fromMillis(ms, { zone: 'Europe/Copenhagen' }).toISODate());
      }),
      { numRuns: 5000 },
    );
  });

  it('instants around every DST change convert like luxon', () => {
    for (let year = 2015; year <= 2035; year++) {
      for (const month of [3, 10]) {
        const lastSunday = DateTime.fromObject({ year, month, day: 31 }, { zone: 'UTC' }).startOf('week').plus({ days: 6 });
        const change = Date.UTC(year, month - 1, lastSunday.day, 1, 0, 0);
        for (let delta = -2 * 3600_000; delta <= 2 * 3600_000; delta += 15 * 60_000) {
          const ms = change + delta;
          const lux = DateTime.fromMillis(ms, { zone: 'Europe/Copenhagen' });
          expect(formatLocalInstant(ms)).toBe(lux.toISO());
        }
      }
    }
  });

  it('end of a local day is 23:59:59.999 with that day\'s offset', () => {
    fc.assert(
      fc.property(anyDay, (d) => {
        const iso = formatLocalInstant(instantOfLocal(d, END_OF_DAY_MS));
        const lux = DateTime.fromISO(formatIsoDate(d), { zone: 'Europe/Copenhagen' }).endOf('day');
        expect(iso).toBe(lux.toISO());
      }),
      { numRuns: 3000 },
    );
  });
});

describe('events that come too late change nothing (issue 10)', () => {
  const DAY_2023 = daysFromCivil(2023, 1, 1);
  const DAY_2028 = daysFromCivil(2028, 12, 31);
  const recentDay = fc.integer({ min: DAY_2023, max: DAY_2028 });
  const NOW = '2030-01-01T12:00:00+01:00';
  const statusOf = (record: Record<string, unknown>, key: string) => computeDeadlines(record, { now: NOW }).deadlines.find((d) => d.key === key);

  it('a follow-up postponement decided after the due day leaves due date and status as without it', () => {
    fc.assert(
      fc.property(recentDay, fc.integer({ min: 1, max: 60 }), fc.option(fc.integer({ min: 0, max: 40 }), { nil: undefined }), fc.option(fc.integer({ min: 1, max: 60 }), { nil: undefined }), (ended, lateBy, heldAfter, moveBy) => {
        const base: Record<string, unknown> = { type: 'security_cell_placement', placedAt: formatIsoDate(ended), endedAt: formatIsoDate(ended) };
        if (heldAfter !== undefined) base['followUpHeldAt'] = formatIsoDate(ended + heldAfter);
        const without = statusOf(base, 'cell.follow-up-conversation');
        const late: Record<string, unknown> = { ...base, followUpPostponedReason: 'Indlagt', followUpPostponedAt: formatIsoDate(ended + 7 + lateBy) };
        if (moveBy !== undefined) late['followUpRescheduledTo'] = formatIsoDate(ended + 7 + moveBy);
        const withLate = statusOf(late, 'cell.follow-up-conversation');
        expect(withLate?.dueDate).toBe(without?.dueDate);
        expect(withLate?.status).toBe(without?.status);
        expect(withLate?.postponedLate).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('adding a delay notice given after the deadline then in force never moves the final report', () => {
    fc.assert(
      fc.property(recentDay, fc.array(fc.tuple(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 1, max: 40 })), { maxLength: 3 }), fc.integer({ min: 1, max: 30 }), (occurred, notices, lateBy) => {
        const delayNotices = notices.map(([at, extra]) => ({ notifiedAt: formatIsoDate(occurred + at), expected: formatIsoDate(occurred + at + extra) }));
        const base = { type: 'incident', kind: 'death', occurredAt: formatIsoDate(occurred), delayNotices };
        const before = statusOf(base, 'incident.final-report');
        const dueDay = parseIsoDate(before?.dueDate ?? '') as number;
        const after = statusOf({ ...base, delayNotices: [...delayNotices, { notifiedAt: formatIsoDate(dueDay + lateBy), expected: formatIsoDate(dueDay + lateBy + 30) }] }, 'incident.final-report');
        expect(after?.dueDate).toBe(before?.dueDate);
        expect(after?.status).toBe(before?.status);
        expect(after?.delayNotifiedLate).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});
