/**
 * The users section of master data over HTTP (src/ui/pages/users.ts): create, edit, deactivate
 * and reactivate through the forms, refusals naming the field in Danish, the last administrator
 * kept, a login link shown once (and working once), "log out everywhere", a new password, the
 * area office's scope and role choices, CSRF on every form; and the token form's expiry date.
 */
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiTokens, users } from '../../src/db/schema.js';
import { resolveSession, startSession } from '../../src/ui/session.js';
import { ADMIN_TOKEN, createTokens, seedMasterData, startTestApp, type TestApp } from '../support/app.js';
import { Client } from '../support/ui-client.js';

const NOW = '2026-11-18T10:00:00+01:00';
const PASSWORD = 'korrekt hest batteri hæfteklamme';

describe('users in master data (Postgres)', () => {
  let t: TestApp;
  let tokens: Record<string, { id: string; token: string }>;
  let admin: Client;
  let staffId: string;

  const client = async (token: string): Promise<Client> => {
    const c = new Client(t);
    const res = await c.login(token);
    expect(res.status).toBe(303);
    return c;
  };
  const userIdFrom = (location: unknown): string => {
    const m = /^\/masterdata\/users\/([0-9a-f-]{36})\?done=\w+$/.exec(String(location));
    expect(m, String(location)).not.toBeNull();
    return m?.[1] as string;
  };
  const form = { name: 'Karen Kontor', title: 'Jurist', email: 'karen.kontor@kriminalforsorgen.test', role: 'area', areaId: 'hovedstaden', institutionId: '', staffId: '', password: '' };

  beforeAll(async () => {
    t = await startTestApp('postgres', NOW);
    await seedMasterData(t);
    tokens = await createTokens(t, { reader: { role: 'reader' }, areaH: { role: 'area', areaId: 'hovedstaden' } });
    const s = await t.req('POST', '/api/staff', { body: { areaId: 'hovedstaden', institutionId: 'vestre', name: 'Sofie Sagsbehandler', email: 'sofie@kriminalforsorgen.test' } });
    expect(s.status).toBe(201);
    staffId = s.json.id;
    admin = await client(ADMIN_TOKEN);
  });
  afterAll(async () => t?.close());

  it('lists users for admins and area offices only, in the master data menu', async () => {
    const page = await admin.get('/masterdata/users');
    expect(page.status).toBe(200);
    expect(page.body).toContain('<a href="/masterdata/users" aria-current="page">Brugere</a>');
    expect(page.body).toContain('Ingen brugere endnu.');
    expect(page.body).toContain('href="/masterdata/users/new"');
    const reader = await client(tokens['reader']?.token as string);
    expect((await reader.get('/masterdata/users')).status).toBe(403);
    expect((await reader.get('/masterdata/users/new')).status).toBe(403);
    expect((await new Client(t).get('/masterdata/users')).status).toBe(303);
  });

  it('creates a user through the form, refusing in Danish next to each field first', async () => {
    const empty = await admin.post('/masterdata/users', { ...form, name: '', email: 'ikke-en-adresse', role: 'institution', areaId: 'hovedstaden', password: 'kort' });
    expect(empty.status).toBe(400);
    expect(empty.body).toContain('<span class="field-error" id="f-name-err">Skal udfyldes.</span>');
    expect(empty.body).toContain('<span class="field-error" id="f-email-err">Er ikke en gyldig e-mailadresse.</span>');
    expect(empty.body).toContain('<span class="field-error" id="f-areaId-err">Vælges kun for rollen område.</span>');
    expect(empty.body).toContain('<span class="field-error" id="f-institutionId-err">Skal vælges for rollen institution.</span>');
    expect(empty.body).toContain('<span class="field-error" id="f-password-err">Skal være mindst 12 tegn.</span>');
    // The summary names each field by its Danish label, linked to it.
    expect(empty.body).toContain('<a href="#f-name">Navn</a>: skal udfyldes.');
    expect(empty.body).toContain('<a href="#f-email">E-mail</a>: er ikke en gyldig e-mailadresse.');
    expect(empty.body).toContain('<a href="#f-password">Adgangskode</a>: skal være mindst 12 tegn.');
    // What was typed is kept, never the password.
    expect(empty.body).toContain('value="ikke-en-adresse"');
    expect(empty.body).not.toContain('value="kort"');
    expect(await t.db.database.db.select().from(users)).toEqual([]);

    const created = await admin.post('/masterdata/users', { ...form, staffId, password: PASSWORD });
    expect(created.status).toBe(303);
    const id = userIdFrom(created.headers['location']);
    const page = await admin.get(created.headers['location'] as string);
    expect(page.status).toBe(200);
    expect(page.body).toContain('Brugeren er oprettet.');
    expect(page.body).toContain('<h1>Karen Kontor</h1>');
    expect(page.body).toContain('Har en adgangskode');
    expect((await t.req('GET', `/api/users/${id}`)).json).toMatchObject({ name: 'Karen Kontor', title: 'Jurist', email: 'karen.kontor@kriminalforsorgen.test', role: 'area', areaId: 'hovedstaden', staffId, hasPassword: true, active: true });

    const taken = await admin.post('/masterdata/users', { ...form, name: 'Karen To', email: 'Karen.Kontor@kriminalforsorgen.test' });
    expect(taken.status).toBe(400);
    expect(taken.body).toContain('<span class="field-error" id="f-email-err">Bruges allerede af en anden bruger.</span>');

    const list = await admin.get('/masterdata/users');
    expect(list.body).toContain(`<a href="/masterdata/users/${id}">Karen Kontor</a>`);
    expect(list.body).toContain('karen.kontor@kriminalforsorgen.test');
    expect(list.body).toContain('Område: Kriminalforsorgen Hovedstaden');
    expect(list.body).toContain(`<a href="/masterdata/staff/${staffId}">Sofie Sagsbehandler</a>`);
    expect(list.body).toContain('>Aldrig<');
  });

  it('edits a user with the version, and refuses a stale form in Danish', async () => {
    const [u] = await t.db.database.db.select().from(users).where(eq(users.email, 'karen.kontor@kriminalforsorgen.test'));
    const id = u?.id as string;
    const page = await admin.get(`/masterdata/users/${id}`);
    expect(page.body).toContain(`<input type="hidden" name="version" value="${u?.version}">`);
    const edit = { name: 'Karen Kontor', title: 'Chefjurist', email: 'karen.kontor@kriminalforsorgen.test', role: 'institution', areaId: '', institutionId: 'vestre', staffId: '', version: String(u?.version) };
    const saved = await admin.post(`/masterdata/users/${id}`, edit);
    expect(saved.status).toBe(303);
    expect(saved.headers['location']).toBe(`/masterdata/users/${id}?done=saved`);
    expect((await t.req('GET', `/api/users/${id}`)).json).toMatchObject({ title: 'Chefjurist', role: 'institution', institutionId: 'vestre', areaId: null, staffId: null, version: (u?.version ?? 0) + 1 });
    const stale = await admin.post(`/masterdata/users/${id}`, { ...edit, title: 'Gammel' });
    expect(stale.status).toBe(409);
    expect(stale.body).toContain('Version: brugeren er ændret af en anden, siden du åbnede siden. Genindlæs, og prøv igen.');
    expect(stale.body).toContain('value="Gammel"');
    const bad = await admin.post(`/masterdata/users/${id}`, { ...edit, version: String((u?.version ?? 0) + 1), role: '' });
    expect(bad.status).toBe(400);
    expect(bad.body).toContain('<span class="field-error" id="f-role-err">Skal udfyldes.</span>');
    // Without CSRF nothing happens.
    expect((await admin.post(`/masterdata/users/${id}`, { ...edit, title: 'Uden CSRF' }, null)).status).toBe(403);
    expect((await t.req('GET', `/api/users/${id}`)).json.title).toBe('Chefjurist');
  });

  it('shows a login link once, which works once', async () => {
    const [u] = await t.db.database.db.select().from(users).where(eq(users.email, 'karen.kontor@kriminalforsorgen.test'));
    const id = u?.id as string;
    const res = await admin.post(`/masterdata/users/${id}/login-link`, {});
    expect(res.status).toBe(201);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toContain('<h1>Login-link til Karen Kontor</h1>');
    expect(res.body).toContain('Det vises ikke igen');
    const secret = /value="http:\/\/127\.0\.0\.1:8080\/login\/link\?k=([A-Za-z0-9_-]+)"/.exec(res.body)?.[1] as string;
    expect(secret).toBeTruthy();
    const page = await admin.get(`/masterdata/users/${id}`);
    expect(page.body).not.toContain(secret);
    // The person uses it (the login page's link route): a session of their own, then it is spent.
    const person = new Client(t);
    const use = async () => {
      const form = await person.get(`/login/link?k=${secret}`);
      const csrf = /name="_csrf" value="([^"]+)"/.exec(form.body)?.[1] ?? '';
      return person.post('/login/link', { k: secret, lang: 'da' }, csrf);
    };
    const first = await use();
    expect(first.status).toBe(303);
    expect(person.cookies.has('fristvagt_session')).toBe(true);
    person.cookies.delete('fristvagt_session');
    expect((await use()).status).toBe(404);
    expect((await t.req('GET', `/api/users/${id}`)).json.lastLoginAt).toBe(t.clock.now.toISOString());
  });

  it('deactivates (ending the sessions) and reactivates through the forms; logs out everywhere; sets a password', async () => {
    const created = await admin.post('/masterdata/users', { ...form, name: 'Dorte Deaktiv', email: 'dorte@kriminalforsorgen.test', role: 'reader', areaId: '' });
    expect(created.status).toBe(303);
    const id = userIdFrom(created.headers['location']);
    const db = t.db.database.db;
    const session = await startSession(db, { userId: id }, 'password', 'da', t.clock.now);
    expect(await resolveSession(db, session.cookie, undefined, t.clock.now)).toBeDefined();

    const off = await admin.post(`/masterdata/users/${id}/deactivate`, {});
    expect(off.status).toBe(303);
    expect(off.headers['location']).toBe(`/masterdata/users/${id}?done=deactivated`);
    expect(await resolveSession(db, session.cookie, undefined, t.clock.now)).toBeUndefined();
    const page = await admin.get(off.headers['location'] as string);
    expect(page.body).toContain('Brugeren er deaktiveret. Alle brugerens sessioner er afsluttet.');
    expect(page.body).toContain('id="user-reactivate-form"');
    expect(page.body).not.toContain('id="user-login-link-form"');
    expect((await admin.get('/masterdata/users')).body).toMatch(new RegExp(`data-user="${id}">.*<span class="badge badge-ended">Deaktiveret</span>`, 's'));
    // A deactivated person gets no link: said on the page, in Danish.
    const link = await admin.post(`/masterdata/users/${id}/login-link`, {});
    expect(link.status).toBe(409);
    expect(link.body).toContain('Brugeren er deaktiveret; genaktivér brugeren først.');

    expect((await admin.post(`/masterdata/users/${id}/reactivate`, {})).headers['location']).toBe(`/masterdata/users/${id}?done=reactivated`);
    expect((await t.req('GET', `/api/users/${id}`)).json.active).toBe(true);

    const again = await startSession(db, { userId: id }, 'password', 'da', t.clock.now);
    expect((await admin.post(`/masterdata/users/${id}/logout-everywhere`, {})).headers['location']).toBe(`/masterdata/users/${id}?done=loggedout`);
    expect(await resolveSession(db, again.cookie, undefined, t.clock.now)).toBeUndefined();

    const short = await admin.post(`/masterdata/users/${id}/password`, { password: 'for kort' });
    expect(short.status).toBe(400);
    expect(short.body).toContain('<span class="field-error" id="f-password-err">Skal være mindst 12 tegn.</span>');
    expect(short.body).not.toContain('for kort');
    const set = await admin.post(`/masterdata/users/${id}/password`, { password: PASSWORD });
    expect(set.headers['location']).toBe(`/masterdata/users/${id}?done=password`);
    expect((await t.req('GET', `/api/users/${id}`)).json.hasPassword).toBe(true);
    for (const action of ['deactivate', 'reactivate', 'logout-everywhere', 'password', 'login-link']) expect((await admin.post(`/masterdata/users/${id}/${action}`, {}, null)).status, action).toBe(403);
  });

  it('keeps the last active administrator, saying so in Danish', async () => {
    const created = await admin.post('/masterdata/users', { ...form, name: 'Anna Admin', email: 'anna@kriminalforsorgen.test', role: 'admin', areaId: '' });
    const id = userIdFrom(created.headers['location']);
    const res = await admin.post(`/masterdata/users/${id}/deactivate`, {});
    expect(res.status).toBe(409);
    expect(res.body).toContain('Rolle: er den sidste aktive administrator; opret eller genaktivér en anden administrator først.');
    const page = await admin.get(`/masterdata/users/${id}`);
    const version = /name="version" value="(\d+)"/.exec(page.body)?.[1] as string;
    const demote = await admin.post(`/masterdata/users/${id}`, { name: 'Anna Admin', title: '', email: 'anna@kriminalforsorgen.test', role: 'reader', areaId: '', institutionId: '', staffId: '', version });
    expect(demote.status).toBe(409);
    expect(demote.body).toContain('<span class="field-error" id="f-role-err">Er den sidste aktive administrator; opret eller genaktivér en anden administrator først.</span>');
    expect((await t.req('GET', `/api/users/${id}`)).json).toMatchObject({ role: 'admin', active: true });
  });

  it("an area office sees and manages only its own area's users, with the roles area and institution", async () => {
    const area = await client(tokens['areaH']?.token as string);
    const list = await area.get('/masterdata/users');
    expect(list.status).toBe(200);
    expect(list.body).toContain('Karen Kontor');
    expect(list.body).not.toContain('Anna Admin');
    expect(list.body).not.toContain('Dorte Deaktiv');
    const fresh = await area.get('/masterdata/users/new');
    const roles = [...(/<select id="f-role"[^>]*>(.*?)<\/select>/s.exec(fresh.body)?.[1] ?? '').matchAll(/<option value="([^"]*)"/g)].map((m) => m[1]);
    expect(roles).toEqual(['', 'area', 'institution']);
    const areas = [...(/<select id="f-areaId"[^>]*>(.*?)<\/select>/s.exec(fresh.body)?.[1] ?? '').matchAll(/<option value="([^"]*)"/g)].map((m) => m[1]);
    expect(areas).toEqual(['', 'hovedstaden']);
    expect(fresh.body).not.toContain('value="aalborg"');

    const created = await area.post('/masterdata/users', { ...form, name: 'Ib Institution', email: 'ib@kriminalforsorgen.test', role: 'institution', areaId: '', institutionId: 'vestre' });
    expect(created.status).toBe(303);
    const id = userIdFrom(created.headers['location']);
    expect((await area.get(`/masterdata/users/${id}`)).status).toBe(200);
    // Another area, or an administrator: not even found.
    const other = await t.req('POST', '/api/users', { body: { name: 'Nina Nord', email: 'nina@kriminalforsorgen.test', role: 'institution', institutionId: 'aalborg' } });
    expect((await area.get(`/masterdata/users/${other.json.id}`)).status).toBe(404);
    expect((await area.post(`/masterdata/users/${other.json.id}/deactivate`, {})).status).toBe(404);
    // A crafted form for another area is refused by the service.
    expect((await area.post('/masterdata/users', { ...form, name: 'Uden for', email: 'udenfor@kriminalforsorgen.test', role: 'area', areaId: 'nordjylland' })).status).toBe(403);
    // Area offices see no token section.
    expect(list.body).not.toContain('href="/masterdata/tokens"');
  });

  it('gives tokens an optional expiry date, shown in the list; tokens are for integrations', async () => {
    const page = await admin.get('/masterdata/tokens');
    expect(page.body).toContain('API-tokens er til maskiner og integrationer');
    expect(page.body).toContain('id="f-expiresAt"');
    const past = await admin.post('/masterdata/tokens', { name: 'Import fra KLIENT', role: 'reader', expiresAt: '01.11.2026' });
    expect(past.status).toBe(400);
    expect(past.body).toContain('<span class="field-error" id="f-expiresAt-err">Skal ligge i fremtiden.</span>');
    const garbage = await admin.post('/masterdata/tokens', { name: '', role: 'reader', expiresAt: 'snart' });
    expect(garbage.status).toBe(400);
    expect(garbage.body).toContain('id="f-expiresAt-err">Er ikke en dato.');
    expect(garbage.body).toContain('<span class="field-error" id="f-name-err">');
    const made = await admin.post('/masterdata/tokens', { name: 'Import fra KLIENT', role: 'reader', expiresAt: '31.12.2026' });
    expect(made.status).toBe(201);
    expect(made.body).toContain('datetime="2026-12-31T22:59:59.999Z"');
    const [row] = await t.db.database.db.select().from(apiTokens).where(eq(apiTokens.name, 'Import fra KLIENT'));
    expect(row?.expiresAt?.toISOString()).toBe('2026-12-31T22:59:59.999Z');
    const list = await admin.get('/masterdata/tokens');
    expect(list.body).toMatch(new RegExp(`data-token="${row?.id}">.*<time datetime="2026-12-31T22:59:59.999Z">torsdag 31.12.2026 kl. 23:59</time>.*Aktivt`, 's'));
    expect(list.body).toContain('Udløber ikke');
    // Past its end the token is shown as expired (and refused, src/records/tokens.ts).
    const soon = await t.req('POST', '/api/tokens', { body: { name: 'Kortlivet integration', role: 'reader', expiresAt: '2026-11-18T10:30:00+01:00' } });
    expect(soon.status).toBe(201);
    t.clock.now = new Date('2026-11-18T11:00:00+01:00');
    try {
      const later = await admin.get('/masterdata/tokens');
      expect(later.body).toMatch(new RegExp(`data-token="${soon.json.id}">(?:(?!</tr>).)*<span class="badge badge-ended">Udløbet</span>`, 's'));
      expect((await t.req('GET', '/api/users', { token: soon.json.token })).status).toBe(401);
    } finally {
      t.clock.now = new Date(NOW);
    }
  });
});
