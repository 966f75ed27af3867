/**
 * Validation messages as the UI shows them: the one place where a service's or zod's message
 * becomes the reader's language. The record, master data, token, escalation and settings services
 * speak English (the API keeps it: clients match on it); every UI form shows its issues through
 * here, so a Danish page says "Må ikke ligge i fremtiden." where the API says "is in the future".
 * The patterns are the messages of src/records/*, src/domain/records.ts, src/worker/settings.ts and
 * zod's defaults; the texts live in i18n.ts (`vi` in both languages, and ISSUES_DA: the record
 * service's and engine's own refusals, Danish only, tried first on a Danish page). A message no
 * pattern knows (one a service wrote in Danish already: "skal udfyldes") is shown as it came.
 */
import { scrubCpr, type Lang } from '../domain/index.js';
import type { FieldIssue } from '../records/errors.js';
import { fmtDay, fmtInstant, fmtShortDay, formDateTimeValue } from './format.js';
import { ISSUES_DA, t, type Dict } from './i18n.js';
import { KIND_LABELS } from './pages/record.js';

type Texts = Dict['vi'];
/** A field name the message mentions → its label, quoted for use inside a sentence. */
type Quote = (apiField: string) => string;
type Rule = [RegExp, (m: RegExpExecArray, v: Texts, q: Quote) => string];

/** An ISO value quoted in a message, the way the forms show it (18.11.2026 14:05, 18.11.2026). */
function shown(value: string): string {
  if (/^\d{4}-\d{2}-\d{2}T/.test(value)) return formDateTimeValue(value);
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) return fmtShortDay(value);
  return value;
}

/** A value quoted in a record's message: an instant, a date or a kind, as the record page shows it. */
function recordValue(lang: Lang, text: string): string {
  if (/^\d{4}-\d{2}-\d{2}T/.test(text)) return fmtInstant(text, lang);
  if (/^\d{4}-\d{2}-\d{2}$/.test(text)) return fmtDay(text, lang);
  return KIND_LABELS[lang][text] ?? text;
}

const g = (m: RegExpExecArray, i: number): string => m[i] ?? '';

