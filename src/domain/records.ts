/**
 * The record shapes the engine understands, with their validation. One module, shared by the
 * CLI, the API and the importer, so every entry point refuses the same nonsense with the same
 * field names.
 */
import { z } from 'zod';
import { digitsAt, parseIsoDate, parseIsoDatePrefix, type EpochDay } from './dates.js';
import { localDayOfInstant } from './zone.js';
import { DomainError, type IssueDetail } from './errors.js';

/** A point in time as the user gave it: a local date, or an instant (with its local date). */
export interface When {
  day: EpochDay;
  /** Epoch ms when an instant was given; null for a bare local date. */
  ms: number | null;
  text: string;
}

// The instants accepted, with an explicit offset: a bare "2026-03-27T14:00" is ambiguous around
// DST changes. Checked by hand below, to the letter of this pattern:
//   /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/
// and the calendar part strictly (Date.parse accepts 2025-02-30T…). In-range values are
// converted by arithmetic; the unusual rest (hour 24, a fraction that is not milliseconds, a
// leap second) is left to Date.parse, as before. Every date of every record passes through here.

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Epoch ms of an instant in the form above; NaN for anything else. */
function parseInstant(s: string): number {
  const n = s.length;
  if (n < 17 || s.charCodeAt(10) !== 84 || s.charCodeAt(13) !== 58) return NaN; // 'T', ':'
  const day = parseIsoDatePrefix(s);
  const hour = digitsAt(s, 11, 2);
  const minute = digitsAt(s, 14, 2);
  if (day === undefined || hour < 0 || minute < 0) return NaN;
  let pos = 16;
  let second = 0;
  let fractionDigits = 0;
  if (s.charCodeAt(pos) === 58) {
    second = digitsAt(s, pos + 1, 2);
    if (second < 0) return NaN;
    pos += 3;
    if (s.charCodeAt(pos) === 46) { // '.'
      let end = pos + 1;
      while (end < n && end - pos <= 9 && isDigit(s.charCodeAt(end))) end++;
      fractionDigits = end - pos - 1;
      if (fractionDigits === 0) return NaN;
      pos = end;
    }
  }
  const zone = s.charCodeAt(pos);
  let offsetMinutes = 0;
  if (zone === 90) { // 'Z'
    if (pos + 1 !== n) return NaN;
  } else if (zone === 43 || zone === 45) { // '+', '-'
    const oh = digitsAt(s, pos + 1, 2);
    const om = digitsAt(s, pos + 4, 2);
    if (oh < 0 || om < 0 || s.charCodeAt(pos + 3) !== 58 || pos + 6 !== n) return NaN;
    if (oh > 23 || om > 59) return Date.parse(s);
    offsetMinutes = (zone === 43 ? 1 : -1) * (oh * 60 + om);
  } else {
    return NaN;
  }
  if (hour > 23 || minute > 59 || second > 59 || (fractionDigits !== 0 && fractionDigits !== 3)) return Date.parse(s);
  const millis = fractionDigits === 3 ? digitsAt(s, pos - 3, 3) : 0;
  return day * 86_400_000 + ((hour * 60 + minute - offsetMinutes) * 60 + second) * 1000 + millis;
}

/**
 * How far ahead of `now` a step may be dated and still count as done: a form's minute precision,
 * a clock a little ahead. The one rule for "in the future", for the record's own start (occurredAt,
 * placedAt) and for completion events, in the API and in the UI's forms alike.
 */
export const FUTURE_TOLERANCE_MS = 60_000;

/** Whether a step dated `w` has not happened yet at `now` (epoch ms); a bare date is judged by the Copenhagen day. */
export function isInFuture(w: When, now: number): boolean {
  return w.ms !== null ? w.ms > now + FUTURE_TOLERANCE_MS : w.day > localDayOfInstant(now);
}

export function parseWhen(text: string): When | undefined {
  const day = parseIsoDate(text);
  if (day !== undefined) return { day, ms: null, text };
  const ms = parseInstant(typeof text === 'string' ? text : String(text));
  if (Number.isNaN(ms)) return undefined;
  return { day: localDayOfInstant(ms), ms, text };
}

const when = z.string().transform((s, ctx): When => {
  const w = parseWhen(s);
  if (!w) {
    ctx.addIssue({ code: 'custom', message: `"${s}" is not a date (YYYY-MM-DD) or an instant with offset (e.g. 2026-03-27T14:00:00+01:00)` });
    return z.NEVER;
  }
  return w;
});

const optionalWhen = when.nullish().transform((v) => v ?? null);

export const INCIDENT_KINDS = ['death', 'suicide', 'qualified_suicide_attempt', 'qualified_self_harm', 'other_self_harm_behaviour'] as const;
export type IncidentKind = (typeof INCIDENT_KINDS)[number];
export const CLIENT_CATEGORIES = ['convicted_from_liberty', 'remand', 'supervision', 'measure_68_69', 'youth_home_detention'] as const;
export type ClientCategory = (typeof CLIENT_CATEGORIES)[number];
export const RECORD_TYPES = ['incident', 'security_cell_placement', 'force_use', 'action_plan', 'annual_overview'] as const;
export type RecordType = (typeof RECORD_TYPES)[number];

