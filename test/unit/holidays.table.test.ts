/**
 * The committed holiday table (src/domain/holidays-dk.ts) is date-holidays, year by year, and is
 * exactly what scripts/generate-holidays.mjs writes; years outside it come from date-holidays
 * once src/holidays.ts is installed, and are refused loudly before.
 */
import { readFileSync } from 'node:fs';
import Holidays from 'date-holidays';
import { afterEach, describe, expect, it } from 'vitest';
import { createCalendar, danishPublicHolidays, formatIsoDate, setHolidaysOutsideTable } from '../../src/domain/index.js';
import { DK_HOLIDAY_FIRST_YEAR, DK_HOLIDAY_LAST_YEAR } from '../../src/domain/holidays-dk.js';
import { dateHolidaysDk, installHolidayFallback, renderDkHolidayTable } from '../../src/holidays.js';

const YEARS = Array.from({ length: DK_HOLIDAY_LAST_YEAR - DK_HOLIDAY_FIRST_YEAR + 1 }, (_, i) => DK_HOLIDAY_FIRST_YEAR + i);

// Straight from the library, without src/holidays.ts, so that a bug there cannot hide in both sides.
const da = new Holidays('DK', { languages: ['da'], types: ['public'] });
const en = new Holidays('DK', { languages: ['en'], types: ['public'] });
function library(year: number): Array<{ date: string; da: string; en: string }> {
  const english = new Map(en.getHolidays(year).filter((h) => h.type === 'public').map((h) => [h.date.slice(0, 10), h.name]));
  return da
    .getHolidays(year)
    .filter((h) => h.type === 'public')
    .map((h) => ({ date: h.date.slice(0, 10), da: h.name, en: english.get(h.date.slice(0, 10)) ?? h.name }))
    .sort((a, b) => a.date.localeCompare(b.date));
}
const shown = (list: ReadonlyArray<{ day: number; da: string; en: string }>) => list.map((h) => ({ date: formatIsoDate(h.day), da: h.da, en: h.en }));

afterEach(() => setHolidaysOutsideTable(undefined));

describe('committed Danish holiday table', () => {
  it('covers 1900–2199, the range of the engine’s other per-day tables', () => {
    expect([DK_HOLIDAY_FIRST_YEAR, DK_HOLIDAY_LAST_YEAR]).toEqual([1900, 2199]);
  });

  it('equals date-holidays (DK, public, Danish and English names) in every year of the range', () => {
    const differing = YEARS.filter((year) => JSON.stringify(shown(danishPublicHolidays(year))) !== JSON.stringify(library(year)));
    expect(differing).toEqual([]);
    // The comparison is not vacuous: Store Bededag is in 2023 and gone in 2024.
    expect(shown(danishPublicHolidays(2023)).map((h) => h.da)).toContain('Store Bededag');
    expect(shown(danishPublicHolidays(2024)).map((h) => h.da)).not.toContain('Store Bededag');
  });

  it('is exactly the file scripts/generate-holidays.mjs writes (regenerate after upgrading date-holidays)', () => {
    const committed = readFileSync(new URL('../../src/domain/holidays-dk.ts', import.meta.url), 'utf8');
    expect(renderDkHolidayTable(DK_HOLIDAY_FIRST_YEAR, DK_HOLIDAY_LAST_YEAR)).toBe(committed);
  });
});

describe('years outside the table', () => {
  it('are refused with the reason while no source is installed (never a holiday-free year)', () => {
    expect(() => danishPublicHolidays(DK_HOLIDAY_LAST_YEAR + 1)).toThrow(/table covers 1900–2199 and no source for other years is installed/);
    expect(() => createCalendar().isWorkingDay('1899-12-25')).toThrow(/1899/);
  });

  it('come from date-holidays once installHolidayFallback() ran', () => {
    installHolidayFallback();
    for (const year of [1850, DK_HOLIDAY_FIRST_YEAR - 1, DK_HOLIDAY_LAST_YEAR + 1, 2500]) {
      expect(shown(danishPublicHolidays(year)), String(year)).toEqual(library(year));
      expect(dateHolidaysDk(year), String(year)).toBe(danishPublicHolidays(year));
    }
    const cal = createCalendar();
    expect(cal.isWorkingDay('2200-12-25')).toBe(false); // Juledag
    expect(cal.isWorkingDay('2200-12-24')).toBe(true); // a Wednesday
    // Across the table's edge: Fri 27.12.2199 + 3 working days = Mon 30, Tue 31, (Nytårsdag 2200 from date-holidays) Thu 2.1.
    expect(cal.addWorkingDays('2199-12-27', 3)).toBe('2200-01-02');
  });
});
