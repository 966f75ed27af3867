/**
 * The rule catalogue: one entry per rule id of DOMAIN.md. An entry carries its titles, citation,
 * basis and the function that turns a record into deadline instances; the engine
 * (deadlines.ts) does the date arithmetic, status and explanation for all of them alike.
 * Adding a rule means adding one entry here.
 */
import { addMonths, daysFromCivil, type EpochDay } from './dates.js';
import {
  incidentChapter,
  type ActionPlanRecord,
  type AnnualOverviewRecord,
  type ForceUseRecord,
  type FristRecord,
  type IncidentRecord,
  type RecordType,
  type SecurityCellRecord,
  type When,
} from './records.js';

export type Lang = 'da' | 'en';
export type Text = Record<Lang, string>;
export type Basis = 'law' | 'policy';

export const CATALOGUE_VERSION = '2026.11.2';

/**
 * When a text took effect. A record from before is not judged under it: its deadlines are left out
 * and listed as `notInForce` instead. `eventsAfter`: the text covers events after that day only
 * (003 § 23 "omfatter hændelser, der finder sted efter denne dato"); otherwise from that day on.
 */
export interface InForce {
  day: EpochDay;
  eventsAfter: boolean;
  /** The sentence of the text that sets the date, cited in the explanation. */
  paragraph: string;
}

export interface SourceDocument {
  seed: string;
  short: Text;
  title: string;
  inForce?: InForce;
}

/** The source documents (shared/seeds). */
export const DOCUMENTS = {
  deaths: {
    seed: '003_b8ff4c845120230b.txt',
    short: { da: 'Cirkulære om dødsfald m.v.', en: 'Circular on deaths etc.' },
    title: 'Cirkulære om kriminalforsorgsområdernes behandling og indberetning af hændelser vedrørende dødsfald, selvmord, kvalificerede selvmordsforsøg og andre kvalificerede selvbeskadigende handlinger og anden selvmords- eller selvbeskadigelsesadfærd blandt indsatte i Kriminalforsorgens varetægt',
    // § 23: "Cirkulæret træder i kraft den 16. juli 2015 og omfatter hændelser, der finder sted efter denne dato."
    inForce: { day: daysFromCivil(2015, 7, 16), eventsAfter: true, paragraph: '§ 23' },
  },
  securityMeans: {
    seed: '000_6234f084b032cb12.txt',
    // The paragraph (pkt. 3) is appended by citationOf: the short title must not carry it too.
    short: { da: 'Sikringsmiddelbekendtgørelsen § 13 og cirkulæreskrivelse om sikringsmidler', en: 'Executive order on security means § 13 and circular letter on security means' },
    title: 'Cirkulæreskrivelse om anvendelse af sikringsmidler og godkendelse af håndjern',
    // pkt. 4: "Cirkulæreskrivelsen træder i kraft den 3. februar 2022." (It replaced letter nr. 9374 of 26 April 2016, which fristvagt does not hold.)
    inForce: { day: daysFromCivil(2022, 2, 3), eventsAfter: false, paragraph: 'pkt. 4' },
  },
  caseReview: {
    seed: '001_8619e2681772afed.txt',
    short: { da: 'Direktoratets brev til Folketingets Ombudsmand om sikringscelleanbringelser', en: "The directorate's letter to the Ombudsman on security-cell placements" },
    title: 'Tiltag med henblik på at forbedre sagsbehandlingen ved sikringscelleanbringelse',
  },
  force: {
    seed: '002_30b0ada34d81528c.txt',
    short: { da: 'Magtanvendelsesbekendtgørelsen', en: 'Executive order on use of force' },
    title: 'Bekendtgørelse om anvendelse af magt over for indsatte i kriminalforsorgens institutioner (magtanvendelsesbekendtgørelsen)',
    // § 10: "Bekendtgørelsen træder i kraft den 1. april 2017."
    inForce: { day: daysFromCivil(2017, 4, 1), eventsAfter: false, paragraph: '§ 10' },
  },
  plans: {
    seed: '004_01245116017a6b90.txt',
    short: { da: 'Handleplansvejledningen', en: 'Guidance on action plans' },
    title: 'Vejledning om udarbejdelse af handleplaner i Kriminalforsorgen (VEJ nr 9926 af 26/08/2022)',
  },
} as const satisfies Record<string, SourceDocument>;
export type DocumentId = keyof typeof DOCUMENTS;

/** What the clock starts from; the explanation names it. */
export type StartEvent =
  | 'incident_occurred'
  | 'final_report_submitted'
  | 'year_ended'
  | 'placement_ended'
  | 'force_used'
  | 'admitted'
  | 'supervision_established'
  | 'home_detention_started'
  | 'plan_created'
  | 'plan_elaborated'
  | 'plan_evaluated'
  | 'transferred'
  | 'parole_decided'
  | 'parole_date'
  | 'sentence_started'
  | 'transition_placed';

export type Offset =
  | { unit: 'working_days'; n: number }
  | { unit: 'days'; n: number }
  | { unit: 'weeks'; n: number }
  /** n may be negative (a year before the parole date); `moveToWorkingDay` for the inmate's rights. */
  | { unit: 'months'; n: number; moveToWorkingDay?: boolean }
  | { unit: 'same_day' };

export interface DelayNotice {
  notifiedAt: When;
  expected: When;
  reason: string | null;
}

export interface Postponement {
  reason: string;
  rescheduledTo: When | null;
  /** When the postponement was decided: only one decided on or before the due day counts. */
  decidedAt: When;
}