/** Circular chapter of an incident kind: 3 and 4 carry reporting duties, 5 does not. */
export function incidentChapter(kind: IncidentKind): 3 | 4 | 5 {
  if (kind === 'death' || kind === 'suicide') return 3;
  if (kind === 'other_self_harm_behaviour') return 5;
  return 4;
}

// Identifying and descriptive fields that records carry through the product but that no rule reads.
const common = {
  id: z.union([z.string().max(200), z.number().int()]).optional(),
  journalNumber: z.string().max(100).optional(),
  areaId: z.union([z.string().max(200), z.number().int()]).optional(),
  institutionId: z.union([z.string().max(200), z.number().int()]).optional(),
  notes: z.string().max(10_000).optional(),
};

/** One notice to the area office that the final report will be late (§ 7 stk. 2, § 14 stk. 2). */
const delayNotice = z.strictObject({ notifiedAt: when, expected: when, reason: z.string().max(2000).nullish().transform((v) => v ?? null) });
/** One reclassification between chapters 4 and 5 (§ 11 stk. 2, § 18 stk. 2). */
const reclassification = z.strictObject({ at: when, from: z.enum(INCIDENT_KINDS), to: z.enum(INCIDENT_KINDS) });

const incident = z.strictObject({
  type: z.literal('incident'),
  ...common,
  kind: z.enum(INCIDENT_KINDS),
  occurredAt: when,
  registeredAt: optionalWhen,
  mediaAttention: z.boolean().optional().default(false),
  preliminaryNoticeSentAt: optionalWhen,
  finalReportSubmittedAt: optionalWhen,
  delayNotifiedAt: optionalWhen,
  finalReportExpectedAt: optionalWhen,
  delayReason: z.string().max(2000).nullish(),
  inmateConversationHeldAt: optionalWhen,
  closingLetterSentAt: optionalWhen,
  delayNotices: z.array(delayNotice).max(50).optional().default([]),
  reclassifications: z.array(reclassification).max(50).optional().default([]),
  closingLetterCopySentAt: optionalWhen,
  closedNotReportableAt: optionalWhen,
});

const securityCell = z.strictObject({
  type: z.literal('security_cell_placement'),
  ...common,
  placedAt: when,
  endedAt: optionalWhen,
  followUpHeldAt: optionalWhen,
  followUpPostponedReason: z.string().trim().min(1).max(2000).nullish(),
  followUpRescheduledTo: optionalWhen,
  followUpPostponedAt: optionalWhen,
  followUpOfferedAt: optionalWhen,
  followUpDeclinedAt: optionalWhen,
  followUpNoteAt: optionalWhen,
  caseReviewedAt: optionalWhen,
});

const forceUse = z.strictObject({
  type: z.literal('force_use'),
  ...common,
  occurredAt: when,
  reportFiledAt: optionalWhen,
  complaintReceivedAt: optionalWhen,
  complaintInfoNoted: z.boolean().nullish().transform((v) => v ?? null),
});

const followUp = z.strictObject({ at: when, planUpdatedAt: optionalWhen });

const actionPlan = z.strictObject({
  type: z.literal('action_plan'),
  ...common,
  clientCategory: z.enum(CLIENT_CATEGORIES),
  admittedAt: optionalWhen,
  supervisionEstablishedAt: optionalWhen,
  sentenceStartDate: optionalWhen,
  possibleParoleDate: optionalWhen,
  expectedReleaseDate: optionalWhen,
  expelled: z.boolean().optional().default(false),
  ownerAssignedAt: optionalWhen,
  createdAt: optionalWhen,
  elaboratedAt: optionalWhen,
  evaluations: z.array(when).max(500).optional().default([]),
  transfers: z.array(followUp).max(200).optional().default([]),
  paroleDecisions: z.array(followUp).max(200).optional().default([]),
  municipalityContactedAt: optionalWhen,
  transitionPlacedAt: optionalWhen,
  transitionOwnerAssignedAt: optionalWhen,
});

const annualOverview = z.strictObject({
  type: z.literal('annual_overview'),
  ...common,
  year: z.number().int().min(2015).max(2200),
  submittedAt: optionalWhen,
});

export const recordSchema = z.discriminatedUnion('type', [incident, securityCell, forceUse, actionPlan, annualOverview]);

export type FristRecord = z.output<typeof recordSchema>;
export type IncidentRecord = z.output<typeof incident>;
export type SecurityCellRecord = z.output<typeof securityCell>;
export type ForceUseRecord = z.output<typeof forceUse>;
export type ActionPlanRecord = z.output<typeof actionPlan>;
export type AnnualOverviewRecord = z.output<typeof annualOverview>;
export type RecordInput = z.input<typeof recordSchema>;

