/**
 * The deadline engine: record + calendar + now → dated, cited, explained deadlines.
 * Pure: no I/O, no clock of its own (`now` is a parameter).
 */
import { addMonths, daysFromCivil, formatDanishDate, formatIsoDate, type EpochDay } from './dates.js';
import { Calendar } from './calendar.js';
import { DomainError } from './errors.js';
import { citationSentence, explainDeadline, explainImmediate, offsetSentence, type DueTrace } from './explain.js';
import { parseRecord, parseWhen, type FristRecord } from './records.js';
import { citationOf, CATALOGUE_VERSION, DOCUMENTS, RULES, type DeadlineRule, type Finding, type ImmediateRule, type Instance, type Lang, type Offset, type Rule, type RuleContext, type SourceDocument } from './rules.js';
import { endOfLocalDayText, END_OF_DAY_MS, formatLocalInstant, instantOfLocal, localDayOfInstant } from './zone.js';
import type { When } from './records.js';

export type DeadlineStatus = 'open' | 'met' | 'met_late' | 'breached';

export interface Deadline {
  rule: string;
  key: string;
  recordType: FristRecord['type'];
  title: string;
  basis: 'law' | 'policy';
  obligation: 'duty' | 'right';
  responsible: string;
  citation: string;
  startDate: string;
  dueDate: string;
  dueAt: string;
  status: DeadlineStatus;
  completedAt: string | null;
  explanation: string;
  /** Set when the watched date differs from the computed one (delay told in time, follow-up moved). */
  originalDueDate?: string;
  /** Follow-up conversation postponed with a reason and no new date yet: never breached, never dropped. */
  suspended?: boolean;
  suspendedReason?: string;
  /** Final-report delay told only after the deadline had run out: the breach stands (§ 7 stk. 2). */
  delayNotifiedLate?: boolean;
  /** Every notice of delay, each judged against the deadline in force when it was given. */
  delayNotices?: DelayNoticeView[];
  /** A postponement decided only after the due day: it does not undo the breach. */
  postponedLate?: boolean;
  postponementDecidedAt?: string;
  /** The case left this rule's chapter (reclassification); kept as history: no reminders, still counted. */
  endedBy?: 'reclassification';
  endedAt?: string;
  /** The text says "snarest muligt" / "så hurtigt som muligt": due at once; the date is a policy default. */
  immediate?: boolean;
  /** Met by an offer the inmate declined, not by holding the conversation. */
  completion?: 'declined';
}

export interface DelayNoticeView {
  notifiedAt: string;
  expectedDate: string;
  /** Given on or before the deadline then in force (`dueBefore`): the expected date became the deadline. */
  inTime: boolean;
  dueBefore: string;
}

/** A rule whose text was not yet in force for the record: nothing is watched, and this says why. */
export interface NotInForce {
  rule: string;
  title: string;
  citation: string;
  inForceFrom: string;
  explanation: string;
}

/** Data missing (`incomplete`) or a note missing (`warnings`), named by field. */
export interface RecordFinding {
  rule: string;
  field: string;
  message: string;
}

export interface ImmediateDuty {
  rule: string;
  title: string;
  basis: 'law' | 'policy';
  responsible: string;
  citation: string;
  triggeredAt: string;
  explanation: string;
}

export interface DeadlineSet {
  deadlines: Deadline[];
  immediate: ImmediateDuty[];
  notInForce: NotInForce[];
  incomplete: RecordFinding[];
  warnings: RecordFinding[];
}

/** Administrator overrides of policy defaults: rule id → parameter → value. */
export type PolicyOverrides = Partial<Record<string, Record<string, number>>>;

export interface EngineOptions {
  /** The instant statuses are judged at, epoch ms. */
  now: number;
  calendar: Calendar;
  lang?: Lang;
  policy?: PolicyOverrides;
  /**
   * Quote text a person typed into the record (a postponement's reason) in explanations. On by
   * default (the UI, the API, the calendar feeds); staff mails pass false and get the same
   * sentence without the quote: the recipient opens the case for the reason.
   */
  quoteFreeText?: boolean;
}

export { CATALOGUE_VERSION };