/** Something a record lacks or should carry, found by a rule: shown, never silently ignored. */
export interface Finding {
  kind: 'incomplete' | 'warning';
  field: string;
  message: Text;
}

/** One deadline a record owes: the engine computes due date, status and explanation from it. */
export interface Instance {
  key: string;
  start: { day: EpochDay; event: StartEvent };
  offset: Offset;
  completed: When | null;
  /** The completion counts only once this has happened too (a declined offer: met at the offer, known at the refusal). */
  completedKnownAt?: When;
  /** How the duty was met when not by doing it: an offer the inmate declined. */
  completion?: 'declined';
  /** Overrides the rule's citation paragraph (chapter 3 vs chapter 4 of the circular). */
  paragraph?: string;
  /** Every notice of delay, in any order; each is judged against the deadline in force when it was given. */
  delays?: DelayNotice[];
  postponement?: Postponement;
  /** The case left this rule's chapter (reclassification): kept only if met or breached by then. */
  endedBy?: { reason: 'reclassification'; at: When };
  /** The text says "snarest muligt" / "så hurtigt som muligt": the duty is immediate, the days a policy default. */
  immediate?: boolean;
  /** Extra sentence for the explanation (why this cadence, why this branch). */
  note?: Text;
  /** Overrides the rule's basis where one branch has no number in the source (DOMAIN.md "law / policy" rows). */
  basis?: 'law' | 'policy';
}

export interface RuleContext {
  /** A policy parameter of this rule (or of `ruleId`), with administrator overrides applied. */
  param(name: string, ruleId?: string): number;
}

interface RuleBase {
  id: string;
  title: Text;
  /** Who must act (for duties) — shown in reminders. */
  responsible: Text;
  basis: Basis;
  /** A right of the inmate (window) or a duty of staff. Rights move off non-working days; duties do not. */
  obligation: 'duty' | 'right';
  document: DocumentId;
  paragraph: string;
  /** Tunable policy defaults (DOMAIN.md "policy"), overridable per rule by an administrator. */
  defaults?: Record<string, number>;
}

export interface DeadlineRule<T extends RecordType = RecordType> extends RuleBase {
  timing: 'deadline';
  recordType: T;
  instances(record: Extract<FristRecord, { type: T }>, ctx: RuleContext): Instance[];
  /** Missing data or a missing note this rule notices (shown as `incomplete` / `warnings`). */
  findings?(record: Extract<FristRecord, { type: T }>, ctx: RuleContext): Finding[];
}

/** Duties that are due "at once" — they trigger alerts, not dated deadlines. */
export interface ImmediateRule extends RuleBase {
  timing: 'immediate';
  recordType: RecordType;
  triggers(record: FristRecord): { at: When; paragraph?: string } | null;
}

/** Catalogue entries with no due date of their own (documented, shown, not computed). */
export interface InformationalRule extends RuleBase {
  timing: 'none';
  recordType: RecordType;
}

export type Rule = DeadlineRule<'incident'> | DeadlineRule<'security_cell_placement'> | DeadlineRule<'force_use'> | DeadlineRule<'action_plan'> | DeadlineRule<'annual_overview'> | ImmediateRule | InformationalRule;

/** The circular applies to incidents after 16 July 2015 (§ 23). */
export const CIRCULAR_IN_FORCE_DAY = DOCUMENTS.deaths.inForce.day;

const DELEGATE: Text = { da: 'Områdedirektørens bemyndigede', en: "The area director's delegate" };

/**
 * Whether an incident is, or was, in a chapter the rule belongs to. Null: never. `endedAt`: the
 * reclassification that moved it out (§ 11 stk. 2, § 18 stk. 2); the rule's deadlines met or
 * breached by then stay as history, the open ones end there. Moving into a chapter starts its
 * clocks from the incident date (DOMAIN.md), so no start is needed here.
 */
function chapterPhase(r: IncidentRecord, inChapter: (ch: 3 | 4 | 5) => boolean): { endedAt: When | null } | null {
  if (inChapter(incidentChapter(r.kind))) return { endedAt: null };
  for (let i = r.reclassifications.length - 1; i >= 0; i--) {
    const c = r.reclassifications[i] as IncidentRecord['reclassifications'][number];
    if (inChapter(incidentChapter(c.from)) && !inChapter(incidentChapter(c.to))) return { endedAt: c.at };
  }
  return null;
}

const reportableChapter = (ch: 3 | 4 | 5): boolean => ch !== 5;

/** Instances of a chapter's rule, marked as ended when the case has left that chapter. */
function inPhase(phase: { endedAt: When | null }, list: Instance[]): Instance[] {
  if (phase.endedAt) for (const i of list) i.endedBy = { reason: 'reclassification', at: phase.endedAt };
  return list;
}

/** The final-report delay notices of a record: the list, plus the legacy single fields as one more. */
function delayNoticesOf(r: IncidentRecord): DelayNotice[] {
  const list: DelayNotice[] = r.delayNotices.map((n) => ({ notifiedAt: n.notifiedAt, expected: n.expected, reason: n.reason }));
  if (r.delayNotifiedAt && r.finalReportExpectedAt && !list.some((n) => n.notifiedAt.text === r.delayNotifiedAt?.text && n.expected.day === r.finalReportExpectedAt?.day)) {
    list.push({ notifiedAt: r.delayNotifiedAt, expected: r.finalReportExpectedAt, reason: r.delayReason ?? null });
  }
  return list;
}

