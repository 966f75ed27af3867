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

export const CATALOGUE_VERSION = '2026.11.1';

/** The source documents (shared/seeds). */
export const DOCUMENTS = {
  deaths: {
    seed: '003_b8ff4c845120230b.txt',
    short: { da: 'Cirkulære om dødsfald m.v.', en: 'Circular on deaths etc.' },
    title: 'Cirkulære om kriminalforsorgsområdernes behandling og indberetning af hændelser vedrørende dødsfald, selvmord, kvalificerede selvmordsforsøg og andre kvalificerede selvbeskadigende handlinger og anden selvmords- eller selvbeskadigelsesadfærd blandt indsatte i Kriminalforsorgens varetægt',
  },
  securityMeans: {
    seed: '000_6234f084b032cb12.txt',
    short: { da: 'Sikringsmiddelbekendtgørelsen § 13 og cirkulæreskrivelse om sikringsmidler pkt. 3', en: 'Executive order on security means § 13 and circular letter on security means item 3' },
    title: 'Cirkulæreskrivelse om anvendelse af sikringsmidler og godkendelse af håndjern',
  },
  force: {
    seed: '002_30b0ada34d81528c.txt',
    short: { da: 'Magtanvendelsesbekendtgørelsen', en: 'Executive order on use of force' },
    title: 'Bekendtgørelse om anvendelse af magt over for indsatte i kriminalforsorgens institutioner (magtanvendelsesbekendtgørelsen)',
  },
  plans: {
    seed: '004_01245116017a6b90.txt',
    short: { da: 'Handleplansvejledningen', en: 'Guidance on action plans' },
    title: 'Vejledning om udarbejdelse af handleplaner i Kriminalforsorgen (VEJ nr 9926 af 26/08/2022)',
  },
} as const;
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
  | 'sentence_started';

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
}

