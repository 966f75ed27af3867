/**
 * Compliance over HTTP against real Postgres: every bar, figure and cell leads to a list of exactly
 * the deadlines it counts (for the administrator and for scoped roles, which see nothing outside
 * their scope), the monthly trend with the administrator's target (stored through the audited
 * settings service; bad input named in Danish, nothing written), and the exports a Danish user
 * opens: CSV with BOM, `;`, decimal comma and Danish headers, and XLSX read back with exceljs.
 */
import ExcelJS from 'exceljs';
import { and, desc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLog, settings as settingsTable } from '../../src/db/schema.js';
import { seedDemo } from '../../src/records/demo.js';
import type { ServiceContext } from '../../src/records/service.js';
import { aggregate, loadCompliance, loadComplianceCases, OUTCOME_OF, SEGMENTS, totalOf } from '../../src/ui/data/compliance.js';
import { ADMIN_TOKEN, createTokens, seedMasterData, startTestApp, type TestApp } from '../support/app.js';
import { Client } from '../support/ui-client.js';

const NOW = '2026-11-18T10:00:00+01:00'; // a Wednesday
const ODD_NAME = '=Fængsel; Syd "A"';
const ADMIN = { id: 'test', name: 'test', role: 'admin' as const };

function unescape(s: string): string {
  return s.replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>');
}

/** Every drill-through link of a page with the number it shows. */
function drillLinks(body: string): Array<{ href: string; count: number }> {
  return [...body.matchAll(/<a href="(\/compliance\/cases\?[^"]*)" data-count="(\d+)"/g)].map((m) => ({ href: unescape(m[1] as string), count: Number(m[2]) }));
}

function caseTotal(body: string): number {
  const m = /id="case-count" data-total="(\d+)"/.exec(body);
  if (!m) throw new Error('no case count on the page');
  return Number(m[1]);
}