/** The chapter's paragraph of the incident the duty was born under (chapter 3 or 4). */
function chapterOf(r: IncidentRecord): 3 | 4 {
  if (incidentChapter(r.kind) === 3) return 3;
  return 4;
}

const incidentRules: DeadlineRule<'incident'>[] = [
  {
    id: 'incident.preliminary-notice',
    timing: 'deadline',
    recordType: 'incident',
    title: { da: 'Foreløbig underretning', en: 'Preliminary notice' },
    responsible: DELEGATE,
    basis: 'law',
    obligation: 'duty',
    document: 'deaths',
    paragraph: '§ 6, stk. 2',
    instances: (r) => {
      const phase = chapterPhase(r, reportableChapter);
      return phase
        ? inPhase(phase, [{
            key: 'incident.preliminary-notice',
            start: { day: r.occurredAt.day, event: 'incident_occurred' },
            offset: { unit: 'working_days', n: 3 },
            completed: r.preliminaryNoticeSentAt,
            paragraph: chapterOf(r) === 3 ? '§ 6, stk. 2' : '§ 13, stk. 1',
          }])
        : [];
    },
  },
  {
    id: 'incident.final-report',
    timing: 'deadline',
    recordType: 'incident',
    title: { da: 'Endelig indberetning', en: 'Final report' },
    responsible: DELEGATE,
    basis: 'law',
    obligation: 'duty',
    document: 'deaths',
    paragraph: '§ 7',
    instances: (r) => {
      const phase = chapterPhase(r, reportableChapter);
      if (!phase) return [];
      const ch3 = chapterOf(r) === 3;
      const inst: Instance = {
        key: 'incident.final-report',
        start: { day: r.occurredAt.day, event: 'incident_occurred' },
        offset: { unit: 'weeks', n: 4 },
        completed: r.finalReportSubmittedAt,
        paragraph: ch3 ? '§ 7' : '§ 14',
      };
      const delays = delayNoticesOf(r);
      if (delays.length > 0) {
        inst.delays = delays;
        inst.paragraph = ch3 ? '§ 7, stk. 2' : '§ 14, stk. 2';
      }
      return inPhase(phase, [inst]);
    },
  },
  {
    id: 'incident.inmate-conversation',
    timing: 'deadline',
    recordType: 'incident',
    title: { da: 'Samtale med den indsatte', en: 'Conversation with the inmate' },
    responsible: { da: 'Institutionen', en: 'The institution' },
    basis: 'policy',
    obligation: 'duty',
    document: 'deaths',
    paragraph: '§ 12, nr. 3',
    defaults: { workingDays: 1 },
    instances: (r, ctx) => {
      const phase = chapterPhase(r, (ch) => ch === 4);
      return phase
        ? inPhase(phase, [{
            key: 'incident.inmate-conversation',
            start: { day: r.occurredAt.day, event: 'incident_occurred' },
            offset: { unit: 'working_days', n: ctx.param('workingDays') },
            completed: r.inmateConversationHeldAt,
            immediate: true,
            note: {
              da: '§ 12, nr. 3: samtalen holdes "snarest muligt efter hændelsen" – pligten gælder straks; datoen er en standard, som en administrator kan ændre.',
              en: '§ 12 no. 3: the conversation is held "as soon as possible after the incident" – the duty applies at once; the date is a default an administrator can change.',
            },
          }])
        : [];
    },
  },
  {
    id: 'incident.closing-letter',
    timing: 'deadline',
    recordType: 'incident',
    title: { da: 'Afsluttende vurdering fra områdekontoret', en: "Area office's closing assessment" },
    responsible: { da: 'Områdekontoret (institutionen orienteres)', en: 'The area office (the institution is informed)' },
    basis: 'policy',
    obligation: 'duty',
    document: 'deaths',
    paragraph: '§ 21',
    defaults: { weeks: 4 },
    instances: (r, ctx) => {
      const phase = chapterPhase(r, reportableChapter);
      return phase && r.finalReportSubmittedAt
        ? inPhase(phase, [{
            key: 'incident.closing-letter',
            start: { day: r.finalReportSubmittedAt.day, event: 'final_report_submitted' },
            offset: { unit: 'weeks', n: ctx.param('weeks') },
            completed: r.closingLetterSentAt,
          }])
        : [];
    },
  },
  {
    id: 'incident.closing-letter-copy',
    timing: 'deadline',
    recordType: 'incident',
    title: { da: 'Kopi af afsluttende skrivelse til Klientsager', en: 'Copy of the closing letter to the client-case office' },
    responsible: { da: 'Områdekontoret', en: 'The area office' },
    basis: 'policy',
    obligation: 'duty',
    document: 'deaths',
    paragraph: '§ 21, 2. pkt.',
    // § 21: "Kopi af afsluttende skrivelse sendes endvidere til Klientsager i Center for Straffuldbyrdelse."
    // The copy goes with the letter, so it follows the closing letter's tunable weeks.
    instances: (r, ctx) => {
      const phase = chapterPhase(r, reportableChapter);
      return phase && r.finalReportSubmittedAt
        ? inPhase(phase, [{
            key: 'incident.closing-letter-copy',
            start: { day: r.finalReportSubmittedAt.day, event: 'final_report_submitted' },
            offset: { unit: 'weeks', n: ctx.param('weeks', 'incident.closing-letter') },
            completed: r.closingLetterCopySentAt,
            note: {
              da: 'Kopien sendes sammen med den afsluttende skrivelse; fristen følger dennes standard.',
              en: 'The copy goes with the closing letter; its deadline follows that default.',
            },
          }])
        : [];
    },
  },
  {
    id: 'incident.chapter5-closing',
    timing: 'deadline',
    recordType: 'incident',
    title: { da: 'Sagen afsluttet som ikke-indberetningspligtig', en: 'Case closed as not reportable' },
    responsible: DELEGATE,
    basis: 'policy',
    obligation: 'duty',
    document: 'deaths',
    paragraph: '§ 20, stk. 2',
    defaults: { weeks: 4 },
    instances: (r, ctx) => {
      const phase = chapterPhase(r, (ch) => ch === 5);
      return phase
        ? inPhase(phase, [{
            key: 'incident.chapter5-closing',
            start: { day: r.occurredAt.day, event: 'incident_occurred' },
            offset: { unit: 'weeks', n: ctx.param('weeks') },
            completed: r.closedNotReportableAt,
            note: {
              da: '§ 20: notat om overvejelserne og grundlaget for, at hændelsen ikke er indberetningspligtig, og sagen afsluttes i selvmordsmodulet; cirkulæret sætter ingen frist, standarden kan ændres af en administrator.',
              en: '§ 20: a note on the considerations and why the incident is not reportable, and the case is closed in the suicide module; the circular sets no deadline, the default is tunable.',
            },
          }])
        : [];
    },
  },
];

