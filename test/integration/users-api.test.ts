/**
 * People over the JSON API (issue 14, src/api/users.ts → src/records/users.ts): the role and scope
 * matrix of every route (no token 401; reader and institution 403; an area office its own area's
 * area and institution users, 404 for anybody else; admin everything), validation naming the
 * field, the last-administrator guard (409), deactivation and "log out everywhere" ending the
 * person's sessions, one-time login links shown once, and audit entries with the person's name,
 * title and e-mail sealed as personal values. On Postgres.
 */
import { createHash } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLog, auditPersonal, loginLinks } from '../../src/db/schema.js';
import { useLoginLink } from '../../src/identity/login.js';
import { resolveSession, startSession } from '../../src/ui/session.js';
import { createTokens, seedMasterData, startTestApp, type TestApp } from '../support/app.js';

const NOW = '2026-11-18T10:00:00+01:00';
const PASSWORD = 'korrekt hest batteri hæfteklamme';

type Caller = 'none' | 'reader' | 'institution' | 'areaH' | 'admin';

describe('users API (Postgres)', () => {
  let t: TestApp;
  let tokens: Record<string, { id: string; token: string }>;
  const staff: Record<string, string> = {};
  const users: Record<string, { id: string; version: number }> = {};
  let seq = 0;

  const tokenOf = (c: Caller): { token?: string | null } => (c === 'none' ? { token: null } : c === 'admin' ? {} : { token: tokens[c]?.token as string });
  const as = (c: Caller, method: string, url: string, body?: unknown) => t.req(method, url, { ...tokenOf(c), ...(body === undefined ? {} : { body }) });
  const nextEmail = () => `person${++seq}@kriminalforsorgen.test`;

  async function create(body: Record<string, unknown>, caller: Caller = 'admin'): Promise<{ id: string; version: number }> {
    const res = await as(caller, 'POST', '/api/users', { email: nextEmail(), ...body });
    expect(res.status, JSON.stringify(res.json)).toBe(201);
    return { id: res.json.id, version: res.json.version };
  }

  beforeAll(async () => {
    t = await startTestApp('postgres', NOW);
    await seedMasterData(t);
    tokens = await createTokens(t, {
      reader: { role: 'reader' },
      institution: { role: 'institution', institutionId: 'vestre' },
      areaH: { role: 'area', areaId: 'hovedstaden' },
    });
    for (const [name, areaId] of [['hovedstaden', 'hovedstaden'], ['nordjylland', 'nordjylland']] as const) {
      const res = await t.req('POST', '/api/staff', { body: { areaId, name: `Medarbejder ${name}`, email: `medarbejder.${name}@kriminalforsorgen.test` } });
      expect(res.status, JSON.stringify(res.json)).toBe(201);
      staff[name] = res.json.id;
    }
    users['admin'] = await create({ name: 'Ada Administrator', role: 'admin' });
    users['reader'] = await create({ name: 'Rasmus Læser', role: 'reader' });
    users['areaH'] = await create({ name: 'Hanne Område', role: 'area', areaId: 'hovedstaden' });
    users['areaN'] = await create({ name: 'Niels Område', role: 'area', areaId: 'nordjylland' });
    users['vestre'] = await create({ name: 'Vera Vestre', title: 'Fængselsbetjent', role: 'institution', institutionId: 'vestre', staffId: staff['hovedstaden'] });
    users['aalborg'] = await create({ name: 'Aage Aalborg', role: 'institution', institutionId: 'aalborg' });
  });
  afterAll(async () => t?.close());

  const current = async (id: string) => (await t.req('GET', `/api/users/${id}`)).json;

  /** Every route on one target; `ok` is the status of success. */
  const routes = (id: string, put: () => Promise<Record<string, unknown>>) => [
    { name: 'GET one', ok: 200, run: (c: Caller) => as(c, 'GET', `/api/users/${id}`) },
    { name: 'PUT', ok: 200, run: async (c: Caller) => as(c, 'PUT', `/api/users/${id}`, await put()) },
    { name: 'deactivate', ok: 200, run: (c: Caller) => as(c, 'POST', `/api/users/${id}/deactivate`) },
    { name: 'reactivate', ok: 200, run: (c: Caller) => as(c, 'POST', `/api/users/${id}/reactivate`) },
    { name: 'password', ok: 204, run: (c: Caller) => as(c, 'POST', `/api/users/${id}/password`, { password: PASSWORD }) },
    { name: 'logout-everywhere', ok: 200, run: (c: Caller) => as(c, 'POST', `/api/users/${id}/logout-everywhere`) },
    { name: 'login-link', ok: 201, run: (c: Caller) => as(c, 'POST', `/api/users/${id}/login-link`) },
  ];
  const putBody = (id: string, over: Record<string, unknown> = {}) => async () => {
    const u = await current(id);
    return { name: u.name, title: u.title, email: u.email, role: u.role, areaId: u.areaId, institutionId: u.institutionId, staffId: u.staffId, ...over };
  };

  describe('role and scope matrix', () => {
    it('GET /api/users: 401 without a token, 403 for reader and institution, scoped for an area office, all for admin', async () => {
      expect((await as('none', 'GET', '/api/users')).status).toBe(401);
      for (const c of ['reader', 'institution'] as const) {
        const res = await as(c, 'GET', '/api/users');
        expect(res.status, c).toBe(403);
        expect(res.json.error.code).toBe('FORBIDDEN');
      }
      const all = await as('admin', 'GET', '/api/users');
      expect(all.status).toBe(200);
      expect(all.json.items.map((u: { id: string }) => u.id)).toEqual(expect.arrayContaining(Object.values(users).map((u) => u.id)));
      const mine = await as('areaH', 'GET', '/api/users');
      expect(mine.status).toBe(200);
      expect(mine.json.items.map((u: { id: string }) => u.id).sort()).toEqual([users['areaH']?.id, users['vestre']?.id].sort());
      // Never a password hash.
      expect(JSON.stringify(all.json)).not.toMatch(/scrypt\$|passwordHash/);
      expect(all.json.items.find((u: { id: string }) => u.id === users['vestre']?.id)).toMatchObject({ name: 'Vera Vestre', title: 'Fængselsbetjent', role: 'institution', institutionId: 'vestre', areaId: null, staffId: staff['hovedstaden'], hasPassword: false, active: true, lastLoginAt: null, version: 1 });
    });

    it('POST /api/users: 401, 403 for reader and institution, an area office only its own area (403 otherwise), admin anything', async () => {
      const body = () => ({ name: 'Ny Person', email: nextEmail(), role: 'institution', institutionId: 'vestre' });
      expect((await as('none', 'POST', '/api/users', body())).status).toBe(401);
      for (const c of ['reader', 'institution'] as const) expect((await as(c, 'POST', '/api/users', body())).status, c).toBe(403);
      const created = await as('areaH', 'POST', '/api/users', body());
      expect(created.status).toBe(201);
      expect(created.headers['location']).toBe(`/api/users/${created.json.id}`);
      for (const other of [{ role: 'institution', institutionId: 'aalborg' }, { role: 'area', areaId: 'nordjylland' }, { role: 'admin' }, { role: 'reader' }]) {
        const res = await as('areaH', 'POST', '/api/users', { name: 'Uden for området', email: nextEmail(), ...other });
        expect(res.status, JSON.stringify(other)).toBe(403);
      }
      expect((await as('admin', 'POST', '/api/users', { name: 'Anden Områdeperson', email: nextEmail(), role: 'area', areaId: 'nordjylland' })).status).toBe(201);
    });

    it('every route on one user: 401, 403 (reader, institution, also for an unknown id), 404 out of an area office\'s scope, success in scope and for admin', async () => {
      const inScope = await create({ name: 'Ingrid Indenfor', role: 'institution', institutionId: 'vestre' });
      const outOfScope = await create({ name: 'Ole Udenfor', role: 'institution', institutionId: 'aalborg' });
      const unknown = '00000000-0000-4000-8000-000000000000';
      for (const c of ['none', 'reader', 'institution'] as const) {
        for (const target of [inScope.id, unknown]) {
          for (const r of routes(target, putBody(inScope.id))) {
            const res = await r.run(c);
            expect(res.status, `${c} ${r.name} ${target}`).toBe(c === 'none' ? 401 : 403);
          }
        }
      }
      for (const target of [outOfScope.id, users['admin']?.id as string, users['reader']?.id as string, users['areaN']?.id as string, unknown]) {
        for (const r of routes(target, putBody(outOfScope.id))) {
          const res = await r.run('areaH');
          expect(res.status, `areaH ${r.name} ${target}`).toBe(404);
          expect(res.json.error.code).toBe('NOT_FOUND');
        }
      }
      for (const c of ['areaH', 'admin'] as const) {
        for (const r of routes(inScope.id, putBody(inScope.id, { title: `Rettet af ${c}` }))) {
          const res = await r.run(c);
          expect(res.status, `${c} ${r.name} ${JSON.stringify(res.json)}`).toBe(r.ok);
        }
      }
      for (const r of routes(outOfScope.id, putBody(outOfScope.id, { title: 'Rettet af admin' }))) expect((await r.run('admin')).status, `admin ${r.name}`).toBe(r.ok);
      expect(await current(inScope.id)).toMatchObject({ title: 'Rettet af admin', active: true, hasPassword: true });
    });

    it('an area office cannot move its user out of its area, nor link a staff member of another area', async () => {
      const u = await create({ name: 'Flytte Person', role: 'institution', institutionId: 'vestre' }, 'areaH');
      expect((await as('areaH', 'PUT', `/api/users/${u.id}`, await putBody(u.id, { institutionId: 'aalborg' })())).status).toBe(403);
      expect((await as('areaH', 'PUT', `/api/users/${u.id}`, await putBody(u.id, { role: 'admin', institutionId: null })())).status).toBe(403);
      const staffRes = await as('areaH', 'PUT', `/api/users/${u.id}`, await putBody(u.id, { staffId: staff['nordjylland'] })());
      expect(staffRes.status).toBe(400);
      expect(staffRes.json.error.issues).toEqual([{ path: 'staffId', message: 'is a staff member of another area' }]);
      expect((await as('areaH', 'PUT', `/api/users/${u.id}`, await putBody(u.id, { staffId: staff['hovedstaden'] })())).status).toBe(200);
      // An administrator may link anyone.
      expect((await as('admin', 'PUT', `/api/users/${u.id}`, await putBody(u.id, { staffId: staff['nordjylland'] })())).status).toBe(200);
    });
  });

  describe('validation', () => {
    const issuesOf = async (method: string, url: string, body: unknown) => {
      const res = await t.req(method, url, { body });
      expect(res.status, JSON.stringify(res.json)).toBe(400);
      expect(res.json.error.code).toBe('VALIDATION');
      return res.json.error.issues as Array<{ path: string; message: string }>;
    };

    it('names the fields of a refused user', async () => {
      const empty = await issuesOf('POST', '/api/users', {});
      expect(empty.map((i) => i.path)).toEqual(expect.arrayContaining(['name', 'email', 'role']));
      expect(await issuesOf('POST', '/api/users', { name: 'X', email: 'ikke en adresse', role: 'reader' })).toEqual([{ path: 'email', message: 'not a valid e-mail address' }]);
      expect(await issuesOf('POST', '/api/users', { name: 'X', email: nextEmail(), role: 'area' })).toEqual([{ path: 'areaId', message: 'is required for role area' }]);
      expect(await issuesOf('POST', '/api/users', { name: 'X', email: nextEmail(), role: 'reader', institutionId: 'vestre' })).toEqual([{ path: 'institutionId', message: 'is only for role institution' }]);
      expect(await issuesOf('POST', '/api/users', { name: 'X', email: nextEmail(), role: 'institution', institutionId: 'findes-ikke' })).toEqual([{ path: 'institutionId', message: 'unknown institution "findes-ikke"' }]);
      expect(await issuesOf('POST', '/api/users', { name: 'X', email: nextEmail(), role: 'reader', staffId: '00000000-0000-4000-8000-000000000000' })).toEqual([{ path: 'staffId', message: 'unknown staff member' }]);
      expect(await issuesOf('POST', '/api/users', { name: 'X', email: nextEmail(), role: 'reader', password: 'kort' })).toEqual([{ path: 'password', message: 'must be at least 12 characters' }]);
      expect(await issuesOf('POST', '/api/users', { name: 'X', email: nextEmail(), role: 'reader', extra: 1 })).toEqual([{ path: 'extra', message: 'unknown field' }]);
      // The e-mail address is unique, whatever its case.
      expect(await issuesOf('POST', '/api/users', { name: 'X', email: 'PERSON1@kriminalforsorgen.test', role: 'reader' })).toEqual([{ path: 'email', message: 'is already in use by another user' }]);
      const id = users['reader']?.id as string;
      expect(await issuesOf('PUT', `/api/users/${id}`, { ...(await putBody(id)()), email: 'person1@kriminalforsorgen.test' })).toEqual([{ path: 'email', message: 'is already in use by another user' }]);
      expect(await issuesOf('POST', `/api/users/${id}/password`, { password: 'x'.repeat(201) })).toEqual([{ path: 'password', message: 'must be at most 200 characters' }]);
      expect((await issuesOf('POST', `/api/users/${id}/password`, {})).map((i) => i.path)).toEqual(['password']);
      // The messages name fields, never the person.
      const res = await t.req('POST', '/api/users', { body: { name: 'Hemmelig Person', email: 'hemmelig@@x', role: 'reader' } });
      expect(JSON.stringify(res.json)).not.toContain('Hemmelig');
    });

    it('refuses a stale version with 409 naming `version`; without `version` the edit applies', async () => {
      const u = await create({ name: 'Versioneret Person', role: 'reader' });
      const body = await putBody(u.id)();
      const first = await t.req('PUT', `/api/users/${u.id}`, { body: { ...body, title: 'Første', version: u.version } });
      expect(first.status).toBe(200);
      expect(first.json.version).toBe(u.version + 1);
      const stale = await t.req('PUT', `/api/users/${u.id}`, { body: { ...body, title: 'Anden', version: u.version } });
      expect(stale.status).toBe(409);
      expect(stale.json.error).toMatchObject({ code: 'CONFLICT', issues: [{ path: 'version', message: 'is not the current version' }] });
      expect((await t.req('PUT', `/api/users/${u.id}`, { body: { ...body, title: 'Tredje' } })).json).toMatchObject({ title: 'Tredje', version: u.version + 2 });
    });
  });

  it('keeps the last active administrator (409), however they would go', async () => {
    const admins = (await t.req('GET', '/api/users')).json.items.filter((u: { role: string; active: boolean }) => u.role === 'admin' && u.active);
    expect(admins.map((u: { id: string }) => u.id)).toEqual([users['admin']?.id]);
    const id = users['admin']?.id as string;
    const demote = await t.req('PUT', `/api/users/${id}`, { body: await putBody(id, { role: 'reader' })() });
    expect(demote.status).toBe(409);
    expect(demote.json.error).toMatchObject({ code: 'CONFLICT', issues: [{ path: 'role', message: 'is the last active administrator' }] });
    const deactivate = await t.req('POST', `/api/users/${id}/deactivate`);
    expect(deactivate.status).toBe(409);
    expect(deactivate.json.error.issues).toEqual([{ path: 'role', message: 'is the last active administrator' }]);
    // With a second administrator, either may go, but not both.
    const second = await create({ name: 'Bent Backup', role: 'admin' });
    expect((await t.req('POST', `/api/users/${id}/deactivate`)).json).toMatchObject({ active: false });
    expect((await t.req('POST', `/api/users/${second.id}/deactivate`)).status).toBe(409);
    expect((await t.req('PUT', `/api/users/${second.id}`, { body: await putBody(second.id, { role: 'reader' })() })).status).toBe(409);
    expect((await t.req('POST', `/api/users/${id}/reactivate`)).json).toMatchObject({ active: true });
    expect((await t.req('PUT', `/api/users/${second.id}`, { body: await putBody(second.id, { role: 'reader' })() })).json).toMatchObject({ role: 'reader' });
  });

  describe('sessions', () => {
    const db = () => t.db.database.db;

    it('deactivation ends every session of the person at once; reactivation does not bring them back', async () => {
      const u = await create({ name: 'Session Person', role: 'reader' });
      const a = await startSession(db(), { userId: u.id }, 'password', 'da', t.clock.now);
      const b = await startSession(db(), { userId: u.id }, 'link', 'en', t.clock.now);
      expect((await resolveSession(db(), a.cookie, undefined, t.clock.now))?.actor).toMatchObject({ id: u.id, kind: 'user', role: 'reader' });
      expect((await t.req('POST', `/api/users/${u.id}/deactivate`)).json).toMatchObject({ active: false, deactivatedAt: t.clock.now.toISOString() });
      expect(await resolveSession(db(), a.cookie, undefined, t.clock.now)).toBeUndefined();
      expect(await resolveSession(db(), b.cookie, undefined, t.clock.now)).toBeUndefined();
      // Deactivating again changes nothing and is no error.
      expect((await t.req('POST', `/api/users/${u.id}/deactivate`)).status).toBe(200);
      expect((await t.req('POST', `/api/users/${u.id}/reactivate`)).json).toMatchObject({ active: true, deactivatedAt: null });
      expect(await resolveSession(db(), a.cookie, undefined, t.clock.now)).toBeUndefined();
      // A deactivated person gets no login link.
      await t.req('POST', `/api/users/${u.id}/deactivate`);
      const link = await t.req('POST', `/api/users/${u.id}/login-link`);
      expect(link.status).toBe(409);
      expect(link.json.error.code).toBe('CONFLICT');
    });

    it('"log out everywhere" and a new password end the person\'s sessions, and no one else\'s', async () => {
      const u = await create({ name: 'Flere Sessioner', role: 'reader' });
      const other = await create({ name: 'Anden Person', role: 'reader' });
      const mine = [await startSession(db(), { userId: u.id }, 'password', 'da', t.clock.now), await startSession(db(), { userId: u.id }, 'password', 'da', t.clock.now)];
      const theirs = await startSession(db(), { userId: other.id }, 'password', 'da', t.clock.now);
      const res = await t.req('POST', `/api/users/${u.id}/logout-everywhere`);
      expect(res.status).toBe(200);
      expect(res.json).toEqual({ sessionsEnded: 2 });
      for (const s of mine) expect(await resolveSession(db(), s.cookie, undefined, t.clock.now)).toBeUndefined();
      expect(await resolveSession(db(), theirs.cookie, undefined, t.clock.now)).toBeDefined();
      const again = await startSession(db(), { userId: u.id }, 'password', 'da', t.clock.now);
      expect((await t.req('POST', `/api/users/${u.id}/password`, { body: { password: PASSWORD } })).status).toBe(204);
      expect(await resolveSession(db(), again.cookie, undefined, t.clock.now)).toBeUndefined();
      expect((await current(u.id)).hasPassword).toBe(true);
    });
  });

  it('a login link is shown once: only its hash is kept, a new one replaces the old, it works once', async () => {
    const u = await create({ name: 'Link Person', role: 'reader' });
    const first = await t.req('POST', `/api/users/${u.id}/login-link`);
    expect(first.status).toBe(201);
    expect(first.headers['cache-control']).toBe('no-store');
    expect(first.json.expiresAt).toBe(new Date(t.clock.now.getTime() + 24 * 3600_000).toISOString());
    const secretOf = (url: string) => {
      const m = /^http:\/\/127\.0\.0\.1:8080\/login\/link\?k=([A-Za-z0-9_-]+)$/.exec(url);
      expect(m, url).not.toBeNull();
      return m?.[1] as string;
    };
    const s1 = secretOf(first.json.url);
    const s2 = secretOf((await t.req('POST', `/api/users/${u.id}/login-link`)).json.url);
    const rows = await t.db.database.db.select().from(loginLinks).where(eq(loginLinks.userId, u.id));
    expect(rows.map((r) => r.tokenHash).sort()).toEqual([s1, s2].map((s) => createHash('sha256').update(s).digest('hex')).sort());
    expect(JSON.stringify(rows)).not.toContain(s1);
    expect(await useLoginLink(t.db.database.db, s1, t.clock.now)).toBeUndefined();
    expect((await useLoginLink(t.db.database.db, s2, t.clock.now))?.id).toBe(u.id);
    expect(await useLoginLink(t.db.database.db, s2, t.clock.now)).toBeUndefined();
    expect((await current(u.id)).lastLoginAt).toBe(t.clock.now.toISOString());
    // Neither the secret nor the person is in a log line.
    const logs = t.logs.join('');
    expect(logs).not.toContain(s1);
    expect(logs).not.toContain(s2);
    expect(logs).not.toContain('Link Person');
  });

  it('audits every change with the name, title and e-mail sealed as personal values', async () => {
    const created = await t.req('POST', '/api/users', { body: { name: 'Revisor Rikke', title: 'Jurist', email: 'rikke.revisor@kriminalforsorgen.test', role: 'area', areaId: 'hovedstaden' }, token: tokens['areaH']?.token as string });
    expect(created.status).toBe(201);
    const id = created.json.id as string;
    await t.req('PUT', `/api/users/${id}`, { body: { name: 'Rikke Revisor', title: 'Jurist', email: 'rikke.revisor@kriminalforsorgen.test', role: 'area', areaId: 'hovedstaden' } });
    await t.req('POST', `/api/users/${id}/password`, { body: { password: PASSWORD } });
    await t.req('POST', `/api/users/${id}/login-link`);
    await t.req('POST', `/api/users/${id}/logout-everywhere`);
    await t.req('POST', `/api/users/${id}/deactivate`);
    await t.req('POST', `/api/users/${id}/reactivate`);
    const entries = await t.db.database.db.select().from(auditLog).where(and(eq(auditLog.entityType, 'user'), eq(auditLog.entityId, id))).orderBy(auditLog.id);
    expect(entries.map((e) => e.action)).toEqual(['user.create', 'user.update', 'user.password_set', 'user.login_link', 'user.logout_everywhere', 'user.deactivate', 'user.reactivate']);
    expect(entries[0]?.actor).toBe(`token:areaH:${tokens['areaH']?.id.slice(0, 8)}`);
    const after = entries[0]?.after as Record<string, unknown>;
    expect(after).toMatchObject({ role: 'area', areaId: 'hovedstaden', institutionId: null, staffId: null, active: true });
    for (const k of ['name', 'title', 'email']) expect(after[k], k).toEqual({ $personal: expect.stringMatching(/^[0-9a-f]{64}$/) });
    const text = JSON.stringify(entries);
    for (const s of ['Rikke', 'Revisor', 'Jurist', 'rikke.revisor', PASSWORD, 'scrypt$']) expect(text, s).not.toContain(s);
    const personal = await t.db.database.db.select().from(auditPersonal).where(eq(auditPersonal.auditId, entries[1]?.id as number));
    expect(Object.fromEntries(personal.map((p) => [p.field, [p.before, p.after]]))).toEqual({
      name: [{ v: 'Revisor Rikke' }, { v: 'Rikke Revisor' }],
      title: [{ v: 'Jurist' }, { v: 'Jurist' }],
      email: [{ v: 'rikke.revisor@kriminalforsorgen.test' }, { v: 'rikke.revisor@kriminalforsorgen.test' }],
    });
    const logs = t.logs.join('');
    expect(logs).not.toContain('Rikke');
    expect(logs).not.toContain('rikke.revisor');
  });

  it('documents every users route in the OpenAPI document', async () => {
    const docs = (await t.req('GET', '/api/docs', { token: null })).json;
    const expected: Array<[string, string]> = [
      ['/api/users', 'get'], ['/api/users', 'post'], ['/api/users/{id}', 'get'], ['/api/users/{id}', 'put'],
      ['/api/users/{id}/deactivate', 'post'], ['/api/users/{id}/reactivate', 'post'], ['/api/users/{id}/password', 'post'],
      ['/api/users/{id}/logout-everywhere', 'post'], ['/api/users/{id}/login-link', 'post'],
    ];
    for (const [path, method] of expected) expect(docs.paths[path]?.[method], `${method} ${path}`).toBeDefined();
    expect(docs.paths['/api/users'].post.requestBody.content['application/json'].schema.properties).toHaveProperty('staffId');
    expect(docs.paths['/api/users/{id}'].put.requestBody.content['application/json'].schema.properties).toHaveProperty('version');
    // Every documented users path is a route the server answers (with a token: not a 404 "no route").
    for (const [path, method] of expected) {
      const res = await t.req(method.toUpperCase(), path.replace('{id}', '00000000-0000-4000-8000-000000000000'), method === 'get' ? {} : { body: {} });
      expect(res.json?.error?.message ?? '', `${method} ${path}`).not.toMatch(/^no route/);
    }
  });
});
