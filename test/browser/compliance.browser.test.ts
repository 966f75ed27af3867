/**
 * The compliance page in chromium against the real server with the demo data: a click on a bar
 * segment, a written-out figure or a table cell opens the list of exactly the deadlines it counts;
 * an administrator sets a target and sees it as a dashed line and in words; both exports download
 * and open (the CSV's bytes, the XLSX through exceljs); axe finds nothing serious at 1280 and 360 px,
 * and neither width scrolls sideways. Screenshots go to test-results/screenshots/c*.png.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoServer, type DemoServer } from '../support/browser-app.js';
import { type Browser, checkPage, launchChromium, SHOTS, tokenLogin } from '../support/browser.js';

const ADMIN_TOKEN = 'browser-admin-token-0123456789abcdef';
const NOW = '2026-11-18T10:00:00+01:00';

async function noSideScroll(page: Page): Promise<void> {
  const { scroll, width } = await page.evaluate(() => {
    const doc = (globalThis as any).document;
    return { scroll: doc.documentElement.scrollWidth as number, width: doc.documentElement.clientWidth as number };
  });
  expect(scroll, 'the page scrolls sideways').toBeLessThanOrEqual(width);
}

async function caseCount(page: Page): Promise<number> {
  return Number(await page.locator('#case-count').getAttribute('data-total'));
}

describe('compliance in chromium', () => {
  let server: DemoServer;
  let base = '';
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    server = await startDemoServer({ now: NOW, adminToken: ADMIN_TOKEN, records: 120 });
    base = server.base;
    browser = await launchChromium();
    page = browser.page;
    await page.goto(`${base}/login?next=%2Fcompliance`);
    await tokenLogin(page, ADMIN_TOKEN);
    await page.waitForURL(`${base}/compliance`);
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('shows bars, trends and the table at 1280 px without sideways scrolling', async () => {
    expect(await page.locator('#chart-area ul.bars > li').count()).toBe(3);
    expect(await page.locator('#trend figure.trend').count()).toBeGreaterThan(5);
    expect(await page.locator('#compliance-table tbody tr').count()).toBeGreaterThan(10);
    await noSideScroll(page);
    await checkPage(page, 'c01-compliance-1280');
  });

  it('opens the cases behind a bar segment, a written-out figure and a table cell', async () => {
    // The mouse: the breached segment of the first area's bar.
    const bar = page.locator('#chart-area ul.bars > li').first();
    const expected = Number(await bar.locator('.bar-figures a[data-outcome="breached"]').getAttribute('data-count'));
    expect(expected).toBeGreaterThan(0);
    await bar.locator('svg.bar a[href*="outcome=breached"] rect').click();
    await page.waitForURL(/\/compliance\/cases\?area=demo-[a-z]+&.*outcome=breached/);
    expect(await caseCount(page)).toBe(expected);
    expect(await page.locator('#cases tbody tr').count()).toBe(Math.min(expected, 100));
    expect(await page.locator('#cases tbody tr[data-outcome="breached"]').count()).toBe(Math.min(expected, 100));
    expect(await page.locator('nav.outcomes a[aria-current="page"]').textContent()).toBe(`Overskredet (${expected})`);
    await noSideScroll(page);
    await checkPage(page, 'c02-cases-breached');

    // The keyboard's way: a written-out figure of the rule chart.
    await page.goto(`${base}/compliance`);
    const figure = page.locator('#chart-rule .bar-figures a[data-outcome="met_late"]').first();
    const lateCount = Number(await figure.getAttribute('data-count'));
    await figure.focus();
    await page.keyboard.press('Enter');
    await page.waitForURL(/outcome=met_late/);
    expect(await caseCount(page)).toBe(lateCount);
    expect(await page.locator('#cases tbody tr[data-outcome="met_late"]').count()).toBe(Math.min(lateCount, 100));

    // A cell of the detail table: one area, institution, rule and month.
    await page.goto(`${base}/compliance`);
    const cell = page.locator('#compliance-table tbody td.num a').first();
    const cellCount = Number(await cell.getAttribute('data-count'));
    await cell.click();
    await page.waitForURL(/\/compliance\/cases\?area=.*&institution=.*&rule=.*&from=(\d{4}-\d{2})&to=\1/);
    expect(await caseCount(page)).toBe(cellCount);
    // The record a row names opens from the list.
    await page.locator('#cases tbody a').first().click();
    await page.waitForURL(/\/records\//);
  });

  it('lets an administrator set a target and draws it as a dashed line, stated in words', async () => {
    await page.goto(`${base}/compliance?rule=force.report`);
    const chart = page.locator('#trend figure.trend[data-key="force.report"]');
    expect(await chart.locator('g.target').count()).toBe(0);
    expect(await chart.locator('.target-text').textContent()).toBe('Der er ikke sat noget mål for reglen.');
    await page.locator('[id="target__force.report"]').fill('90');
    await page.getByRole('button', { name: 'Gem målene' }).click();
    await page.waitForURL(/\/compliance\?rule=force\.report&.*done=targets/);
    expect(await page.getByRole('status').first().textContent()).toContain('Målene er gemt.');
    expect(await chart.getAttribute('data-target')).toBe('90');
    const line = chart.locator('g.target line');
    expect(await line.getAttribute('stroke-dasharray')).toBe('6 4');
    expect((await line.boundingBox())?.width).toBeGreaterThan(200);
    expect(await chart.locator('g.target text').textContent()).toBe('Mål 90\u00a0%');
    expect(await chart.locator('.target-text').textContent()).toMatch(/^Mål: 90\u00a0% til tiden\. Nået i \d+ af \d+ måneder? med afgjorte frister\.$/);
    expect(await page.locator('[id="target__force.report"]').inputValue()).toBe('90');
    await checkPage(page, 'c03-target-set');
    await chart.screenshot({ path: join(SHOTS, 'c03-target-chart.png') });

    // A bad value is named in Danish and nothing changes.
    await page.locator('[id="target__force.report"]').fill('120');
    await page.getByRole('button', { name: 'Gem målene' }).click();
    await page.waitForLoadState();
    expect(await page.getByRole('alert').textContent()).toContain('Mål for Rapport om magtanvendelse: skal være et tal fra 0 til 100');
    expect(await page.locator('[id="target__force.report"]').getAttribute('aria-invalid')).toBe('true');
    expect(await chart.getAttribute('data-target')).toBe('90');
    await checkPage(page, 'c04-target-invalid');
  });

  it('downloads the CSV and the XLSX, both openable as Danish figures', async () => {
    await page.goto(`${base}/compliance`);
    const [csv] = await Promise.all([page.waitForEvent('download'), page.locator('#export-csv').click()]);
    expect(csv.suggestedFilename()).toBe('fristvagt-efterlevelse-2025-12-2026-11.csv');
    const bytes = readFileSync((await csv.path()) as string);
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const lines = bytes.subarray(3).toString('utf8').split('\r\n');
    expect(lines[0]?.startsWith('Område-id;Område;Institutions-id;Institution;Regel-id;Regel;Måned;I alt;')).toBe(true);
    expect(lines.length).toBeGreaterThan(10);
    // Shares in the Danish notation: a decimal comma where there are decimals, never a point.
    for (const l of lines.slice(1).filter(Boolean)) expect(l.split(';').slice(12).join(';')).toMatch(/^(\d{1,3}(,\d)?)?(;(\d{1,3}(,\d)?)?){6}$/);

    const [xlsx] = await Promise.all([page.waitForEvent('download'), page.locator('#export-xlsx').click()]);
    expect(xlsx.suggestedFilename()).toBe('fristvagt-efterlevelse-2025-12-2026-11.xlsx');
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(readFileSync((await xlsx.path()) as string) as unknown as ArrayBuffer);
    expect(wb.worksheets.map((w) => w.name)).toEqual(['Efterlevelse', 'Udvikling']);
    expect(wb.getWorksheet('Efterlevelse')!.rowCount).toBe(lines.filter(Boolean).length);
    const target = wb.getWorksheet('Udvikling')!.getRows(2, 500)!.find((r) => r.getCell(1).value === 'Rapport om magtanvendelse');
    expect(target?.getCell(6).value).toBe(0.9);
  });

  it('reads at 360 px: bars and trend charts fit, labels stay legible, nothing scrolls sideways', async () => {
    await page.setViewportSize({ width: 360, height: 800 });
    await page.goto(`${base}/compliance`);
    await noSideScroll(page);
    const trend = page.locator('#trend figure.trend svg').first();
    const box = await trend.boundingBox();
    expect(box?.width).toBeGreaterThan(300);
    expect(box?.width).toBeLessThanOrEqual(360);
    // The axis labels are drawn at 11–12 viewBox units: at least 10 px tall on the phone.
    const tick = await trend.locator('text').last().boundingBox();
    expect(tick?.height).toBeGreaterThanOrEqual(10);
    const barBox = await page.locator('#chart-inst svg.bar').first().boundingBox();
    expect(barBox?.width).toBeGreaterThan(300);
    await checkPage(page, 'c05-compliance-360');
    await page.locator('#chart-area').screenshot({ path: join(SHOTS, 'c05-compliance-360-bars.png') });
    const open = page.locator('#chart-rule .bar-figures a[data-outcome="open"]').first();
    const openCount = Number(await open.getAttribute('data-count'));
    expect(openCount).toBeGreaterThan(0);
    await open.click();
    await page.waitForURL(/outcome=open/);
    expect(await caseCount(page)).toBe(openCount);
    await noSideScroll(page);
    await checkPage(page, 'c06-cases-360');
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it('breaks no Content-Security-Policy rule and logs no script error', () => {
    // The one error is the refused target's 400 answer, which the browser logs as a failed load.
    expect(browser.consoleErrors).toEqual([expect.stringMatching(/^Failed to load resource: the server responded with a status of 400 \(Bad Request\) @ http:\/\/127\.0\.0\.1:\d+\//)]);
  });
});