const immediateRules: ImmediateRule[] = [
  {
    id: 'incident.area-director-alert',
    timing: 'immediate',
    recordType: 'incident',
    title: { da: 'Underretning af områdedirektøren', en: 'Alert to the area director' },
    responsible: { da: 'Institutionen', en: 'The institution' },
    basis: 'law',
    obligation: 'duty',
    document: 'deaths',
    paragraph: '§ 5, § 10, § 17',
    // § 5, § 10 and § 17 alike: "Områdedirektøren skal snarest muligt underrettes" – chapter 5 too.
    triggers: (r) => {
      if (r.type !== 'incident') return null;
      const ch = incidentChapter(r.kind);
      return { at: r.registeredAt ?? r.occurredAt, paragraph: ch === 3 ? '§ 5' : ch === 4 ? '§ 10' : '§ 17' };
    },
  },
  {
    id: 'incident.directorate-phone',
    timing: 'immediate',
    recordType: 'incident',
    title: { da: 'Telefonisk underretning af direktoratet', en: 'Phone the directorate' },
    responsible: { da: 'Vagthavende', en: 'The duty manager' },
    basis: 'law',
    obligation: 'duty',
    document: 'deaths',
    paragraph: '§ 6, stk. 1',
    // § 6 stk. 1 stands in chapter 3 (deaths and suicides); chapter 4 has no such duty.
    triggers: (r) => (r.type === 'incident' && r.mediaAttention && incidentChapter(r.kind) === 3 ? { at: r.registeredAt ?? r.occurredAt } : null),
  },
  {
    id: 'incident.delegate-assessment',
    timing: 'immediate',
    recordType: 'incident',
    title: { da: 'Vurdering af yderligere tiltag og oprettelse af sag i selvmordsmodulet', en: 'Assess further measures and open the case in the suicide module' },
    responsible: DELEGATE,
    basis: 'law',
    obligation: 'duty',
    document: 'deaths',
    paragraph: '§ 12, § 19',
    // § 12 / § 19: "påser den, områdedirektøren har bemyndiget dertil, endvidere umiddelbart, 1) om der ... må
    // antages at være behov for at iværksætte yderligere tiltag ... 2) at der oprettes sag ... i Klientsystemets selvmordsmodul".
    triggers: (r) => {
      if (r.type !== 'incident') return null;
      const ch = incidentChapter(r.kind);
      return ch === 3 ? null : { at: r.registeredAt ?? r.occurredAt, paragraph: ch === 4 ? '§ 12' : '§ 19' };
    },
  },
];

const informationalRules: InformationalRule[] = [
  {
    id: 'incident.reclassification',
    timing: 'none',
    recordType: 'incident',
    title: { da: 'Omklassificering mellem kapitel 4 og 5', en: 'Reclassification between chapters 4 and 5' },
    responsible: DELEGATE,
    basis: 'law',
    obligation: 'duty',
    document: 'deaths',
    paragraph: '§ 11, stk. 2, § 18, stk. 2',
  },
];

const annualRules: DeadlineRule<'annual_overview'>[] = [
  {
    id: 'incident.annual-overview',
    timing: 'deadline',
    recordType: 'annual_overview',
    title: { da: 'Årlig oversigt over indberetningspligtige hændelser', en: 'Annual overview of reportable incidents' },
    responsible: { da: 'Kriminalforsorgsområdet', en: 'The area' },
    basis: 'policy',
    obligation: 'duty',
    document: 'deaths',
    paragraph: '§ 22',
    // The duty is law; the date is the directorate's practice, hence policy.
    defaults: { month: 1, day: 31 },
    instances: (r: AnnualOverviewRecord, ctx) => {
      const yearEnd = daysFromCivil(r.year, 12, 31);
      const due = daysFromCivil(r.year + 1, ctx.param('month'), ctx.param('day'));
      return [{
        key: `incident.annual-overview#${r.year}`,
        start: { day: yearEnd, event: 'year_ended' },
        offset: { unit: 'days', n: due - yearEnd },
        completed: r.submittedAt,
      }];
    },
  },
];

