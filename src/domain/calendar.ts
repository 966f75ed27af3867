/**
 * The working-day calendar: Monday–Friday minus Danish public holidays (helligdage) minus the
 * closure days an administrator declared.
 *
 * Holidays are those of date-holidays (DK, type `public`), which has Store bededag up to 2023
 * only. The years 1900–2199 come from a table generated from date-holidays and committed
 * (holidays-dk.ts), so computing a deadline never loads date-holidays (about 80 ms of start-up);
 * a year outside the table is asked of the source the application installs with
 * `setHolidaysOutsideTable` (src/holidays.ts: date-holidays itself, loaded on first use).
 * Each year is then turned into a flag array once, so counting working days is a lookup per day.
 */
import { civilFromDays, daysFromCivil, daysInMonth, isoWeekdayIndex, parseIsoDate, formatIsoDate, type EpochDay } from './dates.js';
import { DomainError } from './errors.js';
import { DK_HOLIDAY_FIRST_YEAR, DK_HOLIDAY_LAST_YEAR, DK_HOLIDAY_NAMES, DK_HOLIDAY_YEARS } from './holidays-dk.js';

export type NonWorkingReason =
  | { kind: 'weekend' }
  | { kind: 'holiday'; name: { da: string; en: string } }
  | { kind: 'closure'; spec: string };

export interface Holiday {
  date: string;
  name: string;
}

const FLAG_WORKING = 0;
const FLAG_WEEKEND = 1;
const FLAG_HOLIDAY = 2;
const FLAG_CLOSURE = 3;
const FLAG_UNKNOWN = 255;
const FLAT_FIRST_DAY = daysFromCivil(1900, 1, 1);
const FLAT_DAYS = daysFromCivil(2200, 1, 1) - FLAT_FIRST_DAY;

interface YearTable {
  start: EpochDay;
  flags: Uint8Array;
  holidayNames: Map<EpochDay, { da: string; en: string }>;
  closureSpecs: Map<EpochDay, string>;
}

export interface PublicHoliday {
  day: EpochDay;
  da: string;
  en: string;
}

/** Holidays of a year outside the committed table: date-holidays, installed by the application. */
export type HolidaySource = (year: number) => readonly PublicHoliday[];

let outsideTable: HolidaySource | undefined;
const tableCache = new Map<number, PublicHoliday[]>();

/** Sets (or, with undefined, removes) where the holidays of years outside the committed table come from. */
export function setHolidaysOutsideTable(source: HolidaySource | undefined): void {
  outsideTable = source;
}

function decodeTableYear(year: number): PublicHoliday[] {
  const line = DK_HOLIDAY_YEARS[year - DK_HOLIDAY_FIRST_YEAR] as string;
  const list: PublicHoliday[] = [];
  for (const entry of line.split(' ')) {
    if (entry === '') continue;
    const name = DK_HOLIDAY_NAMES[entry.charCodeAt(4) - 65] as { da: string; en: string };
    list.push({ day: daysFromCivil(year, Number(entry.slice(0, 2)), Number(entry.slice(2, 4))), da: name.da, en: name.en });
  }
  return list;
}

/**
 * Danish public holidays of a year (date-holidays DK, type `public`), sorted: from the committed
 * table for 1900–2199, else from the installed source. Without one, a year outside the table is
 * a wiring error (every fristvagt process installs it), never a silently holiday-free year.
 */
export function danishPublicHolidays(year: number): readonly PublicHoliday[] {
  if (year >= DK_HOLIDAY_FIRST_YEAR && year <= DK_HOLIDAY_LAST_YEAR) {
    let list = tableCache.get(year);
    if (!list) {
      list = decodeTableYear(year);
      tableCache.set(year, list);
    }
    return list;
  }
  if (!outsideTable) {
    throw new Error(`Danish public holidays of ${year}: the committed table covers ${DK_HOLIDAY_FIRST_YEAR}–${DK_HOLIDAY_LAST_YEAR} and no source for other years is installed (installHolidayFallback in src/holidays.ts)`);
  }
  return outsideTable(year);
}

const MMDD = /^(\d{2})-(\d{2})$/;

export interface ClosureDays {
  /** Every year, as [month, day]. */
  yearly: Array<{ month: number; day: number; spec: string }>;
  /** Exact dates. */
  once: Map<EpochDay, string>;
}

/**
 * Parses closure days given as `MM-DD` (every year) or `YYYY-MM-DD` (once).
 * Throws a DomainError naming the offending entry so that a typo never silently yields a later deadline.
 */
export function parseClosureDays(specs: readonly string[], field = 'closureDays'): ClosureDays {
  const yearly: ClosureDays['yearly'] = [];
  const once = new Map<EpochDay, string>();
  specs.forEach((raw, i) => {
    const spec = raw.trim();
    const m = MMDD.exec(spec);
    if (m) {
      const month = Number(m[1]);
      const day = Number(m[2]);
      // 02-29 is allowed: it applies in leap years only.
      if (month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(2024, month)) {
        yearly.push({ month, day, spec });
        return;
      }
    } else {
      const d = parseIsoDate(spec);
      if (d !== undefined) {
        once.set(d, spec);
        return;
      }
    }
    throw new DomainError('INVALID_CLOSURE_DAY', `${field}[${i}]: "${raw}" is not a closure day (use MM-DD or YYYY-MM-DD)`, {
      path: [field, i],
    });
  });
  return { yearly, once };
}

