/**
 * Figures as people read them: one percentage formatter for every page, mail and export ("50 %",
 * "50,5 %" in Danish; "50%", "50.5%" in English), decimal commas, and CSV fields a spreadsheet
 * cannot run as formulas.
 */
import type { Lang } from './rules.js';

/** n of total as a percentage rounded to one decimal (0 when total is 0). */
export function percentOf(n: number, total: number): number {
  return total === 0 ? 0 : Math.round((1000 * n) / total) / 10;
}

/** A number with at most `decimals` decimals, no trailing zeros, in the language's notation (decimal comma in Danish). */
export function formatDecimal(v: number, lang: Lang, decimals = 1): string {
  const f = 10 ** decimals;
  const s = String(Math.round(v * f) / f);
  return lang === 'da' ? s.replace('.', ',') : s;
}

/**
 * The one percentage formatter: a value in percent (0–100), one decimal at most, ",0" left out.
 * Danish puts a (no-break) space before the sign, English none.
 */
export function formatPercent(value: number, lang: Lang): string {
  return lang === 'da' ? `${formatDecimal(value, lang)}\u00a0%` : `${formatDecimal(value, lang)}%`;
}

/** "n of total" as a percentage, formatted. */
export function formatShare(n: number, total: number, lang: Lang): string {
  return formatPercent(percentOf(n, total), lang);
}

/**
 * One CSV field (RFC 4180 quoting). A leading = + - @ (or tab, CR) is defused with an apostrophe so
 * a spreadsheet never runs a cell as a formula; numbers are written as they are. With `;` between
 * fields a decimal comma needs no quotes (Danish Excel then reads "33,3" as a number).
 */
export function csvField(v: string | number, sep: ',' | ';' = ','): string {
  let s = String(v);
  if (typeof v === 'string' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return (sep === ';' ? /[";\r\n]/ : /[",;\r\n]/).test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** CSV lines (CRLF), fields separated by `sep`. */
export function csvLines(rows: ReadonlyArray<ReadonlyArray<string | number>>, sep: ',' | ';'): string {
  return `${rows.map((r) => r.map((v) => csvField(v, sep)).join(sep)).join('\r\n')}\r\n`;
}