/** Each record type's own field names, used to guess a missing `type`. */
const SIGNATURE_FIELDS: Array<[RecordType, string]> = [
  ['incident', 'kind'],
  ['security_cell_placement', 'placedAt'],
  ['action_plan', 'clientCategory'],
  ['annual_overview', 'year'],
  ['force_use', 'occurredAt'],
];

function withType(input: unknown): unknown {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return input;
  const obj = input as Record<string, unknown>;
  if ('type' in obj) return obj;
  if (typeof obj['recordType'] === 'string') {
    const { recordType, ...rest } = obj;
    return { type: recordType, ...rest };
  }
  for (const [type, field] of SIGNATURE_FIELDS) if (field in obj) return { type, ...obj };
  return obj;
}

/** zod's messages, reworded so that each names one field in words a case worker understands. */
function toIssueDetails(i: z.core.$ZodIssue): IssueDetail[] {
  const path = pathOf(i.path);
  if (i.code === 'unrecognized_keys') {
    return i.keys.map((k) => ({ path: [...path, k], message: 'unknown field' }));
  }
  if (i.code === 'invalid_type' && /received undefined/.test(i.message)) {
    return [{ path, message: 'is required' }];
  }
  if (i.code === 'invalid_union' && path.length === 0) {
    return [{ path: ['type'], message: `must be one of ${RECORD_TYPES.join(', ')}` }];
  }
  return [{ path, message: i.message.replace(/^Invalid input: /, '') }];
}

function pathOf(path: ReadonlyArray<PropertyKey>): Array<string | number> {
  return path.map((p) => (typeof p === 'number' ? p : String(p)));
}

export function formatPath(path: ReadonlyArray<string | number>): string {
  return path.reduce<string>((acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), '');
}

/** Ordering constraints: an event cannot precede its cause. Compared by local date when either side is a bare date. */
function before(a: When, b: When): boolean {
  if (a.ms !== null && b.ms !== null) return a.ms < b.ms;
  return a.day < b.day;
}

