import { describe, expect, it } from 'vitest';
import { csvField, csvLines, formatDecimal, formatPercent, formatShare, percentOf } from '../../src/domain/index.js';
import { monthsBetween, trendSeries, type ComplianceRow } from '../../src/ui/data/compliance.js';

describe('the one percentage formatter', () => {
  it.each([
    [50, 'da', '50\u00a0%'],
    [50.5, 'da', '50,5\u00a0%'],
    [50.04, 'da', '50\u00a0%'],
    [33.3333, 'da', '33,3\u00a0%'],
    [99.96, 'da', '100\u00a0%'],
    [0, 'da', '0\u00a0%'],
    [50.5, 'en', '50.5%'],
    [100, 'en', '100%'],
  ] as const)('%s in %s is %s', (v, lang, want) => {
    expect(formatPercent(v, lang)).toBe(want);
  });

  it('takes n of total to one decimal, and 0 of nothing as 0', () => {
    expect(percentOf(1, 3)).toBe(33.3);
    expect(percentOf(2, 3)).toBe(66.7);
    expect(percentOf(0, 0)).toBe(0);
    expect(formatShare(1, 2, 'da')).toBe('50\u00a0%');
    expect(formatShare(1, 8, 'da')).toBe('12,5\u00a0%');
    expect(formatDecimal(92.5, 'da')).toBe('92,5');
    expect(formatDecimal(92.5, 'en')).toBe('92.5');
  });
});

describe('CSV fields', () => {
  it('quotes what would split a row, per separator, and defuses formulas', () => {
    expect(csvField('33,3', ';')).toBe('33,3');
    expect(csvField('33,3', ',')).toBe('"33,3"');
    expect(csvField('a;b', ';')).toBe('"a;b"');
    expect(csvField('say "hi"', ';')).toBe('"say ""hi"""');
    expect(csvField('=SUM(A1)', ';')).toBe("'=SUM(A1)");
    expect(csvField('-1', ';')).toBe("'-1");
    expect(csvField(-1, ';')).toBe('-1');
    expect(csvLines([['a', 1], ['b;c', 2]], ';')).toBe('a;1\r\n"b;c";2\r\n');
  });
});

describe('the monthly trend', () => {
  const row = (month: string, met: number, metLate: number, breached: number, open: number, ruleId = 'force.report'): ComplianceRow => ({ areaId: 'a', areaName: 'A', institutionId: 'i', institutionName: 'I', ruleId, ruleTitle: ruleId, month, met, metLate, breached, open });

  it('has every month of the period, the on-time share of the decided ones, and the rule\'s target', () => {
    expect(monthsBetween('2025-11', '2026-02')).toEqual(['2025-11', '2025-12', '2026-01', '2026-02']);
    const [s] = trendSeries([row('2025-12', 1, 1, 1, 5), row('2026-02', 0, 0, 0, 2)], { from: '2025-11', to: '2026-02' }, 'rule', { 'force.report': 90 });
    expect(s?.target).toBe(90);
    expect(s?.points.map((p) => [p.month, p.decided, p.share])).toEqual([['2025-11', 0, undefined], ['2025-12', 3, 33.3], ['2026-01', 0, undefined], ['2026-02', 0, undefined]]);
  });

  it('gives areas and institutions a target only when one rule is chosen', () => {
    const rows = [row('2026-01', 1, 0, 0, 0), row('2026-01', 0, 0, 1, 0, 'plan.create')];
    expect(trendSeries(rows, { from: '2026-01', to: '2026-01' }, 'area', { 'force.report': 90 })[0]?.target).toBeUndefined();
    const one = trendSeries([rows[0] as ComplianceRow], { from: '2026-01', to: '2026-01', rule: 'force.report' }, 'area', { 'force.report': 90 });
    expect(one[0]?.target).toBe(90);
    expect(one[0]?.points[0]?.share).toBe(100);
  });
});
