/**
 * Master data in a real browser (Debian's chromium via playwright-core, as in ui.browser.test.ts)
 * against the real server on an embedded PGlite database. An administrator sets an area's
 * recipients, creates and edits an institution and a staff member, creates an area token (shown
 * once) and revokes another; the area office user logs in with the new token, creates a substitute
 * and a staff member with an absence in Danish dates (meeting the Danish field errors on the way),
 * deactivates a staff member, and is refused another area's area, institution and staff, by page
 * and by form post (403). axe-core checks the pages; each key page is measured for horizontal
 * scroll at 360 and 1280 px; screenshots go to test-results/screenshots/md-*.png.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, seedMasterData, startTestApp, type TestApp } from '../support/app.js';
import { type Browser, checkPage, launchChromium, shot, tokenLogin } from '../support/browser.js';

const NOW = '2026-12-01T10:00:00+01:00';

describe('master data in chromium', () => {
  let t: TestApp;
  let base = '';
  let browser: Browser;
  let page: Page;
  let areaToken = '';
  let northStaff = '';

  beforeAll(async () => {
    t = await startTestApp('pglite', NOW);
    await seedMasterData(t);
    const north = await t.req('POST', '/api/staff', { body: { areaId: 'nordjylland', institutionId: 'aalborg', name: 'Nora Nordmand', email: 'nora.nordmand@kriminalforsorgen.test', absences: [{ from: '2026-12-10', until: '2026-12-12', reason: 'kursus' }] } });
    expect(north.status, JSON.stringify(north.json)).toBe(201);
    northStaff = north.json.id;
    base = await t.app.listen({ host: '127.0.0.1', port: 0 });
    browser = await launchChromium();
    page = browser.page;
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  const check = (name: string): Promise<void> => checkPage(page, name);

  /** No horizontal scroll at a phone's and a desktop's width; a screenshot of each. */
  async function widths(name: string): Promise<void> {
    for (const width of [360, 1280]) {
      await page.setViewportSize({ width, height: 900 });
      const { scroll, client } = await page.evaluate(() => {
        const el = (globalThis as any).document.documentElement;
        return { scroll: el.scrollWidth as number, client: el.clientWidth as number };
      });
      expect(scroll, `${name} at ${width} px scrolls sideways`).toBeLessThanOrEqual(client);
      await shot(page, `${name}-${width}`);
    }
  }

  async function login(token: string): Promise<void> {
    await page.goto(`${base}/login`);
    await tokenLogin(page, token);
    await page.waitForURL(`${base}/`);
  }

  it('lets an administrator set an area\'s recipients, with Danish errors by the field', async () => {
    await login(ADMIN_TOKEN);
    await page.getByRole('navigation', { name: 'Hovedmenu' }).getByRole('link', { name: 'Stamdata' }).click();
    await page.waitForURL(`${base}/masterdata/areas`);
    expect(await page.locator('#area-list tbody tr').count()).toBe(2);
    await check('md-01-areas');
    await widths('md-01-areas');

    await page.locator('#area-list').getByRole('link', { name: 'Kriminalforsorgen Hovedstaden' }).click();
    await page.waitForURL(`${base}/masterdata/areas/hovedstaden`);
    await page.getByLabel('Områdekontorets e-mail').fill('omraadekontor.hovedstaden');
    await page.getByLabel('Områdeledelsens e-mail').fill('ledelse.hovedstaden@kriminalforsorgen.test');
    await page.getByRole('button', { name: 'Gem ændringerne' }).click();
    await page.waitForSelector('#f-officeEmail-err');
    expect(await page.locator('#f-officeEmail-err').textContent()).toBe('Er ikke en gyldig e-mailadresse.');
    expect(await page.getByLabel('Områdekontorets e-mail').getAttribute('aria-invalid')).toBe('true');
    expect(await page.getByLabel('Områdekontorets e-mail').getAttribute('aria-describedby')).toContain('f-officeEmail-err');
    expect(await page.locator('#errors').textContent()).toContain('Områdekontorets e-mail: er ikke en gyldig e-mailadresse.');
    // What was typed stays; nothing was written.
    expect(await page.getByLabel('Områdeledelsens e-mail').inputValue()).toBe('ledelse.hovedstaden@kriminalforsorgen.test');
    expect((await t.req('GET', '/api/areas/hovedstaden')).json.leadershipEmail).toBeNull();
    await check('md-02-area-errors');

    await page.getByLabel('Områdekontorets e-mail').fill('omraadekontor.hovedstaden@kriminalforsorgen.test');
    await page.getByRole('button', { name: 'Gem ændringerne' }).click();
    await page.waitForURL(`${base}/masterdata/areas/hovedstaden?done=saved`);
    expect(await page.getByRole('status').first().textContent()).toContain('Ændringerne er gemt.');
    const area = (await t.req('GET', '/api/areas/hovedstaden')).json;
    expect(area).toMatchObject({ officeEmail: 'omraadekontor.hovedstaden@kriminalforsorgen.test', leadershipEmail: 'ledelse.hovedstaden@kriminalforsorgen.test' });
    await check('md-03-area-saved');
  });

  it('lets an administrator create and edit an institution', async () => {
    await page.getByRole('navigation', { name: 'Stamdata' }).getByRole('link', { name: 'Institutioner' }).click();
    await page.waitForURL(`${base}/masterdata/institutions`);
    await page.getByRole('link', { name: 'Ny institution' }).click();
    await page.waitForURL(`${base}/masterdata/institutions/new`);
    // Everything empty: each required field says so, in Danish, next to itself.
    await page.getByRole('button', { name: 'Opret' }).click();
    await page.waitForSelector('#errors');
    for (const name of ['id', 'name', 'areaId', 'kind', 'dutyManagerEmail']) expect(await page.locator(`#f-${name}-err`).textContent(), name).toBe('Skal udfyldes.');
    expect(await page.locator('#f-name').getAttribute('aria-required')).toBe('true');
    expect(await page.locator('#errors a[href="#f-dutyManagerEmail"]').textContent()).toBe('Vagthavendes e-mail');
    await check('md-04-institution-errors');

    await page.getByLabel('Id (kort navn)').fill('Kragskovhede');
    await page.getByLabel('Navn', { exact: true }).fill('Statsfængslet Kragskovhede');
    await page.getByLabel('Område').selectOption('nordjylland');
    await page.getByLabel('Type').selectOption('prison');
    await page.getByLabel('Vagthavendes e-mail').fill('vagt.kragskovhede@kriminalforsorgen.test');
    await page.getByRole('button', { name: 'Opret' }).click();
    await page.waitForSelector('#f-id-err');
    expect(await page.locator('#f-id-err').textContent()).toContain('Kun små bogstaver, tal og bindestreg');
    await page.getByLabel('Id (kort navn)').fill('kragskovhede');
    await page.getByRole('button', { name: 'Opret' }).click();
    await page.waitForURL(`${base}/masterdata/institutions/kragskovhede?done=created`);
    expect(await page.getByRole('status').first().textContent()).toContain('Oprettet.');

    await page.getByLabel('Område').selectOption('hovedstaden');
    await page.getByLabel('Vagthavendes e-mail').fill('vagthavende.kragskovhede@kriminalforsorgen.test');
    await page.getByRole('button', { name: 'Gem ændringerne' }).click();
    await page.waitForURL(`${base}/masterdata/institutions/kragskovhede?done=saved`);
    expect((await t.req('GET', '/api/institutions/kragskovhede')).json).toMatchObject({ areaId: 'hovedstaden', dutyManagerEmail: 'vagthavende.kragskovhede@kriminalforsorgen.test', kind: 'prison' });
    await check('md-05-institution');
    await widths('md-05-institution');
  });

  it('lets an administrator create and edit a staff member', async () => {
    await page.goto(`${base}/masterdata/staff/new`);
    await page.getByLabel('Område').selectOption('hovedstaden');
    await page.getByLabel('Navn', { exact: true }).fill('Anna Andersen');
    await page.getByLabel('E-mail', { exact: true }).fill('anna.andersen@kriminalforsorgen.test');
    await page.getByLabel('Institution').selectOption('kragskovhede');
    await page.getByRole('button', { name: 'Opret' }).click();
    await page.waitForURL(/\/masterdata\/staff\/[0-9a-f-]{36}\?done=created$/);
    await page.getByLabel('Stilling').fill('Souschef');
    await page.getByRole('button', { name: 'Gem ændringerne' }).click();
    await page.waitForURL(/done=saved$/);
    expect(await page.getByLabel('Stilling').inputValue()).toBe('Souschef');
  });

  it('lets an administrator create an area token, shown once, and revoke another', async () => {
    await page.getByRole('navigation', { name: 'Stamdata' }).getByRole('link', { name: 'API-tokens' }).click();
    await page.waitForURL(`${base}/masterdata/tokens`);
    // Role area without its area: refused, by the field.
    await page.locator('#token-form').getByLabel('Navn', { exact: true }).fill('Jurist Hovedstaden');
    await page.getByLabel('Rolle').selectOption('area');
    await page.getByRole('button', { name: 'Opret' }).click();
    await page.waitForSelector('#f-areaId-err');
    expect(await page.locator('#f-areaId-err').textContent()).toBe('Skal vælges for rollen område.');
    await page.getByLabel('Område').selectOption('hovedstaden');
    await page.getByRole('button', { name: 'Opret' }).click();
    await page.waitForSelector('#new-token');
    expect(await page.locator('h1').textContent()).toBe('Tokenet er oprettet');
    areaToken = await page.locator('#new-token').inputValue();
    expect(areaToken).toMatch(/^fv_[A-Za-z0-9_-]{43}$/);
    await check('md-06-token-created');
    await widths('md-06-token-created');

    // A second one to revoke.
    await page.goto(`${base}/masterdata/tokens`);
    await page.locator('#token-form').getByLabel('Navn', { exact: true }).fill('Gammel læser');
    await page.getByLabel('Rolle').selectOption('reader');
    await page.getByRole('button', { name: 'Opret' }).click();
    await page.waitForSelector('#new-token');
    const readerToken = await page.locator('#new-token').inputValue();
    expect((await t.req('GET', '/api/areas', { token: readerToken })).status).toBe(200);

    await page.getByRole('link', { name: 'Tilbage til API-tokens' }).click();
    await page.waitForURL(`${base}/masterdata/tokens`);
    // Listed by name and scope; the token itself is nowhere on the page any more.
    const html = await page.content();
    expect(html).not.toContain(areaToken);
    expect(html).not.toContain(readerToken);
    expect(await page.locator('#token-list tbody tr', { hasText: 'Jurist Hovedstaden' }).textContent()).toContain('Område: Kriminalforsorgen Hovedstaden');
    await page.locator('#token-list tbody tr', { hasText: 'Gammel læser' }).getByRole('button', { name: 'Tilbagekald Gammel læser' }).click();
    await page.waitForURL(`${base}/masterdata/tokens?done=revoked`);
    expect(await page.getByRole('status').first().textContent()).toContain('Tokenet er tilbagekaldt.');
    expect(await page.locator('#token-list tbody tr', { hasText: 'Gammel læser' }).textContent()).toContain('Tilbagekaldt 01.12.2026');
    expect(await page.locator('#token-list tbody tr', { hasText: 'Gammel læser' }).getByRole('button').count()).toBe(0);
    expect((await t.req('GET', '/api/areas', { token: readerToken })).status).toBe(401);
    await check('md-07-tokens');
    await widths('md-07-tokens');
    await page.getByRole('button', { name: 'Log ud' }).click();
    await page.waitForURL(/\/login\?out=1/);
  });

  it('lets an administrator create a person with Danish errors by the field, and make their one-time login link', async () => {
    await login(ADMIN_TOKEN);
    await page.goto(`${base}/masterdata/areas`);
    await page.getByRole('navigation', { name: 'Stamdata' }).getByRole('link', { name: 'Brugere' }).click();
    await page.waitForURL(`${base}/masterdata/users`);
    await page.getByRole('link', { name: 'Ny bruger' }).click();
    await page.waitForURL(`${base}/masterdata/users/new`);
    const form = page.locator('#user-form');
    await form.getByLabel('Navn', { exact: true }).fill('Ida Institution');
    await form.getByLabel('Stilling').fill('Vagthavende');
    await form.getByLabel('E-mail').fill('ikke en adresse');
    await form.getByLabel('Rolle').selectOption('institution');
    await form.getByRole('button', { name: 'Opret' }).click();
    await page.waitForSelector('#errors');
    const errors = await page.locator('#errors').textContent();
    expect(errors).toContain('E-mail');
    expect(errors).toContain('Institution');
    await check('md-13-user-errors');
    await form.getByLabel('E-mail').fill('ida.institution@kriminalforsorgen.test');
    await form.locator('select[name="institutionId"]').selectOption('vestre');
    await form.getByRole('button', { name: 'Opret' }).click();
    await page.waitForURL(/\/masterdata\/users\/[0-9a-f-]{36}\?done=created/);
    expect(await page.locator('#user-form').getByLabel('E-mail').inputValue()).toBe('ida.institution@kriminalforsorgen.test');
    await check('md-14-user');
    await widths('md-14-user');
    await page.getByRole('button', { name: 'Lav login-link' }).click();
    await page.waitForSelector('#login-link');
    expect(await page.locator('#login-link').inputValue()).toMatch(/\/login\/link\?k=[A-Za-z0-9_-]{43}$/);
    await check('md-15-user-login-link');
    await page.goto(`${base}/masterdata/users`);
    expect(await page.locator('#user-list').textContent()).toContain('Ida Institution');
    await check('md-16-users');
    await widths('md-16-users');
    await page.getByRole('button', { name: 'Log ud' }).click();
    await page.waitForURL(/\/login\?out=1/);
  });

  it('lets the area office keep its staff: a substitute, an absence in Danish dates, a deactivation', async () => {
    await login(areaToken);
    const nav = page.getByRole('navigation', { name: 'Hovedmenu' });
    expect(await nav.getByRole('link', { name: 'Indstillinger' }).count()).toBe(0);
    await nav.getByRole('link', { name: 'Stamdata' }).click();
    await page.waitForURL(`${base}/masterdata/areas`);
    // Its own area only, read-only; no token section.
    expect(await page.locator('#area-list tbody tr').count()).toBe(1);
    expect(await page.getByRole('navigation', { name: 'Stamdata' }).getByRole('link', { name: 'API-tokens' }).count()).toBe(0);
    await page.locator('#area-list').getByRole('link', { name: 'Kriminalforsorgen Hovedstaden' }).click();
    expect(await page.locator('#area-form').count()).toBe(0);
    expect(await page.locator('#area-facts').textContent()).toContain('ledelse.hovedstaden@kriminalforsorgen.test');
    await check('md-08-area-readonly');

    // The substitute first.
    await page.goto(`${base}/masterdata/staff/new`);
    await page.getByLabel('Navn', { exact: true }).fill('Bo Berg');
    await page.getByLabel('E-mail', { exact: true }).fill('bo.berg@kriminalforsorgen.test');
    await page.getByLabel('Institution').selectOption('vestre');
    await page.getByRole('button', { name: 'Opret' }).click();
    await page.waitForURL(/\/masterdata\/staff\/[0-9a-f-]{36}\?done=created$/);
    const boId = /\/staff\/([0-9a-f-]{36})/.exec(page.url())?.[1] as string;

    await page.goto(`${base}/masterdata/staff/new`);
    // Only its own area and institutions are offered.
    expect(await page.locator('#f-areaId option').allTextContents()).toEqual(['Kriminalforsorgen Hovedstaden']);
    expect(await page.locator('#f-institutionId option').allTextContents()).not.toContain('Fængsel aalborg');
    expect(await page.locator('#f-substituteId').textContent()).not.toContain('Nora Nordmand');
    await page.getByLabel('Navn', { exact: true }).fill('Carla Christensen');
    await page.getByLabel('E-mail', { exact: true }).fill('carla.christensen@kriminalforsorgen.test');
    await page.getByLabel('Institution').selectOption('vestre');
    await page.getByLabel('Stedfortræder').selectOption(boId);
    // Dates are text in the Danish form, whatever the browser's locale.
    const from = page.locator('#f-abs_from_0');
    expect(await from.getAttribute('type')).toBe('text');
    expect(await page.locator('#f-abs_from_0-hint').textContent()).toBe('dd.mm.åååå');
    await from.fill('24.12.2026');
    await page.locator('#f-abs_until_0').fill('31.02.2027');
    await page.locator('#f-abs_reason_0').fill('ferie');
    await page.getByRole('button', { name: 'Opret' }).click();
    await page.waitForSelector('#f-abs_until_0-err');
    expect(await page.locator('#f-abs_until_0-err').textContent()).toBe('Er ikke en dato. Skriv dd.mm.åååå, fx 18.11.2026.');
    expect(await page.locator('#errors').textContent()).toContain('Fravær 1 › Til og med');
    expect(await page.locator('#f-abs_until_0').getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator('#f-abs_from_0').inputValue()).toBe('24.12.2026');
    await check('md-09-staff-date-error');

    // A Danish date, but before the first day: the service's check, by the field.
    await page.locator('#f-abs_until_0').fill('23.12.2026');
    await page.getByRole('button', { name: 'Opret' }).click();
    await page.waitForSelector('#f-abs_until_0-err');
    expect(await page.locator('#f-abs_until_0-err').textContent()).toBe('Ligger før «fra og med».');
    expect((await t.req('GET', '/api/staff')).json.items.map((s: any) => s.name)).not.toContain('Carla Christensen');

    await page.locator('#f-abs_until_0').fill('2.1.2027');
    await page.getByRole('button', { name: 'Opret' }).click();
    await page.waitForURL(/\/masterdata\/staff\/[0-9a-f-]{36}\?done=created$/);
    const carlaId = /\/staff\/([0-9a-f-]{36})/.exec(page.url())?.[1] as string;
    const carla = (await t.req('GET', `/api/staff/${carlaId}`)).json;
    expect(carla).toMatchObject({ areaId: 'hovedstaden', institutionId: 'vestre', substituteId: boId, active: true, absences: [{ from: '2026-12-24', until: '2027-01-02', reason: 'ferie' }] });
    expect(await page.locator('#f-abs_from_0').inputValue()).toBe('24.12.2026');
    expect(await page.locator('#f-abs_until_0').inputValue()).toBe('02.01.2027');
    expect(await page.getByLabel('Stedfortræder').inputValue()).toBe(boId);
    await check('md-10-staff');
    await widths('md-10-staff');

    // A second absence, and the first one moved.
    await page.locator('#f-abs_until_0').fill('03.01.2027');
    await page.locator('#f-abs_from_1').fill('01.02.2027');
    await page.locator('#f-abs_until_1').fill('05.02.2027');
    await page.getByRole('button', { name: 'Gem ændringerne' }).click();
    await page.waitForURL(/done=saved$/);
    expect((await t.req('GET', `/api/staff/${carlaId}`)).json.absences.map((a: any) => [a.from, a.until])).toEqual([['2026-12-24', '2027-01-03'], ['2027-02-01', '2027-02-05']]);
    // Deleting one.
    await page.getByRole('group', { name: 'Fravær 2' }).getByLabel('Slet').check();
    await page.getByRole('button', { name: 'Gem ændringerne' }).click();
    await page.waitForURL(/done=saved$/);
    expect((await t.req('GET', `/api/staff/${carlaId}`)).json.absences).toHaveLength(1);

    // Deactivated, not deleted.
    await page.goto(`${base}/masterdata/staff/${boId}`);
    await page.getByLabel('Aktiv (kan være').uncheck();
    await page.getByRole('button', { name: 'Gem ændringerne' }).click();
    await page.waitForURL(/done=saved$/);
    expect((await t.req('GET', `/api/staff/${boId}`)).json.active).toBe(false);
    await page.getByRole('navigation', { name: 'Stamdata' }).getByRole('link', { name: 'Medarbejdere' }).click();
    await page.waitForURL(`${base}/masterdata/staff`);
    expect(await page.locator('#staff-list tbody tr', { hasText: 'bo.berg@' }).textContent()).toContain('Deaktiveret');
    expect(await page.locator('#staff-list tbody tr', { hasText: 'Carla Christensen' }).textContent()).toContain('Bo Berg');
    expect(await page.locator('#staff-list').textContent()).not.toContain('Nora Nordmand');
    await check('md-11-staff-list');
    await widths('md-11-staff-list');
  });

  it("refuses the area office another area's data and the administrator's forms (403)", async () => {
    for (const path of ['/masterdata/areas/nordjylland', '/masterdata/institutions/aalborg', `/masterdata/staff/${northStaff}`, '/masterdata/tokens', '/masterdata/institutions/new', '/masterdata/areas/new']) {
      const res = await page.goto(`${base}${path}`);
      expect(res?.status(), path).toBe(403);
      expect(await page.locator('h1').textContent(), path).toBe('403 Du har ikke adgang til dette.');
      expect(await page.content(), path).not.toContain('Nora Nordmand');
    }
    await check('md-12-forbidden');

    // Posted with the session's own CSRF token, as a hand-made form would.
    await page.goto(`${base}/masterdata/staff`);
    const csrf = await page.locator('input[name="_csrf"]').first().inputValue();
    const post = (path: string, fields: Record<string, string>) =>
      page.evaluate(async ({ path, fields }) => (await fetch(path, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() })).status, { path, fields: { _csrf: csrf, ...fields } });
    expect(await post(`/masterdata/staff/${northStaff}`, { name: 'Overtaget', email: 'nora.nordmand@kriminalforsorgen.test', abs_rows: '0' })).toBe(403);
    expect(await post('/masterdata/staff', { areaId: 'nordjylland', name: 'Indsmuglet', email: 'indsmuglet@kriminalforsorgen.test', abs_rows: '0' })).toBe(403);
    expect(await post('/masterdata/areas/hovedstaden', { name: 'Eget område', officeEmail: 'x@kriminalforsorgen.test', directorName: 'X', directorEmail: 'x@kriminalforsorgen.test' })).toBe(403);
    expect(await post('/masterdata/institutions/vestre', { areaId: 'hovedstaden', name: 'Vestre', kind: 'prison', dutyManagerEmail: 'x@kriminalforsorgen.test' })).toBe(403);
    expect(await post('/masterdata/tokens', { name: 'Selvbetjening', role: 'admin' })).toBe(403);
    const nora = (await t.req('GET', `/api/staff/${northStaff}`)).json;
    expect(nora).toMatchObject({ name: 'Nora Nordmand', absences: [{ from: '2026-12-10' }] });
    expect((await t.req('GET', '/api/staff')).json.items.map((s: any) => s.name)).not.toContain('Indsmuglet');
    expect((await t.req('GET', '/api/areas/hovedstaden')).json.name).toBe('Kriminalforsorgen Hovedstaden');
    expect((await t.req('GET', '/api/tokens')).json.items.map((x: any) => x.name)).not.toContain('Selvbetjening');
  });

  it('reads in English too, with the dates still dd.mm.yyyy', async () => {
    await page.goto(`${base}/masterdata/staff/new?lang=en`);
    expect(await page.locator('h1').textContent()).toBe('New staff member');
    expect(await page.locator('#f-abs_from_0-hint').textContent()).toBe('dd.mm.yyyy');
    await check('md-13-staff-new-en');
    await page.goto(`${base}/masterdata/staff?lang=da`);
    // The refused submissions and the 403 pages answer 400 and 403 on purpose (the browser notes those statuses); nothing else.
    expect(browser.consoleErrors.filter((e) => !/status of (400|403|409) /.test(e))).toEqual([]);
  });
});
