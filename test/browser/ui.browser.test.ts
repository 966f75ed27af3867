/**
 * The web UI in a real browser: Debian's chromium driven by playwright-core against the real
 * server (buildServer + listen) on a Postgres database with the demo data. A person logs in with
 * e-mail and password, reads the
 * overview (and sees it refresh without a reload), records a completion, reads compliance and the
 * backlog and the mail log, changes a reminder stage through the impact preview, saves it and finds the audit
 * entry, switches to English and logs out. axe-core checks every page (no serious or critical
 * WCAG 2.1 A/AA violations) and every page is saved as a screenshot in test-results/screenshots/.
 */
import { join } from 'node:path';
import { and, eq, gte, inArray, isNull } from 'drizzle-orm';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.js';
import { deadlines } from '../../src/db/schema.js';
import type { RecordTypeName } from '../../src/records/kinds.js';
import { createRecord, recordEvent, type ServiceContext } from '../../src/records/service.js';
import { recordInfo } from '../../src/ui/data/records.js';
import { startDemoServer, type DemoServer } from '../support/browser-app.js';
import { type Browser, checkPage, launchChromium, passwordLogin, shot as shotPage, SHOTS } from '../support/browser.js';
import { SYSTEM } from '../../src/identity/login.js';
import { createUser } from '../../src/records/users.js';

const ADMIN_TOKEN = 'browser-admin-token-0123456789abcdef';
const NOW = '2026-11-18T10:00:00+01:00'; // a Wednesday
const PERSON = { email: 'birte.brix@kriminalforsorgen.test', password: 'en lang og god adgangskode' };

/**
 * Completion events that meet a deadline of each rule, as the record page's step list offers them
 * (the use-of-force report and the plan's creation have forms of their own).
 */
const COMPLETES: Record<string, string> = {
  'cell.follow-up-conversation': 'follow_up_held',
  'incident.final-report': 'final_report_submitted',
  'incident.inmate-conversation': 'inmate_conversation_held',
  'plan.elaborate': 'elaborated',
  'plan.municipality-coordination': 'municipality_contacted',
};

