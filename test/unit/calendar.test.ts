import { describe, expect, it } from 'vitest';
import { createCalendar, parseClosureDays, DomainError } from '../../src/domain/index.js';

describe('working-day calendar', () => {
  const cal = createCalendar();

  it.each([
    // date, working?, why
    ['2026-03-27', true, 'ordinary Friday'],
    ['2026-03-28', false, 'Saturday'],
    ['2026-03-29', false, 'Sunday'],
    ['2026-04-02', false, 'Skærtorsdag'],
    ['2026-04-03', false, 'Langfredag'],
    ['2026-04-06', false, 'Anden påskedag'],
    ['2026-05-14', false, 'Kristi himmelfartsdag'],
    ['2026-05-25', false, 'Anden pinsedag'],
    ['2023-05-05', false, 'Store bededag 2023 (still a holiday)'],
    ['2024-04-26', true, 'Store bededag 2024 (abolished)'],
    ['2026-06-05', true, 'Grundlovsdag is a working day by default'],
    ['2026-12-24', true, '24 December is a working day by default'],
    ['2026-12-31', true, '31 December is a working day by default'],
    ['2026-05-01', true, '1 May is a working day by default'],
    ['2026-12-25', false, 'Juledag'],
    ['2026-12-28', true, 'Monday after Christmas'],
    ['2027-01-01', false, 'Nytårsdag'],
  ])('%s working=%s (%s)', (date, working) => {
    expect(cal.isWorkingDay(date)).toBe(working);
  });

  it('closure days: MM-DD every year, YYYY-MM-DD once', () => {
    const c = createCalendar({ closureDays: ['06-05', '2026-12-31'] });
    expect(c.isWorkingDay('2025-06-05')).toBe(false);
    expect(c.isWorkingDay('2026-06-05')).toBe(false);
    expect(c.isWorkingDay('2026-12-31')).toBe(false);
    expect(c.isWorkingDay('2027-12-31')).toBe(true);
  });

  it('02-29 closes leap days only and does not break ordinary years', () => {
    const c = createCalendar({ closureDays: ['02-29'] });
    expect(c.isWorkingDay('2028-02-29')).toBe(false);
    expect(c.isWorkingDay('2027-02-26')).toBe(true);
    expect(c.isWorkingDay('2027-03-01')).toBe(true);
  });

  it('names the reason for every skipped day', () => {
    const c = createCalendar({ closureDays: ['12-24'] });
    const reasons = ['2026-12-24', '2026-12-25', '2026-12-26', '2026-12-27'].map((d) => {
      const epoch = Date.parse(`${d}T00:00:00Z`) / 86_400_000;
      return c.nonWorkingReason(epoch);
    });
    expect(reasons[0]).toEqual({ kind: 'closure', spec: '12-24' });
    expect(reasons[1]).toEqual({ kind: 'holiday', name: { da: 'Juledag', en: 'Christmas Day' } });
    // 26.12.2026 is a Saturday and a holiday: the holiday name explains it better.
    expect(reasons[2]?.kind).toBe('holiday');
    expect(reasons[3]).toEqual({ kind: 'weekend' });
  });

  it.each([['13-01'], ['02-30'], ['2026-02-29'], ['5 June'], [''], ['06/05']])('refuses closure day %j naming it', (spec) => {
    expect(() => parseClosureDays(['06-05', spec])).toThrowError(DomainError);
    expect(() => parseClosureDays(['06-05', spec])).toThrowError(/closureDays\[1\]/);
  });

  it('adds working days across Easter', () => {
    // Wed 16.04.2025 + 3: Thu 17 and Fri 18 are Easter holidays, Mon 21 too → Tue 22, Wed 23, Thu 24.
    expect(cal.addWorkingDays('2025-04-16', 3)).toBe('2025-04-24');
  });

  it('rejects a malformed date with a field-naming error', () => {
    expect(() => cal.isWorkingDay('2025-13-01')).toThrowError(/not a date/);
  });
});