const cellRules: DeadlineRule<'security_cell_placement'>[] = [
  {
    id: 'cell.follow-up-conversation',
    timing: 'deadline',
    recordType: 'security_cell_placement',
    title: { da: 'Opfølgende samtale efter sikringscelle', en: 'Follow-up conversation after security cell' },
    responsible: { da: 'Fast personale i institutionen', en: 'A permanent staff member' },
    basis: 'law',
    obligation: 'duty',
    document: 'securityMeans',
    paragraph: 'pkt. 3',
    instances: (r: SecurityCellRecord) => {
      if (!r.endedAt) return [];
      const inst: Instance = {
        key: 'cell.follow-up-conversation',
        start: { day: r.endedAt.day, event: 'placement_ended' },
        offset: { unit: 'days', n: 7 },
        completed: r.followUpHeldAt,
      };
      // § 13: the area must "tilbyde den indsatte en opfølgende samtale" – an offer the inmate
      // declines meets the duty, at the offer (or at the refusal, when no separate offer is on record).
      if (!r.followUpHeldAt && r.followUpDeclinedAt) {
        inst.completed = r.followUpOfferedAt ?? r.followUpDeclinedAt;
        inst.completedKnownAt = r.followUpDeclinedAt;
        inst.completion = 'declined';
      }
      if (r.followUpPostponedReason && r.followUpPostponedAt) {
        inst.postponement = { reason: r.followUpPostponedReason, rescheduledTo: r.followUpRescheduledTo, decidedAt: r.followUpPostponedAt };
      }
      return [inst];
    },
    findings: (r: SecurityCellRecord) =>
      (r.followUpHeldAt || r.followUpDeclinedAt) && !r.followUpNoteAt
        ? [{
            kind: 'warning',
            field: 'followUpNoteAt',
            message: {
              da: 'Notat om samtalen i sikringscellemodulet mangler (§ 14: "Der skal gøres notat om samtalen i sikringscellemodulet").',
              en: 'The note on the conversation in the security-cell module is missing (§ 14).',
            },
          }]
        : [],
  },
  {
    id: 'cell.case-review',
    timing: 'deadline',
    recordType: 'security_cell_placement',
    title: { da: 'Områdets gennemgang af sikringscellesagen', en: "The area's review of the security-cell case" },
    responsible: { da: 'Områdekontoret (ledelse og jurister)', en: 'The area office (management and lawyers)' },
    basis: 'policy',
    obligation: 'duty',
    document: 'caseReview',
    paragraph: '(ledelsens og juristernes gennemgang af sagerne)',
    // Seed 001 tells the Ombudsman of "øget ledelsesfokus, fx at ledelsen gennemgår sagerne og om nødvendigt
    // følger op overfor medarbejdere" and "øget fokus på sagerne fra områdets jurister, fx ved gennemgang af
    // alle sager". No number: the days are a policy default, per area, and an area can turn it off (enabled 0).
    defaults: { workingDays: 10, enabled: 1 },
    instances: (r: SecurityCellRecord, ctx) =>
      r.endedAt && ctx.param('enabled') !== 0
        ? [{
            key: 'cell.case-review',
            start: { day: r.endedAt.day, event: 'placement_ended' },
            offset: { unit: 'working_days', n: ctx.param('workingDays') },
            completed: r.caseReviewedAt,
            note: {
              da: 'Direktoratet har oplyst Ombudsmanden, at ledelsen og områdets jurister gennemgår sagerne; fristen er en standard, som en administrator kan ændre eller slå fra pr. område.',
              en: 'The directorate told the Ombudsman that management and the area lawyers review the cases; the deadline is a default an administrator can change or turn off per area.',
            },
          }]
        : [],
  },
];

const forceRules: DeadlineRule<'force_use'>[] = [
  {
    id: 'force.report',
    timing: 'deadline',
    recordType: 'force_use',
    title: { da: 'Rapport om magtanvendelse', en: 'Use-of-force report' },
    responsible: { da: 'Institutionen', en: 'The institution' },
    basis: 'policy',
    obligation: 'duty',
    document: 'force',
    paragraph: '§ 8',
    defaults: { workingDays: 1 },
    instances: (r: ForceUseRecord, ctx) => [{
      key: 'force.report',
      start: { day: r.occurredAt.day, event: 'force_used' },
      offset: { unit: 'working_days', n: ctx.param('workingDays') },
      completed: r.reportFiledAt,
      immediate: true,
      note: {
        da: '§ 8: rapporten udfærdiges "så hurtigt som muligt" – pligten gælder straks; datoen er en standard, som en administrator kan ændre.',
        en: '§ 8: the report is made "as soon as possible" – the duty applies at once; the date is a default an administrator can change.',
      },
    }],
    findings: (r: ForceUseRecord) =>
      r.reportFiledAt && r.complaintInfoNoted !== true
        ? [{
            kind: 'warning',
            field: 'complaintInfoNoted',
            message: {
              da: 'Rapporten mangler notat om, at den indsatte er orienteret om klageadgangen og klagefristen (§ 8, stk. 1, 2. pkt.).',
              en: 'The report lacks the note that the inmate was told of the right to complain and the deadline (§ 8 stk. 1).',
            },
          }]
        : [],
  },
  {
    id: 'force.complaint-window',
    timing: 'deadline',
    recordType: 'force_use',
    title: { da: 'Den indsattes klagefrist', en: "The inmate's complaint deadline" },
    responsible: { da: 'Den indsatte (ret til at klage)', en: 'The inmate (right to complain)' },
    basis: 'law',
    obligation: 'right',
    document: 'force',
    paragraph: '§ 9, stk. 2',
    instances: (r: ForceUseRecord) => [{
      key: 'force.complaint-window',
      start: { day: r.occurredAt.day, event: 'force_used' },
      offset: { unit: 'months', n: 2, moveToWorkingDay: true },
      completed: r.complaintReceivedAt,
    }],
  },
];