function orderingIssues(r: FristRecord): IssueDetail[] {
  const issues: IssueDetail[] = [];
  const notBefore = (field: string, value: When | null, causeField: string, cause: When | null): void => {
    if (value && cause && before(value, cause)) {
      issues.push({ path: [field], message: `${field} (${value.text}) is before ${causeField} (${cause.text})` });
    }
  };
  switch (r.type) {
    case 'incident':
      for (const f of ['registeredAt', 'preliminaryNoticeSentAt', 'finalReportSubmittedAt', 'delayNotifiedAt', 'finalReportExpectedAt', 'inmateConversationHeldAt', 'closingLetterSentAt'] as const) {
        notBefore(f, r[f], 'occurredAt', r.occurredAt);
      }
      notBefore('closingLetterSentAt', r.closingLetterSentAt, 'finalReportSubmittedAt', r.finalReportSubmittedAt);
      if (r.finalReportExpectedAt && !r.delayNotifiedAt) {
        issues.push({ path: ['delayNotifiedAt'], message: 'delayNotifiedAt is required with finalReportExpectedAt (when was the area office told?)' });
      }
      if (r.delayNotifiedAt && !r.finalReportExpectedAt) {
        issues.push({ path: ['finalReportExpectedAt'], message: 'finalReportExpectedAt is required with delayNotifiedAt (§ 7 stk. 2: the expected date must be given)' });
      }
      r.delayNotices.forEach((n, i) => {
        if (before(n.notifiedAt, r.occurredAt)) issues.push({ path: ['delayNotices', i, 'notifiedAt'], message: `delayNotices[${i}].notifiedAt (${n.notifiedAt.text}) is before occurredAt (${r.occurredAt.text})` });
        if (before(n.expected, r.occurredAt)) issues.push({ path: ['delayNotices', i, 'expected'], message: `delayNotices[${i}].expected (${n.expected.text}) is before occurredAt (${r.occurredAt.text})` });
      });
      notBefore('closingLetterCopySentAt', r.closingLetterCopySentAt, 'occurredAt', r.occurredAt);
      notBefore('closedNotReportableAt', r.closedNotReportableAt, 'occurredAt', r.occurredAt);
      if (r.closedNotReportableAt && incidentChapter(r.kind) !== 5) {
        issues.push({ path: ['closedNotReportableAt'], message: 'closedNotReportableAt is for chapter 5 cases only (§ 20 stk. 2: closed as not reportable); this kind is reportable' });
      }
      r.reclassifications.forEach((c, i) => {
        const prev = r.reclassifications[i - 1];
        if (before(c.at, r.occurredAt)) issues.push({ path: ['reclassifications', i, 'at'], message: `reclassifications[${i}].at (${c.at.text}) is before occurredAt (${r.occurredAt.text})` });
        if (prev && before(c.at, prev.at)) issues.push({ path: ['reclassifications', i, 'at'], message: `reclassifications[${i}].at (${c.at.text}) is before the previous reclassification (${prev.at.text})` });
        if (prev && prev.to !== c.from) issues.push({ path: ['reclassifications', i, 'from'], message: `reclassifications[${i}].from (${c.from}) is not what the previous reclassification moved to (${prev.to})` });
        if (c.from === c.to || incidentChapter(c.from) === 3 || incidentChapter(c.to) === 3) {
          issues.push({ path: ['reclassifications', i], message: `reclassifications[${i}] must move between two different kinds of chapters 4 and 5 (§ 11 stk. 2, § 18 stk. 2); deaths and suicides are not reclassified` });
        }
      });
      {
        const lastMove = r.reclassifications[r.reclassifications.length - 1];
        if (lastMove && lastMove.to !== r.kind) issues.push({ path: ['kind'], message: `kind (${r.kind}) is not the kind of the last reclassification (${lastMove.to})` });
      }
      break;
    case 'security_cell_placement':
      notBefore('endedAt', r.endedAt, 'placedAt', r.placedAt);
      if ((r.followUpHeldAt || r.followUpPostponedReason || r.followUpRescheduledTo) && !r.endedAt) {
        issues.push({ path: ['endedAt'], message: 'endedAt is required once the follow-up conversation is held or postponed' });
      }
      notBefore('followUpHeldAt', r.followUpHeldAt, 'endedAt', r.endedAt);
      notBefore('followUpRescheduledTo', r.followUpRescheduledTo, 'endedAt', r.endedAt);
      if (r.followUpRescheduledTo && !r.followUpPostponedReason) {
        issues.push({ path: ['followUpPostponedReason'], message: 'followUpPostponedReason is required when the follow-up conversation is moved (only in very special cases, with the reason on record)' });
      }
      if (r.followUpPostponedReason && !r.followUpPostponedAt) {
        issues.push({ path: ['followUpPostponedAt'], message: 'followUpPostponedAt is required with followUpPostponedReason (when was the postponement decided? one decided after the deadline does not undo the breach)' });
      }
      if (r.followUpPostponedAt && !r.followUpPostponedReason) {
        issues.push({ path: ['followUpPostponedReason'], message: 'followUpPostponedReason is required with followUpPostponedAt (only in very special cases, with the reason on record)' });
      }
      if ((r.followUpOfferedAt || r.followUpDeclinedAt || r.followUpNoteAt || r.caseReviewedAt || r.followUpPostponedAt) && !r.endedAt) {
        issues.push({ path: ['endedAt'], message: 'endedAt is required once the follow-up conversation is offered, declined, noted, postponed or the case reviewed' });
      }
      notBefore('followUpPostponedAt', r.followUpPostponedAt, 'endedAt', r.endedAt);
      notBefore('followUpOfferedAt', r.followUpOfferedAt, 'endedAt', r.endedAt);
      notBefore('followUpDeclinedAt', r.followUpDeclinedAt, 'endedAt', r.endedAt);
      notBefore('followUpDeclinedAt', r.followUpDeclinedAt, 'followUpOfferedAt', r.followUpOfferedAt);
      notBefore('followUpNoteAt', r.followUpNoteAt, 'endedAt', r.endedAt);
      notBefore('caseReviewedAt', r.caseReviewedAt, 'endedAt', r.endedAt);
      if (r.followUpDeclinedAt && r.followUpHeldAt) {
        issues.push({ path: ['followUpDeclinedAt'], message: 'followUpDeclinedAt and followUpHeldAt exclude each other: the conversation was either held or declined' });
      }
      break;
    case 'force_use':
      notBefore('reportFiledAt', r.reportFiledAt, 'occurredAt', r.occurredAt);
      notBefore('complaintReceivedAt', r.complaintReceivedAt, 'occurredAt', r.occurredAt);
      break;
    case 'action_plan': {
      if (r.clientCategory === 'measure_68_69') {
        // 004 pkt. 2: supervision clients; placed in an institution, the admission starts the clocks instead.
        if (!r.supervisionEstablishedAt && !r.admittedAt) issues.push({ path: ['supervisionEstablishedAt'], message: 'supervisionEstablishedAt (or admittedAt, when placed in an institution) is required for clientCategory measure_68_69' });
      } else {
        const start = r.clientCategory === 'supervision' ? r.supervisionEstablishedAt : r.admittedAt;
        const startField = r.clientCategory === 'supervision' ? 'supervisionEstablishedAt' : 'admittedAt';
        if (!start) issues.push({ path: [startField], message: `${startField} is required for clientCategory ${r.clientCategory}` });
      }
      if (r.transitionOwnerAssignedAt && !r.transitionPlacedAt) issues.push({ path: ['transitionPlacedAt'], message: 'transitionPlacedAt is required with transitionOwnerAssignedAt' });
      notBefore('transitionOwnerAssignedAt', r.transitionOwnerAssignedAt, 'transitionPlacedAt', r.transitionPlacedAt);
      notBefore('elaboratedAt', r.elaboratedAt, 'createdAt', r.createdAt);
      r.evaluations.forEach((e, i) => {
        const prev = i > 0 ? r.evaluations[i - 1] ?? null : r.elaboratedAt ?? r.createdAt;
        if (prev && before(e, prev)) {
          issues.push({ path: ['evaluations', i], message: `evaluations[${i}] (${e.text}) is before the ${i > 0 ? 'previous evaluation' : 'plan it evaluates'} (${prev.text})` });
        }
      });
      for (const list of ['transfers', 'paroleDecisions'] as const) {
        r[list].forEach((t, i) => {
          if (t.planUpdatedAt && before(t.planUpdatedAt, t.at)) {
            issues.push({ path: [list, i, 'planUpdatedAt'], message: `${list}[${i}].planUpdatedAt (${t.planUpdatedAt.text}) is before ${list}[${i}].at (${t.at.text})` });
          }
        });
      }
      if (r.possibleParoleDate && r.sentenceStartDate && before(r.possibleParoleDate, r.sentenceStartDate)) {
        issues.push({ path: ['possibleParoleDate'], message: 'possibleParoleDate is before sentenceStartDate' });
      }
      break;
    }
    case 'annual_overview':
      break;
  }
  return issues;
}