const deadlineRulesByType = new Map<string, DeadlineRule[]>();
const immediateRulesByType = new Map<string, ImmediateRule[]>();
for (const rule of RULES as Rule[]) {
  if (rule.timing === 'deadline') {
    const list = deadlineRulesByType.get(rule.recordType) ?? [];
    list.push(rule as DeadlineRule);
    deadlineRulesByType.set(rule.recordType, list);
  } else if (rule.timing === 'immediate') {
    const list = immediateRulesByType.get(rule.recordType) ?? [];
    list.push(rule);
    immediateRulesByType.set(rule.recordType, list);
  }
}

function contextFor(rule: DeadlineRule, policy: PolicyOverrides | undefined): RuleContext {
  return {
    param(name, ruleId = rule.id) {
      const override = policy?.[ruleId]?.[name];
      if (override !== undefined) return override;
      const owner = ruleId === rule.id ? rule : (RULES.find((r) => r.id === ruleId) as Rule | undefined);
      const value = owner?.defaults?.[name];
      if (value === undefined) throw new DomainError('INVALID_OPTION', `rule ${ruleId} has no parameter ${name}`, { path: ['policy', ruleId, name] });
      return value;
    },
  };
}

// A context reads the policy when asked, so one per rule and policy object serves every record.
const defaultContexts = new Map<DeadlineRule, RuleContext>();
const policyContexts = new WeakMap<PolicyOverrides, Map<DeadlineRule, RuleContext>>();

function cachedContext(rule: DeadlineRule, policy: PolicyOverrides | undefined): RuleContext {
  let byRule = defaultContexts;
  if (policy) {
    // Untyped callers may pass anything; what a WeakMap cannot hold is simply not cached.
    if (typeof policy !== 'object') return contextFor(rule, policy);
    let m = policyContexts.get(policy);
    if (!m) {
      m = new Map();
      policyContexts.set(policy, m);
    }
    byRule = m;
  }
  let ctx = byRule.get(rule);
  if (!ctx) {
    ctx = contextFor(rule, policy);
    byRule.set(rule, ctx);
  }
  return ctx;
}

/** Applies an offset to a start day, recording the steps so that the explanation can show them. */
export function applyOffset(calendar: Calendar, start: EpochDay, offset: Offset): DueTrace {
  switch (offset.unit) {
    case 'same_day':
      return { due: start };
    case 'days':
      return { due: start + offset.n };
    case 'weeks':
      return { due: start + 7 * offset.n };
    case 'working_days': {
      const counted: EpochDay[] = [];
      const skipped: EpochDay[] = [];
      let day = start;
      while (counted.length < offset.n) {
        day++;
        if (calendar.isWorkingDayEpoch(day)) counted.push(day);
        else skipped.push(day);
      }
      return { due: day, counted, skipped };
    }
    case 'months': {
      const { day, clamped } = addMonths(start, offset.n);
      if (!offset.moveToWorkingDay || calendar.isWorkingDayEpoch(day)) return { due: day, clamped };
      const moved = calendar.nextWorkingDayOnOrAfter(day);
      const skipped: EpochDay[] = [];
      for (let d = day; d < moved; d++) skipped.push(d);
      return { due: moved, clamped, movedFrom: day, skipped };
    }
  }
}

/** A due day with its explanation sentence, filled per language on first use. */
interface OffsetOutcome {
  trace: DueTrace;
  da: string | undefined;
  en: string | undefined;
}

const MEMO_FIRST_DAY = daysFromCivil(1900, 1, 1);
const MEMO_DAYS = daysFromCivil(2200, 1, 1) - MEMO_FIRST_DAY;
const MEMO_CHUNK_BITS = 9;
const MEMO_CHUNK_MASK = (1 << MEMO_CHUNK_BITS) - 1;
// Far above a sweep's needs (10 years of start days × the catalogue's offsets is about 30,000);
// reached only by a stream of policy overrides, and then started afresh.
const MEMO_MAX_ENTRIES = 500_000;

/**
 * Due days and their sentences per offset and start day, for one calendar. Working-day counts and
 * month steps, with their day-by-day sentences, are the expensive part of a deadline, and a sweep
 * meets the same start day and offset many times. Plain arrays indexed by offset and day: no
 * hashing on the hot path.
 */
class OutcomeMemo {
  private shapes: Array<Array<Array<OffsetOutcome | undefined> | undefined> | undefined> = [];
  private entries = 0;

