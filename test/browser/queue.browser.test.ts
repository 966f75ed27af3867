/**
 * The work queue and escalation handling in a real browser (Debian's chromium via playwright-core,
 * as in ui.browser.test.ts) against the real server on an embedded PGlite database (issue 13,
 * parts 3–4). The area office sees how many escalations are unhandled and for how long,
 * acknowledges one, assigns it, meets a Danish field error, comments, puts it under handling, and
 * records the step on the case: the timeline shows the waiting escalation cancelled at once. An
 * institution's duty manager works the queue: only their own institution, most urgent first with
 * days left or overdue, a page at a time, a saved filter, the person search, and bulk registration
 * (refused as a whole, naming the case; then done). axe-core checks every page, at 1280 and at
 * 360 px neither scrolls sideways; screenshots go to test-results/screenshots/queue-*.png.
 */
import { and, eq, lte } from 'drizzle-orm';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { notifications } from '../../src/db/schema.js';
import { createLogger } from '../../src/logger.js';
import { createCatcherMailer } from '../../src/mail/transport.js';
import { planRecord } from '../../src/worker/planner.js';
import { sendNotification } from '../../src/worker/send.js';
import { loadWorkerSettings } from '../../src/worker/settings.js';
import { createTokens, seedMasterData, startTestApp, type TestApp } from '../support/app.js';
import { type Browser, checkPage, launchChromium, tokenLogin } from '../support/browser.js';

// Monday 2 November: records entered then; Tuesday 10 November, 10:00, is when the work is done.
const T0 = '2026-11-02T10:00:00+01:00';
const T1 = '2026-11-10T10:00:00+01:00';
const QUEUE_RECORDS = 30;