interface PlanStart {
  day: EpochDay;
  event: StartEvent;
  /** Why this start, when the category allows two (measure_68_69). */
  note?: Text;
}

/** Supervision-type clients: plans start at the establishing supervision conversation (pkt. 17). */
function supervised(r: ActionPlanRecord): boolean {
  return r.clientCategory === 'supervision' || r.clientCategory === 'measure_68_69';
}

/**
 * Start of the plan duty for a category: admission, or the establishing supervision conversation.
 * 004 pkt. 2: for clients sentenced to a measure under straffelovens §§ 68–69 the supervising
 * authority "skal handle i overensstemmelse med reglerne i straffuldbyrdelseslovens §§ 94-99", so
 * their plans run as for supervision clients; one placed in an institution has an admission instead.
 */
function planStart(r: ActionPlanRecord): PlanStart | null {
  if (r.clientCategory === 'measure_68_69') {
    if (r.supervisionEstablishedAt) {
      return {
        day: r.supervisionEstablishedAt.day,
        event: 'supervision_established',
        note: { da: 'Foranstaltning efter straffelovens §§ 68–69: handleplanen følger reglerne for tilsynsklienter (pkt. 2); fristen regnes fra den etablerende tilsynssamtale.', en: 'Measure under Criminal Code §§ 68–69: the plan follows the rules for supervision clients (item 2); counted from the establishing supervision conversation.' },
      };
    }
    if (r.admittedAt) {
      return {
        day: r.admittedAt.day,
        event: 'admitted',
        note: { da: 'Foranstaltning efter straffelovens §§ 68–69 med anbringelse i institution: ingen etablerende tilsynssamtale registreret, så fristen regnes fra indsættelsen.', en: 'Measure under Criminal Code §§ 68–69 with placement in an institution: no establishing supervision conversation on record, so counted from admission.' },
      };
    }
    return null;
  }
  if (r.clientCategory === 'supervision') {
    return r.supervisionEstablishedAt ? { day: r.supervisionEstablishedAt.day, event: 'supervision_established' } : null;
  }
  if (!r.admittedAt) return null;
  return { day: r.admittedAt.day, event: r.clientCategory === 'youth_home_detention' ? 'home_detention_started' : 'admitted' };
}

function startOf(p: PlanStart): { day: EpochDay; event: StartEvent } {
  return { day: p.day, event: p.event };
}

const PLAN_PARAGRAPH: Record<string, string> = {
  convicted_from_liberty: 'pkt. 16',
  remand: 'pkt. 16',
  supervision: 'pkt. 17',
  measure_68_69: 'pkt. 17, jf. pkt. 2',
  youth_home_detention: 'pkt. 3',
};

function evaluationCadence(r: ActionPlanRecord, base: EpochDay): { months: number; note: Text } {
  if (r.clientCategory === 'measure_68_69') {
    return { months: 6, note: { da: 'Straffelovens §§ 68–69: evaluering mindst hvert halve år.', en: 'Criminal Code §§ 68–69: evaluation at least every six months.' } };
  }
  if (r.expectedReleaseDate && r.expectedReleaseDate.day > addMonths(base, 24).day) {
    return { months: 6, note: { da: 'Mere end 2 år til forventet løsladelse på evalueringsgrundlagets dato: evaluering mindst hvert halve år.', en: 'More than 2 years to expected release at the base date: evaluation at least every six months.' } };
  }
  return { months: 3, note: { da: 'Evaluering mindst hver tredje måned.', en: 'Evaluation at least every three months.' } };
}

