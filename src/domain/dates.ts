/**
 * Local calendar dates as integer "epoch days" (days since 1970-01-01).
 *
 * Deadline arithmetic happens hundreds of thousands of times per sweep; plain integers keep it
 * allocation-free and immune to DST (a local date has no time of day, so a clock change can never
 * move it). Conversions use Howard Hinnant's civil-from-days algorithms.
 */

export type EpochDay = number;

export interface CivilDate {
  year: number;
  month: number; // 1-12
  day: number; // 1-31
}

export function daysFromCivil(year: number, month: number, day: number): EpochDay {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const mp = (month + 9) % 12;
  const doy = Math.floor((153 * mp + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

export function civilFromDays(z: EpochDay): CivilDate {
  const zz = z + 719468;
  const era = Math.floor(zz / 146097);
  const doe = zz - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return { year: yoe + era * 400 + (month <= 2 ? 1 : 0), month, day };
}

/** 0 = Monday … 6 = Sunday (ISO order, so weekend is 5 and 6). */
export function isoWeekdayIndex(d: EpochDay): number {
  // 1970-01-01 was a Thursday (index 3).
  return (((d + 3) % 7) + 7) % 7;
}

export function isWeekend(d: EpochDay): boolean {
  return isoWeekdayIndex(d) >= 5;
}

export function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

export function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** Same day-of-month n months later (n may be negative); clamps to the month's last day (31 Aug + 3 = 30 Nov). */
export function addMonths(d: EpochDay, n: number): { day: EpochDay; clamped: boolean } {
  const c = civilFromDays(d);
  const total = c.year * 12 + (c.month - 1) + n;
  const year = Math.floor(total / 12);
  const month = (total - year * 12) + 1;
  const last = daysInMonth(year, month);
  const clamped = c.day > last;
  return { day: daysFromCivil(year, month, clamped ? last : c.day), clamped };
}

/** The number written by `count` ASCII digits at `at`, or -1 if any of them is not a digit. */
export function digitsAt(s: string, at: number, count: number): number {
  let n = 0;
  for (let i = at; i < at + count; i++) {
    const c = s.charCodeAt(i) - 48; // NaN past the end of `s`
    if (!(c >= 0 && c <= 9)) return -1;
    n = n * 10 + c;
  }
  return n;
}

/**
 * The local date written as `YYYY-MM-DD` at the start of `s` (what follows is the caller's
 * business); undefined for anything else, including 2025-02-30. Read by hand rather than with a
 * regular expression: every date of every record passes through here, some twice.
 */
export function parseIsoDatePrefix(s: string): EpochDay | undefined {
  if (s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45) return undefined; // '-'
  const year = digitsAt(s, 0, 4);
  const month = digitsAt(s, 5, 2);
  const day = digitsAt(s, 8, 2);
  if (year < 0 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  return daysFromCivil(year, month, day);
}

/** Parses a strict `YYYY-MM-DD`; returns undefined for anything else, including 2025-02-30. */
export function parseIsoDate(s: string): EpochDay | undefined {
  // Untyped callers may pass anything; the regular expression this replaces read it as a string.
  const text = typeof s === 'string' ? s : String(s);
  return text.length === 10 ? parseIsoDatePrefix(text) : undefined;
}

/**
 * `dd.mm.yyyy` (also `d.m.yyyy`), the form Danish case workers write dates in, whatever a browser's
 * locale would make of a date input; undefined for anything else, including 30.02.2026.
 */
export function parseDanishDate(s: string): EpochDay | undefined {
  const m = /^(\d{1,2})\.(\d{1,2})\.(\d{4})$/.exec(typeof s === 'string' ? s.trim() : '');
  if (!m) return undefined;
  const day = Number(m[1]);
  const month = Number(m[2]);
  const year = Number(m[3]);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  return daysFromCivil(year, month, day);
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

// Memoised formatting covers 1900-01-01 … 2199-12-31: far more than any record carries, while a
// sweep formats the same few thousand days hundreds of thousands of times. Chunks are allocated
// on first use, so a process that only sees recent years holds a handful of them.
const MEMO_FIRST_DAY = daysFromCivil(1900, 1, 1);
const MEMO_DAYS = daysFromCivil(2200, 1, 1) - MEMO_FIRST_DAY;
const MEMO_CHUNK_BITS = 9;
const MEMO_CHUNK_MASK = (1 << MEMO_CHUNK_BITS) - 1;

/**
 * Wraps a pure day → text function in a per-day cache. `format` must never return '' (the
 * "not yet computed" mark); days outside the window, or not integers, are formatted every time.
 */
export function memoByDay(format: (d: EpochDay) => string): (d: EpochDay) => string {
  const chunks: Array<string[] | undefined> = [];
  return (d) => {
    const i = d - MEMO_FIRST_DAY;
    // `>>> 0` also rejects fractions and NaN, which must keep their uncached result.
    if (i >>> 0 !== i || i >= MEMO_DAYS) return format(d);
    let chunk = chunks[i >> MEMO_CHUNK_BITS];
    if (chunk === undefined) {
      chunk = new Array<string>(MEMO_CHUNK_MASK + 1).fill('');
      chunks[i >> MEMO_CHUNK_BITS] = chunk;
    }
    const hit = chunk[i & MEMO_CHUNK_MASK] as string;
    if (hit !== '') return hit;
    const text = format(d);
    chunk[i & MEMO_CHUNK_MASK] = text;
    return text;
  };
}

export const formatIsoDate: (d: EpochDay) => string = memoByDay((d) => {
  const c = civilFromDays(d);
  return `${String(c.year).padStart(4, '0')}-${pad2(c.month)}-${pad2(c.day)}`;
});

/** `dd.mm.yyyy`, the form Danish case workers write dates in. */
export const formatDanishDate: (d: EpochDay) => string = memoByDay((d) => {
  const c = civilFromDays(d);
  return `${pad2(c.day)}.${pad2(c.month)}.${c.year}`;
});

export const formatDanishShortDate: (d: EpochDay) => string = memoByDay((d) => {
  const c = civilFromDays(d);
  return `${pad2(c.day)}.${pad2(c.month)}`;
});

export { pad2 };