describe('work queue and escalation handling in chromium', () => {
  let t: TestApp;
  let base = '';
  let browser: Browser;
  let page: Page;
  let areaToken = '';
  let instToken = '';
  const ids: Record<string, string> = {};

  const cell = async (token: string, journalNumber: string, endedAt: string, institutionId = 'vestre', extra: Record<string, unknown> = {}): Promise<string> => {
    const res = await t.req('POST', '/api/security-cell-placements', { token, body: { institutionId, journalNumber, placedAt: '2026-10-01T20:00:00+02:00', endedAt, ...extra } });
    expect(res.status, JSON.stringify(res.json)).toBe(201);
    return res.json.id as string;
  };

  beforeAll(async () => {
    t = await startTestApp('pglite', T0);
    await seedMasterData(t);
    const tokens = await createTokens(t, {
      'Områdekontor Hovedstaden': { role: 'area', areaId: 'hovedstaden' },
      'Vagthavende Vestre': { role: 'institution', institutionId: 'vestre' },
      'Vagthavende Aalborg': { role: 'institution', institutionId: 'aalborg' },
    });
    areaToken = tokens['Områdekontor Hovedstaden']?.token ?? '';
    instToken = tokens['Vagthavende Vestre']?.token ?? '';
    const aalborg = tokens['Vagthavende Aalborg']?.token ?? '';
    for (const body of [
      { areaId: 'hovedstaden', institutionId: 'vestre', name: 'Vera Vagtleder', email: 'vera@kf.test', title: 'Vagtleder' },
      { areaId: 'hovedstaden', institutionId: 'vestre', name: 'Bo Betjent', email: 'bo@kf.test', title: 'Fængselsbetjent' },
      { areaId: 'nordjylland', institutionId: 'aalborg', name: 'Niels Nord', email: 'niels@kf.test' },
    ]) expect((await t.req('POST', '/api/staff', { body })).status).toBe(201);

    // Two placements that ended this morning: their conversation is due Monday the 9th, escalated on the 10th.
    ids['ESC-1'] = await cell(areaToken, 'SC-2026-0101', '2026-11-02T08:00:00+01:00');
    ids['ESC-2'] = await cell(areaToken, 'SC-2026-0102', '2026-11-02T09:00:00+01:00');
    // The queue: ended between 30 October and 8 November, so the conversations are due 6 to 15 November
    // (4 in 10 breached on the 10th) and the area's case reviews 13 to 20 November; one with a name and CPR number.
    for (let i = 0; i < QUEUE_RECORDS; i++) {
      const day = 30 + (i % 10);
      const ended = day <= 31 ? `2026-10-${String(day).padStart(2, '0')}T08:00:00+01:00` : `2026-11-${String(day - 31).padStart(2, '0')}T08:00:00+01:00`;
      const extra = i === 7 ? { inmateName: 'Karla Kvist', cpr: '010190-1234' } : {};
      await cell(instToken, `Q-${String(i + 1).padStart(3, '0')}`, ended, 'vestre', extra);
    }
    await cell(aalborg, 'AAL-1', '2026-11-02T08:00:00+01:00', 'aalborg');

    const db = t.db.database.db;
    const plan = async (id: string) => planRecord(db, { closureDays: [], now: t.clock.now, settings: await loadWorkerSettings(db) }, 'security_cell_placement', id);
    await plan(ids['ESC-1'] as string);
    await plan(ids['ESC-2'] as string);
    t.clock.now = new Date(T1);
    await plan(ids['ESC-1'] as string);
    await plan(ids['ESC-2'] as string);
    // The worker's send: the first escalations go to the area office through the built-in catcher.
    const mailer = createCatcherMailer(db);
    const due = await db.select({ id: notifications.id }).from(notifications).where(and(eq(notifications.kind, 'escalation'), eq(notifications.status, 'scheduled'), lte(notifications.plannedAt, t.clock.now)));
    expect(due.length).toBeGreaterThanOrEqual(2);
    for (const n of due) {
      await sendNotification({ db, mailer, clock: () => t.clock.now, closureDays: [], settings: () => loadWorkerSettings(db), from: 'fristvagt <fristvagt@kf.test>', publicUrl: 'http://127.0.0.1', logger: createLogger({ level: 'silent' }) }, n.id);
    }
    // Sent an hour ago: the list says how long they have waited.
    t.clock.now = new Date('2026-11-10T13:00:00+01:00');

    base = await t.app.listen({ host: '127.0.0.1', port: 0 });
    browser = await launchChromium();
    page = browser.page;
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  /** The document is no wider than the window; the message names the elements that stick out. */
  const noSideScroll = async (name: string): Promise<void> => {
    const [scroll, client, wide] = (await page.evaluate(() => {
      const doc = (globalThis as any).document;
      const el = doc.documentElement;
      const out: string[] = [];
      for (const e of doc.querySelectorAll('body *')) {
        const r = e.getBoundingClientRect();
        if (r.right > el.clientWidth + 1 && !e.parentElement?.closest('.table-wrap') && out.length < 12) out.push(`${e.tagName.toLowerCase()}${e.id ? `#${e.id}` : ''}.${[...e.classList].join('.')} (${Math.round(r.right)})`);
      }
      // Text that overflows its box does not show in the boxes' edges: name the sections it widens.
      for (const e of doc.querySelectorAll('main > *')) if (e.scrollWidth > e.clientWidth + 1 && !e.classList.contains('table-wrap')) out.push(`${e.tagName.toLowerCase()}${e.id ? `#${e.id}` : ''} (text ${e.scrollWidth} in ${e.clientWidth})`);
      return [el.scrollWidth, el.clientWidth, out];
    })) as [number, number, string[]];
    expect(scroll, `${name}: the page scrolls sideways (${scroll} > ${client}): ${wide.join(', ')}`).toBeLessThanOrEqual(client);
  };
  const check = async (name: string): Promise<void> => {
    await noSideScroll(name);
    await checkPage(page, name);
  };
  const login = async (token: string): Promise<void> => {
    await browser.context.clearCookies();
    await page.goto(`${base}/login`);
    await tokenLogin(page, token);
    await page.waitForURL(`${base}/`);
  };

  it('acknowledges an escalation, assigns, comments and handles it, and the re-plan shows at once', async () => {
    await login(areaToken);
    // The area office is told first thing how many escalations wait, and for how long.
    expect(await page.locator('#unhandled-escalations').textContent()).toMatch(/2 ubehandlede rykkere: den ældste har ventet (\d+ timer|1 time)/);
    await check('queue-01-area-overview');

    await page.getByRole('link', { name: 'Se og behandl rykkerne' }).click();
    await page.waitForURL(`${base}/escalations`);
    expect(await page.locator('#escalation-list tbody tr').count()).toBe(2);
    const row = page.locator('#escalation-list tbody tr', { hasText: 'SC-2026-0101' });
    expect(await row.textContent()).toContain('Ubehandlet');
    expect(await row.textContent()).toMatch(/3 timer/);
    await check('queue-02-escalations-unhandled');

    await row.getByRole('link', { name: /Behandl/ }).click();
    await page.waitForURL(/\/escalations\/[0-9a-f-]{36}$/);
    expect(await page.locator('h1').textContent()).toBe('Rykker: SC-2026-0101 – Opfølgende samtale efter sikringscelle');
    expect(await page.locator('.esc-status').textContent()).toMatch(/^Ubehandlet i/);
    await check('queue-03-escalation-detail');

    await page.getByRole('button', { name: 'Kvittér for rykkeren' }).click();
    await page.waitForURL(/done=acknowledge/);
    expect(await page.getByRole('status').first().textContent()).toContain('Rykkeren er kvitteret.');
    expect(await page.locator('.esc-status').textContent()).toMatch(/^Kvitteret af token:Områdekontor Hovedstaden:/);
    expect(await page.getByRole('button', { name: 'Kvittér for rykkeren' }).count()).toBe(0);
    await check('queue-04-acknowledged');

    await page.getByLabel('Tildel til medarbejder').selectOption({ label: 'Vera Vagtleder (Vagtleder)' });
    await page.getByRole('button', { name: 'Tildel', exact: true }).click();
    await page.waitForURL(/done=assign/);
    expect(await page.locator('.esc-assignee').textContent()).toContain('Vera Vagtleder');

    // Spaces only: the browser lets it through, the server names the field in Danish.
    await page.getByLabel('Kommentar').fill('   ');
    await page.getByRole('button', { name: 'Tilføj kommentar' }).click();
    await page.waitForSelector('#errors');
    expect(await page.locator('#errors').textContent()).toContain('Kommentar: skal udfyldes');
    expect(await page.getByLabel('Kommentar').getAttribute('aria-invalid')).toBe('true');
    await check('queue-05-comment-error');
    await page.getByLabel('Kommentar').fill('Ringet til Vera; samtalen holdes i dag kl. 14.');
    await page.getByRole('button', { name: 'Tilføj kommentar' }).click();
    await page.waitForURL(/done=comment/);
    expect(await page.locator('ol.esc-comments').textContent()).toContain('Ringet til Vera; samtalen holdes i dag kl. 14.');

    await page.getByRole('button', { name: 'Sæt under behandling' }).click();
    await page.waitForURL(/done=start/);
    expect(await page.locator('.notice.ok').textContent()).toContain('Rykkeren er sat under behandling.');
    expect(await page.locator('.esc-status').textContent()).toMatch(/^Under behandling af token:Områdekontor Hovedstaden:/);
    await check('queue-06-under-handling');

    // The area office's list: one still unhandled, this one under handling with its assignee and comment.
    await page.goto(`${base}/escalations`);
    expect(await page.locator('#escalation-list tbody tr').count()).toBe(1);
    expect(await page.locator('#escalation-list').textContent()).toContain('SC-2026-0102');
    await page.getByRole('link', { name: 'Under behandling' }).click();
    const handled = await page.locator('#escalation-list tbody tr').first().textContent();
    expect(handled).toContain('SC-2026-0101');
    expect(handled).toContain('Vera Vagtleder');
    expect(handled).toContain('Ringet til Vera');
    await check('queue-07-escalations-under-handling');

    // On the case: the card, and every action in the timeline (the audit log).
    await page.goto(`${base}/records/security-cell-placements/${ids['ESC-1']}`);
    expect(await page.locator('#escalations article').count()).toBe(1);
    const timeline = (await page.locator('ol.timeline').textContent()) ?? '';
    for (const s of ['Rykker kvitteret', 'Rykker tildelt', 'Kommentar til rykker', 'Rykker sat under behandling']) expect(timeline).toContain(s);
    const waiting = page.locator('ol.timeline li:has([data-stage="cell.follow-up-conversation:escalation-2"])').first();
    expect(await waiting.textContent()).toContain('Planlagt');
    await check('queue-08-record-with-escalation');

    // The conversation is held: the page that follows already shows the second escalation cancelled.
    await page.locator('#ev-type').selectOption('follow_up_held');
    await page.getByRole('button', { name: 'Registrér', exact: true }).click();
    await page.waitForURL(/done=event/);
    expect(await page.locator('#record-deadlines tr[data-key="cell.follow-up-conversation"]').textContent()).toContain('Overholdt for sent');
    expect(await waiting.textContent()).toContain('Annulleret');
    expect(await page.locator('ol.timeline li:has(.badge-n-scheduled):has([data-stage^="cell.follow-up-conversation:"])').count()).toBe(0);
    expect(await waiting.locator('.tl-kind').textContent()).toBe('Mail');
    expect(await page.locator('#escalations').count()).toBe(0);
    await check('queue-09-record-after-step');

    // At 360 px: the overview, the list, a card and a case, none of them scrolling sideways.
    await page.setViewportSize({ width: 360, height: 800 });
    await page.goto(`${base}/`);
    await check('queue-10-overview-360');
    await page.goto(`${base}/escalations`);
    await check('queue-11-escalations-360');
    await page.locator('#escalation-list tbody tr').first().getByRole('link', { name: /Behandl/ }).click();
    await page.waitForURL(/\/escalations\/[0-9a-f-]{36}$/);
    await check('queue-12-escalation-detail-360');
    await page.goto(`${base}/records/security-cell-placements/${ids['ESC-2']}`);
    await check('queue-13-record-360');
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.getByRole('button', { name: 'Log ud' }).click();
    await page.waitForURL(/\/login/);
  });

  it('works the queue as a duty manager: mine, urgency, days, paging, saved filter, person search, bulk', async () => {
    await login(instToken);
    // Their own institution only, and no area or institution to choose.
    expect(await page.locator('#queue-scope').textContent()).toContain('Viser dine sager: Fængsel vestre.');
    expect(await page.locator('#f-area').count()).toBe(0);
    expect(await page.locator('#f-inst').count()).toBe(0);
    const list = page.locator('#deadline-list');
    expect(await list.textContent()).not.toContain('AAL-1');
    const caption = (await list.locator('caption').textContent()) ?? '';
    const total = Number(/af (\d+)/.exec(caption)?.[1]);
    expect(total).toBeGreaterThan(50);
    expect(await list.locator('tbody tr').count()).toBe(50);
    // Most urgent first: breached (the most recent breach first), then today, then soon.
    const days = await list.locator('tbody td.days').allTextContents();
    expect(days[0]).toBe('1 dag over');
    const firstToday = days.indexOf('I dag');
    const lastOver = days.map((x) => /dage? over/.test(x)).lastIndexOf(true);
    expect(firstToday).toBeGreaterThan(lastOver);
    expect(days.slice(0, lastOver + 1).map((x) => Number(/^(\d+)/.exec(x)?.[1]))).toEqual([...days.slice(0, lastOver + 1).map((x) => Number(/^(\d+)/.exec(x)?.[1]))].sort((a, b) => a - b));
    expect(days.slice(firstToday).some((x) => /dage tilbage|I morgen/.test(x))).toBe(true);
    await check('queue-20-institution-queue');

    await page.locator('#queue-pages').getByRole('link', { name: 'Næste' }).click();
    await page.waitForURL(/page=2/);
    expect(await list.locator('tbody tr').count()).toBe(Math.min(50, total - 50));
    expect(await page.locator('#queue-pages').textContent()).toContain(`Side 2 af ${Math.ceil(total / 50)}`);
    await check('queue-21-page-2');

    // Search by journal number.
    await page.getByLabel('Journalnummer indeholder').fill('Q-06');
    await page.getByRole('button', { name: 'Vis', exact: true }).click();
    await page.waitForURL(/q=Q-06/);
    expect((await list.locator('tbody th a').allTextContents()).every((j) => j.startsWith('Q-06'))).toBe(true);

    // A saved filter: breached only, kept for this user and one click away.
    await page.getByLabel('Journalnummer indeholder').fill('');
    await page.getByLabel('Status').selectOption({ label: 'Overskredet' });
    await page.getByRole('button', { name: 'Vis', exact: true }).click();
    await page.waitForURL(/status=breached/);
    await page.getByLabel('Navn på filteret').fill('Mine overskredne');
    await page.getByRole('button', { name: 'Gem det aktuelle filter' }).click();
    await page.waitForURL(/done=filter-saved/);
    expect(await page.getByRole('status').first().textContent()).toContain('Filteret er gemt.');
    await page.goto(`${base}/`);
    await page.locator('#saved-filters').getByRole('link', { name: 'Mine overskredne' }).click();
    await page.waitForURL(/status=breached/);
    expect((await list.locator('tbody td.days').allTextContents()).every((x) => /over/.test(x))).toBe(true);
    await check('queue-22-saved-filter');

    // The person search: a POST, so the CPR number is in no URL.
    await page.getByLabel('Navn eller CPR-nummer').fill('010190-1234');
    await page.getByRole('button', { name: 'Find sager' }).click();
    await page.waitForSelector('#person-results');
    expect(page.url()).not.toContain('010190');
    expect(await page.locator('#person-results').textContent()).toContain('Karla Kvist');
    await check('queue-23-person-search');

    // Bulk: two follow-up conversations due later; at a time before one of them ended, nothing is written and the case is named.
    await page.goto(`${base}/?status=soon`);
    // Only the safe steps can be chosen (here the follow-up conversations, not the area's case reviews).
    const pickable = list.locator('tbody tr:has(input[type="checkbox"])');
    expect(await pickable.count()).toBeGreaterThanOrEqual(2);
    expect(await list.locator('tbody tr').count()).toBeGreaterThan(await pickable.count());
    const picks = pickable.locator('input[type="checkbox"]');
    const chosen = [(await pickable.nth(0).locator('th a').textContent()) ?? '', (await pickable.nth(1).locator('th a').textContent()) ?? ''];
    await picks.nth(0).check();
    await picks.nth(1).check();
    await page.getByLabel('Tidspunkt (tom = nu)').fill('2026-10-21T09:00');
    await page.getByRole('button', { name: 'Registrér de valgte som udført' }).click();
    await page.waitForSelector('#bulk-errors');
    const refusal = (await page.locator('#bulk-errors').textContent()) ?? '';
    expect(refusal).toContain('Intet er registreret.');
    expect(chosen.some((j) => refusal.includes(j))).toBe(true);
    // The selection is kept for a second try.
    expect(await picks.nth(0).isChecked()).toBe(true);
    await check('queue-24-bulk-refused');
    await page.getByLabel('Tidspunkt (tom = nu)').fill('');
    await page.getByRole('button', { name: 'Registrér de valgte som udført' }).click();
    await page.waitForURL(/done=bulk&n=2/);
    expect(await page.getByRole('status').first().textContent()).toContain('2 frister er registreret som udført.');
    const after = await list.locator('tbody th a').allTextContents();
    for (const j of chosen) expect(after).not.toContain(j);
    await check('queue-25-bulk-done');

    await page.setViewportSize({ width: 360, height: 800 });
    await page.goto(`${base}/`);
    await check('queue-26-institution-queue-360');
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it('logs no script or CSP error beyond the refused submissions', () => {
    expect(browser.consoleErrors.filter((e) => !/status of (400|409) /.test(e))).toEqual([]);
  });
});
