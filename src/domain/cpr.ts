/**
 * CPR numbers (Danish personal identification numbers): ddmmyy-ssss. Validation checks the shape and
 * that the date part is a real date; the modulus-11 check is not applied (numbers issued since 2007
 * need not satisfy it).
 */
import { daysInMonth } from './dates.js';

const CPR = /^(\d{2})(\d{2})(\d{2})-?(\d{4})$/;

/** The 10 digits without a dash, or undefined when the value is not a CPR number. */
export function normaliseCpr(value: string): string | undefined {
  const m = CPR.exec(value.trim());
  if (!m) return undefined;
  const dd = Number(m[1]);
  const mm = Number(m[2]);
  const yy = Number(m[3]);
  // The century follows from the 7th digit; the leap-year check only needs a year with the right yy.
  if (mm < 1 || mm > 12 || dd < 1 || dd > daysInMonth(2000 + yy, mm)) return undefined;
  return `${m[1]}${m[2]}${m[3]}${m[4]}`;
}

export const CPR_MASK = 'XXXXXX-XXXX';

export function formatCpr(digits: string): string {
  return `${digits.slice(0, 6)}-${digits.slice(6)}`;
}

/**
 * Anything that looks like a CPR number inside free text (for log and message scrubbing). The date
 * part is deliberately not checked: a masked case number costs little, a missed CPR number a lot.
 * People type the separator as a dash, a space, an en dash (word processors turn "-" into "–")
 * or leave it out.
 */
export const CPR_IN_TEXT = /\b\d{6}[-\u2010-\u2015\u2212 \u00a0]?\d{4}\b/g;

/** The same pattern without the global flag, whose `lastIndex` would make repeated `test` calls alternate. */
const CPR_LIKE = new RegExp(CPR_IN_TEXT.source);

export function scrubCpr(text: string): string {
  return text.replace(CPR_IN_TEXT, CPR_MASK);
}

/** Whether the text holds something CPR-shaped (what scrubCpr would mask, and staff mails refuse). */
export function containsCprLike(text: string): boolean {
  return CPR_LIKE.test(text);
}