describe('web UI in chromium', () => {
  let server: DemoServer;
  let database: Database;
  let base = '';
  let browser: Browser;
  let page: Page;
  let ctx: ServiceContext;

  beforeAll(async () => {
    server = await startDemoServer({ now: NOW, adminToken: ADMIN_TOKEN, records: 120, plan: true, sendDue: 4 });
    ({ base, database, ctx } = server);
    await createUser(database.db, { name: 'Birte Brix', title: 'Vagthavende', email: PERSON.email, role: 'admin', password: PERSON.password }, SYSTEM, new Date());
    browser = await launchChromium();
    page = browser.page;
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  const shot = (name: string): Promise<void> => shotPage(page, name);

  const check = (name: string): Promise<void> => checkPage(page, name);

  it('logs in and shows the overview with the demo data, refreshing it without a reload', async () => {
    await page.goto(`${base}/`);
    expect(new URL(page.url()).pathname).toBe('/login');
    await check('01-login');
    // The skip link is the first thing the keyboard reaches.
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => (globalThis as any).document.activeElement?.textContent)).toBe('Gå til indhold');

    // A person logs in (the machine token stays folded away under the form).
    await passwordLogin(page, PERSON.email, PERSON.password);
    await page.waitForURL(`${base}/`);
    expect(await page.locator('#account-link').textContent()).toBe('Birte Brix (administrator)');
    await expect.poll(() => page.locator('#counts').textContent()).toContain('Demo Fængsel Øst');
    expect(await page.locator('#deadline-list tbody tr').count()).toBeGreaterThan(5);
    expect(await page.locator('#deadline-list').textContent()).toMatch(/DEMO-2015-\d{5}/);
    await check('02-overview');

    // The live region is replaced in place from /overview/fragment; the page itself is not reloaded.
    await page.goto(`${base}/?refresh=1000`);
    // Page functions run in the browser; the project's TypeScript has no DOM library, hence globalThis.
    await page.evaluate(() => {
      const w = globalThis as any;
      w.stillHere = true;
      w.document.querySelector('#live p')?.setAttribute('data-marker', 'old');
    });
    await page.waitForFunction(() => {
      const doc = (globalThis as any).document;
      return doc.querySelector('#live p') !== null && !doc.querySelector('#live p[data-marker]');
    }, undefined, { timeout: 10_000 });
    expect(await page.evaluate(() => (globalThis as any).stillHere)).toBe(true);
    expect(await page.locator('#counts').count()).toBe(1);
  });

  it('opens a record, records a completion and shows the deadline met', async () => {
    const now = new Date(NOW);
    const [target] = await database.db
      .select({ key: deadlines.key, rule: deadlines.ruleId, recordType: deadlines.recordType, recordId: deadlines.recordId })
      .from(deadlines)
      .where(and(eq(deadlines.active, true), isNull(deadlines.completedAt), eq(deadlines.suspended, false), gte(deadlines.dueAt, now), inArray(deadlines.ruleId, Object.keys(COMPLETES))))
      .orderBy(deadlines.dueAt)
      .limit(1);
    expect(target, 'the demo data has an open deadline to complete').toBeDefined();
    const { key, rule, recordType, recordId } = target as { key: string; rule: string; recordType: RecordTypeName; recordId: string };
    const journal = (await recordInfo(database.db, [{ recordType, recordId }])).get(recordId)?.journalNumber as string;

    // From the overview list, as a duty manager would.
    await page.goto(`${base}/?status=open&sort=journal`);
    await page.locator('#deadline-list').getByRole('link', { name: journal, exact: true }).first().click();
    await page.waitForURL(/\/records\//);
    expect(await page.locator('h1').textContent()).toContain(journal);
    const row = page.locator(`#record-deadlines tr[data-key="${key}"]`);
    expect(await row.textContent()).toContain('Åben');
    await check('03-record');

    await page.locator('#ev-type').selectOption(COMPLETES[rule] as string);
    await page.getByRole('button', { name: 'Registrér', exact: true }).click();
    await page.waitForURL(/done=event/);
    expect(await page.getByRole('status').first().textContent()).toContain('Handlingen er registreret.');
    expect(await page.locator(`#record-deadlines tr[data-key="${key}"]`).textContent()).toContain('Overholdt');
    expect(await page.locator('ol.timeline').textContent()).toContain('Birte Brix');
    await shot('04-record-completed');
  });

  it('shows compliance and the mail log', async () => {
    await page.getByRole('link', { name: 'Efterlevelse' }).click();
    await page.waitForURL(`${base}/compliance`);
    expect(await page.locator('svg[role="img"]').count()).toBeGreaterThanOrEqual(3);
    expect(await page.locator('#compliance-table tbody tr').count()).toBeGreaterThan(3);
    await check('05-compliance');
    const csv = await page.evaluate(async () => (await fetch('/compliance.csv')).text());
    expect(csv.split('\r\n')[0]).toMatch(/^\uFEFF?Område-id;Område;Institutions-id/);

    // The backlog: what the demo's history had already breached when it arrived (README "Go-live").
    await page.getByRole('link', { name: 'Restancer' }).click();
    await page.waitForURL(`${base}/backlog`);
    expect(await page.locator('#backlog-table tbody tr').count()).toBeGreaterThan(5);
    expect(await page.locator('#backlog-table tbody tr').first().textContent()).toMatch(/DEMO-2015-\d{5}/);
    await check('05b-backlog');

    await page.getByRole('link', { name: 'Maillog' }).click();
    await page.waitForURL(`${base}/mail`);
    expect(await page.locator('#notifications tbody tr').count()).toBeGreaterThan(5);
    expect(await page.locator('#caught-mail tbody tr').count()).toBeGreaterThan(0);
    await check('06-mail');
    await page.locator('#caught-mail a').first().click();
    await page.waitForURL(/\/mail\/caught\//);
    expect(await page.locator('pre.mail').textContent()).toMatch(/DEMO-2015-\d{5}/);
    await check('07-mail-caught');
  });

  it('changes a reminder stage through the impact preview, saves it and shows the audit entry', async () => {
    await page.getByRole('link', { name: 'Indstillinger' }).click();
    await page.waitForURL(`${base}/settings`);
    await check('08-settings');
    // The area review of security-cell cases can be turned off or given other days per area.
    expect(await page.locator('#area-policy tbody tr').count()).toBe(3);
    await page.locator('#area-policy').screenshot({ path: join(SHOTS, '08-settings-area-policy.png') });
    // The first reminder: three working days before instead of two; and Thursday 19.11 becomes a closure day.
    expect(await page.locator('#stages tbody tr').first().locator('th').textContent()).toBe('Påmindelse 2 arbejdsdage før');
    await page.locator('#s_wd_0').fill('3');
    await page.locator('#closureDays').fill('2026-11-19');
    await page.getByRole('button', { name: 'Beregn konsekvenser' }).first().click();
    await page.waitForURL(`${base}/settings/preview`);
    const impact = (await page.locator('#impact').textContent()) ?? '';
    expect(impact).toContain('Ændrede indstillinger: Lukkedage, Påmindelser og rykkere');
    expect(impact).toMatch(/Planlagte mails der flyttes \([1-9]\d*\)/);
    expect(impact).toMatch(/Frister der flyttes eller skifter status \([1-9]\d*\)/);
    expect(impact).toContain('Påmindelse 3 arbejdsdage før');
    expect(impact).not.toMatch(/reminder-\d/);
    expect(await page.locator('#impact table tbody tr').count()).toBeGreaterThan(1);
    await check('09-settings-preview');

    await page.getByRole('button', { name: 'Gem' }).click();
    await page.waitForURL(/\/settings\?done=saved/);
    expect(await page.getByRole('status').first().textContent()).toContain('Indstillingerne er gemt.');
    const audit = (await page.locator('#settings-audit tbody').textContent()) ?? '';
    expect(audit).toContain('Påmindelser og rykkere');
    expect(audit).toContain('Lukkedage');
    expect(audit).toContain('19.11.2026');
    expect(audit).toContain('Birte Brix');
    expect(await page.locator('#s_wd_0').inputValue()).toBe('3');
    await check('10-settings-saved');
  });

  it('says on a record why nothing is watched, which data is missing and which note is lacking', async () => {
    const admin = { id: 'browser-test', name: 'browser-test', role: 'admin' as const };
    const old = await createRecord(ctx, 'force_use', { institutionId: 'demo-fengsel-oest', journalNumber: 'DEMO-I10-MA-2016', occurredAt: '2016-05-10T10:00:00+02:00' }, admin);
    const plan = await createRecord(ctx, 'action_plan', { institutionId: 'demo-fengsel-oest', journalNumber: 'DEMO-I10-HP', clientCategory: 'convicted_from_liberty', admittedAt: '2026-11-02' }, admin);
    const cell = await createRecord(ctx, 'security_cell_placement', { institutionId: 'demo-fengsel-oest', journalNumber: 'DEMO-I10-SC', placedAt: '2026-11-10T20:00:00+01:00', endedAt: '2026-11-11T08:00:00+01:00', followUpHeldAt: '2026-11-13T10:00:00+01:00' }, admin);

    await page.goto(`${base}/records/force-uses/${old.id}`);
    expect(await page.locator('#not-in-force').textContent()).toMatch(/Reglen gjaldt ikke endnu: .+trådte i kraft 01\.04\.2017/);
    expect(await page.locator('#record-deadlines').count()).toBe(0);
    await check('12-record-not-in-force');

    await page.goto(`${base}/records/action-plans/${plan.id}`);
    expect(await page.locator('#incomplete').textContent()).toContain('Mangler: mulig prøveløsladelsesdato');
    await check('13-record-incomplete');

    await page.goto(`${base}/records/security-cell-placements/${cell.id}`);
    expect(await page.locator('#warnings').textContent()).toContain('§ 14');
    expect(await page.locator('#form-review').count()).toBe(1);
    await check('14-record-warnings');

    // The overview names the incomplete plan.
    await page.goto(`${base}/`);
    expect(await page.locator('#incomplete-cases').textContent()).toContain('DEMO-I10-HP');
    await check('15-overview-incomplete');
    await page.locator('#incomplete-cases').screenshot({ path: join(SHOTS, '15-overview-incomplete-list.png') });
  });

  it('shows every delay notice judged, deadlines ended by a reclassification and a declined offer', async () => {
    const admin = { id: 'browser-test', name: 'browser-test', role: 'admin' as const };
    // Qualified self-harm on 02.11: told of a delay in time, then once more too late; reclassified to chapter 5 on 17.11.
    const inc = await createRecord(ctx, 'incident', { institutionId: 'demo-fengsel-oest', journalNumber: 'DEMO-I10-SM', kind: 'qualified_self_harm', occurredAt: '2026-10-05T09:00:00+02:00', preliminaryNoticeSentAt: '2026-10-06T10:00:00+02:00' }, admin);
    await recordEvent(ctx, 'incident', inc.id, { type: 'delay_notified', at: '2026-10-20T10:00:00+02:00', expectedDate: '2026-11-10', reason: 'Afventer lægeerklæring' }, admin);
    await recordEvent(ctx, 'incident', inc.id, { type: 'delay_notified', at: '2026-11-12T10:00:00+01:00', expectedDate: '2026-11-30', reason: 'Afventer psykiatrisk vurdering' }, admin);
    await recordEvent(ctx, 'incident', inc.id, { type: 'reclassified', kind: 'other_self_harm_behaviour', reason: 'Ikke nærliggende livsfare', at: '2026-11-17T09:00:00+01:00' }, admin);
    await page.goto(`${base}/records/incidents/${inc.id}`);
    expect(await page.locator('#record-deadlines tr[data-ended-by="reclassification"]').count()).toBeGreaterThan(0);
    expect(await page.locator('#record-deadlines .delay-notices li').count()).toBe(2);
    // Chapter 5 now: no delay to give, no report steps to record; the closing as not reportable is offered.
    expect(await page.locator('#form-delay').count()).toBe(0);
    expect(await page.locator('#ev-type option[value="final_report_submitted"]').count()).toBe(0);
    expect(await page.locator('#ev-type option[value="closed_not_reportable"]').count()).toBe(1);
    await check('16-record-history');

    const cell = await createRecord(ctx, 'security_cell_placement', { institutionId: 'demo-fengsel-oest', journalNumber: 'DEMO-I10-SC2', placedAt: '2026-11-01T20:00:00+01:00', endedAt: '2026-11-02T08:00:00+01:00' }, admin);
    await recordEvent(ctx, 'security_cell_placement', cell.id, { type: 'follow_up_postponed', reason: 'Indlagt', at: '2026-11-12T10:00:00+01:00' }, admin);
    await recordEvent(ctx, 'security_cell_placement', cell.id, { type: 'follow_up_offered', at: '2026-11-16T10:00:00+01:00' }, admin);
    await recordEvent(ctx, 'security_cell_placement', cell.id, { type: 'follow_up_declined', at: '2026-11-16T10:05:00+01:00' }, admin);
    await page.goto(`${base}/records/security-cell-placements/${cell.id}`);
    expect(await page.locator('#record-deadlines').textContent()).toContain('tilbudt og afslået af den indsatte');
    expect(await page.locator('#record-deadlines').textContent()).toContain('udsættelse registreret efter fristen');
    expect(await page.locator('#form-postpone').count()).toBe(0);
    await check('17-record-declined-late-postponement');
  });

  it('switches to English and logs out', async () => {
    await page.getByRole('link', { name: 'Switch to English' }).click();
    expect(await page.getAttribute('html', 'lang')).toBe('en');
    await page.goto(`${base}/`);
    expect(await page.locator('h1').textContent()).toBe('Deadline overview');
    await check('11-overview-en');
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.waitForURL(/\/login\?out=1/);
    expect(await page.getByRole('status').first().textContent()).toContain('You are logged out.');
    await page.goto(`${base}/settings`);
    expect(new URL(page.url()).pathname).toBe('/login');
  });

  it('breaks no Content-Security-Policy rule and logs no script error', () => {
    expect(browser.consoleErrors).toEqual([]);
  });
});