function caseRows(body: string): string[] {
  const tbody = /<table id="cases">[\s\S]*?<tbody>([\s\S]*?)<\/tbody>/.exec(body)?.[1] ?? '';
  return [...tbody.matchAll(/<tr data-outcome="[^"]+">[\s\S]*?<\/tr>/g)].map((m) => m[0]);
}

/** RFC 4180 with `;`: quoted fields may hold `;`, `"` (doubled) and line breaks. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ';') {
      row.push(cell);
      cell = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i++;
    } else cell += c;
  }
  if (cell !== '' || row.length > 0) rows.push([...row, cell]);
  return rows;
}

describe('compliance: drill-through, trend with target, exports (Postgres)', () => {
  let t: TestApp;
  let ctx: ServiceContext;
  let tokens: Record<string, { id: string; token: string }>;
  const admin = () => {
    const c = new Client(t);
    return c.login(ADMIN_TOKEN).then(() => c);
  };

  beforeAll(async () => {
    t = await startTestApp('postgres', NOW);
    await seedMasterData(t);
    ctx = { db: t.db.database.db, clock: () => t.clock.now, closureDays: [] };
    // A year of invented records in three areas, six institutions.
    await seedDemo(ctx, { records: 90 });
    // And four use-of-force reports whose figures are known, in an institution whose name a spreadsheet must not run.
    const inst = await t.req('POST', '/api/institutions', { body: { id: 'syd', areaId: 'nordjylland', name: ODD_NAME, kind: 'prison', dutyManagerEmail: 'vagt.syd@kriminalforsorgen.test' } });
    expect(inst.status, JSON.stringify(inst.json)).toBe(201);
    const force = [
      { journalNumber: 'MA-C-1', occurredAt: '2026-11-02T10:00:00+01:00', reportFiledAt: '2026-11-03T09:00:00+01:00' }, // met (due Tue 03.11)
      { journalNumber: 'MA-C-2', occurredAt: '2026-11-02T11:00:00+01:00', reportFiledAt: '2026-11-05T09:00:00+01:00' }, // met late
      { journalNumber: 'MA-C-3', occurredAt: '2026-11-02T12:00:00+01:00' }, // breached
      { journalNumber: 'MA-C-4', occurredAt: '2026-10-05T12:00:00+02:00', reportFiledAt: '2026-10-06T08:00:00+02:00' }, // October: met
    ];
    for (const f of force) {
      const res = await t.req('POST', '/api/force-uses', { body: { institutionId: 'syd', ...f } });
      expect(res.status, JSON.stringify(res.json)).toBe(201);
    }
    tokens = await createTokens(t, {
      area: { role: 'area', areaId: 'demo-oest' },
      institution: { role: 'institution', institutionId: 'demo-fengsel-vest' },
      reader: { role: 'reader' },
    });
  }, 120_000);
  afterAll(async () => t?.close());

  it('leads from every bar and figure to a list of exactly the deadlines it counts', async () => {
    const c = await admin();
    const res = await c.get('/compliance');
    expect(res.status).toBe(200);
    const charts = res.body.slice(res.body.indexOf('id="chart-area"'), res.body.indexOf('id="trend"'));
    const links = drillLinks(charts);
    // 4 charts × (1 bar + 4 figures) per bar: dozens of links.
    expect(links.length).toBeGreaterThan(60);
    expect(new Set(links.map((l) => new URL(l.href, 'http://x').searchParams.get('outcome'))).size).toBe(5);
    for (const l of links) {
      const list = await c.get(l.href);
      expect(list.status, l.href).toBe(200);
      expect(caseTotal(list.body), l.href).toBe(l.count);
      if (l.count <= 100) expect(caseRows(list.body), l.href).toHaveLength(l.count);
    }
    // A segment of the bar itself leads to the same list as its written-out figure.
    expect(charts).toMatch(/<a href="\/compliance\/cases\?[^"]*outcome=breached" tabindex="-1"><rect/);
  });

  it('gives the same counts as the figures for every detail row and outcome, and a list in due order', async () => {
    const f = { from: '2025-12', to: '2026-11' };
    const rows = await loadCompliance(ctx, ADMIN, f, 'da');
    expect(rows.length).toBeGreaterThan(20);
    for (const r of rows) {
      const cell = { ...f, area: r.areaId, institution: r.institutionId, rule: r.ruleId, from: r.month, to: r.month };
      const all = await loadComplianceCases(ctx, ADMIN, cell, undefined, 'da', { limit: 500, offset: 0 });
      expect(all.total).toBe(totalOf(r));
      expect(all.items).toHaveLength(totalOf(r));
      for (const s of SEGMENTS) expect(all.items.filter((i) => i.outcome === OUTCOME_OF[s]).length, `${r.ruleId} ${r.month} ${s}`).toBe(r[s]);
      const due = all.items.map((i) => i.dueDate);
      expect(due).toEqual([...due].sort());
    }
    // The whole period at once, the decided ones (the trend's denominator) too.
    const sum = aggregate(rows, () => 'all', () => 'all')[0]!;
    const decided = await loadComplianceCases(ctx, ADMIN, f, 'decided', 'da', { limit: 1, offset: 0 });
    expect(decided.total).toBe(sum.met + sum.metLate + sum.breached);
    expect(decided.counts).toEqual({ met: sum.met, metLate: sum.metLate, breached: sum.breached, open: sum.open });
  });

  it('keeps the lists in the role\'s scope exactly like the figures', async () => {
    for (const [name, own, other] of [['area', 'Demo Område Øst', 'demo-vest'], ['institution', 'Demo Fængsel Vest', 'demo-nord']] as const) {
      const c = new Client(t);
      await c.login(tokens[name]!.token);
      const res = await c.get('/compliance');
      expect(res.status).toBe(200);
      const links = drillLinks(res.body);
      expect(links.length).toBeGreaterThan(10);
      for (const l of links.slice(0, 40)) {
        const list = await c.get(l.href);
        expect(caseTotal(list.body), `${name} ${l.href}`).toBe(l.count);
      }
      const all = await c.get('/compliance/cases');
      expect(caseTotal(all.body)).toBeGreaterThan(0);
      const insts = new Set(caseRows(all.body).map((r) => /<\/td>\n<td>[^<]*<\/td>\n<td>([^<]*)<\/td>/.exec(r)?.[1]));
      if (name === 'institution') expect([...insts]).toEqual([own]);
      else expect([...insts].every((i) => i === 'Demo Fængsel Øst' || i === 'Demo Arrest Øst')).toBe(true);
      expect(res.body).toContain(own);
      // Asking for another area lists nothing, as its figures show nothing.
      const outside = await c.get(`/compliance/cases?area=${other}`);
      expect(outside.status).toBe(200);
      expect(caseTotal(outside.body)).toBe(0);
      expect((await c.get(`/compliance?area=${other}`)).body).toContain('Ingen frister i perioden.');
      expect(all.body).not.toContain('MA-C-');
    }
    // The administrator's list of the same area is that area's figure.
    const c = await admin();
    const areaPage = await c.get('/compliance?area=demo-oest');
    const bar = drillLinks(areaPage.body).find((l) => l.href === '/compliance/cases?area=demo-oest&from=2025-12&to=2026-11');
    const scoped = new Client(t);
    await scoped.login(tokens['area']!.token);
    expect(caseTotal((await scoped.get('/compliance/cases')).body)).toBe(bar?.count);
  });

  it('draws the monthly trend with the target an administrator sets, audited, and names bad input in Danish', async () => {
    const c = await admin();
    let res = await c.get('/compliance?institution=syd');
    expect(res.body).toMatch(/<figure class="chart trend" id="trend-0" data-key="force.report" aria-labelledby/);
    // November: 1 of 3 decided on time; October: 1 of 1.
    expect(res.body).toContain('november 2026: 33,3\u00a0% (1/3)');
    expect(res.body).toContain('oktober 2026: 100\u00a0% (1/1)');
    expect(res.body).toContain('Der er ikke sat noget mål for reglen.');

    const bad = await c.post('/compliance/targets', { 'target__force.report': '101', 'target__plan.create': 'nitti', institution: 'syd' });
    expect(bad.status).toBe(400);
    expect(bad.body).toContain('Mål for Rapport om magtanvendelse: skal være et tal fra 0 til 100 med højst én decimal');
    expect(bad.body).toContain('Mål for Handleplan oprettet: ');
    expect(bad.body).toMatch(/id="target__force\.report" name="target__force\.report" value="101" aria-describedby="targets-help" aria-invalid="true"/);
    expect(await t.db.database.db.select().from(settingsTable).where(eq(settingsTable.key, 'complianceTargets'))).toEqual([]);

    const ok = await c.post('/compliance/targets', { 'target__force.report': '92,5', institution: 'syd' });
    expect(ok.status).toBe(303);
    expect(ok.headers['location']).toBe('/compliance?institution=syd&done=targets#trend');
    const [row] = await t.db.database.db.select().from(settingsTable).where(eq(settingsTable.key, 'complianceTargets'));
    expect(row?.value).toEqual({ 'force.report': 92.5 });
    const [audit] = await t.db.database.db.select().from(auditLog).where(and(eq(auditLog.action, 'settings.update'), eq(auditLog.entityId, 'complianceTargets'))).orderBy(desc(auditLog.id)).limit(1);
    expect(audit?.after).toEqual({ 'force.report': 92.5 });
    expect(audit?.actor).toBe('FRISTVAGT_ADMIN_TOKEN');

    res = await c.get('/compliance?institution=syd&done=targets');
    expect(res.body).toContain('Målene er gemt.');
    expect(res.body).toContain('data-key="force.report" data-target="92.5"');
    expect(res.body).toMatch(/<line [^>]*stroke-dasharray="6 4"\/><text [^>]*>Mål 92,5\u00a0%<\/text>/);
    expect(res.body).toContain('Mål: 92,5\u00a0% til tiden. Nået i 1 af 2 måneder med afgjorte frister.');
    expect(res.body).toContain('value="92,5"');

    // Per institution, the target shows once one rule is chosen.
    expect((await c.get('/compliance?trend=institution')).body).toContain('vælg én regel i filteret');
    expect((await c.get('/compliance?trend=institution&rule=force.report')).body).toMatch(/data-key="syd" data-target="92.5"/);
    expect((await c.get('/compliance?trend=month')).status).toBe(400);

    // Other roles read the target; only an administrator sets it (and only with the session's CSRF token).
    const reader = new Client(t);
    await reader.login(tokens['reader']!.token);
    const readerPage = await reader.get('/compliance');
    expect(readerPage.body).toContain('Rapport om magtanvendelse: 92,5\u00a0%');
    expect(readerPage.body).not.toContain('id="targets-form"');
    expect((await reader.post('/compliance/targets', { 'target__force.report': '10' })).status).toBe(403);
    expect((await c.post('/compliance/targets', { 'target__force.report': '10' }, 'wrong')).status).toBe(403);
    // The API's settings route takes the same setting, with the same validation.
    const api = await t.req('PUT', '/api/settings/complianceTargets', { body: { value: { 'force.complaint-window': 50 } } });
    expect(api.status).toBe(400);
    expect(JSON.stringify(api.json)).toContain('value.force.complaint-window');
  });

  it('exports CSV for Danish Excel: BOM, semicolons, decimal comma, Danish headers, formulas defused', async () => {
    const c = await admin();
    const res = await c.get('/compliance.csv?from=2026-10&to=2026-11&institution=syd');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(res.headers['content-disposition']).toBe('attachment; filename="fristvagt-efterlevelse-2026-10-2026-11.csv"');
    expect(res.body.startsWith('\uFEFF')).toBe(true);
    expect(res.body.endsWith('\r\n')).toBe(true);
    const rows = parseCsv(res.body.slice(1));
    expect(rows[0]).toEqual(['Område-id', 'Område', 'Institutions-id', 'Institution', 'Regel-id', 'Regel', 'Måned', 'I alt', 'Overholdt til tiden', 'Overholdt for sent', 'Overskredet', 'Åben', 'Andel overholdt til tiden (%)', 'Andel overholdt for sent (%)', 'Andel overskredet (%)', 'Andel åben (%)', 'Afgjorte', 'Til tiden af afgjorte (%)', 'Mål (%)']);
    expect(rows.slice(1)).toEqual([
      ['nordjylland', 'Kriminalforsorgen Nordjylland', 'syd', `'${ODD_NAME}`, 'force.report', 'Rapport om magtanvendelse', '2026-10', '1', '1', '0', '0', '0', '100', '0', '0', '0', '1', '100', '92,5'],
      ['nordjylland', 'Kriminalforsorgen Nordjylland', 'syd', `'${ODD_NAME}`, 'force.report', 'Rapport om magtanvendelse', '2026-11', '3', '1', '1', '1', '0', '33,3', '33,3', '33,3', '0', '3', '33,3', '92,5'],
    ]);
    // Quoted as RFC 4180 wants: the ; and " in the name do not split the row.
    expect(res.body).toContain(`;"'=Fængsel; Syd ""A""";`);
    // Every row of a bigger export has the header's number of fields, and no decimal point.
    const all = parseCsv((await c.get('/compliance.csv')).body.slice(1));
    expect(all.length).toBeGreaterThan(20);
    for (const r of all) expect(r).toHaveLength(19);
    for (const r of all.slice(1)) for (const v of r.slice(12, 19)) expect(v).toMatch(/^(\d{1,3}(,\d)?)?$/);
    expect(all.slice(1).some((r) => (r[12] ?? '').includes(','))).toBe(true);
    // English headers for an English session; the numbers stay in the Danish format.
    const en = await c.get('/compliance.csv?from=2026-11&to=2026-11&institution=syd&lang=en');
    expect(parseCsv(en.body.slice(1))[0]?.slice(0, 3)).toEqual(['Area id', 'Area', 'Institution id']);
    expect(parseCsv(en.body.slice(1))[1]?.[12]).toBe('33,3');
    await c.get('/compliance?lang=da');
  });

  it('exports XLSX that exceljs reads back: numbers as numbers, shares as percentages, months as dates, text never a formula', async () => {
    const c = await admin();
    const res = await c.getBytes('/compliance.xlsx?from=2026-10&to=2026-11&institution=syd');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
    expect(res.headers['content-disposition']).toBe('attachment; filename="fristvagt-efterlevelse-2026-10-2026-11.xlsx"');
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(res.bytes as unknown as ArrayBuffer);
    expect(wb.worksheets.map((w) => w.name)).toEqual(['Efterlevelse', 'Udvikling']);
    const ws = wb.getWorksheet('Efterlevelse')!;
    expect(ws.getRow(1).values).toEqual([undefined, 'Område-id', 'Område', 'Institutions-id', 'Institution', 'Regel-id', 'Regel', 'Måned', 'I alt', 'Overholdt til tiden', 'Overholdt for sent', 'Overskredet', 'Åben', 'Andel overholdt til tiden (%)', 'Andel overholdt for sent (%)', 'Andel overskredet (%)', 'Andel åben (%)', 'Afgjorte', 'Til tiden af afgjorte (%)', 'Mål (%)']);
    expect(ws.rowCount).toBe(3);
    const nov = ws.getRow(3);
    expect(nov.getCell(4).value).toBe(ODD_NAME);
    expect(nov.getCell(4).type).toBe(ExcelJS.ValueType.String);
    expect(nov.getCell(7).value).toEqual(new Date(Date.UTC(2026, 10, 1)));
    expect(nov.getCell(7).numFmt).toBe('mmmm yyyy');
    expect([8, 9, 10, 11, 12].map((i) => nov.getCell(i).value)).toEqual([3, 1, 1, 1, 0]);
    expect(nov.getCell(13).value).toBeCloseTo(0.333, 6);
    expect(nov.getCell(13).numFmt).toBe('0.0 %');
    expect(nov.getCell(19).value).toBeCloseTo(0.925, 6);
    const trend = wb.getWorksheet('Udvikling')!;
    expect(trend.getRow(1).values).toEqual([undefined, 'Regel', 'Måned', 'Afgjorte', 'Overholdt til tiden', 'Til tiden af afgjorte (%)', 'Mål (%)', 'Mål nået']);
    expect(trend.getRow(3).values).toEqual([undefined, 'Rapport om magtanvendelse', new Date(Date.UTC(2026, 10, 1)), 3, 1, 0.333, 0.925, 'Nej']);
    expect(trend.getRow(2).getCell(7).value).toBe('Ja');
    // Outside the scope there is nothing to export.
    const inst = new Client(t);
    await inst.login(tokens['institution']!.token);
    const scoped = new ExcelJS.Workbook();
    await scoped.xlsx.load((await inst.getBytes('/compliance.xlsx?institution=syd')).bytes as unknown as ArrayBuffer);
    expect(scoped.getWorksheet('Efterlevelse')!.rowCount).toBe(1);
    expect((await new Client(t).getBytes('/compliance.xlsx')).status).toBe(401);
  });

  it('names bad drill-through input in Danish', async () => {
    const c = await admin();
    const res = await c.get('/compliance/cases?outcome=late&offset=-1');
    expect(res.status).toBe(400);
    // Each field by its Danish label, what is wrong with it in Danish.
    expect(res.body).toContain('Udfald: vælg en af mulighederne.');
    expect(res.body).toContain('Sider: skal være et helt tal.');
    expect((await c.get('/compliance/cases?from=2026-13')).body).toContain('Fra måned: er ikke en måned.');
  });
});