  /** The memo's slot index of an offset, or -1 for offsets not worth a slot. */
  static shapeOf(offset: Offset): number {
    let unit: number;
    let n: number;
    switch (offset.unit) {
      case 'working_days':
        unit = 0;
        n = offset.n;
        break;
      case 'months':
        unit = offset.moveToWorkingDay ? 2 : 1;
        n = offset.n;
        break;
      case 'days':
        unit = 3;
        n = offset.n;
        break;
      case 'weeks':
        unit = 4;
        n = offset.n;
        break;
      case 'same_day':
        unit = 5;
        n = 0;
        break;
      default:
        return -1;
    }
    const i = n + 256;
    return i >>> 0 === i && i < 512 ? unit * 512 + i : -1;
  }

  get(shape: number, start: EpochDay): OffsetOutcome | undefined {
    const i = start - MEMO_FIRST_DAY;
    if (shape < 0 || i >>> 0 !== i || i >= MEMO_DAYS) return undefined;
    return this.shapes[shape]?.[i >> MEMO_CHUNK_BITS]?.[i & MEMO_CHUNK_MASK];
  }

  set(shape: number, start: EpochDay, o: OffsetOutcome): void {
    const i = start - MEMO_FIRST_DAY;
    if (shape < 0 || i >>> 0 !== i || i >= MEMO_DAYS) return;
    if (++this.entries > MEMO_MAX_ENTRIES) {
      this.shapes = [];
      this.entries = 1;
    }
    const chunks = (this.shapes[shape] ??= []);
    const chunk = (chunks[i >> MEMO_CHUNK_BITS] ??= new Array<OffsetOutcome | undefined>(MEMO_CHUNK_MASK + 1).fill(undefined));
    chunk[i & MEMO_CHUNK_MASK] = o;
  }
}

// The memo depends on the calendar only, so it hangs off the calendar and dies with it.
const outcomeMemos = new WeakMap<Calendar, OutcomeMemo>();

function outcomeMemoOf(calendar: Calendar): OutcomeMemo {
  let memo = outcomeMemos.get(calendar);
  if (!memo) {
    memo = new OutcomeMemo();
    outcomeMemos.set(calendar, memo);
  }
  return memo;
}

function offsetOutcome(memo: OutcomeMemo, calendar: Calendar, start: EpochDay, offset: Offset, lang: Lang): OffsetOutcome {
  const shape = OutcomeMemo.shapeOf(offset);
  let o = memo.get(shape, start);
  if (o === undefined) {
    o = { trace: applyOffset(calendar, start, offset), da: undefined, en: undefined };
    memo.set(shape, start, o);
  }
  if (o[lang] === undefined) o[lang] = offsetSentence(offset, start, o.trace, calendar, lang);
  return o;
}

/** A citation, and the sentence that closes an explanation with it. */
interface CitationText {
  citation: string;
  sentence: string;
}

// A handful of strings per language, rule, basis and paragraph, built on first use.
const citationTexts = new Map<string, Map<DeadlineRule, { law: Map<string | undefined, CitationText>; policy: Map<string | undefined, CitationText> }>>();

function citationText(rule: DeadlineRule, paragraph: string | undefined, policyBasis: boolean, lang: Lang): CitationText {
  let byRule = citationTexts.get(lang);
  if (!byRule) {
    byRule = new Map();
    citationTexts.set(lang, byRule);
  }
  let byBasis = byRule.get(rule);
  if (!byBasis) {
    byBasis = { law: new Map(), policy: new Map() };
    byRule.set(rule, byBasis);
  }
  const byParagraph = policyBasis ? byBasis.policy : byBasis.law;
  let t = byParagraph.get(paragraph);
  if (!t) {
    const citation = citationOf(rule, paragraph, lang);
    t = { citation, sentence: citationSentence(citation, policyBasis, lang) };
    byParagraph.set(paragraph, t);
  }
  return t;
}

function isDone(at: Instance['completed'], now: number, nowDay: EpochDay): boolean {
  // A completion after `now` has not happened yet as of `now`.
  return at !== null && (at.ms !== null ? at.ms <= now : at.day <= nowDay);
}

/** Earlier first; a bare date before an instant of the same day. */
function byTime(a: When, b: When): number {
  return a.day - b.day || (a.ms ?? -Infinity) - (b.ms ?? -Infinity) || 0;
}