export class Calendar {
  readonly closureSpecs: readonly string[];
  private readonly closures: ClosureDays;
  private readonly years = new Map<number, YearTable>();

  constructor(closureSpecs: readonly string[] = []) {
    this.closureSpecs = [...closureSpecs];
    this.closures = parseClosureDays(closureSpecs);
  }

  private table(year: number): YearTable {
    let t = this.years.get(year);
    if (t) return t;
    const start = daysFromCivil(year, 1, 1);
    const end = daysFromCivil(year + 1, 1, 1);
    const flags = new Uint8Array(end - start);
    for (let d = start; d < end; d++) if (isoWeekdayIndex(d) >= 5) flags[d - start] = FLAG_WEEKEND;
    const holidayNames = new Map<EpochDay, { da: string; en: string }>();
    for (const h of danishPublicHolidays(year)) {
      flags[h.day - start] = FLAG_HOLIDAY;
      holidayNames.set(h.day, { da: h.da, en: h.en });
    }
    const closureSpecs = new Map<EpochDay, string>();
    const close = (d: EpochDay, spec: string): void => {
      // A weekend or holiday is already closed; keep its own reason, it explains better.
      if (flags[d - start] === FLAG_WORKING) {
        flags[d - start] = FLAG_CLOSURE;
        closureSpecs.set(d, spec);
      }
    };
    for (const c of this.closures.yearly) {
      if (c.day <= daysInMonth(year, c.month)) close(daysFromCivil(year, c.month, c.day), c.spec);
    }
    for (const [d, spec] of this.closures.once) if (d >= start && d < end) close(d, spec);
    t = { start, flags, holidayNames, closureSpecs };
    this.years.set(year, t);
    return t;
  }

  private tableOf(d: EpochDay): YearTable {
    // Fast path: most lookups hit the year of the previous lookup.
    let t = this.lastTable;
    if (!t || d < t.start || d >= t.start + t.flags.length) {
      t = this.table(civilFromDays(d).year);
      this.lastTable = t;
    }
    return t;
  }

  private lastTable: YearTable | undefined;

  // The flags of 1900–2199 in one flat array, copied a year at a time from the year tables: a
  // sweep jumps between years record by record, which the one-year fast path above cannot follow.
  private flat: Uint8Array | undefined;

  private flagOf(d: EpochDay): number {
    const i = d - FLAT_FIRST_DAY;
    if (i >>> 0 !== i || i >= FLAT_DAYS) {
      const t = this.tableOf(d);
      return t.flags[d - t.start] as number;
    }
    const flat = (this.flat ??= new Uint8Array(FLAT_DAYS).fill(FLAG_UNKNOWN));
    const flag = flat[i] as number;
    if (flag !== FLAG_UNKNOWN) return flag;
    const t = this.tableOf(d);
    flat.set(t.flags, t.start - FLAT_FIRST_DAY);
    return flat[i] as number;
  }

  isWorkingDayEpoch(d: EpochDay): boolean {
    return this.flagOf(d) === FLAG_WORKING;
  }

  nonWorkingReason(d: EpochDay): NonWorkingReason | undefined {
    const flag = this.flagOf(d);
    if (flag === FLAG_WORKING) return undefined;
    const t = this.tableOf(d);
    switch (flag) {
      case FLAG_WEEKEND:
        return { kind: 'weekend' };
      case FLAG_HOLIDAY:
        return { kind: 'holiday', name: t.holidayNames.get(d) ?? { da: 'helligdag', en: 'public holiday' } };
      case FLAG_CLOSURE:
        return { kind: 'closure', spec: t.closureSpecs.get(d) ?? '' };
      default:
        return undefined;
    }
  }

  /** The n-th working day after `d` (d itself not counted); n ≥ 0. */
  addWorkingDaysEpoch(d: EpochDay, n: number): EpochDay {
    let day = d;
    let left = n;
    while (left > 0) {
      day++;
      if (this.isWorkingDayEpoch(day)) left--;
    }
    return day;
  }

  /** The n-th working day before `d` (d itself not counted); n ≥ 0. */
  subtractWorkingDaysEpoch(d: EpochDay, n: number): EpochDay {
    let day = d;
    let left = n;
    while (left > 0) {
      day--;
      if (this.isWorkingDayEpoch(day)) left--;
    }
    return day;
  }

  /** `d` when it is a working day, else the next working day after it. */
  nextWorkingDayOnOrAfter(d: EpochDay): EpochDay {
    let day = d;
    while (!this.isWorkingDayEpoch(day)) day++;
    return day;
  }

  // String-date conveniences for callers outside the engine (CLI, tests, UI).
  isWorkingDay(date: string): boolean {
    return this.isWorkingDayEpoch(requireDate(date));
  }

  addWorkingDays(date: string, n: number): string {
    return formatIsoDate(this.addWorkingDaysEpoch(requireDate(date), n));
  }

  holidays(year: number): Holiday[] {
    return danishPublicHolidays(year).map((h) => ({ date: formatIsoDate(h.day), name: h.da }));
  }
}

function requireDate(date: string): EpochDay {
  const d = parseIsoDate(date);
  if (d === undefined) throw new DomainError('INVALID_DATE', `"${date}" is not a date (YYYY-MM-DD)`, { path: ['date'] });
  return d;
}

export function createCalendar(opts: { closureDays?: readonly string[] } = {}): Calendar {
  return new Calendar(opts.closureDays ?? []);
}
