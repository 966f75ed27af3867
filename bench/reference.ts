/**
 * The naive reference: the due dates of every deadline rule in DOMAIN.md, written the way a
 * developer would without the engine's precomputed tables — luxon DateTimes in Europe/Copenhagen
 * and a day-by-day loop asking date-holidays about every weekday it meets.
 *
 * It is deliberately written from DOMAIN.md, not from src/domain, and reads the raw records, so
 * that the benchmark doubles as a differential test of the engine's date arithmetic.
 * It trusts its input: the records are the ones the engine has validated.
 */
import Holidays from 'date-holidays';
import { DateTime } from 'luxon';

const ZONE = 'Europe/Copenhagen';
const holidays = new Holidays('DK');

// The circular covers incidents after 16 July 2015 (§ 23); the use-of-force order applies from
// 1 April 2017 (§ 10); the circular letter on security means from 3 February 2022 (pkt. 4).
const CIRCULAR_IN_FORCE = DateTime.fromISO('2015-07-16', { zone: ZONE });
const FORCE_ORDER_IN_FORCE = DateTime.fromISO('2017-04-01', { zone: ZONE });
const SECURITY_LETTER_IN_FORCE = DateTime.fromISO('2022-02-03', { zone: ZONE });
const BARE_DATE = /^\d{4}-\d{2}-\d{2}$/;

type Raw = Record<string, unknown>;

/** Due date per deadline key, as `YYYY-MM-DD`. */
export type ReferenceDue = Map<string, string>;

function text(r: Raw, field: string): string | null {
  const v = r[field];
  return typeof v === 'string' ? v : null;
}

/** The Copenhagen calendar day of a bare date or of an instant with offset. */
function localDay(value: string): DateTime {
  return DateTime.fromISO(value, { zone: ZONE }).startOf('day');
}

function optionalDay(r: Raw, field: string): DateTime | null {
  const v = text(r, field);
  return v === null ? null : localDay(v);
}

function isPublicHoliday(day: DateTime): boolean {
  const hits = holidays.isHoliday(day.toJSDate());
  return hits !== false && hits.some((h) => h.type === 'public');
}

function isWorkingDay(day: DateTime): boolean {
  return day.weekday <= 5 && !isPublicHoliday(day);
}

function addWorkingDays(start: DateTime, n: number): DateTime {
  let day = start;
  let left = n;
  while (left > 0) {
    day = day.plus({ days: 1 });
    if (isWorkingDay(day)) left--;
  }
  return day;
}

function nextWorkingDayOnOrAfter(start: DateTime): DateTime {
  let day = start;
  while (!isWorkingDay(day)) day = day.plus({ days: 1 });
  return day;
}

/** Whether an event has happened by `now`: a bare date counts from the start of its local day. */
function happenedBy(value: string, now: DateTime): boolean {
  if (BARE_DATE.test(value)) return localDay(value) <= now.startOf('day');
  return DateTime.fromISO(value).toMillis() <= now.toMillis();
}

function iso(day: DateTime): string {
  return day.toISODate() ?? 'invalid';
}

function incident(r: Raw, now: DateTime, out: ReferenceDue): void {
  const kind = text(r, 'kind');
  const occurredAt = text(r, 'occurredAt');
  if (occurredAt === null) return;
  const occurred = localDay(occurredAt);
  const chapter = kind === 'death' || kind === 'suicide' ? 3 : kind === 'other_self_harm_behaviour' ? 5 : 4;
  if (occurred <= CIRCULAR_IN_FORCE) return;
  if (chapter === 5) {
    // § 20 stk. 2: closed as not reportable; policy default 4 weeks.
    out.set('incident.chapter5-closing', iso(occurred.plus({ weeks: 4 })));
    return;
  }

  out.set('incident.preliminary-notice', iso(addWorkingDays(occurred, 3)));

  let finalDue = occurred.plus({ weeks: 4 });
  const notified = text(r, 'delayNotifiedAt');
  const expected = text(r, 'finalReportExpectedAt');
  // § 7 stk. 2: only a delay told before the deadline runs out moves it to the expected date.
  if (notified !== null && expected !== null && happenedBy(notified, now) && localDay(notified) <= finalDue) {
    finalDue = localDay(expected);
  }
  out.set('incident.final-report', iso(finalDue));

  if (chapter === 4) out.set('incident.inmate-conversation', iso(addWorkingDays(occurred, 1)));

  const finalReport = optionalDay(r, 'finalReportSubmittedAt');
  if (finalReport) {
    out.set('incident.closing-letter', iso(finalReport.plus({ weeks: 4 })));
    out.set('incident.closing-letter-copy', iso(finalReport.plus({ weeks: 4 })));
  }
}

