/**
 * Explanations a duty manager can check by hand: the start date, the days counted, the days
 * skipped and why, the deadline and the citation. Danish first, English second.
 */
import { civilFromDays, formatDanishDate, formatDanishShortDate, isoWeekdayIndex, memoByDay, type EpochDay } from './dates.js';
import type { Calendar, NonWorkingReason } from './calendar.js';
import type { DeadlineRule, ImmediateRule, Instance, Lang, Offset, StartEvent } from './rules.js';
import type { ExplainExtras } from './deadlines.js';

export interface DueTrace {
  due: EpochDay;
  counted?: EpochDay[];
  skipped?: EpochDay[];
  clamped?: boolean;
  movedFrom?: EpochDay;
}

const WEEKDAY: Record<Lang, string[]> = {
  da: ['mandag', 'tirsdag', 'onsdag', 'torsdag', 'fredag', 'lørdag', 'søndag'],
  en: ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'],
};
const WEEKDAY_SHORT: Record<Lang, string[]> = {
  da: ['man', 'tir', 'ons', 'tor', 'fre', 'lør', 'søn'],
  en: ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'],
};

export function weekdayName(d: EpochDay, lang: Lang): string {
  return WEEKDAY[lang][isoWeekdayIndex(d)] as string;
}

// A sweep names the same few thousand days over and over: memoised per day and language.
const LONG_DATE: Record<Lang, (d: EpochDay) => string> = {
  da: memoByDay((d) => `${weekdayName(d, 'da')} ${formatDanishDate(d)}`),
  en: memoByDay((d) => `${weekdayName(d, 'en')} ${formatDanishDate(d)}`),
};
const SHORT_DATE: Record<Lang, (d: EpochDay) => string> = {
  da: memoByDay((d) => `${WEEKDAY_SHORT.da[isoWeekdayIndex(d)] as string} ${formatDanishShortDate(d)}`),
  en: memoByDay((d) => `${WEEKDAY_SHORT.en[isoWeekdayIndex(d)] as string} ${formatDanishShortDate(d)}`),
};

const DEADLINE_SENTENCE: Record<Lang, (d: EpochDay) => string> = {
  da: memoByDay((d) => ` Frist: ${longDate(d, 'da')} kl. 23:59. `),
  en: memoByDay((d) => ` Deadline: ${longDate(d, 'en')} at 23:59. `),
};

/** "onsdag 01.04.2026" */
export function longDate(d: EpochDay, lang: Lang): string {
  return LONG_DATE[lang](d);
}

function shortDate(d: EpochDay, lang: Lang): string {
  return SHORT_DATE[lang](d);
}

const START: Record<StartEvent, Text2> = {
  incident_occurred: { da: 'Hændelsen skete', en: 'The incident happened on' },
  final_report_submitted: { da: 'Den endelige indberetning blev sendt', en: 'The final report was submitted on' },
  year_ended: { da: 'Året sluttede', en: 'The year ended on' },
  placement_ended: { da: 'Anbringelsen i sikringscelle ophørte', en: 'The security-cell placement ended on' },
  force_used: { da: 'Magtanvendelsen fandt sted', en: 'Force was used on' },
  admitted: { da: 'Indsættelsen skete', en: 'Admission was on' },
  supervision_established: { da: 'Den etablerende tilsynssamtale blev holdt', en: 'The establishing supervision conversation was held on' },
  home_detention_started: { da: 'Afsoningen på bopælen begyndte', en: 'Home detention started on' },
  plan_created: { da: 'Handleplanen blev oprettet', en: 'The plan was created on' },
  plan_elaborated: { da: 'Handleplanen blev udarbejdet', en: 'The plan was elaborated on' },
  plan_evaluated: { da: 'Seneste evaluering var', en: 'The previous evaluation was on' },
  transferred: { da: 'Overførslen til et andet kriminalforsorgsområde skete', en: 'The transfer to another area was on' },
  parole_decided: { da: 'Afgørelsen om prøveløsladelse blev truffet', en: 'The parole decision was made on' },
  parole_date: { da: 'Den mulige prøveløsladelse er', en: 'The possible parole date is' },
  sentence_started: { da: 'Straffen blev iværksat', en: 'The sentence started on' },
  transition_placed: { da: 'Placeringen i udslusningsfængsel skete', en: 'The placement in a transition prison was on' },
};
type Text2 = Record<Lang, string>;

function reasonText(r: NonWorkingReason | undefined, lang: Lang): string {
  if (!r) return '';
  switch (r.kind) {
    case 'weekend':
      return 'weekend';
    case 'holiday':
      return r.name[lang];
    case 'closure':
      return lang === 'da' ? `lukkedag (${r.spec})` : `closure day (${r.spec})`;
  }
}