/** What the explanation adds for the rarer cases; one shared empty value for the common one. */
export interface ExplainExtras {
  delays?: Array<{ notifiedDay: EpochDay; expectedDay: EpochDay; inTime: boolean; dueBefore: EpochDay }>;
  postponedLate?: EpochDay;
  endedAt?: EpochDay;
  declinedOffer?: boolean;
}
const NO_EXTRAS: ExplainExtras = Object.freeze({});

function computeInstance(rule: DeadlineRule, inst: Instance, record: FristRecord, opts: Required<Pick<EngineOptions, 'now' | 'calendar' | 'lang' | 'quoteFreeText'>>, nowDay: EpochDay, outcomes: OutcomeMemo): Deadline | null {
  // A deadline that ended with a reclassification is judged as it stood then: kept if met or breached, dropped if open.
  let now = opts.now;
  let judgeDay = nowDay;
  const ended = inst.endedBy && isDone(inst.endedBy.at, opts.now, nowDay) ? inst.endedBy.at : undefined;
  if (ended) {
    const endMs = ended.ms ?? instantOfLocal(ended.day, END_OF_DAY_MS);
    if (endMs < now) {
      now = endMs;
      judgeDay = ended.day;
    }
  }
  const outcome = offsetOutcome(outcomes, opts.calendar, inst.start.day, inst.offset, opts.lang);
  const computedDue = outcome.trace.due;
  let due = computedDue;
  let originalDue: EpochDay | undefined;
  let suspended = false;
  let delayLate = false;
  let extras = NO_EXTRAS;
  let delayViews: DelayNoticeView[] | undefined;

  if (inst.delays && inst.delays.length > 0) {
    // § 7 stk. 2 / § 14 stk. 2: only a notice given before the deadline runs out moves the watched
    // date; each notice is judged against the deadline in force when it was given, so a late second
    // notice cannot undo a timely first one, nor revive a deadline the first let run out.
    const told = inst.delays.filter((n) => isDone(n.notifiedAt, now, judgeDay)).sort((a, b) => byTime(a.notifiedAt, b.notifiedAt));
    if (told.length > 0) {
      const list: NonNullable<ExplainExtras['delays']> = [];
      delayViews = [];
      for (const n of told) {
        const dueBefore = due;
        const inTime = n.notifiedAt.day <= due;
        if (inTime) {
          due = n.expected.day;
          originalDue = computedDue;
        } else {
          delayLate = true;
        }
        list.push({ notifiedDay: n.notifiedAt.day, expectedDay: n.expected.day, inTime, dueBefore });
        delayViews.push({ notifiedAt: n.notifiedAt.text, expectedDate: formatIsoDate(n.expected.day), inTime, dueBefore: formatIsoDate(dueBefore) });
      }
      extras = { ...extras, delays: list };
    }
  }
  let postponedLate = false;
  if (inst.postponement && isDone(inst.postponement.decidedAt, now, judgeDay)) {
    // pkt. 3: later than 7 days only "i helt særlige tilfælde"; a postponement decided after the
    // due day comes too late to change it: the breach stands and the record shows the late decision.
    if (inst.postponement.decidedAt.day <= computedDue) {
      if (inst.postponement.rescheduledTo) {
        due = inst.postponement.rescheduledTo.day;
        originalDue = computedDue;
      } else {
        suspended = true;
      }
    } else {
      postponedLate = true;
      extras = { ...extras, postponedLate: inst.postponement.decidedAt.day };
    }
  }

  const done = isDone(inst.completed, now, judgeDay) && (inst.completedKnownAt === undefined || isDone(inst.completedKnownAt, now, judgeDay));
  let status: DeadlineStatus;
  if (done && inst.completed) status = suspended || inst.completed.day <= due ? 'met' : 'met_late';
  else if (suspended || rule.obligation === 'right') status = judgeDay > due && rule.obligation === 'right' ? 'met' : 'open';
  else status = judgeDay > due ? 'breached' : 'open';

  if (ended && now < opts.now) {
    if (status === 'open') return null;
    extras = { ...extras, endedAt: ended.day };
  }
  if (done && inst.completion === 'declined') extras = { ...extras, declinedOffer: true };

  const basis = inst.basis ?? rule.basis;
  const citation = citationText(rule, inst.paragraph, basis === 'policy', opts.lang);
  const completedDay = done && inst.completed ? inst.completed.day : undefined;
  const d: Deadline = {
    rule: rule.id,
    key: inst.key,
    recordType: record.type,
    title: rule.title[opts.lang],
    basis,
    obligation: rule.obligation,
    responsible: rule.responsible[opts.lang],
    citation: citation.citation,
    startDate: formatIsoDate(inst.start.day),
    dueDate: formatIsoDate(due),
    dueAt: endOfLocalDayText(due),
    status,
    completedAt: done && inst.completed ? inst.completed.text : null,
    explanation: explainDeadline(opts.lang, rule, inst, outcome[opts.lang] as string, due, originalDue, suspended, delayLate, status, completedDay, citation.sentence, opts.quoteFreeText, extras),
  };
  if (originalDue !== undefined) d.originalDueDate = formatIsoDate(originalDue);
  if (suspended) {
    d.suspended = true;
    d.suspendedReason = inst.postponement?.reason ?? '';
  }
  if (delayLate) d.delayNotifiedLate = true;
  if (delayViews) d.delayNotices = delayViews;
  if (postponedLate && inst.postponement) {
    d.postponedLate = true;
    d.postponementDecidedAt = inst.postponement.decidedAt.text;
  }
  if (extras.endedAt !== undefined && ended) {
    d.endedBy = 'reclassification';
    d.endedAt = ended.text;
  }
  if (inst.immediate) d.immediate = true;
  if (extras.declinedOffer) d.completion = 'declined';
  return d;
}