const planRules: DeadlineRule<'action_plan'>[] = [
  {
    id: 'plan.owner-assigned',
    timing: 'deadline',
    recordType: 'action_plan',
    title: { da: 'Handleplansansvarlig udpeget', en: 'Plan owner assigned' },
    responsible: { da: 'Kriminalforsorgsområdet', en: 'The area' },
    basis: 'law',
    obligation: 'duty',
    document: 'plans',
    paragraph: 'pkt. 10',
    instances: (r) => {
      const start = planStart(r);
      const list: Instance[] = start ? [{ key: 'plan.owner-assigned', start: startOf(start), offset: { unit: 'same_day' }, completed: r.ownerAssignedAt }] : [];
      // pkt. 10: "en handleplansansvarlig person ... i forbindelse med indsættelsen/.../placering i udslusningsfængsel".
      if (r.transitionPlacedAt) {
        list.push({
          key: 'plan.owner-assigned#transition',
          start: { day: r.transitionPlacedAt.day, event: 'transition_placed' },
          offset: { unit: 'same_day' },
          completed: r.transitionOwnerAssignedAt,
          paragraph: 'pkt. 10, pkt. 15',
        });
      }
      return list;
    },
  },
  {
    id: 'plan.create',
    timing: 'deadline',
    recordType: 'action_plan',
    title: { da: 'Handleplan oprettet', en: 'Action plan created' },
    responsible: { da: 'Handleplansansvarlig', en: 'Plan owner' },
    basis: 'law',
    obligation: 'duty',
    document: 'plans',
    paragraph: 'pkt. 16',
    defaults: { youthWorkingDays: 7 },
    instances: (r, ctx) => {
      const start = planStart(r);
      if (!start) return [];
      const offset: Offset = supervised(r)
        ? { unit: 'weeks', n: 4 }
        : { unit: 'working_days', n: r.clientCategory === 'youth_home_detention' ? ctx.param('youthWorkingDays') : 7 };
      const inst: Instance = { key: 'plan.create', start: startOf(start), offset, completed: r.createdAt, paragraph: PLAN_PARAGRAPH[r.clientCategory] ?? 'pkt. 16' };
      if (start.note) inst.note = start.note;
      if (r.clientCategory === 'youth_home_detention') {
        inst.basis = 'policy';
        inst.note = {
          da: 'Pkt. 3 kræver en handleplan for 15–17-årige på bopælsafsoning uden at fastsætte en frist; standarden kan ændres af en administrator (policy).',
          en: 'Item 3 requires a plan for 15–17-year-olds on home detention without setting a deadline; the default is tunable (policy).',
        };
      }
      return [inst];
    },
  },
  {
    id: 'plan.elaborate',
    timing: 'deadline',
    recordType: 'action_plan',
    title: { da: 'Handleplan udarbejdet (vurdering og prioritering af indsatser)', en: 'Action plan elaborated (assessment and priorities)' },
    responsible: { da: 'Handleplansansvarlig', en: 'Plan owner' },
    basis: 'law',
    obligation: 'duty',
    document: 'plans',
    paragraph: 'pkt. 16',
    instances: (r) => {
      const start = planStart(r);
      if (!start || (r.clientCategory !== 'convicted_from_liberty' && !supervised(r))) return [];
      const inst: Instance = { key: 'plan.elaborate', start: startOf(start), offset: { unit: 'weeks', n: 4 }, completed: r.elaboratedAt, paragraph: PLAN_PARAGRAPH[r.clientCategory] ?? 'pkt. 16' };
      if (start.note) inst.note = start.note;
      return [inst];
    },
  },
  {
    id: 'plan.evaluate',
    timing: 'deadline',
    recordType: 'action_plan',
    title: { da: 'Evaluering af handleplan', en: 'Action plan evaluation' },
    responsible: { da: 'Handleplansansvarlig', en: 'Plan owner' },
    basis: 'law',
    obligation: 'duty',
    document: 'plans',
    paragraph: 'pkt. 19',
    instances: (r) => {
      // The first base is the elaboration; remand and the categories without an elaboration step start from creation.
      const hasElaboration = r.clientCategory === 'convicted_from_liberty' || supervised(r);
      const first = hasElaboration ? r.elaboratedAt : r.elaboratedAt ?? r.createdAt;
      if (!first) return [];
      const firstEvent: StartEvent = r.elaboratedAt ? 'plan_elaborated' : 'plan_created';
      const bases: Array<{ day: EpochDay; event: StartEvent }> = [{ day: first.day, event: firstEvent }];
      for (const e of r.evaluations) bases.push({ day: e.day, event: 'plan_evaluated' });
      // One deadline per interval: past ones keep the compliance history, the last one is the open duty.
      return bases.map((base, i) => {
        const cadence = evaluationCadence(r, base.day);
        return {
          key: `plan.evaluate#${i + 1}`,
          start: base,
          offset: { unit: 'months', n: cadence.months },
          completed: r.evaluations[i] ?? null,
          note: cadence.note,
        };
      });
    },
    findings: (r) =>
      r.clientCategory === 'convicted_from_liberty' && !r.expectedReleaseDate
        ? [{
            kind: 'incomplete',
            field: 'expectedReleaseDate',
            message: {
              da: 'Forventet løsladelsesdato mangler: evalueringskadencen (3 eller 6 måneder, pkt. 19) kan ikke afgøres; fristvagt regner med den strengeste, 3 måneder.',
              en: 'Expected release date missing: the evaluation cadence (3 or 6 months, item 19) cannot be decided; fristvagt assumes the strictest, 3 months.',
            },
          }]
        : [],
  },
  {
    id: 'plan.transfer-update',
    timing: 'deadline',
    recordType: 'action_plan',
    title: { da: 'Handleplan opdateret efter overførsel', en: 'Plan updated after transfer' },
    responsible: { da: 'Det modtagende kriminalforsorgsområde', en: 'The receiving area' },
    basis: 'law',
    obligation: 'duty',
    document: 'plans',
    paragraph: 'pkt. 20',
    instances: (r) =>
      r.transfers.map((t, i) => ({
        key: `plan.transfer-update#${i + 1}`,
        start: { day: t.at.day, event: 'transferred' as const },
        offset: { unit: 'working_days' as const, n: 7 },
        completed: t.planUpdatedAt,
      })),
  },
  {
    id: 'plan.parole-update',
    timing: 'deadline',
    recordType: 'action_plan',
    title: { da: 'Handleplan opdateret efter afgørelse om prøveløsladelse', en: 'Plan updated after parole decision' },
    responsible: { da: 'Handleplansansvarlig', en: 'Plan owner' },
    basis: 'policy',
    obligation: 'duty',
    document: 'plans',
    paragraph: 'pkt. 7',
    defaults: { workingDays: 7 },
    instances: (r, ctx) =>
      r.paroleDecisions.map((p, i) => ({
        key: `plan.parole-update#${i + 1}`,
        start: { day: p.at.day, event: 'parole_decided' as const },
        offset: { unit: 'working_days' as const, n: ctx.param('workingDays') },
        completed: p.planUpdatedAt,
      })),
  },
  {
    id: 'plan.municipality-coordination',
    timing: 'deadline',
    recordType: 'action_plan',
    title: { da: 'Kontakt til kommunen (koordineret handleplan)', en: 'Contact the municipality (coordinated plan)' },
    responsible: { da: 'Handleplansansvarlig', en: 'Plan owner' },
    basis: 'law',
    obligation: 'duty',
    document: 'plans',
    paragraph: 'pkt. 32',
    defaults: { remandWeeks: 4 },
    instances: (r, ctx) => {
      // Expelled by judgment: the plan does not cover the time after release (pkt. 30).
      if (r.expelled) return [];
      const key = 'plan.municipality-coordination';
      const completed = r.municipalityContactedAt;
      const start = planStart(r);
      if (!start) return [];
      switch (r.clientCategory) {
        case 'remand':
          // pkt. 30: "Kriminalforsorgen skal i alle sager, hvor Kriminalforsorgen har pligt til at udarbejde
          // handleplan, rette henvendelse til kommunerne" – remand clients have that duty (pkt. 16), but pkt. 32
          // sets their deadline nowhere: a policy default from admission.
          return [{
            key,
            start: startOf(start),
            offset: { unit: 'weeks', n: ctx.param('remandWeeks') },
            completed,
            basis: 'policy',
            paragraph: 'pkt. 30',
            note: {
              da: 'Pkt. 30: henvendelse til kommunen "i alle sager", hvor der skal udarbejdes handleplan; pkt. 32 fastsætter ingen frist for varetægtsarrestanter, så fristen er en standard, som en administrator kan ændre.',
              en: 'Item 30: the municipality is contacted "in all cases" with a plan duty; item 32 sets no deadline for remand clients, so the deadline is a tunable default.',
            },
          }];
        case 'supervision':
        case 'measure_68_69': {
          const inst: Instance = { key, start: startOf(start), offset: { unit: 'weeks', n: 4 }, completed };
          if (start.note) inst.note = start.note;
          return [inst];
        }
        case 'youth_home_detention':
          // pkt. 32: "samtidig med udarbejdelsen af den første handleplan": due the day the plan is created;
          // until then, with the plan's own (policy) deadline.
          if (r.createdAt) {
            return [{
              key,
              start: { day: r.createdAt.day, event: 'plan_created' },
              offset: { unit: 'same_day' },
              completed,
              note: { da: 'Kontakten skal ske samtidig med udarbejdelsen af den første handleplan (pkt. 32).', en: 'Contact is due together with the first plan (item 32).' },
            }];
          }
          return [{
            key,
            start: startOf(start),
            offset: { unit: 'working_days', n: ctx.param('youthWorkingDays', 'plan.create') },
            completed,
            basis: 'policy',
            note: {
              da: 'Kontakten skal ske samtidig med udarbejdelsen af den første handleplan (pkt. 32); indtil planen er oprettet, følger fristen planens standardfrist (policy).',
              en: "Contact is due together with the first plan (item 32); until the plan is created it follows the plan's default deadline (policy).",
            },
          }];
        default: {
          if (!r.possibleParoleDate) return [];
          const sentenceStart = r.sentenceStartDate ?? r.admittedAt;
          if (sentenceStart && r.possibleParoleDate.day < addMonths(sentenceStart.day, 12).day) {
            return [{
              key,
              start: { day: sentenceStart.day, event: 'sentence_started' },
              offset: { unit: 'weeks', n: 4 },
              completed,
              note: { da: 'Mindre end 1 år til mulig prøveløsladelse ved straffens iværksættelse.', en: 'Less than 1 year to possible parole when the sentence started.' },
            }];
          }
          return [{ key, start: { day: r.possibleParoleDate.day, event: 'parole_date' }, offset: { unit: 'months', n: -12 }, completed }];
        }
      }
    },
    findings: (r) =>
      r.clientCategory === 'convicted_from_liberty' && !r.expelled && !r.possibleParoleDate && !r.municipalityContactedAt
        ? [{
            kind: 'incomplete',
            field: 'possibleParoleDate',
            message: {
              da: 'Dato for mulig prøveløsladelse mangler: fristen for kontakt til kommunen (pkt. 32: senest 1 år før, eller 4 uger efter straffens iværksættelse) kan ikke beregnes.',
              en: 'Possible parole date missing: the deadline to contact the municipality (item 32: 1 year before, or 4 weeks after the sentence started) cannot be computed.',
            },
          }]
        : [],
  },
];

export const RULES: readonly Rule[] = [
  ...immediateRules,
  ...incidentRules,
  ...informationalRules,
  ...annualRules,
  ...cellRules,
  ...forceRules,
  ...planRules,
] as Rule[];

export const RULE_IDS = RULES.map((r) => r.id);

export function ruleById(id: string): Rule | undefined {
  return RULES.find((r) => r.id === id);
}

export function citationOf(rule: RuleBase, paragraph: string | undefined, lang: Lang): string {
  return `${DOCUMENTS[rule.document].short[lang]} ${paragraph ?? rule.paragraph}`;
}