/** The instant an event happened, for the "not in the future" check. */
function eventStart(r: FristRecord): [string, When] | undefined {
  switch (r.type) {
    case 'incident':
    case 'force_use':
      return ['occurredAt', r.occurredAt];
    case 'security_cell_placement':
      return ['placedAt', r.placedAt];
    default:
      return undefined;
  }
}

// ---------------------------------------------------------------- fast path
//
// zod costs about 12 µs a record, more than computing its deadlines. Valid records in the usual
// shapes are read by hand instead, into exactly the object zod would return (same keys, same key
// order, same values); anything the readers below are not sure of, every invalid record among
// it, goes through zod, so refusals and their messages keep one source. bench/run.ts compares the
// two on every generated record.
//
// The input is read in one `for…in` pass into scratch slots, one per field name. Records arrive
// with their keys in any order and any subset, thousands of different object layouts in a sweep;
// reading `input.occurredAt` by name then misses V8's inline caches every time, while loads
// inside `for (k in input)` use the layout's own key list. The readers assume ordinary data
// properties, as JSON and object literals have (a getter would be called in key order, where zod
// calls it in schema order).

type FieldName =
  | keyof typeof incident.shape
  | keyof typeof securityCell.shape
  | keyof typeof forceUse.shape
  | keyof typeof actionPlan.shape
  | keyof typeof annualOverview.shape;

const schemasByType: Record<RecordType, z.ZodObject> = {
  incident,
  security_cell_placement: securityCell,
  force_use: forceUse,
  action_plan: actionPlan,
  annual_overview: annualOverview,
};

const FIELD_NAMES = [...new Set(RECORD_TYPES.flatMap((t) => Object.keys(schemasByType[t].shape)))] as FieldName[];
/** Field name → scratch slot. */
const SLOT_OF = new Map<string, number>(FIELD_NAMES.map((k, i) => [k, i]));
const F = Object.fromEntries(FIELD_NAMES.map((k, i) => [k, i])) as Record<FieldName, number>;
/** Per record type, which slots its schema has. */
const ALLOWED = Object.fromEntries(
  RECORD_TYPES.map((t) => [t, Uint8Array.from(FIELD_NAMES, (k) => (k in schemasByType[t].shape ? 1 : 0))]),
) as Record<RecordType, Uint8Array>;

// Scratch space of the parse in progress: the value of each slot, the slots present (stamped with
// the number of this parse) and their list. One parse at a time: `busy` sends a nested one (a
// getter calling parseRecord) to zod.
const values: unknown[] = FIELD_NAMES.map(() => undefined);
const stamps = new Int32Array(FIELD_NAMES.length);
const presentSlots = new Int32Array(FIELD_NAMES.length);
let stamp = 0;
let busy = false;

/** zod's `key in input` for a field of the parse in progress. */
function has(slot: number): boolean {
  return stamps[slot] === stamp;
}

/** The value of a field of the parse in progress; undefined when absent. */
function get(slot: number): unknown {
  return stamps[slot] === stamp ? values[slot] : undefined;
}

/** Thrown by a reader that does not vouch for a value; caught in fastParse. */
const NOT_FAST: unique symbol = Symbol('not on the fast path');

