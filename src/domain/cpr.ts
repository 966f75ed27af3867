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

/** Anything that looks like a CPR number inside free text (for log and message scrubbing). */
export const CPR_IN_TEXT = /\b\d{6}-?\d{4}\b/g;

export function scrubCpr(text: string): string {
  return text.replace(CPR_IN_TEXT, CPR_MASK);
}