/** The day a record's texts are judged by: when the incident or the intervention happened, when the placement ended. */
function governingDay(record: FristRecord): EpochDay | null {
  switch (record.type) {
    case 'incident':
    case 'force_use':
      return record.occurredAt.day;
    case 'security_cell_placement':
      // The follow-up duty arises when the placement ends ("efter ophøret af anbringelsen").
      return (record.endedAt ?? record.placedAt).day;
    default:
      return null;
  }
}

const GOVERNING_SUBJECT: Record<string, Record<Lang, string>> = {
  incident: { da: 'Hændelsen skete', en: 'The incident happened on' },
  force_use: { da: 'Magtanvendelsen fandt sted', en: 'Force was used on' },
  security_cell_placement: { da: 'Anbringelsen i sikringscelle ophørte (eller begyndte)', en: 'The security-cell placement ended (or began) on' },
};

/** The rule's text, when it was not yet in force on the record's governing day. */
function notInForceOf(rule: Rule, record: FristRecord, lang: Lang): NotInForce | undefined {
  const inForce = (DOCUMENTS[rule.document] as SourceDocument).inForce;
  const day = governingDay(record);
  if (!inForce || day === null) return undefined;
  if (inForce.eventsAfter ? day > inForce.day : day >= inForce.day) return undefined;
  const doc = DOCUMENTS[rule.document].short[lang];
  const when = formatDanishDate(day);
  const from = formatDanishDate(inForce.day);
  const subject = (GOVERNING_SUBJECT[record.type] as Record<Lang, string>)[lang];
  const explanation = lang === 'da'
    ? `${subject} ${when}. ${doc} trådte i kraft ${from} (${inForce.paragraph})${inForce.eventsAfter ? ' og omfatter hændelser efter denne dato' : ''}; sagen bedømmes ikke efter en tekst, der ikke var trådt i kraft, så fristvagt overvåger ingen frist efter reglen.`
    : `${subject} ${when}. ${doc} took effect on ${from} (${inForce.paragraph})${inForce.eventsAfter ? ' and covers events after that date' : ''}; the case is not judged under a text not yet in force, so fristvagt watches no deadline under this rule.`;
  return { rule: rule.id, title: rule.title[lang], citation: citationOf(rule, inForce.paragraph, lang), inForceFrom: formatIsoDate(inForce.day), explanation };
}

function findingsOf(rule: DeadlineRule, record: FristRecord, ctx: RuleContext, lang: Lang, incomplete: RecordFinding[], warnings: RecordFinding[]): void {
  if (!rule.findings) return;
  for (const f of (rule.findings as (r: FristRecord, c: RuleContext) => Finding[])(record, ctx)) {
    (f.kind === 'incomplete' ? incomplete : warnings).push({ rule: rule.id, field: f.field, message: f.message[lang] });
  }
}