function bail(): never {
  throw NOT_FAST;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** An object literal with nothing of its own: `for…in` over it finds what Object.prototype lends. */
const PROTOTYPE_PROBE = {};

function prototypeLendsKeys(): boolean {
  for (const _ in PROTOTYPE_PROBE) return true;
  return false;
}

/** when */
function fastWhen(v: unknown): When {
  if (typeof v === 'string') {
    const w = parseWhen(v);
    if (w) return w;
  }
  return bail();
}

/** optionalWhen: null when absent, undefined or null. */
function fastOptionalWhen(v: unknown): When | null {
  return v === undefined || v === null ? null : fastWhen(v);
}

/** z.string().max(max) */
function fastString(v: unknown, max: number): string {
  return typeof v === 'string' && v.length <= max ? v : bail();
}

/** z.union([z.string().max(200), z.number().int()]) */
function fastIdLike(v: unknown): string | number {
  if (typeof v === 'string' ? v.length <= 200 : Number.isSafeInteger(v)) return v as string | number;
  return bail();
}

/** z.boolean().optional().default(false) */
function fastFlag(v: unknown): boolean {
  return v === undefined ? false : typeof v === 'boolean' ? v : bail();
}

/** z.array(item).max(max).optional().default([]) */
function fastList<T>(v: unknown, max: number, item: (v: unknown) => T): T[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || v.length > max) return bail();
  const out: T[] = [];
  for (let i = 0; i < v.length; i++) out.push(item(v[i]));
  return out;
}

/** z.array(…).optional().default([]) when the list is absent or empty; anything else is zod's. */
function emptyList(v: unknown): never[] {
  return v === undefined || (Array.isArray(v) && v.length === 0) ? [] : bail();
}

function fastFollowUp(v: unknown): { at: When; planUpdatedAt: When | null } {
  if (!isPlainObject(v)) return bail();
  let at: unknown;
  let planUpdatedAt: unknown;
  let count = 0;
  for (const k in v) {
    if (k === 'at') at = v[k];
    else if (k === 'planUpdatedAt') planUpdatedAt = v[k];
    else bail();
    count++;
  }
  if (count !== Object.getOwnPropertyNames(v).length || (Object.getPrototypeOf(v) !== null && prototypeLendsKeys())) bail();
  return { at: fastWhen(at), planUpdatedAt: fastOptionalWhen(planUpdatedAt) };
}

// An optional key that is absent stays absent, one that is present with the value undefined is
// kept as undefined: zod tests presence with `key in input`.
function fastCommon(out: Record<string, unknown>): void {
  if (has(F.id)) out['id'] = get(F.id) === undefined ? undefined : fastIdLike(get(F.id));
  if (has(F.journalNumber)) out['journalNumber'] = get(F.journalNumber) === undefined ? undefined : fastString(get(F.journalNumber), 100);
  if (has(F.areaId)) out['areaId'] = get(F.areaId) === undefined ? undefined : fastIdLike(get(F.areaId));
  if (has(F.institutionId)) out['institutionId'] = get(F.institutionId) === undefined ? undefined : fastIdLike(get(F.institutionId));
  if (has(F.notes)) out['notes'] = get(F.notes) === undefined ? undefined : fastString(get(F.notes), 10_000);
}

function fastIncident(): Record<string, unknown> {
  const out: Record<string, unknown> = { type: 'incident' };
  fastCommon(out);
  const kind = get(F.kind);
  out['kind'] = typeof kind === 'string' && (INCIDENT_KINDS as readonly string[]).includes(kind) ? kind : bail();
  out['occurredAt'] = fastWhen(get(F.occurredAt));
  out['registeredAt'] = fastOptionalWhen(get(F.registeredAt));
  out['mediaAttention'] = fastFlag(get(F.mediaAttention));
  out['preliminaryNoticeSentAt'] = fastOptionalWhen(get(F.preliminaryNoticeSentAt));
  out['finalReportSubmittedAt'] = fastOptionalWhen(get(F.finalReportSubmittedAt));
  out['delayNotifiedAt'] = fastOptionalWhen(get(F.delayNotifiedAt));
  out['finalReportExpectedAt'] = fastOptionalWhen(get(F.finalReportExpectedAt));
  if (has(F.delayReason)) {
    const v = get(F.delayReason);
    out['delayReason'] = v === undefined || v === null ? v : fastString(v, 2000);
  }
  out['inmateConversationHeldAt'] = fastOptionalWhen(get(F.inmateConversationHeldAt));
  out['closingLetterSentAt'] = fastOptionalWhen(get(F.closingLetterSentAt));
  // Histories are rare and nested: a record carrying one is read by zod.
  out['delayNotices'] = emptyList(get(F.delayNotices));
  out['reclassifications'] = emptyList(get(F.reclassifications));
  out['closingLetterCopySentAt'] = fastOptionalWhen(get(F.closingLetterCopySentAt));
  out['closedNotReportableAt'] = fastOptionalWhen(get(F.closedNotReportableAt));
  return out;
}