const RULES: Rule[] = [
  [/^is required$/, (_m, v) => v.required],
  [/^(?:unknown field|Unrecognized keys?: .*)$/, (_m, v) => v.unknownField],
  [/^is in the future$/, (_m, v) => v.inFuture],
  [/^(\S+) \(([^)]*)\) is in the future$/, (m, v, q) => v.fieldInFuture(q(g(m, 1)), shown(g(m, 2)))],
  [/^(\S+) \(([^)]*)\) is before (\S+) \(([^)]*)\)(?:,.*)?$/, (m, v, q) => v.fieldBefore(q(g(m, 1)), shown(g(m, 2)), q(g(m, 3)), shown(g(m, 4)))],
  [/^(\S+) \(([^)]*)\) is before the (previous \w+|plan it evaluates) \(([^)]*)\)$/, (m, v, q) => v.fieldBefore(q(g(m, 1)), shown(g(m, 2)), g(m, 3), shown(g(m, 4)))],
  [/^(\w+) is before (\w+)$/, (m, v, q) => v.fieldBeforePlain(q(g(m, 1)), q(g(m, 2)))],
  // Master data: an absence's "until" before its "from".
  [/^is before from$/, (_m, v) => v.untilBeforeFrom],
  [/^is before (\w+)$/, (m, v, q) => v.before(q(g(m, 1)))],
  [/^(?:not a date(?: \((?:YYYY-MM-DD|dd\.mm\.yyyy)\))?|Invalid ISO date)$/, (_m, v) => v.notDate],
  [/^(?:not a date and time.*|Invalid ISO datetime)$/, (_m, v) => v.notDateTime],
  [/^"(.*)" is not a date \(YYYY-MM-DD\) or an instant/, (m, v) => v.notDateOrInstant(g(m, 1))],
  [/^must be a time of day/, (_m, v) => v.notTime],
  [/^not a month \(YYYY-MM\)$/, (_m, v) => v.notMonth],
  [/^is after (\w+)$/, (m, v, q) => v.after(q(g(m, 1)))],
  [/^\S+: "(.*)" is not a closure day/, (m, v) => v.notClosureDay(g(m, 1))],
  [/^(?:Invalid input: )?expected \w+, received undefined$/, (_m, v) => v.required],
  [/^(?:(?:Invalid input: )?expected (?:number|int), received .*|must be a whole number from 0)$/, (_m, v) => v.notInteger],
  [/^(?:Invalid input: )?expected string, received .*$/, (_m, v) => v.notText],
  [/^(?:Invalid input: )?expected boolean, received .*$/, (_m, v) => v.notYesNo],
  [/^(?:Invalid input: )?expected array, received .*$/, (_m, v) => v.notList],
  [/^Too small: expected number to be >=?(-?[\d.]+)$/, (m, v) => v.min(g(m, 1))],
  [/^Too big: expected number to be <=?(-?[\d.]+)$/, (m, v) => v.max(g(m, 1))],
  [/^Too small: expected string to have >=?\s?(\d+) characters?$/, (m, v) => v.minChars(g(m, 1))],
  [/^Too big: expected string to have <=?\s?(\d+) characters?$/, (m, v) => v.maxChars(g(m, 1))],
  [/^Too small: expected array to have >=?(\d+) items?$/, (m, v) => v.minItems(g(m, 1))],
  [/^Too big: expected array to have <=?(\d+) items?$/, (m, v) => v.maxItems(g(m, 1))],
  [/^(?:Invalid email address|not a valid e-mail address)$/, (_m, v) => v.email],
  [/^(?:Invalid option: expected one of .*|must be one of .*|(?:Invalid input: )?expected (?:true|false)|Invalid UUID)$/, (_m, v) => v.oneOf],
  [/^(?:unknown rule id|unknown rule \S+)$/, (_m, v) => v.unknownRule],
  [/^rule \S+ has no parameter \S+$/, (_m, v) => v.noParameter],
  [/^stage ids must be unique$/, (_m, v) => v.stageIdsUnique],
  [/^(?:must look like reminder-… or escalation-…|must start with \w+)$/, (_m, v) => v.stageIdKind],
  [/^from must be before to$/, (_m, v) => v.windowOrder],
  [/^already exists$/, (_m, v) => v.exists],
  [/^already exists \(stored by someone else meanwhile\)$/, (_m, v) => v.existsMeanwhile],
  [/^refers to something that does not exist$/, (_m, v) => v.dangling],
  [/^unknown institution "(.*)"$/, (m, v) => v.unknownInstitution(g(m, 1))],
  [/^unknown area "(.*)"$/, (m, v) => v.unknownArea(g(m, 1))],
  [/^unknown staff member/, (_m, v) => v.unknownStaff],
  [/^must be a staff member of area (\S+) \(the plan's area\)$/, (m, v) => v.staffOfArea(g(m, 1))],
  // Master data: a staff member's institution and substitute stay in their area; tokens and their scope.
  [/^must be an institution of area /, (_m, v) => v.sameAreaInstitution],
  [/^must be a staff member of area /, (_m, v) => v.sameAreaSubstitute],
  [/^cannot be the staff member themself$/, (_m, v) => v.self],
  [/^must be lower-case letters, digits and dashes$/, (_m, v) => v.slug],
  [/^is required for role area$/, (_m, v) => v.requiredForArea],
  [/^is only for role area$/, (_m, v) => v.onlyForArea],
  [/^is required for role institution$/, (_m, v) => v.requiredForInstitution],
  [/^is only for role institution$/, (_m, v) => v.onlyForInstitution],
  [/^stale version$/, (_m, v) => v.staleVersion],
  // People (src/records/users.ts).
  [/^is already in use by another user$/, (_m, v) => v.emailTaken],
  [/^is the last active administrator$/, (_m, v) => v.lastAdmin],
  [/^is the single sign-on directory's$/, (_m, v) => v.ssoPassword],
  [/^does not match the password$/, (_m, v) => v.passwordsDiffer],
  [/^is not the current version$/, (_m, v) => v.staleUser],
  [/^must be at least (\d+) characters$/, (m, v) => v.minChars(g(m, 1))],
  [/^must be at most (\d+) characters$/, (m, v) => v.maxChars(g(m, 1))],
  [/^is a staff member of another area$/, (_m, v) => v.staffOtherArea],
  [/^the user is deactivated$/, (_m, v) => v.userDeactivated],
  // Tokens: an expiry date (src/records/tokens.ts).
  [/^must be in the future$/, (_m, v) => v.mustBeFuture],
  [/^not a valid CPR number/, (_m, v) => v.notCpr],
  [/^must not look like a CPR number/, (_m, v) => v.looksLikeCpr],
  [/^must not contain a NUL character/, (_m, v) => v.nul],
  [/^choose one of the listed steps$/, (_m, v) => v.chooseStep],
  [/^unknown form$/, (_m, v) => v.unknownForm],
  [/^no such transfer on this plan$/, (_m, v) => v.noTransfer],
  [/^no such parole decision on this plan$/, (_m, v) => v.noDecision],
  [/^the report must be filed before its § 8 note is added$/, (_m, v) => v.reportBeforeNote],
  [/^(?:only a chapter 5 incident|closedNotReportableAt is for chapter 5 cases only)/, (_m, v) => v.chapter5Only],
  [/^(?:reclassification moves an incident between chapters 4 and 5 only|reclassifications\[\d+\] must move between)/, (_m, v) => v.reclassifyChapters],
  [/^(?:this incident has been reclassified|kind \(.*\) is not the kind of the last reclassification)/, (_m, v) => v.reclassifiedKind],
  [/^endedAt is required once the follow-up conversation/, (_m, v) => v.endedFirst],
  [/^followUpDeclinedAt and followUpHeldAt exclude each other/, (_m, v) => v.heldOrDeclined],
  [/^(\w+) is required with (\w+)/, (m, v, q) => v.requiredWith(q(g(m, 1)), q(g(m, 2)))],
  [/^(\w+)(?: \(or \w+, when placed in an institution\))? is required\b/, (m, v, q) => v.requiredField(q(g(m, 1)))],
  [/^is a halfway house \(pension\)/, (_m, v) => v.halfwayHouse],
  [/^refused by the database/, (_m, v) => v.dbRefused],
  [/^Invalid input$/, (_m, v) => v.invalid],
];

/** One issue's message in the reader's language; `label` names the fields a message mentions. */
export function issueMessage(lang: Lang, message: string, label: (path: string) => string = (p) => fieldLabel(lang, p)): string {
  const text = scrubCpr(message).trim();
  if (lang === 'da') {
    for (const [re, render] of ISSUES_DA) {
      const m = re.exec(text);
      if (m) return render(m, { label, value: (v) => recordValue(lang, v) });
    }
  }
  const d = t(lang);
  const open = lang === 'da' ? '«' : '“';
  const close = lang === 'da' ? '»' : '”';
  const quote: Quote = (f) => `${open}${label(f)}${close}`;
  for (const [re, render] of RULES) {
    const m = re.exec(text);
    if (m) return render(m, d.vi, quote);
  }
  return text;
}

/**
 * A field's label: the dictionary's name for the path (an event's field without its `event.`), for
 * the list it is in (`delayNotices[0].notifiedAt` → the list's label) or for its last part
 * (`transfers[0].at` → "Tidspunkt").
 */
export function fieldLabel(lang: Lang, path: string): string {
  const fields = t(lang).fields;
  const parts = path.replace(/^event\./, '').split(/[.[\]]+/).filter(Boolean);
  return fields[path] ?? fields[path.replace(/^event\./, '')] ?? fields[parts[0] ?? ''] ?? fields[parts[parts.length - 1] ?? ''] ?? path;
}

/** Issues with their messages in the reader's language (paths unchanged). */
export function localIssues(lang: Lang, issues: readonly FieldIssue[], label?: (path: string) => string): FieldIssue[] {
  return issues.map((i) => ({ path: i.path, message: issueMessage(lang, i.message, label) }));
}

/** The first message per field path, in the reader's language: what a form shows next to each field. */
export function fieldErrors(lang: Lang, issues: readonly FieldIssue[], label?: (path: string) => string): Map<string, string> {
  const out = new Map<string, string>();
  for (const i of issues) if (!out.has(i.path)) out.set(i.path, issueMessage(lang, i.message, label));
  return out;
}

/** Messages that, said of a field left empty, only mean it must be filled in (zod's text for "" is not an e-mail address, not a slug, no option…). */
const EMPTY_MEANS_REQUIRED = /^(?:is required$|not a valid e-mail address|Invalid email address|must be lower-case letters, digits and dashes|Invalid option|Invalid UUID|not a date|Too small: expected string to have >=\s?1 characters?$)/;

/**
 * The service's issues by form field, for a form whose field names differ from the API's paths:
 * `fieldOf` maps an issue path to the field's name (undefined: no such field, listed in the summary
 * only); `valueOf` says whether it was left empty (then a format complaint reads "Skal udfyldes.").
 * The summary keeps the API's messages (errorSummary translates them), under the field's name.
 */
export function formErrors(lang: Lang, issues: readonly FieldIssue[], fieldOf: (path: string) => string | undefined, valueOf: (name: string) => string | undefined): { byField: Map<string, string>; summary: FieldIssue[] } {
  const byField = new Map<string, string>();
  const summary: FieldIssue[] = [];
  for (const i of issues) {
    const name = fieldOf(i.path);
    const message = name !== undefined && (valueOf(name) ?? '') === '' && EMPTY_MEANS_REQUIRED.test(i.message) ? 'is required' : i.message;
    if (name !== undefined && !byField.has(name)) byField.set(name, issueMessage(lang, message));
    summary.push({ path: name ?? i.path, message });
  }
  return { byField, summary };
}
