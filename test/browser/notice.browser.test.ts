/**
 * The preliminary notice in a real browser (Debian's chromium via playwright-core, as in
 * ui.browser.test.ts) against the real server on an embedded PGlite database and a real SMTP server:
 * an area user opens the notice of a late incident from the record page, meets the Danish field
 * errors, fills in the sender, previews the text with the three recipients named, goes back to edit
 * it, sees a confirmation refused because the record changed meanwhile, confirms the new text, and
 * downloads the archived message, which is byte for byte what the SMTP server received. axe-core
 * checks every page; screenshots go to test-results/screenshots/notice-*.png.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSmtpMailer } from '../../src/mail/transport.js';
import { seedMasterData, startTestApp, type TestApp } from '../support/app.js';
import { type Browser, checkPage, launchChromium, tokenLogin } from '../support/browser.js';
import { startSmtpSink, type SmtpSink } from '../support/smtp.js';

const NOW = '2026-03-28T10:00:00+01:00';
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe('preliminary notice in chromium', () => {
  let t: TestApp;
  let sink: SmtpSink;
  let mailer: ReturnType<typeof createSmtpMailer>;
  let base = '';
  let browser: Browser;
  let page: Page;
  let token = '';
  let incidentId = '';

  beforeAll(async () => {
    sink = await startSmtpSink();
    mailer = createSmtpMailer({ url: sink.url, requireTls: false, rejectUnauthorized: false });
    // The embedded PGlite database (the quick start's): the archive's bytes must survive that driver too.
    t = await startTestApp('pglite', NOW, { mailer });
    await seedMasterData(t);
    await t.req('PUT', '/api/settings/recipients', { body: { value: { ombudsman: 'post@ombudsmand.test', directorate: 'csf@direktorat.test', admins: ['drift@kf.test'] } } });
    token = (await t.req('POST', '/api/tokens', { body: { role: 'area', areaId: 'hovedstaden', name: 'Jurist Hovedstaden' } })).json.token;
    // 20 February: the notice was due Wednesday 25 February and the final report Friday 20 March.
    const inc = await t.req('POST', '/api/incidents', { token, body: { institutionId: 'vestre', journalNumber: 'SM-BR-1', kind: 'death', occurredAt: '2026-02-20T09:00:00+01:00', inmateName: 'Demo Person', cpr: '010190-4321', description: 'Fundet livløs i cellen ved morgentællingen.' } });
    expect(inc.status, JSON.stringify(inc.json)).toBe(201);
    incidentId = inc.json.id as string;
    base = await t.app.listen({ host: '127.0.0.1', port: 0 });

    browser = await launchChromium();
    page = browser.page;
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
    mailer?.close();
    await sink?.close();
  });

  const check = (name: string): Promise<void> => checkPage(page, name);

  it('previews, edits, refuses a changed text, confirms, sends once and offers the archived message as received', async () => {
    await page.goto(`${base}/login`);
    await tokenLogin(page, token);
    await page.waitForURL(`${base}/`);

    await page.goto(`${base}/records/incidents/${incidentId}`);
    await page.getByRole('link', { name: 'Forhåndsvis foreløbig underretning' }).click();
    await page.waitForURL(`${base}/records/incidents/${incidentId}/notice`);
    // Prefilled from the record; late, and it says so before anything else.
    expect(await page.getByLabel('Hvornår hændelsen fandt sted').inputValue()).toBe('fredag 20.02.2026 kl. 09:00');
    expect(await page.getByLabel('Hvordan hændelsen fandt sted (hændelsesforløb)').inputValue()).toBe('Fundet livløs i cellen ved morgentællingen.');
    expect(await page.locator('#notice-late').textContent()).toContain('onsdag 25.02.2026');
    expect(await page.locator('#final-report-line').textContent()).toContain('fredag 20.03.2026');
    await check('notice-01-edit');

    // The first submission sends nothing: the sender is required, and the error sits by its field, in Danish.
    await page.getByRole('button', { name: 'Vis underretningen før afsendelse' }).click();
    await page.waitForSelector('#err-senderName');
    expect(await page.locator('#err-senderName').textContent()).toBe('Skal udfyldes.');
    expect(await page.locator('#err-senderTitle').textContent()).toBe('Skal udfyldes.');
    expect(await page.getByLabel('Afsenderens navn').getAttribute('aria-invalid')).toBe('true');
    await check('notice-02-errors');

    await page.getByLabel('Afsenderens navn').fill('Hanne Jurist');
    await page.getByLabel('Afsenderens stilling').fill('Jurist');
    await page.getByLabel('Årsag til forsinkelsen (valgfrit)').fill('Sagen blev først oprettet i selvmordsmodulet den 27. marts.');
    await page.getByRole('button', { name: 'Vis underretningen før afsendelse' }).click();
    await page.waitForSelector('#notice-confirm');
    const recipients = await page.locator('#notice-recipients').textContent();
    for (const s of ['Områdekontoret: omraade.hovedstaden@kriminalforsorgen.test', 'Folketingets Ombudsmand: post@ombudsmand.test', 'Direktoratet (Center for Straffuldbyrdelse): csf@direktorat.test']) expect(recipients).toContain(s);
    const text = (await page.locator('#notice-text').textContent()) ?? '';
    expect(text).toContain('Underretningen sendes efter fristen: efter Cirkulære om dødsfald m.v. § 6, stk. 2 skulle den være sendt senest onsdag 25.02.2026.');
    expect(text).toContain('den skulle have foreligget senest fredag 20.03.2026 og er endnu ikke sendt');
    expect(text).toContain('Med venlig hilsen\nHanne Jurist\nJurist');
    expect(text).not.toContain('token:');
    await check('notice-03-confirm');
    expect(sink.received).toHaveLength(0);

    // Back to the form with everything kept; an edit there gives a new text to confirm.
    await page.getByRole('button', { name: 'Ret teksten' }).click();
    await page.waitForSelector('#notice-edit');
    expect(await page.getByLabel('Afsenderens navn').inputValue()).toBe('Hanne Jurist');
    await page.getByLabel('Øvrige bemærkninger (valgfrit)').fill('Pårørende er underrettet.');
    await page.getByRole('button', { name: 'Vis underretningen før afsendelse' }).click();
    await page.waitForSelector('#notice-confirm');
    expect(await page.locator('#notice-text').textContent()).toContain('Øvrige bemærkninger: Pårørende er underrettet.');

    // Meanwhile someone corrects the record: the confirmation shows the new text instead of sending.
    await t.req('PATCH', `/api/incidents/${incidentId}`, { token, body: { inmateName: 'Demo Person-Hansen' } });
    await page.getByRole('button', { name: 'Bekræft og send til de tre modtagere' }).click();
    await page.waitForSelector('#notice-changed');
    expect(await page.locator('#notice-text').textContent()).toContain('Demo Person-Hansen');
    await check('notice-04-changed');
    expect(sink.received).toHaveLength(0);

    await page.getByRole('button', { name: 'Bekræft og send til de tre modtagere' }).click();
    await page.waitForURL(`${base}/records/incidents/${incidentId}?done=notice`);
    await sink.waitFor((all) => all.length === 3);
    expect(await page.locator('#notice-archive tbody tr').count()).toBe(3);
    await check('notice-05-record-archive');
    for (const m of sink.received) {
      expect(m.secure).toBe(true);
      expect(m.text).toContain('Demo Person-Hansen');
      expect(await page.locator('#notice-archive').textContent()).toContain(sha(m.raw));
    }

    // The download is the message the server received, byte for byte.
    const link = page.locator('#notice-archive tbody tr', { hasText: 'post@ombudsmand.test' }).getByRole('link', { name: 'Hent .eml' });
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    expect(download.suggestedFilename()).toMatch(/^foreloebig-underretning-SM-BR-1-post_ombudsmand\.test\.eml$/);
    const file = readFileSync((await download.path()) as string);
    const received = sink.received.find((m) => m.to[0] === 'post@ombudsmand.test');
    expect(sha(file)).toBe(sha(received?.raw ?? Buffer.alloc(0)));
    // The refused submissions answer 400 and 409 on purpose (the browser notes those statuses); nothing else.
    expect(browser.consoleErrors.filter((e) => !/status of (400|409) /.test(e))).toEqual([]);
  }, 120_000);
});
