/**
 * The browser tests' shared parts: Debian's chromium via playwright-core in a throw-away profile,
 * console errors collected, and a page check that runs axe-core (no serious or critical WCAG 2.1
 * A/AA violations) and saves a full-page screenshot in test-results/screenshots/.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { expect } from 'vitest';

const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const ROOT = join(import.meta.dirname, '../..');
export const SHOTS = join(ROOT, 'test-results/screenshots');
const AXE_SOURCE = readFileSync(join(ROOT, 'node_modules/axe-core/axe.min.js'), 'utf8');

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: string[]; failureSummary?: string }>;
}

export interface Browser {
  context: BrowserContext;
  page: Page;
  /** Console errors and uncaught exceptions of the page, in order. */
  consoleErrors: string[];
  close(): Promise<void>;
}

/** `locale`: the browser's language (default da-DK); forms must look the same in any. */
export async function launchChromium(opts: { locale?: string } = {}): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`chromium not found at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`);
  mkdirSync(SHOTS, { recursive: true });
  const userDataDir = mkdtempSync(join(tmpdir(), 'fristvagt-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 900 },
    locale: opts.locale ?? 'da-DK',
    acceptDownloads: true,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const consoleErrors: string[] = [];
  page.on('console', (msg) => {
    // With the page it came from: a test that visits another site (an OpenID provider) tells them apart.
    if (msg.type() === 'error') consoleErrors.push(`${msg.text()} @ ${msg.location().url || page.url()}`);
  });
  page.on('pageerror', (err) => consoleErrors.push(err.message));
  return {
    context,
    page,
    consoleErrors,
    async close() {
      await context.close().catch(() => undefined);
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

/** axe-core in the page (evaluated through the driver, so the page's own CSP stays strict). `all`: every violation counts, not only serious and critical ones. */
export async function axe(page: Page, name: string, opts: { all?: boolean } = {}): Promise<void> {
  await page.evaluate(AXE_SOURCE);
  const violations = (await page.evaluate(async () => {
    const w = globalThis as any;
    const res = await w.axe.run(w.document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
    return res.violations;
  })) as AxeViolation[];
  const bad = opts.all ? violations : violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  const report = bad.map((v) => `${v.id} (${v.impact}): ${v.help}\n${v.nodes.slice(0, 3).map((n) => `  ${n.target.join(' ')}: ${n.failureSummary ?? ''}`).join('\n')}`).join('\n');
  expect(bad, `${name}: axe found\n${report}`).toEqual([]);
}

export async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

/** The page declares its language, passes axe, and is saved as `<name>.png`. */
export async function checkPage(page: Page, name: string, opts: { all?: boolean } = {}): Promise<void> {
  expect(await page.getAttribute('html', 'lang')).toMatch(/^(da|en)$/);
  await axe(page, name, opts);
  await shot(page, name);
}

/**
 * The login page's machine-token form (set-up and emergency access), folded away under the
 * person's e-mail and password form: open it, fill in the token, send.
 */
export async function tokenLogin(page: Page, token: string): Promise<void> {
  await page.locator('details.token-login > summary').click();
  await page.getByLabel('Token').fill(token);
  await page.getByRole('button', { name: 'Log ind med token' }).click();
}

/** A person's login with e-mail and password. */
export async function passwordLogin(page: Page, email: string, password: string): Promise<void> {
  await page.getByLabel('E-mail').fill(email);
  await page.getByLabel('Adgangskode', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Log ind', exact: true }).click();
}
