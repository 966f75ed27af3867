/**
 * Case work in the browser (issue 13): a duty manager creates an incident with the Danish date
 * format, sees the deadlines before saving and after, records a step with a wrong time and
 * corrects it with a reason; an area office creates an action plan and records a transfer. Every
 * form page passes axe-core (no serious or critical WCAG 2.1 A/AA violations), has no horizontal
 * scroll at 360 and 1280 px, and is saved as screenshots (`<name>.png`, `<name>-360.png`).
 */
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { and, eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import postgres from 'postgres';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer } from '../../src/api/server.js';
import { migrate, openDatabase, type Database } from '../../src/db/client.js';
import { actionPlans, auditLog, deadlines, incidents } from '../../src/db/schema.js';
import { createLogger } from '../../src/logger.js';
import { seedDemo } from '../../src/records/demo.js';
import { createToken, ENV_ADMIN } from '../../src/records/tokens.js';
import { type Browser, checkPage, launchChromium, shot, tokenLogin } from '../support/browser.js';
import { ADMIN_URL, RUN_STAMP, urlFor } from '../support/db.js';

const ADMIN_TOKEN = 'forms-browser-admin-token-0123456789';
const NOW = '2026-11-18T10:00:00+01:00'; // a Wednesday

describe('case work in chromium: forms, deadline preview, correction', () => {
  let dbName = '';
  let database: Database;
  let app: FastifyInstance;
  let base = '';
  let browser: Browser;
  let page: Page;
  const tokens: Record<'duty' | 'area' | 'west', string> = { duty: '', area: '', west: '' };
  /** Sub-resources (styles, script) that failed to load: none may. */
  const failed: string[] = [];

  beforeAll(async () => {
    dbName = `fristvagt_t_${RUN_STAMP}_fm${randomBytes(3).toString('hex')}`;
    const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => undefined });
    try {
      await admin.unsafe(`CREATE DATABASE ${dbName}`);
    } finally {
      await admin.end();
    }
    const url = urlFor(dbName);
    database = await openDatabase({ databaseUrl: url, maxConnections: 5 });
    await migrate(database, { databaseUrl: url });
    const clock = (): Date => new Date(NOW);
    // Master data only (areas, institutions, staff, recipients): the records are made in the browser.
    await seedDemo({ db: database.db, clock, closureDays: [] }, { records: 0 });
    tokens.duty = (await createToken(database.db, { name: 'Vagthavende Øst', role: 'institution', institutionId: 'demo-fengsel-oest' }, ENV_ADMIN, clock())).token;
    tokens.area = (await createToken(database.db, { name: 'Områdekontor Øst', role: 'area', areaId: 'demo-oest' }, ENV_ADMIN, clock())).token;
    tokens.west = (await createToken(database.db, { name: 'Områdekontor Vest', role: 'area', areaId: 'demo-vest' }, ENV_ADMIN, clock())).token;
    app = await buildServer({
      database,
      config: { FRISTVAGT_ADMIN_TOKEN: ADMIN_TOKEN, FRISTVAGT_BODY_LIMIT: 256 * 1024, FRISTVAGT_CLOSURE_DAYS: [] },
      clock,
      logger: createLogger({ level: 'warn', destination: new Writable({ write: (_c, _e, cb) => cb() }) }),
    });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
    browser = await launchChromium();
    page = browser.page;
    page.on('response', (r) => {
      if (r.status() >= 400 && r.request().resourceType() !== 'document') failed.push(`${r.status()} ${r.url()}`);
    });
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await database?.close();
    if (dbName) {
      const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => undefined });
      try {
        await admin.unsafe(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
      } finally {
        await admin.end();
      }
    }
  });

  /** axe and a screenshot at 1280 px, then at 360 px: neither may scroll sideways. */
  async function check(name: string): Promise<void> {
    for (const width of [1280, 360]) {
      await page.setViewportSize({ width, height: 900 });
      // How far the page reaches past the window, and (to say what to fix) the elements that stick out.
      const { overflow, wide } = await page.evaluate(() => {
        const doc = (globalThis as any).document;
        const limit = doc.documentElement.clientWidth;
        const win = (globalThis as any).window;
        // Inside a box that scrolls by itself (a wide table's wrapper) is not the page scrolling.
        const clipped = (e: any): boolean => {
          for (let p = e.parentElement; p && p !== doc.body; p = p.parentElement) if (['auto', 'scroll', 'hidden'].includes(win.getComputedStyle(p).overflowX)) return true;
          return false;
        };
        const wide = [...doc.querySelectorAll('body *')].filter((e: any) => e.getBoundingClientRect().right > limit + 0.5 && !clipped(e)).slice(0, 5).map((e: any) => `${e.tagName.toLowerCase()}${e.id ? `#${e.id}` : ''}.${e.className}`);
        return { overflow: doc.documentElement.scrollWidth - limit, wide };
      });
      expect(overflow, `${name} scrolls sideways at ${width} px: ${wide.join(', ')}`).toBeLessThanOrEqual(0);
      if (width === 1280) await checkPage(page, name);
      else await shot(page, `${name}-360`);
    }
    await page.setViewportSize({ width: 1280, height: 900 });
  }

  async function login(token: string): Promise<void> {
    await page.goto(`${base}/login`);
    await tokenLogin(page, token);
    await page.waitForURL(`${base}/`);
  }

  const text = async (selector: string): Promise<string> => (await page.locator(selector).first().textContent()) ?? '';

  it('creates an incident: Danish dates, errors next to the field, the deadlines before and after saving', async () => {
    await login(tokens.duty);
    await page.locator('#new-record-link').click();
    await page.waitForURL(`${base}/records/new`);
    await check('40-new-record');
    await page.getByRole('link', { name: 'Opret hændelse' }).click();
    await page.waitForURL(`${base}/records/incidents/new`);
    // The institution role writes one institution: it is chosen already.
    expect(await page.locator('#record-form-institutionId').inputValue()).toBe('demo-fengsel-oest');
    expect(await page.locator('#record-form-occurredAt').getAttribute('type')).toBe('text');
    expect(await text('#record-form-occurredAt-hint')).toContain('dd.mm.åååå tt:mm');
    await check('41-incident-form');

    await page.locator('#record-form-journalNumber').fill('FORM-2026-0001');
    await page.locator('#record-form-kind').selectOption('qualified_self_harm');
    await page.locator('#record-form-inmateName').fill('Testa Prøvesen');
    await page.locator('#record-form-cpr').fill('010190-1235');
    // 31 November is no date: refused by the form, in Danish, next to the field and in the summary.
    await page.locator('#record-form-occurredAt').fill('31.11.2026 22:15');
    await page.getByRole('button', { name: 'Vis fristerne' }).click();
    await page.waitForURL(`${base}/records/incidents/new`);
    expect(await text('#record-form-occurredAt-err')).toBe('Skal være en dato og et klokkeslæt: dd.mm.åååå tt:mm (fx 24.11.2026 14:05).');
    expect(await page.locator('#record-form-occurredAt').getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator('#record-form-occurredAt').getAttribute('aria-describedby')).toBe('record-form-occurredAt-hint record-form-occurredAt-err');
    expect(await text('#errors')).toContain('Tidspunkt for hændelsen: skal være en dato og et klokkeslæt');
    expect(await page.locator('#errors a[href="#record-form-occurredAt"]').count()).toBe(1);
    // What was typed is kept.
    expect(await page.locator('#record-form-journalNumber').inputValue()).toBe('FORM-2026-0001');
    await check('42-incident-form-errors');

    // A time before the incident, checked by the engine as the API checks it: Danish too.
    await page.locator('#record-form-occurredAt').fill('17.11.2026 22:15');
    await page.locator('summary', { hasText: 'Trin, der allerede er udført' }).click();
    await page.locator('#record-form-preliminaryNoticeSentAt').fill('17.11.2026 21:00');
    await page.getByRole('button', { name: 'Vis fristerne' }).click();
    expect(await text('#record-form-preliminaryNoticeSentAt-err')).toBe('Ligger før «Tidspunkt for hændelsen» (tirsdag 17.11.2026 kl. 22:15).');
    await page.locator('#record-form-preliminaryNoticeSentAt').fill('');

    // The preview: the engine's deadlines for the unsaved record; nothing is written.
    await page.getByRole('button', { name: 'Vis fristerne' }).click();
    await page.locator('#deadline-preview').waitFor();
    expect(await text('#deadline-preview')).toContain('Intet er gemt endnu.');
    const previewRow = page.locator('#deadline-preview tr[data-rule="incident.preliminary-notice"]');
    expect(await previewRow.textContent()).toContain('20.11.2026');
    expect(await page.locator('#errors').count()).toBe(0);
    expect(await database.db.select({ id: incidents.id }).from(incidents)).toEqual([]);
    await check('43-incident-preview');

    await page.getByRole('button', { name: 'Opret sagen' }).click();
    await page.waitForURL(/\/records\/incidents\/[0-9a-f-]{36}\?done=created$/);
    expect(await text('[role="status"]')).toContain('Sagen er oprettet.');
    expect(await text('h1')).toContain('FORM-2026-0001');
    const row = page.locator('#record-deadlines tr[data-rule="incident.preliminary-notice"]');
    expect(await row.textContent()).toContain('fredag 20.11.2026');
    expect(await row.textContent()).toContain('Åben');
    const [stored] = await database.db.select().from(incidents).where(eq(incidents.journalNumber, 'FORM-2026-0001'));
    expect(stored?.occurredAt.toISOString()).toBe('2026-11-17T21:15:00.000Z');
    await check('44-incident-created');
  });

  it('records a step with a wrong time and corrects it with a reason: audited, the deadline re-planned at once', async () => {
    const [inc] = await database.db.select().from(incidents).where(eq(incidents.journalNumber, 'FORM-2026-0001'));
    const recordUrl = `${base}/records/incidents/${inc?.id}`;
    await page.goto(recordUrl);
    await page.locator('#more-events summary').click();
    await page.locator('#more-events').getByRole('link', { name: 'Foreløbig underretning sendt' }).click();
    await page.waitForURL(/\/events\/new\?type=preliminary_notice_sent$/);
    expect(await text('#event-form-at-hint')).toContain('Tom = nu.');
    // The mistake: 09:30 was typed; the notice went out at 08:05.
    await page.locator('#event-form-at').fill('18.11.2026 09:30');
    await page.getByRole('button', { name: 'Vis fristerne' }).click();
    expect(await page.locator('#deadline-preview tr[data-rule="incident.preliminary-notice"]').textContent()).toContain('Overholdt');
    await check('45-event-form-preview');
    await page.getByRole('button', { name: 'Registrér handlingen' }).click();
    await page.waitForURL(/\?done=event$/);
    expect(await page.locator('#record-deadlines tr[data-rule="incident.preliminary-notice"]').textContent()).toContain('kl. 09:30');

    const listed = page.locator('#recorded-events li[data-event="preliminary_notice_sent"]');
    expect(await listed.textContent()).toContain('Registreret');
    await check('46-record-with-event');
    await listed.getByRole('link', { name: /Ret eller fortryd/ }).click();
    await page.waitForURL(/\/events\/\d+$/);
    expect(await page.locator('#correct-form-at').inputValue()).toBe('18.11.2026 09:30');
    expect(await text('#event-changes')).toContain('Foreløbig underretning sendt');
    await check('47-correction-form');

    // No reason: refused, next to the field, and nothing written.
    const audits = async () => (await database.db.select({ id: auditLog.id }).from(auditLog)).length;
    const before = await audits();
    await page.locator('#correct-form-at').fill('18.11.2026 08:05');
    await page.locator('#correct-form').getByRole('button', { name: 'Ret handlingen' }).click();
    expect(await text('#correct-form-correctionReason-err')).toBe('Skal udfyldes.');
    expect(await text('#errors')).toContain('Begrundelse for rettelsen: skal udfyldes.');
    expect(await page.locator('#correct-form-at').inputValue()).toBe('18.11.2026 08:05');
    expect(await audits()).toBe(before);
    await check('48-correction-errors');

    await page.locator('#correct-form-correctionReason').fill('Tastefejl i klokkeslættet: sendt 08:05');
    await page.locator('#correct-form').getByRole('button', { name: 'Vis fristerne' }).click();
    expect(await page.locator('#deadline-preview tr[data-rule="incident.preliminary-notice"]').textContent()).toContain('kl. 08:05');
    expect(await audits()).toBe(before);
    await check('49-correction-preview');
    await page.locator('#correct-form').getByRole('button', { name: 'Ret handlingen' }).click();
    await page.waitForURL(/\?done=corrected$/);
    expect(await text('[role="status"]')).toContain('Handlingen er rettet.');
    expect(await page.locator('#record-deadlines tr[data-rule="incident.preliminary-notice"]').textContent()).toContain('kl. 08:05');
    const corrected = page.locator('#recorded-events li[data-event="preliminary_notice_sent"]');
    expect(await corrected.getAttribute('data-status')).toBe('corrected');
    expect(await corrected.textContent()).toContain('Tastefejl i klokkeslættet');
    expect(await text('ol.timeline')).toContain('Rettet: Foreløbig underretning sendt');
    // The stored deadline (what the worker plans mails from) was re-planned in the same write.
    const [dl] = await database.db.select().from(deadlines).where(and(eq(deadlines.recordId, inc?.id as string), eq(deadlines.ruleId, 'incident.preliminary-notice')));
    expect(dl?.completedAt?.toISOString()).toBe('2026-11-18T07:05:00.000Z');
    const [entry] = await database.db.select().from(auditLog).where(eq(auditLog.action, 'incident.event.preliminary_notice_sent.correct'));
    expect(entry?.actor).toContain('Vagthavende Øst');
    await check('50-record-corrected');

    // A step that should not have been recorded at all is undone, with a reason.
    await page.locator('#more-events summary').click();
    await page.locator('#more-events').getByRole('link', { name: 'Sagen lukket' }).click();
    await page.getByRole('button', { name: 'Registrér handlingen' }).click();
    await page.waitForURL(/\?done=event$/);
    await page.locator('#recorded-events li[data-event="closed"]').getByRole('link', { name: /Ret eller fortryd/ }).click();
    await page.locator('#undo-form-correctionReason').fill('Forkert sag');
    await page.locator('#undo-form').getByRole('button', { name: 'Fortryd handlingen' }).click();
    await page.waitForURL(/\?done=undone$/);
    expect(await page.locator('#recorded-events li[data-event="closed"]').getAttribute('data-status')).toBe('undone');
    expect(await page.locator('#recorded-events li[data-event="closed"] a').count()).toBe(0);
    const [after] = await database.db.select().from(incidents).where(eq(incidents.id, inc?.id as string));
    expect(after?.closedAt).toBeNull();
  });

  it('creates an action plan and records a transfer to another area, which the receiving area office then sees', async () => {
    await page.getByRole('button', { name: 'Log ud' }).click();
    await page.waitForURL(/\/login/);
    await login(tokens.area);
    await page.goto(`${base}/records/action-plans/new`);
    await page.locator('#record-form-institutionId').selectOption('demo-fengsel-oest');
    await page.locator('#record-form-journalNumber').fill('FORM-HP-0001');
    await page.locator('#record-form-clientCategory').selectOption('convicted_from_liberty');
    await page.locator('#record-form-admittedAt').fill('02.11.2026 10:00');
    await page.locator('#record-form-sentenceStartDate').fill('2.11.2026');
    await page.locator('#record-form-possibleParoleDate').fill('01.06.2027');
    await page.locator('#record-form-expectedReleaseDate').fill('01.02.2028');
    await page.getByRole('button', { name: 'Vis fristerne' }).click();
    await page.locator('#deadline-preview').waitFor();
    expect(await page.locator('#deadline-preview tr[data-rule="plan.elaborate"]').textContent()).toContain('30.11.2026');
    await check('51-plan-preview');
    await page.getByRole('button', { name: 'Opret sagen' }).click();
    await page.waitForURL(/\/records\/action-plans\/[0-9a-f-]{36}\?done=created$/);
    const [plan] = await database.db.select().from(actionPlans).where(eq(actionPlans.journalNumber, 'FORM-HP-0001'));
    expect(plan?.sentenceStartDate).toBe('2026-11-02');
    expect(plan?.admittedAt?.toISOString()).toBe('2026-11-02T09:00:00.000Z');

    await page.locator('#more-events summary').click();
    await page.locator('#more-events').getByRole('link', { name: 'Overført' }).click();
    await page.waitForURL(/type=transferred$/);
    // The destination only has to exist: every institution is offered, other areas' too.
    await page.locator('#event-form-toInstitutionId').selectOption('demo-fengsel-vest');
    await page.locator('#event-form-at').fill('17.11.2026 12:00');
    await page.getByRole('button', { name: 'Vis fristerne' }).click();
    expect(await page.locator('#deadline-preview tr[data-rule="plan.transfer-update"]').textContent()).toContain('26.11.2026');
    await check('52-transfer-preview');
    await page.getByRole('button', { name: 'Registrér handlingen' }).click();
    // The plan now belongs to the other area: the page says so instead of a refusal.
    expect(await text('#out-of-scope')).toContain('Handlingen er registreret.');
    await check('53-transferred-out-of-scope');
    const [moved] = await database.db.select().from(actionPlans).where(eq(actionPlans.id, plan?.id as string));
    expect(moved?.institutionId).toBe('demo-fengsel-vest');

    await page.getByRole('button', { name: 'Log ud' }).click();
    await page.waitForURL(/\/login/);
    await login(tokens.west);
    await page.goto(`${base}/records/action-plans/${plan?.id}`);
    expect(await text('dl.facts')).toContain('Demo Fængsel Vest');
    expect(await page.locator('#record-deadlines tr[data-rule="plan.transfer-update"]').textContent()).toContain('Åben');
    expect(await page.locator('#recorded-events li[data-event="transferred"]').count()).toBe(1);
    await check('54-plan-transferred');
  });

  it('breaks no Content-Security-Policy rule and logs no script error', () => {
    expect(failed).toEqual([]);
    // A refused form is answered 400 on purpose (the page with the errors), which chromium logs; sub-resources are checked above.
    expect(browser.consoleErrors.filter((m) => !/^Failed to load resource: the server responded with a status of 400/.test(m))).toEqual([]);
  });
});
