/**
 * Single sign-on and a person's account in a real browser: chromium against fristvagt on
 * 127.0.0.1 and a real OpenID provider (oidc-provider) named `localhost`, another site (PGlite, as the other browser tests). What only a
 * browser decides is checked here: the SameSite=Strict session cookie after the provider's
 * cross-site redirect back (the callback page moves on by itself), the logout form's redirect to
 * the provider under the pages' CSP (form-action), and the pages' accessibility (axe) and look.
 */
import { createServer } from 'node:net';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedMasterData, startTestApp, type TestApp } from '../support/app.js';
import { type Browser, checkPage, launchChromium } from '../support/browser.js';
import { startOidcProvider, type TestProvider } from '../support/oidc-provider.js';

const NOW = '2026-12-07T10:00:00+01:00';

/** A port nobody listens on now: fristvagt's address must be known before the provider registers it. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

describe('single sign-on in chromium', () => {
  let t: TestApp;
  let provider: TestProvider;
  let browser: Browser;
  let page: Page;
  let base = '';

  beforeAll(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    provider = await startOidcProvider({
      host: 'localhost',
      redirectUri: `${base}/login/sso/callback`,
      postLogoutRedirectUri: `${base}/login?out=1`,
      accounts: { anna: { name: 'Anna Andersen', email: 'anna@kf.test', email_verified: true, title: 'Områdechef', groups: ['fv-hovedstaden'] } },
    });
    t = await startTestApp('pglite', NOW, {
      config: {
        PUBLIC_URL: base,
        FRISTVAGT_OIDC_ISSUER: provider.issuer,
        FRISTVAGT_OIDC_CLIENT_ID: provider.clientId,
        FRISTVAGT_OIDC_CLIENT_SECRET: provider.clientSecret,
        FRISTVAGT_OIDC_ROLE_MAP: [{ group: 'fv-hovedstaden', role: 'area', areaId: 'hovedstaden' }],
        FRISTVAGT_OIDC_LABEL: 'Kriminalforsorgens konto',
      },
    });
    await seedMasterData(t);
    await t.app.listen({ host: '127.0.0.1', port });
    browser = await launchChromium();
    page = browser.page;
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await provider?.stop();
  });

  it('logs in through the provider and lands on the page asked for, with the session', async () => {
    await page.goto(`${base}/compliance`);
    await page.waitForURL(`${base}/login?next=%2Fcompliance`);
    await checkPage(page, 'id-01-login-sso');
    await page.getByRole('link', { name: 'Log ind med Kriminalforsorgens konto' }).click();
    // The provider's own pages (devInteractions): the login, then the consent.
    await page.waitForURL(/^http:\/\/localhost:\d+\/interaction\//);
    await page.locator('input[name="login"]').fill('anna');
    await page.locator('input[name="password"]').fill('any password');
    await page.locator('button[type="submit"]').first().click();
    await page.waitForSelector('input[name="prompt"][value="consent"]', { state: 'attached' });
    await page.locator('button[type="submit"]').first().click();
    // Back on fristvagt: the callback page moves on to /compliance, where the Strict cookie goes along.
    await page.waitForURL(`${base}/compliance`);
    expect(await page.locator('#account-link').textContent()).toBe('Anna Andersen (område)');
    await page.getByRole('link', { name: 'Anna Andersen (område)' }).click();
    await page.waitForURL(`${base}/account`);
    expect(await page.locator('#account-facts').textContent()).toContain('single sign-on');
    await checkPage(page, 'id-02-account');
  });

  it('logs out of fristvagt and of the provider, and is asked to log in again', async () => {
    await page.getByRole('button', { name: 'Log ud', exact: true }).click();
    await page.waitForURL(/^http:\/\/localhost:\d+\/session\/end/);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(`${base}/login?out=1`);
    expect(await page.getByRole('status').first().textContent()).toContain('Du er logget ud.');
    await page.goto(`${base}/`);
    expect(new URL(page.url()).pathname).toBe('/login');
  });

  it('breaks no Content-Security-Policy rule and logs no script error on fristvagt', () => {
    // The provider's own pages (devInteractions) ask for a web font and a favicon this machine cannot fetch.
    expect(browser.consoleErrors.filter((e) => !/ @ http:\/\/localhost:\d+\//.test(e) && !/ @ https:\/\/fonts\./.test(e))).toEqual([]);
  });
});
