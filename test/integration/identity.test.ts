/**
 * Named people (issue 14) against real Postgres and a real OpenID provider (oidc-provider, in this
 * process): the first-run set-up, the password login and its rate limit, one-time links, role and
 * scope per route for a person's session, idle and absolute expiry, a restart that keeps sessions,
 * deactivation ending sessions, and single sign-on: login, logout at the provider, a person without
 * a mapped group refused with a clear page, a replayed callback refused, an expired session.
 */
import { desc, eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer } from '../../src/api/server.js';
import { auditLog, uiSessions, userIdentities, users } from '../../src/db/schema.js';
import { createLoginLink, FAILS_PER_CLIENT, FAILS_PER_EMAIL, passwordLogin as passwordLogin_, setupLink, SYSTEM } from '../../src/identity/login.js';
import { createLogger } from '../../src/logger.js';
import { createUser, setUserActive, userActor } from '../../src/records/users.js';
import { mineOf } from '../../src/ui/data/queue.js';
import { resolveSession } from '../../src/ui/session.js';
import { previewPreliminaryNotice } from '../../src/worker/notice.js';
import { ADMIN_TOKEN, seedMasterData, startTestApp, type TestApp } from '../support/app.js';
import { startOidcProvider, type TestProvider } from '../support/oidc-provider.js';
import { Client } from '../support/ui-client.js';

const NOW = '2026-12-07T10:00:00+01:00';
const PASSWORD = 'en lang og god adgangskode';

async function passwordLogin(c: Client, email: string, password: string): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  const form = await c.get('/login');
  const csrf = /name="_csrf" value="([^"]+)"/.exec(form.body)?.[1] ?? '';
  return c.post('/login', { email, password, next: '/' }, csrf);
}

/** A second server on the same database: what a restarted process (or another replica) is. */
async function restartedServer(t: TestApp, config: Record<string, unknown> = {}): Promise<FastifyInstance> {
  const app = await buildServer({
    database: t.db.database,
    config: { FRISTVAGT_ADMIN_TOKEN: ADMIN_TOKEN, FRISTVAGT_BODY_LIMIT: 64 * 1024, FRISTVAGT_CLOSURE_DAYS: [], ...config },
    clock: () => t.clock.now,
    logger: createLogger({ level: 'silent' }),
  });
  await app.ready();
  return app;
}