/** One deadline a record owes: the engine computes due date, status and explanation from it. */
export interface Instance {
  key: string;
  start: { day: EpochDay; event: StartEvent };
  offset: Offset;
  completed: When | null;
  /** Overrides the rule's citation paragraph (chapter 3 vs chapter 4 of the circular). */
  paragraph?: string;
  delay?: DelayNotice;
  postponement?: Postponement;
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
export const CIRCULAR_IN_FORCE_DAY = daysFromCivil(2015, 7, 16);

function reportable(r: IncidentRecord): boolean {
  return r.occurredAt.day > CIRCULAR_IN_FORCE_DAY && incidentChapter(r.kind) !== 5;
}

const incidentRules: DeadlineRule<'incident'>[] = [
  {
    id: 'incident.preliminary-notice',
    timing: 'deadline',
    recordType: 'incident',
    title: { da: 'Foreløbig underretning', en: 'Preliminary notice' },
    responsible: { da: 'Den områdedirektøren har bemyndiget', en: "The area director's delegate" },
    basis: 'law',
    obligation: 'duty',
    document: 'deaths',
    paragraph: '§ 6, stk. 2',
    instances: (r) =>
      reportable(r)
        ? [{
            key: 'incident.preliminary-notice',
            start: { day: r.occurredAt.day, event: 'incident_occurred' },
            offset: { unit: 'working_days', n: 3 },
            completed: r.preliminaryNoticeSentAt,
            paragraph: incidentChapter(r.kind) === 3 ? '§ 6, stk. 2' : '§ 13, stk. 1',
          }]
        : [],
  },
  {
    id: 'incident.final-report',
    timing: 'deadline',
    recordType: 'incident',
    title: { da: 'Endelig indberetning', en: 'Final report' },
    responsible: { da: 'Den områdedirektøren har bemyndiget', en: "The area director's delegate" },
    basis: 'law',
    obligation: 'duty',
    document: 'deaths',
    paragraph: '§ 7',
    instances: (r) => {
      if (!reportable(r)) return [];
      const ch3 = incidentChapter(r.kind) === 3;
      const inst: Instance = {
        key: 'incident.final-report',
        start: { day: r.occurredAt.day, event: 'incident_occurred' },
        offset: { unit: 'weeks', n: 4 },
        completed: r.finalReportSubmittedAt,
        paragraph: ch3 ? '§ 7' : '§ 14',
      };
      if (r.delayNotifiedAt && r.finalReportExpectedAt) {
        inst.delay = { notifiedAt: r.delayNotifiedAt, expected: r.finalReportExpectedAt, reason: r.delayReason ?? null };
        inst.paragraph = ch3 ? '§ 7, stk. 2' : '§ 14, stk. 2';
      }
      return [inst];
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
    instances: (r, ctx) =>
      reportable(r) && incidentChapter(r.kind) === 4
        ? [{
            key: 'incident.inmate-conversation',
            start: { day: r.occurredAt.day, event: 'incident_occurred' },
            offset: { unit: 'working_days', n: ctx.param('workingDays') },
            completed: r.inmateConversationHeldAt,
            note: {
              da: '"Snarest muligt" i cirkulæret; fristen er en standard, som en administrator kan ændre.',
              en: '"As soon as possible" in the circular; the deadline is a default an administrator can change.',
            },
          }]
        : [],
  },
  {
    id: 'incident.closing-letter',
    timing: 'deadline',
    recordType: 'incident',
    title: { da: 'Afsluttende vurdering fra områdekontoret', en: "Area office's closing assessment" },
    responsible: { da: 'Områdekontoret', en: 'The area office' },
    basis: 'policy',
    obligation: 'duty',
    document: 'deaths',
    paragraph: '§ 21',
    defaults: { weeks: 4 },
    instances: (r, ctx) =>
      reportable(r) && r.finalReportSubmittedAt
        ? [{
            key: 'incident.closing-letter',
            start: { day: r.finalReportSubmittedAt.day, event: 'final_report_submitted' },
            offset: { unit: 'weeks', n: ctx.param('weeks') },
            completed: r.closingLetterSentAt,
          }]
        : [],
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
    triggers: (r) => {
      if (r.type !== 'incident' || r.occurredAt.day <= CIRCULAR_IN_FORCE_DAY) return null;
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
    triggers: (r) =>
      r.type === 'incident' && r.mediaAttention && r.occurredAt.day > CIRCULAR_IN_FORCE_DAY && incidentChapter(r.kind) !== 5
        ? { at: r.registeredAt ?? r.occurredAt }
        : null,
  },
];

const informationalRules: InformationalRule[] = [
  {
    id: 'incident.reclassification',
    timing: 'none',
    recordType: 'incident',
    title: { da: 'Omklassificering mellem kapitel 4 og 5', en: 'Reclassification between chapters 4 and 5' },
    responsible: { da: 'Den områdedirektøren har bemyndiget', en: "The area director's delegate" },
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
      if (r.followUpPostponedReason) inst.postponement = { reason: r.followUpPostponedReason, rescheduledTo: r.followUpRescheduledTo };
      return [inst];
    },
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
      note: {
        da: '"Så hurtigt som muligt" i bekendtgørelsen; fristen er en standard, som en administrator kan ændre.',
        en: '"As soon as possible" in the order; the deadline is a default an administrator can change.',
      },
    }],
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

/** Start of the plan duty for a category: admission, or the establishing supervision conversation. */
function planStart(r: ActionPlanRecord): { day: EpochDay; event: StartEvent } | null {
  if (r.clientCategory === 'supervision') {
    return r.supervisionEstablishedAt ? { day: r.supervisionEstablishedAt.day, event: 'supervision_established' } : null;
  }
  if (!r.admittedAt) return null;
  return { day: r.admittedAt.day, event: r.clientCategory === 'youth_home_detention' ? 'home_detention_started' : 'admitted' };
}

const PLAN_PARAGRAPH: Record<string, string> = {
  convicted_from_liberty: 'pkt. 16',
  remand: 'pkt. 16',
  supervision: 'pkt. 17',
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
      return start ? [{ key: 'plan.owner-assigned', start, offset: { unit: 'same_day' }, completed: r.ownerAssignedAt }] : [];
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
      if (!start || r.clientCategory === 'measure_68_69') return [];
      const offset: Offset = r.clientCategory === 'supervision'
        ? { unit: 'weeks', n: 4 }
        : { unit: 'working_days', n: r.clientCategory === 'youth_home_detention' ? ctx.param('youthWorkingDays') : 7 };
      const inst: Instance = { key: 'plan.create', start, offset, completed: r.createdAt, paragraph: PLAN_PARAGRAPH[r.clientCategory] ?? 'pkt. 16' };
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
      if (!start || (r.clientCategory !== 'convicted_from_liberty' && r.clientCategory !== 'supervision')) return [];
      return [{ key: 'plan.elaborate', start, offset: { unit: 'weeks', n: 4 }, completed: r.elaboratedAt, paragraph: PLAN_PARAGRAPH[r.clientCategory] ?? 'pkt. 16' }];
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
      const hasElaboration = r.clientCategory === 'convicted_from_liberty' || r.clientCategory === 'supervision';
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
    instances: (r, ctx) => {
      // Expelled by judgment: the plan does not cover the time after release (pkt. 30).
      if (r.expelled) return [];
      const key = 'plan.municipality-coordination';
      const completed = r.municipalityContactedAt;
      const start = planStart(r);
      switch (r.clientCategory) {
        case 'remand':
          return [];
        case 'supervision':
          return start ? [{ key, start, offset: { unit: 'weeks', n: 4 }, completed }] : [];
        case 'youth_home_detention':
          return start
            ? [{
                key,
                start,
                // Same day as the first plan, so it follows plan.create's tunable default.
                offset: { unit: 'working_days', n: ctx.param('youthWorkingDays', 'plan.create') },
                completed,
                note: { da: 'Kontakten skal ske samtidig med den første handleplan (pkt. 32).', en: 'Contact is due together with the first plan (item 32).' },
              }]
            : [];
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