function fastSecurityCell(): Record<string, unknown> {
  const out: Record<string, unknown> = { type: 'security_cell_placement' };
  fastCommon(out);
  out['placedAt'] = fastWhen(get(F.placedAt));
  out['endedAt'] = fastOptionalWhen(get(F.endedAt));
  out['followUpHeldAt'] = fastOptionalWhen(get(F.followUpHeldAt));
  if (has(F.followUpPostponedReason)) {
    const v = get(F.followUpPostponedReason);
    // .trim().min(1).max(2000): the limits apply to the trimmed text, which is what zod returns.
    const t = v === undefined || v === null ? v : typeof v === 'string' ? v.trim() : bail();
    out['followUpPostponedReason'] = typeof t === 'string' && (t.length < 1 || t.length > 2000) ? bail() : t;
  }
  out['followUpRescheduledTo'] = fastOptionalWhen(get(F.followUpRescheduledTo));
  out['followUpPostponedAt'] = fastOptionalWhen(get(F.followUpPostponedAt));
  out['followUpOfferedAt'] = fastOptionalWhen(get(F.followUpOfferedAt));
  out['followUpDeclinedAt'] = fastOptionalWhen(get(F.followUpDeclinedAt));
  out['followUpNoteAt'] = fastOptionalWhen(get(F.followUpNoteAt));
  out['caseReviewedAt'] = fastOptionalWhen(get(F.caseReviewedAt));
  return out;
}

function fastForceUse(): Record<string, unknown> {
  const out: Record<string, unknown> = { type: 'force_use' };
  fastCommon(out);
  out['occurredAt'] = fastWhen(get(F.occurredAt));
  out['reportFiledAt'] = fastOptionalWhen(get(F.reportFiledAt));
  out['complaintReceivedAt'] = fastOptionalWhen(get(F.complaintReceivedAt));
  const noted = get(F.complaintInfoNoted);
  out['complaintInfoNoted'] = noted === undefined || noted === null ? null : typeof noted === 'boolean' ? noted : bail();
  return out;
}

function fastActionPlan(): Record<string, unknown> {
  const out: Record<string, unknown> = { type: 'action_plan' };
  fastCommon(out);
  const category = get(F.clientCategory);
  out['clientCategory'] = typeof category === 'string' && (CLIENT_CATEGORIES as readonly string[]).includes(category) ? category : bail();
  out['admittedAt'] = fastOptionalWhen(get(F.admittedAt));
  out['supervisionEstablishedAt'] = fastOptionalWhen(get(F.supervisionEstablishedAt));
  out['sentenceStartDate'] = fastOptionalWhen(get(F.sentenceStartDate));
  out['possibleParoleDate'] = fastOptionalWhen(get(F.possibleParoleDate));
  out['expectedReleaseDate'] = fastOptionalWhen(get(F.expectedReleaseDate));
  out['expelled'] = fastFlag(get(F.expelled));
  out['ownerAssignedAt'] = fastOptionalWhen(get(F.ownerAssignedAt));
  out['createdAt'] = fastOptionalWhen(get(F.createdAt));
  out['elaboratedAt'] = fastOptionalWhen(get(F.elaboratedAt));
  out['evaluations'] = fastList(get(F.evaluations), 500, fastWhen);
  out['transfers'] = fastList(get(F.transfers), 200, fastFollowUp);
  out['paroleDecisions'] = fastList(get(F.paroleDecisions), 200, fastFollowUp);
  out['municipalityContactedAt'] = fastOptionalWhen(get(F.municipalityContactedAt));
  out['transitionPlacedAt'] = fastOptionalWhen(get(F.transitionPlacedAt));
  out['transitionOwnerAssignedAt'] = fastOptionalWhen(get(F.transitionOwnerAssignedAt));
  return out;
}

function fastAnnualOverview(): Record<string, unknown> {
  const out: Record<string, unknown> = { type: 'annual_overview' };
  fastCommon(out);
  const year = get(F.year);
  out['year'] = Number.isSafeInteger(year) && (year as number) >= 2015 && (year as number) <= 2200 ? year : bail();
  out['submittedAt'] = fastOptionalWhen(get(F.submittedAt));
  return out;
}

const fastReaders: Record<RecordType, () => Record<string, unknown>> = {
  incident: fastIncident,
  security_cell_placement: fastSecurityCell,
  force_use: fastForceUse,
  action_plan: fastActionPlan,
  annual_overview: fastAnnualOverview,
};