describe('people: local login, sessions, roles (Postgres)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp('postgres', NOW);
    await seedMasterData(t);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('creates the first administrator through the set-up link, once', async () => {
    const db = t.db.database.db;
    const c = new Client(t);
    expect((await c.get('/login')).body).toContain('Der er endnu ingen brugere');
    const secret = (await setupLink(db, t.clock.now)) as string;
    expect(secret).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    expect((await c.get('/setup?k=wrong')).status).toBe(404);
    const form = await c.get(`/setup?k=${secret}`);
    expect(form.status).toBe(200);
    const csrf = /name="_csrf" value="([^"]+)"/.exec(form.body)?.[1] ?? '';
    const fields = { k: secret, name: 'Mette Hansen', title: 'Fuldmægtig', email: 'Mette.Hansen@KF.test' };
    const differ = await c.post('/setup', { ...fields, password: PASSWORD, passwordRepeat: `${PASSWORD}x` }, csrf);
    expect(differ.status).toBe(400);
    expect(differ.body).toContain('<li>Gentag adgangskoden: er ikke den samme som adgangskoden.</li>');
    const csrf2 = /name="_csrf" value="([^"]+)"/.exec(differ.body)?.[1] ?? '';
    const short = await c.post('/setup', { ...fields, password: 'for kort', passwordRepeat: 'for kort' }, csrf2);
    expect(short.status).toBe(400);
    expect(short.body).toMatch(/<li>Adgangskode: [^<]*12 tegn/);
    expect(await db.select().from(users)).toHaveLength(0);
    const csrf3 = /name="_csrf" value="([^"]+)"/.exec(short.body)?.[1] ?? '';
    const ok = await c.post('/setup', { ...fields, password: PASSWORD, passwordRepeat: PASSWORD }, csrf3);
    expect(ok.status).toBe(303);
    const home = await c.get('/');
    expect(home.status).toBe(200);
    expect(home.body).toContain('Mette Hansen (administrator)');
    const [u] = await db.select().from(users);
    expect(u).toMatchObject({ email: 'mette.hansen@kf.test', role: 'admin', title: 'Fuldmægtig' });
    expect(u?.passwordHash).toMatch(/^scrypt\$32768\$8\$1\$/);
    // The audit names the person as the actor of what they do, the set-up as `system`.
    const [created] = await db.select().from(auditLog).where(eq(auditLog.action, 'user.create'));
    expect(created?.actor).toBe('system');
    expect(JSON.stringify(created?.after)).not.toContain('Mette');
    // Used: the link is gone, and no new one is made while somebody exists.
    expect((await new Client(t).get(`/setup?k=${secret}`)).status).toBe(404);
    expect(await setupLink(db, t.clock.now)).toBeUndefined();
  });

  it('logs in with e-mail and password; a wrong one is refused, and five in a row lock the address for 15 minutes', async () => {
    const c = new Client(t);
    const wrong = await passwordLogin(c, 'mette.hansen@kf.test', 'forkert forkert forkert');
    expect(wrong.status).toBe(401);
    expect(wrong.body).toContain('E-mailadressen eller adgangskoden er forkert.');
    // An unknown address gets the same answer.
    const unknown = await passwordLogin(c, 'ingen@kf.test', PASSWORD);
    expect(unknown.status).toBe(401);
    expect(unknown.body).toContain('E-mailadressen eller adgangskoden er forkert.');
    for (let i = 1; i < FAILS_PER_EMAIL; i++) expect((await passwordLogin(c, 'mette.hansen@kf.test', `forkert ${i} forkert`)).status).toBe(401);
    const locked = await passwordLogin(c, 'mette.hansen@kf.test', PASSWORD);
    expect(locked.status).toBe(429);
    expect(locked.body).toContain('For mange forkerte forsøg. Prøv igen om 15 minutter.');
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(800);
    t.clock.now = new Date(t.clock.now.getTime() + 15 * 60_000 + 1000);
    const ok = await passwordLogin(c, 'METTE.hansen@kf.test', PASSWORD);
    expect(ok.status).toBe(303);
    expect((await c.get('/')).body).toContain('Mette Hansen (administrator)');
    // No e-mail address, password or name in any log line.
    const logs = t.logs.join('');
    for (const secret of ['mette.hansen', 'Mette Hansen', PASSWORD, 'ingen@kf.test']) expect(logs).not.toContain(secret);
  });

  it('locks a client address after 30 failures in 15 minutes, whatever the addresses tried, and only that client', async () => {
    const db = t.db.database.db;
    const now = new Date(t.clock.now.getTime());
    for (let i = 0; i < FAILS_PER_CLIENT; i++) expect((await passwordLogin_(db, `gaet-${i}@kf.test`, 'forkert forkert', '10.9.8.7', now)).ok).toBe(false);
    const locked = await passwordLogin_(db, 'mette.hansen@kf.test', PASSWORD, '10.9.8.7', now);
    expect(locked).toMatchObject({ ok: false, reason: 'locked' });
    expect((await passwordLogin_(db, 'mette.hansen@kf.test', PASSWORD, '10.9.8.6', now)).ok).toBe(true);
  });

  it("enforces a person's role and scope per route, as for tokens", async () => {
    const db = t.db.database.db;
    const now = t.clock.now;
    const people = {
      area: await createUser(db, { name: 'Omar Område', email: 'omar@kf.test', role: 'area', areaId: 'hovedstaden', password: PASSWORD }, SYSTEM, now),
      institution: await createUser(db, { name: 'Ida Institution', email: 'ida@kf.test', role: 'institution', institutionId: 'vestre', password: PASSWORD }, SYSTEM, now),
      reader: await createUser(db, { name: 'Lars Læser', email: 'lars@kf.test', role: 'reader', password: PASSWORD }, SYSTEM, now),
    };
    const other = await t.req('POST', '/api/incidents', { body: { institutionId: 'aalborg', kind: 'death', occurredAt: '2026-12-06T09:00:00+01:00', journalNumber: 'J-2026-ID-1' } });
    expect(other.status).toBe(201);
    const routes: Array<[string, Record<keyof typeof people, number>]> = [
      ['/', { area: 200, institution: 200, reader: 200 }],
      ['/settings', { area: 403, institution: 403, reader: 403 }],
      ['/masterdata/tokens', { area: 403, institution: 403, reader: 403 }],
      ['/masterdata/areas', { area: 200, institution: 403, reader: 403 }],
      [`/records/incidents/${other.json.id as string}`, { area: 403, institution: 403, reader: 200 }],
      ['/account', { area: 200, institution: 200, reader: 200 }],
    ];
    for (const [role, person] of Object.entries(people) as Array<[keyof typeof people, { email: string; name: string }]>) {
      const c = new Client(t);
      expect((await passwordLogin(c, person.email, PASSWORD)).status, role).toBe(303);
      for (const [url, expected] of routes) expect((await c.get(url)).status, `${role} ${url}`).toBe(expected[role]);
      expect((await c.get('/account')).body).toContain(person.name);
      // A reader writes nothing.
      if (role === 'reader') expect((await c.post('/records/incidents/new', { institutionId: 'vestre' })).status).toBe(403);
    }
  });

  it('ends a session after 2 idle hours and 12 hours after the login, and keeps it across a restart', async () => {
    const c = new Client(t);
    expect((await passwordLogin(c, 'omar@kf.test', PASSWORD)).status).toBe(303);
    // Another process on the same database (a restart) knows the session: it is in Postgres.
    const restarted = await restartedServer(t);
    try {
      const res = await restarted.inject({ method: 'GET', url: '/', headers: { cookie: `fristvagt_session=${c.cookies.get('fristvagt_session') as string}` } });
      expect(res.statusCode).toBe(200);
      expect(res.body).toContain('Omar Område (område)');
    } finally {
      await restarted.close();
    }
    const start = t.clock.now.getTime();
    // Used every 100 minutes: alive until the absolute limit.
    for (let m = 100; m < 12 * 60; m += 100) {
      t.clock.now = new Date(start + m * 60_000);
      expect((await c.get('/')).status, `after ${m} min`).toBe(200);
    }
    t.clock.now = new Date(start + 12 * 3600_000 + 1000);
    const over = await c.get('/');
    expect(over.status).toBe(303);
    expect(over.headers['location']).toBe('/login?next=%2F');
    // Idle: two hours and a minute without a request.
    const c2 = new Client(t);
    expect((await passwordLogin(c2, 'omar@kf.test', PASSWORD)).status).toBe(303);
    t.clock.now = new Date(t.clock.now.getTime() + 2 * 3600_000 + 60_000);
    expect((await c2.get('/')).status).toBe(303);
  });

  it('the session limits are settings (FRISTVAGT_SESSION_IDLE_MINUTES)', async () => {
    const app = await restartedServer(t, { FRISTVAGT_SESSION_IDLE_MINUTES: 10 });
    try {
      const c = new Client({ ...t, app });
      expect((await passwordLogin(c, 'omar@kf.test', PASSWORD)).status).toBe(303);
      t.clock.now = new Date(t.clock.now.getTime() + 9 * 60_000);
      expect((await c.get('/')).status).toBe(200);
      t.clock.now = new Date(t.clock.now.getTime() + 11 * 60_000);
      expect((await c.get('/')).status).toBe(303);
    } finally {
      await app.close();
    }
  });

  it('a one-time link logs in once (the GET only asks), and deactivating the person ends every session', async () => {
    const db = t.db.database.db;
    const [ida] = await db.select().from(users).where(eq(users.email, 'ida@kf.test'));
    const { secret } = await createLoginLink(db, ida?.id as string, SYSTEM, t.clock.now);
    const c = new Client(t);
    const ask = await c.get(`/login/link?k=${secret}`);
    expect(ask.status).toBe(200);
    expect(ask.body).toContain('Log ind med engangslink');
    const csrf = /name="_csrf" value="([^"]+)"/.exec(ask.body)?.[1] ?? '';
    const used = await c.post('/login/link', { k: secret }, csrf);
    expect(used.status).toBe(303);
    expect(used.headers['location']).toBe('/account');
    expect((await c.get('/account')).body).toContain('Ida Institution');
    const again = new Client(t);
    const ask2 = await again.get(`/login/link?k=${secret}`);
    const second = await again.post('/login/link', { k: secret }, /name="_csrf" value="([^"]+)"/.exec(ask2.body)?.[1] ?? '');
    expect(second.status).toBe(404);
    expect(second.body).toContain('Linket er ukendt, allerede brugt eller udløbet.');
    // Two sessions of Ida's; "log out everywhere else" ends the other one.
    const other = new Client(t);
    expect((await passwordLogin(other, 'ida@kf.test', PASSWORD)).status).toBe(303);
    const everywhere = await c.post('/account/logout-everywhere', {});
    expect(everywhere.status).toBe(200);
    expect(everywhere.body).toContain('Én anden session er afsluttet.');
    expect((await other.get('/')).status).toBe(303);
    expect((await c.get('/')).status).toBe(200);
    // Deactivated: the remaining session ends at its next request.
    await setUserActive(db, ida?.id as string, false, SYSTEM, t.clock.now);
    expect((await c.get('/')).status).toBe(303);
    expect((await passwordLogin(new Client(t), 'ida@kf.test', PASSWORD)).status).toBe(401);
    const live = await db.select().from(uiSessions).where(eq(uiSessions.userId, ida?.id as string));
    expect(live.every((s) => s.revokedAt !== null)).toBe(true);
  });

  it('changes the own password from "Min konto": the old one stops working, other sessions end', async () => {
    const c = new Client(t);
    expect((await passwordLogin(c, 'lars@kf.test', PASSWORD)).status).toBe(303);
    const other = new Client(t);
    expect((await passwordLogin(other, 'lars@kf.test', PASSWORD)).status).toBe(303);
    await c.get('/account');
    const bad = await c.post('/account/password', { password: 'ny adgangskode 2026', passwordRepeat: 'noget andet' });
    expect(bad.status).toBe(400);
    expect(bad.body).toContain('er ikke den samme som adgangskoden');
    const ok = await c.post('/account/password', { password: 'ny adgangskode 2026', passwordRepeat: 'ny adgangskode 2026' });
    expect(ok.status).toBe(200);
    expect(ok.body).toContain('Adgangskoden er skiftet.');
    expect((await other.get('/')).status).toBe(303);
    expect((await c.get('/')).status).toBe(200);
    expect((await passwordLogin(new Client(t), 'lars@kf.test', PASSWORD)).status).toBe(401);
    expect((await passwordLogin(new Client(t), 'lars@kf.test', 'ny adgangskode 2026')).status).toBe(303);
  });

  it("signs the preliminary notice with the person's own name and title, whatever the form says", async () => {
    const db = t.db.database.db;
    const ctx = { db, clock: () => t.clock.now, closureDays: [] };
    const created = await t.req('POST', '/api/incidents', { body: { institutionId: 'vestre', kind: 'death', occurredAt: '2026-12-06T09:00:00+01:00', journalNumber: 'J-2026-ID-2', inmateName: 'Demo Person', cpr: '010190-4321', description: 'Fundet livløs i cellen ved morgentællingen.' } });
    expect(created.status).toBe(201);
    const signer = await createUser(db, { name: 'Sara Signatar', title: 'Vagthavende', email: 'sara@kf.test', role: 'institution', institutionId: 'vestre' }, SYSTEM, t.clock.now);
    const [row] = await db.select().from(users).where(eq(users.id, signer.id));
    const draft = await previewPreliminaryNotice(ctx, created.json.id as string, userActor(row as never), { occurredAt: '06.12.2026 kl. 09:00', description: 'Fundet livløs i cellen ved morgentællingen.', remarks: '', lateReason: '', senderName: 'En anden', senderTitle: 'Direktør' });
    expect(draft.fields.senderName).toBe('Sara Signatar');
    expect(draft.fields.senderTitle).toBe('Vagthavende');
    expect(draft.mail?.text).toContain('Sara Signatar');
    expect(draft.mail?.text).not.toContain('En anden');
    // The form shows the signature read-only.
    const c = new Client(t);
    const link = await createLoginLink(db, signer.id, SYSTEM, t.clock.now);
    const ask = await c.get(`/login/link?k=${link.secret}`);
    expect((await c.post('/login/link', { k: link.secret }, /name="_csrf" value="([^"]+)"/.exec(ask.body)?.[1] ?? '')).status).toBe(303);
    const form = await c.get(`/records/incidents/${created.json.id as string}/notice`);
    expect(form.status).toBe(200);
    expect(form.body).toMatch(/id="nf-senderName"[^>]*readonly[^>]*value="Sara Signatar"|id="nf-senderName"[^>]*value="Sara Signatar"[^>]*readonly/);
  });

  it('gives a person linked to a staff member the plans that member owns as "mine"', async () => {
    const db = t.db.database.db;
    const member = await t.req('POST', '/api/staff', { body: { areaId: 'hovedstaden', name: 'Pia Planejer', email: 'pia.staff@kf.test' } });
    expect(member.status).toBe(201);
    const pia = await createUser(db, { name: 'Pia Planejer', email: 'pia@kf.test', role: 'reader', staffId: member.json.id, password: PASSWORD }, SYSTEM, t.clock.now);
    expect(pia.staffId).toBe(member.json.id);
    const c = new Client(t);
    expect((await passwordLogin(c, 'pia@kf.test', PASSWORD)).status).toBe(303);
    const session = await resolveSession(db, c.cookies.get('fristvagt_session'), undefined, t.clock.now);
    expect(session?.actor).toMatchObject({ kind: 'user', staffId: member.json.id, role: 'reader' });
    expect(mineOf(session?.actor as never)).toEqual({ kind: 'owner', id: member.json.id });
  });

  it('still takes a machine token for set-up and emergency access, and says it is not a person', async () => {
    const c = new Client(t);
    expect((await c.login(ADMIN_TOKEN)).status).toBe(303);
    const account = await c.get('/account');
    expect(account.body).toContain('Du er logget ind med et maskin-token');
  });
});