/** Deadlines and immediate duties of an already validated record. */
export function computeDeadlinesForRecord(record: FristRecord, options: EngineOptions): DeadlineSet {
  const opts = { now: options.now, calendar: options.calendar, lang: options.lang ?? 'da', quoteFreeText: options.quoteFreeText ?? true };
  const nowDay = localDayOfInstant(opts.now);
  const outcomes = outcomeMemoOf(opts.calendar);
  const deadlines: Deadline[] = [];
  const notInForce: NotInForce[] = [];
  const incomplete: RecordFinding[] = [];
  const warnings: RecordFinding[] = [];
  for (const rule of deadlineRulesByType.get(record.type) ?? []) {
    const ctx = cachedContext(rule, options.policy);
    const instances = (rule.instances as (r: FristRecord, c: RuleContext) => Instance[])(record, ctx);
    if (instances.length > 0) {
      const outside = notInForceOf(rule, record, opts.lang);
      if (outside) {
        notInForce.push(outside);
        continue;
      }
    }
    for (const inst of instances) {
      const d = computeInstance(rule, inst, record, opts, nowDay, outcomes);
      if (d) deadlines.push(d);
    }
    findingsOf(rule, record, ctx, opts.lang, incomplete, warnings);
  }
  const immediate: ImmediateDuty[] = [];
  for (const rule of immediateRulesByType.get(record.type) ?? []) {
    const hit = rule.triggers(record);
    if (!hit) continue;
    const outside = notInForceOf(rule, record, opts.lang);
    if (outside) {
      notInForce.push(outside);
      continue;
    }
    const citation = citationOf(rule, hit.paragraph, opts.lang);
    immediate.push({
      rule: rule.id,
      title: rule.title[opts.lang],
      basis: rule.basis,
      responsible: rule.responsible[opts.lang],
      citation,
      triggeredAt: hit.at.ms !== null ? formatLocalInstant(hit.at.ms) : hit.at.text,
      explanation: explainImmediate(rule, hit.at.day, citation, opts.lang),
    });
  }
  return { deadlines, immediate, notInForce, incomplete, warnings };
}

export interface ComputeOptions {
  now: string | number | Date;
  closureDays?: readonly string[];
  calendar?: Calendar;
  lang?: Lang;
  policy?: PolicyOverrides;
  /** See EngineOptions.quoteFreeText (default true). */
  quoteFreeText?: boolean;
}

const calendarCache = new Map<string, Calendar>();

/** A shared calendar per closure-day list: its per-year tables are the expensive part. */
export function calendarFor(closureDays: readonly string[] = []): Calendar {
  const key = closureDays.join(',');
  let cal = calendarCache.get(key);
  if (!cal) {
    cal = new Calendar(closureDays);
    if (calendarCache.size > 64) calendarCache.clear();
    calendarCache.set(key, cal);
  }
  return cal;
}

/** `now` as epoch ms; a bare local date means the start of that day in Copenhagen. */
export function parseNow(now: string | number | Date, field = 'now'): number {
  if (typeof now === 'string') {
    const w = parseWhen(now);
    if (!w) throw new DomainError('INVALID_OPTION', `${field}: "${now}" is not an ISO 8601 instant with offset (e.g. 2026-04-01T12:00:00+02:00)`, { path: [field] });
    return w.ms ?? instantOfLocal(w.day, 0);
  }
  const ms = typeof now === 'number' ? now : now.getTime();
  if (!Number.isFinite(ms)) throw new DomainError('INVALID_OPTION', `${field}: not a valid instant`, { path: [field] });
  return ms;
}

/** Validates a raw record and computes its deadlines (the `fristvagt deadlines` contract). */
export function computeDeadlines(input: unknown, options: ComputeOptions): DeadlineSet {
  const now = parseNow(options.now);
  const record = parseRecord(input, now);
  const calendar = options.calendar ?? calendarFor(options.closureDays);
  const engine: EngineOptions = { now, calendar };
  if (options.lang) engine.lang = options.lang;
  if (options.policy) engine.policy = options.policy;
  if (options.quoteFreeText !== undefined) engine.quoteFreeText = options.quoteFreeText;
  return computeDeadlinesForRecord(record, engine);
}
