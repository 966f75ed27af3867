/**
 * The compliance figures as files a Danish user opens with a double click: CSV with `;`, decimal
 * comma, UTF-8 byte-order mark and Danish headers (Danish Excel splits it into columns), and XLSX
 * (exceljs) with numbers as numbers, shares formatted as percentages and the months as dates. Both
 * are built from one list of columns, so they hold the same figures as the page.
 */
import { csvLines, formatDecimal, percentOf, type Lang } from '../../domain/index.js';
import { t } from '../i18n.js';
import { decidedOf, totalOf, type ComplianceRow, type TrendSeries } from './compliance.js';

type Kind = 'text' | 'int' | 'pct' | 'month';

interface Column<R> {
  header: string;
  kind: Kind;
  width: number;
  value: (r: R) => string | number | undefined;
}

function mainColumns(lang: Lang, targets: Readonly<Record<string, number>>): Array<Column<ComplianceRow>> {
  const c = t(lang).cp.columns;
  const share = (pick: (r: ComplianceRow) => number) => (r: ComplianceRow) => percentOf(pick(r), totalOf(r));
  return [
    { header: c.areaId, kind: 'text', width: 14, value: (r) => r.areaId },
    { header: c.area, kind: 'text', width: 28, value: (r) => r.areaName },
    { header: c.institutionId, kind: 'text', width: 16, value: (r) => r.institutionId },
    { header: c.institution, kind: 'text', width: 26, value: (r) => r.institutionName },
    { header: c.ruleId, kind: 'text', width: 28, value: (r) => r.ruleId },
    { header: c.rule, kind: 'text', width: 40, value: (r) => r.ruleTitle },
    { header: c.month, kind: 'month', width: 15, value: (r) => r.month },
    { header: c.total, kind: 'int', width: 8, value: (r) => totalOf(r) },
    { header: c.met, kind: 'int', width: 12, value: (r) => r.met },
    { header: c.metLate, kind: 'int', width: 12, value: (r) => r.metLate },
    { header: c.breached, kind: 'int', width: 12, value: (r) => r.breached },
    { header: c.open, kind: 'int', width: 8, value: (r) => r.open },
    { header: c.pctMet, kind: 'pct', width: 14, value: share((r) => r.met) },
    { header: c.pctMetLate, kind: 'pct', width: 14, value: share((r) => r.metLate) },
    { header: c.pctBreached, kind: 'pct', width: 14, value: share((r) => r.breached) },
    { header: c.pctOpen, kind: 'pct', width: 14, value: share((r) => r.open) },
    { header: c.decided, kind: 'int', width: 10, value: (r) => decidedOf(r) },
    { header: c.pctOnTimeOfDecided, kind: 'pct', width: 14, value: (r) => (decidedOf(r) > 0 ? percentOf(r.met, decidedOf(r)) : undefined) },
    { header: c.target, kind: 'pct', width: 10, value: (r) => targets[r.ruleId] },
  ];
}

interface TrendRow {
  label: string;
  month: string;
  decided: number;
  met: number;
  share: number | undefined;
  target: number | undefined;
}

function trendColumns(lang: Lang, groupHeader: string): Array<Column<TrendRow>> {
  const c = t(lang).cp.columns;
  const d = t(lang);
  return [
    { header: groupHeader, kind: 'text', width: 40, value: (r) => r.label },
    { header: c.month, kind: 'month', width: 15, value: (r) => r.month },
    { header: c.decided, kind: 'int', width: 10, value: (r) => r.decided },
    { header: c.met, kind: 'int', width: 12, value: (r) => r.met },
    { header: c.pctOnTimeOfDecided, kind: 'pct', width: 14, value: (r) => r.share },
    { header: c.target, kind: 'pct', width: 10, value: (r) => r.target },
    { header: c.reached, kind: 'text', width: 10, value: (r) => (r.target === undefined || r.share === undefined ? undefined : r.share >= r.target ? d.yes : d.no) },
  ];
}

function trendRows(series: readonly TrendSeries[]): TrendRow[] {
  return series.flatMap((s) => s.points.map((p) => ({ label: s.label, month: p.month, decided: p.decided, met: p.met, share: p.share, target: s.target })));
}

/** CSV for Danish Excel: `;` between fields, decimal comma, CRLF, and a byte-order mark so æ, ø and å arrive as UTF-8. */
export function complianceCsv(rows: readonly ComplianceRow[], targets: Readonly<Record<string, number>>, lang: Lang): string {
  const cols = mainColumns(lang, targets);
  const cell = (col: Column<ComplianceRow>, r: ComplianceRow): string | number => {
    const v = col.value(r);
    if (v === undefined) return '';
    return col.kind === 'pct' && typeof v === 'number' ? formatDecimal(v, 'da') : v;
  };
  return `\uFEFF${csvLines([cols.map((c) => c.header), ...rows.map((r) => cols.map((c) => cell(c, r)))], ';')}`;
}

export const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

/**
 * The workbook: the figures (as the CSV) and the monthly trend. exceljs is loaded on first use:
 * it is large, and only this export needs it. Text cells stay text (a leading "=" is no formula).
 */
export async function complianceXlsx(rows: readonly ComplianceRow[], series: readonly TrendSeries[], trendHeader: string, targets: Readonly<Record<string, number>>, lang: Lang, now: Date): Promise<Buffer> {
  const mod = await import('exceljs');
  const ExcelJS = mod.default;
  const d = t(lang).cp;
  const wb = new ExcelJS.Workbook();
  wb.creator = 'fristvagt';
  wb.created = now;
  wb.modified = now;
  const sheet = <R>(name: string, cols: Array<Column<R>>, data: readonly R[]) => {
    const ws = wb.addWorksheet(name, { views: [{ state: 'frozen', ySplit: 1 }] });
    ws.columns = cols.map((c) => ({ header: c.header, width: c.width, style: c.kind === 'pct' ? { numFmt: '0.0 %' } : c.kind === 'month' ? { numFmt: 'mmmm yyyy' } : c.kind === 'int' ? { numFmt: '0' } : {} }));
    for (const r of data) {
      ws.addRow(cols.map((c) => {
        const v = c.value(r);
        if (v === undefined) return null;
        // Percent → the fraction Excel's % format shows (33.3 → 0.333, without a binary remainder).
        if (c.kind === 'pct' && typeof v === 'number') return Math.round(v * 10) / 1000;
        if (c.kind === 'month' && typeof v === 'string') {
          const [y, m] = v.split('-').map(Number) as [number, number];
          return new Date(Date.UTC(y, m - 1, 1));
        }
        return v;
      }));
    }
    ws.getRow(1).font = { bold: true };
    ws.getRow(1).alignment = { wrapText: true, vertical: 'top' };
    ws.autoFilter = { from: { row: 1, column: 1 }, to: { row: 1, column: cols.length } };
  };
  sheet(d.sheetMain, mainColumns(lang, targets), rows);
  sheet(d.sheetTrend, trendColumns(lang, trendHeader), trendRows(series));
  return Buffer.from(await wb.xlsx.writeBuffer());
}