function skippedText(days: EpochDay[], calendar: Calendar, lang: Lang): string {
  if (days.length === 0) return '';
  const reasons = days.map((d) => calendar.nonWorkingReason(d));
  if (reasons.every((r) => r?.kind === 'weekend') && days.length <= 2 && isoWeekdayIndex(days[0] as number) === 5) {
    return lang === 'da' ? ' (lør–søn springes over)' : ' (Sat–Sun skipped)';
  }
  const items = days.map((d, i) => `${shortDate(d, lang)} ${reasonText(reasons[i], lang)}`);
  return lang === 'da' ? ` (springes over: ${items.join(', ')})` : ` (skipped: ${items.join(', ')})`;
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** The sentence that shows how `offset` from `startDay` gives the due day of `trace`. */
export function offsetSentence(o: Offset, startDay: EpochDay, trace: DueTrace, calendar: Calendar, lang: Lang): string {
  const da = lang === 'da';
  switch (o.unit) {
    case 'same_day':
      return da ? 'Skal ske senest samme dag.' : 'Due the same day.';
    case 'days':
      return da ? `${plural(o.n, 'dag', 'dage')} efter (kalenderdage): ${longDate(trace.due, lang)}.` : `${plural(o.n, 'day', 'days')} after (calendar days): ${longDate(trace.due, lang)}.`;
    case 'weeks':
      return da ? `${plural(o.n, 'uge', 'uger')} efter (samme ugedag): ${longDate(trace.due, lang)}.` : `${plural(o.n, 'week', 'weeks')} after (same weekday): ${longDate(trace.due, lang)}.`;
    case 'working_days': {
      const list = (trace.counted ?? []).map((d) => shortDate(d, lang)).join(', ');
      const skipped = skippedText(trace.skipped ?? [], calendar, lang);
      return da ? `${plural(o.n, 'hverdag', 'hverdage')} efter: ${list}${skipped}.` : `${plural(o.n, 'working day', 'working days')} after: ${list}${skipped}.`;
    }
    case 'months': {
      const landed = trace.movedFrom ?? trace.due;
      const n = Math.abs(o.n);
      const amount = n % 12 === 0 ? (da ? plural(n / 12, 'år', 'år') : plural(n / 12, 'year', 'years')) : da ? plural(n, 'måned', 'måneder') : plural(n, 'month', 'months');
      const dir = o.n < 0 ? (da ? 'før' : 'before') : da ? 'efter' : 'after';
      let s = `${amount} ${dir}: ${longDate(landed, lang)}`;
      if (trace.clamped) {
        const wanted = civilFromDays(startDay).day;
        s += da ? ` (den ${wanted}. findes ikke i måneden; sidste dag i måneden)` : ` (day ${wanted} does not exist in that month; last day of the month)`;
      }
      s += '.';
      if (trace.movedFrom !== undefined) {
        const reason = reasonText(calendar.nonWorkingReason(trace.movedFrom), lang);
        s += da
          ? ` Det er ikke en hverdag (${reason}); en klagefrist flyttes til næste hverdag: ${longDate(trace.due, lang)}.`
          : ` That is not a working day (${reason}); a complaint deadline moves to the next working day: ${longDate(trace.due, lang)}.`;
      }
      return s;
    }
  }
}

/** The closing sentence of an explanation: the citation, marked when the deadline is a policy default. */
export function citationSentence(citation: string, policyBasis: boolean, lang: Lang): string {
  if (!policyBasis) return `${citation}.`;
  return lang === 'da' ? `${citation} (standard fastsat af administrator).` : `${citation} (default set by an administrator).`;
}

// The sentences around a day, memoised per day: what is left per deadline is joining them.
const START_SENTENCE = Object.fromEntries(
  (Object.keys(START) as StartEvent[]).map((e) => [e, {
    da: memoByDay((d) => `${START[e].da} ${longDate(d, 'da')}. `),
    en: memoByDay((d) => `${START[e].en} ${longDate(d, 'en')}. `),
  }]),
) as Record<StartEvent, Record<Lang, (d: EpochDay) => string>>;
const MET_SENTENCE: Record<Lang, (d: EpochDay) => string> = {
  da: memoByDay((d) => ` Opfyldt ${formatDanishDate(d)}.`),
  en: memoByDay((d) => ` Met on ${formatDanishDate(d)}.`),
};
const MET_LATE_SENTENCE: Record<Lang, (d: EpochDay) => string> = {
  da: memoByDay((d) => ` Opfyldt for sent ${formatDanishDate(d)}.`),
  en: memoByDay((d) => ` Met late on ${formatDanishDate(d)}.`),
};

/**
 * The explanation of one deadline. `offsetText` comes from offsetSentence and `citationText` from
 * citationSentence, both memoised by the engine. Positional parameters and concatenation rather
 * than an input object and an array join: this runs once per deadline of every sweep.
 */
export function explainDeadline(
  lang: Lang,
  rule: DeadlineRule,
  inst: Instance,
  offsetText: string,
  due: EpochDay,
  originalDue: EpochDay | undefined,
  suspended: boolean,
  delayLate: boolean,
  status: string,
  completedDay: EpochDay | undefined,
  citationText: string,
  /** false: the postponement's reason (typed by a person) is not quoted, only pointed to. */
  quoteFreeText = true,
  extras: ExplainExtras = {},
): string {
  const da = lang === 'da';
  let s = START_SENTENCE[inst.start.event][lang](inst.start.day) + offsetText;
  if (inst.note) s += ` ${inst.note[lang]}`;
  for (const n of extras.delays ?? []) {
    const told = formatDanishDate(n.notifiedDay);
    const expected = formatDanishDate(n.expectedDay);
    const then = formatDanishDate(n.dueBefore);
    s += n.inTime
      ? (da
          ? ` Områdekontoret blev orienteret om forsinkelse ${told}, før fristen ${then} udløb; den forventede dato ${expected} er nu fristen.`
          : ` The area office was told of a delay on ${told}, before the deadline ${then} ran out; the expected date ${expected} is now the deadline.`)
      : (da
          ? ` Områdekontoret blev orienteret om forsinkelse ${told}, efter at fristen ${then} var udløbet; overskridelsen står ved magt.`
          : ` The area office was told of a delay on ${told}, after the deadline ${then} had run out; the breach stands.`);
  }
  if (inst.postponement) {
    const reason = quoteFreeText ? inst.postponement.reason : da ? 'begrundelsen står i sagen' : 'the reason is on the case';
    if (extras.postponedLate !== undefined) {
      const decided = formatDanishDate(extras.postponedLate);
      s += da
        ? ` Udsættelsen (${reason}) blev først besluttet ${decided}, efter fristen; den ændrer ikke fristen, og overskridelsen står ved magt.`
        : ` The postponement (${reason}) was decided only on ${decided}, after the deadline; it does not change the deadline, and the breach stands.`;
    } else if (suspended) {
      s += da ? ` Samtalen er udsat (${reason}); fristen er suspenderet, indtil en ny dato fastsættes.` : ` The conversation is postponed (${reason}); the deadline is suspended until a new date is set.`;
    } else if (originalDue !== undefined) {
      s += da ? ` Samtalen er udsat (${reason}); ny dato fastsat.` : ` The conversation is postponed (${reason}); a new date is set.`;
    }
  }
  if (extras.declinedOffer) {
    s += da ? ' Samtalen blev tilbudt, og den indsatte afslog; tilbuddet opfylder pligten (§ 13: "tilbyde").' : ' The conversation was offered and the inmate declined; the offer meets the duty (§ 13: "offer").';
  }
  s += DEADLINE_SENTENCE[lang](due) + citationText;
  if (rule.obligation === 'right') {
    const when = completedDay !== undefined ? formatDanishDate(completedDay) : '';
    if (status === 'met_late') s += da ? ` Klage modtaget ${when}, efter fristen: direktoratet kan i særlige tilfælde se bort fra fristen.` : ` Complaint received on ${when}, after the deadline: the directorate may disregard the deadline in special cases.`;
    else if (completedDay !== undefined) s += da ? ` Klage modtaget ${when}, inden for fristen.` : ` Complaint received on ${when}, within the deadline.`;
    else if (status === 'met') s += da ? ' Klagefristen er udløbet uden klage.' : ' The complaint window has closed without a complaint.';
  } else if (status === 'met' || status === 'met_late') {
    // A duty is only met with a completion, so completedDay is set; without one the date stays empty, as it always did.
    if (completedDay !== undefined) s += (status === 'met' ? MET_SENTENCE : MET_LATE_SENTENCE)[lang](completedDay);
    else s += status === 'met' ? (da ? ' Opfyldt .' : ' Met on .') : da ? ' Opfyldt for sent .' : ' Met late on .';
  } else if (status === 'breached') s += da ? ' Fristen er overskredet.' : ' The deadline is breached.';
  if (extras.endedAt !== undefined) {
    const at = formatDanishDate(extras.endedAt);
    s += da
      ? ` Sagen blev omklassificeret ${at} (§ 11, stk. 2 / § 18, stk. 2); fristen er afsluttet ved omklassificeringen og står som historik.`
      : ` The case was reclassified on ${at} (§ 11 stk. 2 / § 18 stk. 2); the deadline ended with the reclassification and stays as history.`;
  }
  return s;
}

export function explainImmediate(rule: ImmediateRule, day: EpochDay, citation: string, lang: Lang): string {
  return lang === 'da'
    ? `Hændelsen blev registreret ${longDate(day, lang)}. ${rule.title.da} skal ske straks (snarest muligt). ${citation}.`
    : `The incident was registered on ${longDate(day, lang)}. ${rule.title.en} is due at once. ${citation}.`;
}