function securityCell(r: Raw, now: DateTime, out: ReferenceDue): void {
  const ended = optionalDay(r, 'endedAt');
  if (!ended) return;
  // The area's case review (seed 001, policy): 10 working days; no start date of its own.
  out.set('cell.case-review', iso(addWorkingDays(ended, 10)));
  if (ended < SECURITY_LETTER_IN_FORCE) return;
  const due = ended.plus({ days: 7 });
  const rescheduled = optionalDay(r, 'followUpRescheduledTo');
  const decided = text(r, 'followUpPostponedAt');
  // A postponement counts only when decided on or before the due day.
  const moved = rescheduled !== null && decided !== null && happenedBy(decided, now) && localDay(decided) <= due;
  out.set('cell.follow-up-conversation', iso(moved ? rescheduled : due));
}

function forceUse(r: Raw, out: ReferenceDue): void {
  const occurredAt = text(r, 'occurredAt');
  if (occurredAt === null) return;
  const occurred = localDay(occurredAt);
  if (occurred < FORCE_ORDER_IN_FORCE) return;
  out.set('force.report', iso(addWorkingDays(occurred, 1)));
  // The inmate's right: a window ending on a non-working day runs to the next working day.
  out.set('force.complaint-window', iso(nextWorkingDayOnOrAfter(occurred.plus({ months: 2 }))));
}

function followUpDays(r: Raw, field: string): DateTime[] {
  const list = r[field];
  if (!Array.isArray(list)) return [];
  return list.map((item: unknown) => localDay(text(item as Raw, 'at') ?? ''));
}

function actionPlan(r: Raw, out: ReferenceDue): void {
  const category = text(r, 'clientCategory');
  // §§ 68–69 clients are supervision clients (pkt. 2): from the establishing conversation, else admission.
  const supervised = category === 'supervision' || category === 'measure_68_69';
  const start = category === 'measure_68_69'
    ? optionalDay(r, 'supervisionEstablishedAt') ?? optionalDay(r, 'admittedAt')
    : optionalDay(r, category === 'supervision' ? 'supervisionEstablishedAt' : 'admittedAt');
  const hasElaboration = category === 'convicted_from_liberty' || supervised;

  if (start) {
    out.set('plan.owner-assigned', iso(start));
    if (supervised) out.set('plan.create', iso(start.plus({ weeks: 4 })));
    else out.set('plan.create', iso(addWorkingDays(start, 7)));
    if (hasElaboration) out.set('plan.elaborate', iso(start.plus({ weeks: 4 })));
  }

  const created = optionalDay(r, 'createdAt');
  const elaborated = optionalDay(r, 'elaboratedAt');
  const first = hasElaboration ? elaborated : elaborated ?? created;
  if (first) {
    const evaluations = Array.isArray(r['evaluations']) ? (r['evaluations'] as string[]).map(localDay) : [];
    const release = optionalDay(r, 'expectedReleaseDate');
    [first, ...evaluations].forEach((base, i) => {
      const longStay = category === 'measure_68_69' || (release !== null && release > base.plus({ months: 24 }));
      out.set(`plan.evaluate#${i + 1}`, iso(base.plus({ months: longStay ? 6 : 3 })));
    });
  }

  followUpDays(r, 'transfers').forEach((at, i) => out.set(`plan.transfer-update#${i + 1}`, iso(addWorkingDays(at, 7))));
  followUpDays(r, 'paroleDecisions').forEach((at, i) => out.set(`plan.parole-update#${i + 1}`, iso(addWorkingDays(at, 7))));

  if (r['expelled'] === true || !start) return;
  const key = 'plan.municipality-coordination';
  if (supervised) out.set(key, iso(start.plus({ weeks: 4 })));
  // Youth: with the first plan (pkt. 32); until it exists, the plan's 7 working days.
  else if (category === 'youth_home_detention') out.set(key, iso(created ?? addWorkingDays(start, 7)));
  // Remand: "i alle sager" (pkt. 30), policy default 4 weeks from admission.
  else if (category === 'remand') out.set(key, iso(start.plus({ weeks: 4 })));
  else if (category === 'convicted_from_liberty') {
    const parole = optionalDay(r, 'possibleParoleDate');
    if (!parole) return;
    const sentenceStart = optionalDay(r, 'sentenceStartDate') ?? start;
    out.set(key, iso(parole < sentenceStart.plus({ years: 1 }) ? sentenceStart.plus({ weeks: 4 }) : parole.minus({ years: 1 })));
  }
}

/** Due dates of every dated deadline of a raw, valid record, keyed like the engine's `Deadline.key`. */
export function referenceDueDates(r: Raw, now: DateTime): ReferenceDue {
  const out: ReferenceDue = new Map();
  switch (r['type']) {
    case 'incident':
      incident(r, now, out);
      break;
    case 'security_cell_placement':
      securityCell(r, now, out);
      break;
    case 'force_use':
      forceUse(r, out);
      break;
    case 'action_plan':
      actionPlan(r, out);
      break;
    case 'annual_overview': {
      const year = r['year'];
      if (typeof year === 'number') out.set(`incident.annual-overview#${year}`, `${year + 1}-01-31`);
      break;
    }
  }
  return out;
}

export function referenceNow(ms: number): DateTime {
  return DateTime.fromMillis(ms, { zone: ZONE });
}
