/**
 * Europe/Copenhagen offsets without a luxon call per conversion.
 *
 * The DST transitions of each year are found once through luxon's IANA zone (so the tz database
 * stays the authority, never a hand-written EU rule) and cached; after that an instant → local
 * date conversion is a couple of comparisons. Benchmarked in bench/: converting 300k instants
 * through luxon directly dominated the whole deadline run.
 */
import { IANAZone } from 'luxon';
import { memoByDay, pad2, type EpochDay } from './dates.js';

export const ZONE_NAME = 'Europe/Copenhagen';
const zone = IANAZone.create(ZONE_NAME);
if (!zone.isValid) {
  // Node ships full ICU since v13; a build without it would silently compute UTC deadlines.
  throw new Error(`time zone ${ZONE_NAME} is not available in this Node.js build (full ICU required)`);
}

const MS_PER_DAY = 86_400_000;
const MS_PER_MINUTE = 60_000;

interface YearOffsets {
  /** Sorted transition instants (ms) inside the year and the offset (minutes) that applies from each. */
  starts: number[];
  offsets: number[];
}

const byYear = new Map<number, YearOffsets>();

function offsetAt(ms: number): number {
  return zone.offset(ms);
}

function buildYear(year: number): YearOffsets {
  const from = Date.UTC(year, 0, 1) - MS_PER_DAY; // a day of margin for offsets at the year boundary
  const to = Date.UTC(year + 1, 0, 1) + MS_PER_DAY;
  const starts = [from];
  const offsets = [offsetAt(from)];
  // Transitions are weeks apart (35 days at the least in 1900–2199), so a weekly probe cannot miss
  // one; then bisect to the minute. An hourly probe finds exactly the same transitions in every year
  // of 1900–2199; the 6-hour probe used before cost 1,460 luxon calls a year, which dominated a
  // small `fristvagt deadlines` (about 13 ms per year a record touches).
  const step = 7 * 24 * 60 * MS_PER_MINUTE;
  let prevMs = from;
  let prevOff = offsets[0] as number;
  for (let t = from + step; t <= to; t += step) {
    const off = offsetAt(t);
    if (off !== prevOff) {
      let lo = prevMs;
      let hi = t;
      while (hi - lo > MS_PER_MINUTE) {
        const mid = lo + Math.floor((hi - lo) / 2 / MS_PER_MINUTE) * MS_PER_MINUTE;
        if (offsetAt(mid) === prevOff) lo = mid;
        else hi = mid;
      }
      starts.push(hi);
      offsets.push(off);
      prevOff = off;
    }
    prevMs = t;
  }
  return { starts, offsets };
}

function yearOffsets(year: number): YearOffsets {
  let y = byYear.get(year);
  if (!y) {
    y = buildYear(year);
    byYear.set(year, y);
  }
  return y;
}

function offsetFromYearTable(ms: number): number {
  const year = new Date(ms).getUTCFullYear();
  const y = yearOffsets(year);
  let off = y.offsets[0] as number;
  for (let i = 1; i < y.starts.length; i++) {
    if (ms >= (y.starts[i] as number)) off = y.offsets[i] as number;
    else break;
  }
  return off;
}

// Per UTC day of 1900–2199, the offset that holds for the whole day: a sweep asks for the offset
// of the same days over and over, and only the two transition days a year need the table above.
// 0 means "not looked up yet" (Copenhagen has not been on UTC since 1893); MIXED_DAY marks a
// day with a transition inside it (or an offset that does not fit), always answered by the table.
const UTC_DAY_FIRST = Math.floor(Date.UTC(1900, 0, 1) / MS_PER_DAY);
const UTC_DAY_COUNT = Math.floor(Date.UTC(2200, 0, 1) / MS_PER_DAY) - UTC_DAY_FIRST;
const MIXED_DAY = -32768;
const DAY_CHUNK_BITS = 9;
const DAY_CHUNK_MASK = (1 << DAY_CHUNK_BITS) - 1;
const dayOffsetChunks: Array<Int16Array | undefined> = [];

function wholeDayOffset(dayStart: number): number {
  const y = yearOffsets(new Date(dayStart).getUTCFullYear());
  const dayEnd = dayStart + MS_PER_DAY;
  for (let i = 1; i < y.starts.length; i++) {
    const s = y.starts[i] as number;
    if (s > dayStart && s < dayEnd) return MIXED_DAY;
  }
  const off = offsetFromYearTable(dayStart);
  return Number.isInteger(off) && off !== 0 && off > MIXED_DAY && off < 32768 ? off : MIXED_DAY;
}

/** UTC offset of Europe/Copenhagen at an instant, in minutes (60 or 120). */
export function copenhagenOffsetMinutes(ms: number): number {
  const i = Math.floor(ms / MS_PER_DAY) - UTC_DAY_FIRST;
  // `>>> 0` also rejects NaN and infinities, which go the long way as before.
  if (i >>> 0 !== i || i >= UTC_DAY_COUNT) return offsetFromYearTable(ms);
  let chunk = dayOffsetChunks[i >> DAY_CHUNK_BITS];
  if (chunk === undefined) {
    chunk = new Int16Array(DAY_CHUNK_MASK + 1);
    dayOffsetChunks[i >> DAY_CHUNK_BITS] = chunk;
  }
  let off = chunk[i & DAY_CHUNK_MASK] as number;
  if (off === 0) {
    off = wholeDayOffset((i + UTC_DAY_FIRST) * MS_PER_DAY);
    chunk[i & DAY_CHUNK_MASK] = off;
  }
  return off === MIXED_DAY ? offsetFromYearTable(ms) : off;
}

/** The local (Copenhagen) calendar date of an instant. */
export function localDayOfInstant(ms: number): EpochDay {
  const local = ms + copenhagenOffsetMinutes(ms) * MS_PER_MINUTE;
  return Math.floor(local / MS_PER_DAY);
}

/**
 * The instant of a local wall-clock time on a local date. For a time inside a spring-forward gap
 * the later offset is used; callers only ask for 07:00–23:59, which DST never touches in Denmark.
 */
export function instantOfLocal(day: EpochDay, msOfDay: number): number {
  const wall = day * MS_PER_DAY + msOfDay;
  let ms = wall - copenhagenOffsetMinutes(wall) * MS_PER_MINUTE;
  ms = wall - copenhagenOffsetMinutes(ms) * MS_PER_MINUTE;
  return ms;
}

export const END_OF_DAY_MS = MS_PER_DAY - 1;

/** ISO 8601 with the local offset, e.g. 2026-04-01T23:59:59.999+02:00. */
export function formatLocalInstant(ms: number): string {
  const off = copenhagenOffsetMinutes(ms);
  const d = new Date(ms + off * MS_PER_MINUTE);
  const sign = off >= 0 ? '+' : '-';
  const abs = Math.abs(off);
  const date = `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}`;
  const time = `${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())}.${String(d.getUTCMilliseconds()).padStart(3, '0')}`;
  return `${date}T${time}${sign}${pad2(Math.floor(abs / 60))}:${pad2(abs % 60)}`;
}

/** Start of a local date as a UTC epoch-day value, for callers that need a `Date`. */
export function localMidnightInstant(day: EpochDay): number {
  return instantOfLocal(day, 0);
}

/** `dueAt` of a due day: the last millisecond of the local day, formatted with its offset. */
export const endOfLocalDayText: (day: EpochDay) => string = memoByDay((day) => formatLocalInstant(instantOfLocal(day, END_OF_DAY_MS)));
