/**
 * Snapshot of the Danish public holidays (helligdage) 2015–2035.
 *
 * The fixture was computed independently (Gauss/anonymous Gregorian Easter algorithm; skærtorsdag = Easter−3,
 * langfredag = Easter−2, påskedag, anden påskedag = Easter+1, Store Bededag = Easter+26 up to and including 2023,
 * Kristi Himmelfartsdag = Easter+39, pinsedag = Easter+49, anden pinsedag = Easter+50, 1 Jan, 25 Dec, 26 Dec),
 * not from the implementation or from date-holidays. Every deadline counted in working days rests on this
 * list, so a date-holidays upgrade that moves or renames a holiday must fail here instead of silently moving
 * deadlines.
 */
import { readFileSync } from 'node:fs';
import Holidays from 'date-holidays';
import { describe, expect, it } from 'vitest';
import { createCalendar } from '../../src/domain/index.js';

interface NamedDay {
  date: string;
  name: string;
}

const fixture = JSON.parse(readFileSync(new URL('./fixtures/dk-holidays-2015-2035.json', import.meta.url), 'utf8')) as Record<string, NamedDay[]>;

const YEARS = Array.from({ length: 2035 - 2015 + 1 }, (_, i) => 2015 + i);

function expected(year: number): NamedDay[] {
  const list = fixture[String(year)];
  if (!list) throw new Error(`fixture has no year ${year}`);
  return list;
}

describe('holiday fixture sanity (guards the fixture itself)', () => {
  it('covers exactly 2015–2035', () => {
    expect(Object.keys(fixture).map(Number)).toEqual(YEARS);
  });

  it.each(YEARS)('%i: 11 holidays up to 2023, 10 from 2024 (Store Bededag abolished), sorted, in the year', (year) => {
    const list = expected(year);
    expect(list).toHaveLength(year <= 2023 ? 11 : 10);
    expect(list.some((h) => h.name === 'Store Bededag')).toBe(year <= 2023);
    const dates = list.map((h) => h.date);
    expect([...dates].sort()).toEqual(dates);
    for (const d of dates) expect(d.slice(0, 4)).toBe(String(year));
  });

  it.each([
    // year, påskedag (well-known values)
    [2015, '2015-04-05'],
    [2016, '2016-03-27'],
    [2019, '2019-04-21'],
    [2023, '2023-04-09'],
    [2024, '2024-03-31'],
    [2025, '2025-04-20'],
    [2026, '2026-04-05'],
    [2027, '2027-03-28'],
    [2035, '2035-03-25'],
  ])('%i: påskedag is %s', (year, easter) => {
    expect(expected(year).find((h) => h.name === 'Påskedag')?.date).toBe(easter);
  });
});

describe('createCalendar().holidays(year) matches the independent fixture', () => {
  const cal = createCalendar();

  it.each(YEARS)('%i', (year) => {
    expect(cal.holidays(year)).toEqual(expected(year));
  });

  it.each(YEARS)('%i: every fixture holiday is a non-working day', (year) => {
    for (const h of expected(year)) expect(cal.isWorkingDay(h.date), `${h.date} ${h.name}`).toBe(false);
  });

  it.each(YEARS)('%i: Grundlovsdag, 1 May, 24 and 31 December are working days when they fall Mon–Fri', (year) => {
    for (const md of ['05-01', '06-05', '12-24', '12-31']) {
      const date = `${year}-${md}`;
      const weekday = new Date(`${date}T12:00:00Z`).getUTCDay();
      const isHoliday = expected(year).some((h) => h.date === date); // e.g. Store Bededag on 1 May 2015
      expect(cal.isWorkingDay(date), date).toBe(weekday >= 1 && weekday <= 5 && !isHoliday);
    }
  });
});

describe('date-holidays (DK, type public) matches the independent fixture', () => {
  const hd = new Holidays('DK');

  it.each(YEARS)('%i', (year) => {
    const actual = hd
      .getHolidays(year)
      .filter((h) => h.type === 'public')
      .map((h) => ({ date: h.date.slice(0, 10), name: h.name }))
      .sort((a, b) => a.date.localeCompare(b.date));
    expect(actual).toEqual(expected(year));
  });
});
