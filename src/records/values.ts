/** Conversions between API values (local dates, instants with offset) and database columns. */
import { z } from 'zod';
import { containsCprLike, formatIsoDate, formatLocalInstant, instantOfLocal, normaliseCpr, parseIsoDate, parseWhen } from '../domain/index.js';

export const WHEN_MESSAGE = 'not a date (YYYY-MM-DD) or an instant with offset (e.g. 2026-03-27T14:00:00+01:00)';

export const whenString = z.string().max(40).refine((s) => parseWhen(s) !== undefined, { message: WHEN_MESSAGE });
export const dateString = z.string().max(10).refine((s) => parseIsoDate(s) !== undefined, { message: 'not a date (YYYY-MM-DD)' });
export const NUL_MESSAGE = 'must not contain a NUL character (\\u0000)';
/**
 * Every free-text string the API stores or queries with. Postgres text cannot hold U+0000 (it
 * fails with SQLSTATE 22021), so it is refused here, where the error can name the field.
 */
export function plainString() {
  return z.string().refine((s) => !s.includes('\u0000'), { message: NUL_MESSAGE });
}

export const slug = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be lower-case letters, digits and dashes');
/**
 * Journal numbers go into every staff mail, and those refuse anything CPR-shaped: one such journal
 * number would silence all reminders for its record. The message never repeats the value.
 */
export const journalNumber = z
  .string()
  .trim()
  .min(1)
  .max(100)
  .regex(/^[\p{L}\p{N}./_-]+$/u, 'may contain letters, digits and . / _ -')
  .refine((s) => !containsCprLike(s), { message: 'must not look like a CPR number (6 + 4 digits); use the case\'s journal number, never a personal id' });
export const personName = plainString().trim().min(1).max(200);
/** Never echoes the value: a CPR number must not end up in an error message or a log line. */
export const cprString = z.string().max(20).transform((s, ctx) => {
  const n = normaliseCpr(s);
  if (!n) {
    ctx.addIssue({ code: 'custom', message: 'not a valid CPR number (ddmmyy-xxxx with a real date)' });
    return z.NEVER;
  }
  return n;
});

/** An instant column from a date or an instant; a bare date means local midnight of that day. */
export function toTimestamp(text: string): Date {
  const w = parseWhen(text);
  if (!w) throw new RangeError(WHEN_MESSAGE);
  return new Date(w.ms ?? instantOfLocal(w.day, 0));
}

export function toTimestampOrNull(text: string | null | undefined): Date | null {
  return text === null || text === undefined ? null : toTimestamp(text);
}

/** A date column: the local date of whatever was given. */
export function toDateOnly(text: string | null | undefined): string | null {
  if (text === null || text === undefined) return null;
  const w = parseWhen(text);
  if (!w) throw new RangeError(WHEN_MESSAGE);
  return formatIsoDate(w.day);
}

export function iso(d: Date | null | undefined): string | null {
  return d ? formatLocalInstant(d.getTime()) : null;
}

/**
 * Role and scope go together, for API tokens and people alike: an area role names its area, an
 * institution role its institution, and the others name neither.
 */
export function refineRoleScope(t: { role: string; areaId?: string | null | undefined; institutionId?: string | null | undefined }, ctx: z.RefinementCtx): void {
  if (t.role === 'area' && !t.areaId) ctx.addIssue({ code: 'custom', path: ['areaId'], message: 'is required for role area' });
  if (t.role !== 'area' && t.areaId) ctx.addIssue({ code: 'custom', path: ['areaId'], message: 'is only for role area' });
  if (t.role === 'institution' && !t.institutionId) ctx.addIssue({ code: 'custom', path: ['institutionId'], message: 'is required for role institution' });
  if (t.role !== 'institution' && t.institutionId) ctx.addIssue({ code: 'custom', path: ['institutionId'], message: 'is only for role institution' });
}
