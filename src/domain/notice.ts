/**
 * What the preliminary notice (§ 6 stk. 2–3 / § 13) says about time: whether it goes out after its
 * own deadline, and what it can truthfully say about the final report (§ 7 / § 14). Pure: the
 * caller passes the deadlines as the engine computed them and the local date of sending.
 *
 * The final report is never promised for a date already past: the date promised is the current
 * due date, or the expected date of the latest notice of delay when that is later (a delay told
 * late does not move the legal deadline, but it is what the area office was told). If that date
 * is before the day of sending, the notice says the final report is overdue instead.
 */
import type { Deadline } from './deadlines.js';

export type FinalReportWording =
  /** Not yet due: "følger senest <date>". */
  | { kind: 'due'; date: string }
  /** A delay was notified; its expected date is still ahead: "forventes at foreligge <date>". */
  | { kind: 'delayed'; date: string }
  /** Neither the due date nor an expected date is ahead: "skulle have foreligget senest <date>". */
  | { kind: 'overdue'; date: string }
  /** Already submitted (on <date>, a local date). */
  | { kind: 'submitted'; date: string };

export interface NoticeTiming {
  /** The notice goes out after the last day of its deadline. */
  late: boolean;
  /** The last day of the notice's deadline (YYYY-MM-DD). */
  noticeDueDate: string;
  finalReport: FinalReportWording | null;
}

type NoticeDeadline = Pick<Deadline, 'dueDate'>;
type FinalDeadline = Pick<Deadline, 'dueDate' | 'completedAt' | 'delayNotices'>;

/**
 * `sendDate`: the local date (YYYY-MM-DD, Europe/Copenhagen) the notice is sent on. Dates compare
 * as strings (ISO). `final` is absent when the engine computed no final-report deadline.
 */
export function noticeTiming(sendDate: string, notice: NoticeDeadline, final: FinalDeadline | undefined): NoticeTiming {
  const late = sendDate > notice.dueDate;
  if (!final) return { late, noticeDueDate: notice.dueDate, finalReport: null };
  if (final.completedAt && final.completedAt.slice(0, 10) <= sendDate) {
    return { late, noticeDueDate: notice.dueDate, finalReport: { kind: 'submitted', date: final.completedAt.slice(0, 10) } };
  }
  const latest = final.delayNotices?.at(-1);
  const expected = latest && latest.expectedDate >= final.dueDate ? latest.expectedDate : undefined;
  const promised = expected ?? final.dueDate;
  let finalReport: FinalReportWording;
  if (promised < sendDate) finalReport = { kind: 'overdue', date: promised };
  else if (expected) finalReport = { kind: 'delayed', date: expected };
  else finalReport = { kind: 'due', date: final.dueDate };
  return { late, noticeDueDate: notice.dueDate, finalReport };
}