/** The record zod would return for `input`, or undefined when only zod can tell. */
function fastParse(input: unknown): FristRecord | undefined {
  if (busy || !isPlainObject(input)) return undefined;
  busy = true;
  try {
    if (++stamp === 0x7fffffff) {
      stamps.fill(0);
      stamp = 1;
    }
    // zod's strict objects walk `for…in` too, so inherited enumerable keys count as unknown.
    let count = 0;
    for (const k in input) {
      const slot = SLOT_OF.get(k);
      if (slot === undefined) return undefined;
      values[slot] = input[k];
      stamps[slot] = stamp;
      presentSlots[count++] = slot;
    }
    // `for…in` sees enumerable keys only, zod's `key in input` every key: leave anything with a
    // non-enumerable property of its own, or with keys lent by Object.prototype, to zod.
    if (count !== Object.getOwnPropertyNames(input).length) return undefined;
    if (Object.getPrototypeOf(input) !== null && prototypeLendsKeys()) return undefined;
    const type = get(F.type);
    if (typeof type !== 'string' || !Object.hasOwn(fastReaders, type)) return undefined;
    const allowed = ALLOWED[type as RecordType];
    for (let i = 0; i < count; i++) if (allowed[presentSlots[i] as number] !== 1) return undefined;
    return fastReaders[type as RecordType]() as FristRecord;
  } catch (err) {
    if (err === NOT_FAST) return undefined;
    throw err;
  } finally {
    busy = false;
  }
}

// The readers must build what zod builds, key order included, or the two paths would differ:
// checked once at load on a record of each type with every field set, so a field added to one
// side only, or read from the wrong slot, fails every test.
{
  const d = '2020-01-02';
  const t = '2020-01-03T10:00:00+01:00';
  const full: Record<RecordType, Record<string, unknown>> = {
    incident: {
      type: 'incident', kind: 'death', occurredAt: d, registeredAt: t, mediaAttention: true, preliminaryNoticeSentAt: '2020-01-04', finalReportSubmittedAt: '2020-01-05',
      delayNotifiedAt: '2020-01-06', finalReportExpectedAt: '2020-01-07', delayReason: 'r', inmateConversationHeldAt: '2020-01-08', closingLetterSentAt: '2020-01-09',
      delayNotices: [], reclassifications: [], closingLetterCopySentAt: '2020-01-10', closedNotReportableAt: null,
    },
    security_cell_placement: { type: 'security_cell_placement', placedAt: d, endedAt: t, followUpHeldAt: '2020-01-04', followUpPostponedReason: ' r ', followUpRescheduledTo: '2020-01-05',
      followUpPostponedAt: '2020-01-03', followUpOfferedAt: '2020-01-04', followUpDeclinedAt: '2020-01-05', followUpNoteAt: '2020-01-06', caseReviewedAt: '2020-01-07' },
    force_use: { type: 'force_use', occurredAt: d, reportFiledAt: t, complaintReceivedAt: '2020-01-04', complaintInfoNoted: true },
    action_plan: {
      type: 'action_plan', clientCategory: 'remand', admittedAt: d, supervisionEstablishedAt: t, sentenceStartDate: '2020-01-04', possibleParoleDate: '2020-01-05',
      expectedReleaseDate: '2020-01-06', expelled: true, ownerAssignedAt: '2020-01-07', createdAt: '2020-01-08', elaboratedAt: '2020-01-09', evaluations: ['2020-01-10'],
      transfers: [{ at: '2020-01-11', planUpdatedAt: '2020-01-12' }], paroleDecisions: [{ at: '2020-01-13' }], municipalityContactedAt: '2020-01-14',
      transitionPlacedAt: '2020-01-15', transitionOwnerAssignedAt: '2020-01-16',
    },
    annual_overview: { type: 'annual_overview', year: 2020, submittedAt: d },
  };
  for (const type of RECORD_TYPES) {
    const sample = { ...full[type], id: 1, journalNumber: 'j', areaId: 'a', institutionId: 2, notes: 'n' };
    const expected = JSON.stringify(schemasByType[type].parse(sample));
    const actual = JSON.stringify(fastParse(sample) ?? '(not read)');
    if (expected !== actual) throw new Error(`records.ts: the fast path reads ${type} as ${actual}, zod as ${expected}`);
  }
}

/**
 * Validates and normalises a record. Throws DomainError('INVALID_RECORD') with one issue per bad
 * field; the message names the first. `now` (epoch ms) refuses events that have not happened yet.
 */
export function parseRecord(input: unknown, now?: number): FristRecord {
  const typed = withType(input);
  let r = fastParse(typed);
  if (r === undefined) {
    const parsed = recordSchema.safeParse(typed);
    if (!parsed.success) {
      throw invalid(parsed.error.issues.flatMap(toIssueDetails));
    }
    r = parsed.data;
  }
  const issues = orderingIssues(r);
  if (now !== undefined) {
    const start = eventStart(r);
    if (start) {
      const [field, w] = start;
      if (isInFuture(w, now)) issues.push({ path: [field], message: `${field} (${w.text}) is in the future` });
    }
  }
  if (issues.length > 0) throw invalid(issues);
  return r;
}

function invalid(issues: IssueDetail[]): DomainError {
  const first = issues[0];
  const where = first && first.path.length > 0 ? `${formatPath(first.path)}: ` : '';
  const message = first ? `${where}${first.message.replace(/^Invalid input: /, '')}` : 'invalid record';
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
  return new DomainError('INVALID_RECORD', `${message}${more}`, { issues });
}