describe('single sign-on with a real OpenID provider (Postgres)', () => {
  let t: TestApp;
  let provider: TestProvider;
  let ssoConfig: Record<string, unknown> = {};
  const PUBLIC = 'http://fristvagt.test';

  beforeAll(async () => {
    provider = await startOidcProvider({
      redirectUri: `${PUBLIC}/login/sso/callback`,
      postLogoutRedirectUri: `${PUBLIC}/login?out=1`,
      accounts: {
        anna: { name: 'Anna Andersen', email: 'anna@kf.test', email_verified: true, title: 'Områdechef', groups: ['fv-hovedstaden'] },
        nina: { name: 'Nina Nielsen', email: 'nina@kf.test', email_verified: true, groups: ['kantine'] },
        boss: { name: 'Bo Sørensen', email: 'bo@kf.test', email_verified: true, groups: ['fv-admin', 'fv-hovedstaden'] },
        ole: { name: 'Ole Olsen', email: 'ole@kf.test', email_verified: true, groups: ['fv-hovedstaden'] },
      },
    });
    ssoConfig = {
      PUBLIC_URL: PUBLIC,
      FRISTVAGT_OIDC_ISSUER: provider.issuer,
      FRISTVAGT_OIDC_CLIENT_ID: provider.clientId,
      FRISTVAGT_OIDC_CLIENT_SECRET: provider.clientSecret,
      FRISTVAGT_OIDC_ROLE_MAP: [
        { group: 'fv-admin', role: 'admin' },
        { group: 'fv-hovedstaden', role: 'area', areaId: 'hovedstaden' },
      ],
    };
    t = await startTestApp('postgres', NOW, {
      config: {
        PUBLIC_URL: PUBLIC,
        FRISTVAGT_OIDC_ISSUER: provider.issuer,
        FRISTVAGT_OIDC_CLIENT_ID: provider.clientId,
        FRISTVAGT_OIDC_CLIENT_SECRET: provider.clientSecret,
        FRISTVAGT_OIDC_ROLE_MAP: [
          { group: 'fv-admin', role: 'admin' },
          { group: 'fv-hovedstaden', role: 'area', areaId: 'hovedstaden' },
        ],
        FRISTVAGT_OIDC_LABEL: 'Kriminalforsorgens konto',
      },
    });
    await seedMasterData(t);
  });
  afterAll(async () => {
    await t?.close();
    await provider?.stop();
  });

  /** The browser's round trip: fristvagt → provider (login as `account`) → fristvagt's callback. */
  async function ssoLogin(c: Client, account: string, next = '/'): Promise<{ status: number; body: string; callback: string }> {
    const start = await c.get(`/login/sso?next=${encodeURIComponent(next)}`);
    expect(start.status).toBe(303);
    const authUrl = start.headers['location'] as string;
    expect(authUrl.startsWith(provider.issuer)).toBe(true);
    const back = await provider.login(authUrl, account);
    const callback = `${back.pathname}${back.search}`;
    const res = await c.get(callback);
    return { ...res, callback };
  }

  it('logs a person in through the provider, provisions them from their group, and shows their name and role', async () => {
    const c = new Client(t);
    const login = await c.get('/login');
    expect(login.body).toContain('Log ind med Kriminalforsorgens konto');
    const res = await ssoLogin(c, 'anna', '/compliance');
    expect(res.status).toBe(200);
    // The page after the callback moves on by itself (a same-site navigation: the Strict cookie goes along).
    expect(res.body).toContain('<meta http-equiv="refresh" content="0;url=/compliance">');
    const home = await c.get('/compliance');
    expect(home.status).toBe(200);
    expect(home.body).toContain('Anna Andersen (område)');
    const db = t.db.database.db;
    const [anna] = await db.select().from(users).where(eq(users.email, 'anna@kf.test'));
    expect(anna).toMatchObject({ name: 'Anna Andersen', title: 'Områdechef', role: 'area', areaId: 'hovedstaden', passwordHash: null });
    const ids = await db.select().from(userIdentities).where(eq(userIdentities.userId, anna?.id as string));
    expect(ids).toEqual([expect.objectContaining({ issuer: provider.issuer, subject: 'anna' })]);
    // An area role: the settings are not hers.
    expect((await c.get('/settings')).status).toBe(403);
    // The CSP lets the logout form's redirect reach the provider.
    const csp = (await c.get('/')).headers['content-security-policy'] as string;
    expect(csp).toContain(`form-action 'self' ${new URL(provider.issuer).origin}`);
  });

  it('a replayed callback is refused, and logs nobody in', async () => {
    const c = new Client(t);
    const first = await ssoLogin(c, 'anna');
    expect(first.status).toBe(200);
    const thief = new Client(t);
    const replay = await thief.get(first.callback);
    expect(replay.status).toBe(400);
    expect(replay.body).toContain('Login via single sign-on mislykkedes.');
    expect(thief.cookies.has('fristvagt_session')).toBe(false);
  });

  it('binds a login to the browser that began it: a callback opened in another browser is refused (login CSRF)', async () => {
    // The attacker begins a login and logs in at the provider as themself ...
    const attacker = new Client(t);
    const start = await attacker.get('/login/sso?next=%2F');
    expect(start.headers['set-cookie']).toEqual(expect.stringMatching(/fristvagt_sso_state=[^;]+;.*SameSite=Lax/i));
    const back = await provider.login(start.headers['location'] as string, 'boss');
    // ... and sends the victim the callback: the victim's browser has no such login under way.
    const victim = new Client(t);
    const res = await victim.get(`${back.pathname}${back.search}`);
    expect(res.status).toBe(400);
    expect(victim.cookies.has('fristvagt_session')).toBe(false);
  });

  it('refuses a person without a mapped group with a page that says why, and creates no user', async () => {
    const c = new Client(t);
    const res = await ssoLogin(c, 'nina');
    expect(res.status).toBe(403);
    expect(res.body).toContain('Adgang nægtet');
    expect(res.body).toContain('Din konto er ikke medlem af en gruppe, der giver adgang til fristvagt.');
    expect(c.cookies.has('fristvagt_session')).toBe(false);
    expect(await t.db.database.db.select().from(users).where(eq(users.email, 'nina@kf.test'))).toHaveLength(0);
    expect(t.logs.join('')).not.toContain('nina');
  });

  it('takes the broadest mapped group, and follows a changed group at the next login', async () => {
    const c = new Client(t);
    expect((await ssoLogin(c, 'boss')).status).toBe(200);
    expect((await c.get('/')).body).toContain('Bo Sørensen (administrator)');
    const db = t.db.database.db;
    const [bo] = await db.select().from(users).where(eq(users.email, 'bo@kf.test'));
    expect(bo?.role).toBe('admin');
  });

  it('with FRISTVAGT_OIDC_PROVISION=existing admits only a person an administrator created, found by e-mail', async () => {
    const db = t.db.database.db;
    const app = await restartedServer(t, { ...ssoConfig, FRISTVAGT_OIDC_PROVISION: 'existing' });
    try {
      const c = new Client({ ...t, app });
      const refused = await ssoLogin(c, 'ole');
      expect(refused.status).toBe(403);
      expect(refused.body).toContain('Der findes ingen aktiv bruger i fristvagt med din e-mailadresse.');
      expect(await db.select().from(users).where(eq(users.email, 'ole@kf.test'))).toHaveLength(0);
      const ole = await createUser(db, { name: 'Ole O.', email: 'ole@kf.test', role: 'reader', password: PASSWORD }, SYSTEM, t.clock.now);
      const c2 = new Client({ ...t, app });
      expect((await ssoLogin(c2, 'ole')).status).toBe(200);
      // The directory's group decides the role: reader became area, and the name is the directory's.
      expect((await c2.get('/')).body).toContain('Ole Olsen (område)');
      expect(await db.select().from(userIdentities).where(eq(userIdentities.userId, ole.id))).toEqual([expect.objectContaining({ subject: 'ole' })]);
      const [changed] = await db.select().from(auditLog).where(eq(auditLog.action, 'user.update')).orderBy(desc(auditLog.id)).limit(1);
      expect(changed?.actor).toBe('sso');
      // The local password went with the first single sign-on; none can be set again.
      const [linked] = await db.select().from(users).where(eq(users.id, ole.id));
      expect(linked?.passwordHash).toBeNull();
      expect((await passwordLogin(new Client({ ...t, app }), 'ole@kf.test', PASSWORD)).status).toBe(401);
      const account = await c2.get('/account');
      expect(account.body).toContain('Du logger ind med single sign-on.');
      expect(account.body).not.toContain('id="password-form"');
      expect((await c2.post('/account/password', { password: 'ny adgangskode 2026', passwordRepeat: 'ny adgangskode 2026' })).status).toBe(403);
      const byAdmin = await t.req('POST', `/api/users/${ole.id}/password`, { body: { password: 'ny adgangskode 2026' } });
      expect(byAdmin.status).toBe(409);
      expect(byAdmin.json.error.issues).toEqual([{ path: 'password', message: "is the single sign-on directory's" }]);
    } finally {
      await app.close();
    }
  });

  it('logs out at the provider too, and an expired session asks for a new login', async () => {
    const c = new Client(t);
    expect((await ssoLogin(c, 'anna')).status).toBe(200);
    await c.get('/');
    const out = await c.post('/logout', {});
    expect(out.status).toBe(303);
    const end = new URL(out.headers['location'] as string);
    expect(end.origin).toBe(new URL(provider.issuer).origin);
    expect(end.searchParams.get('post_logout_redirect_uri')).toBe(`${PUBLIC}/login?out=1`);
    expect(end.searchParams.get('id_token_hint')).toBeTruthy();
    const back = await provider.logout(end.toString());
    expect(`${back.origin}${back.pathname}${back.search}`).toBe(`${PUBLIC}/login?out=1`);
    expect((await c.get('/')).status).toBe(303);
    // Expiry: a new SSO session, then 2 idle hours.
    const c2 = new Client(t);
    expect((await ssoLogin(c2, 'anna')).status).toBe(200);
    expect((await c2.get('/')).status).toBe(200);
    t.clock.now = new Date(t.clock.now.getTime() + 2 * 3600_000 + 60_000);
    const expired = await c2.get('/escalations');
    expect(expired.status).toBe(303);
    expect(expired.headers['location']).toBe('/login?next=%2Fescalations');
  });
});
