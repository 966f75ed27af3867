/**
 * Findings of the security review, each pinned by the request that exposed it: the bearer check on
 * percent-encoded paths, the login redirect, staff and plan-owner scopes, CPR numbers in free text
 * shown to roles that may not see them, CPR-shaped journal numbers, the Secure session cookie
 * behind a TLS proxy, and NUL characters in text fields.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scrubCpr } from '../../src/domain/index.js';
import { importFile } from '../../src/records/import.js';
import { ADMIN_TOKEN, createTokens, seedMasterData, startTestApp, type TestApp } from '../support/app.js';
import { Client } from '../support/ui-client.js';

const NOW = '2026-11-18T10:00:00+01:00';
const CPR = '050387-4321';
/** Every way a CPR number turns up in typed text: dash, none, space, en dash. */
const CPR_FORMS = ['050387-4321', '0503874321', '050387 4321', '050387\u20134321'];
const CPR_DIGITS = /0503874321|050387.?4321/;

describe('security review (Postgres)', () => {
  let t: TestApp;
  const tokens: Record<string, string> = {};
  const staffIds: Record<string, string> = {};

  beforeAll(async () => {
    t = await startTestApp('postgres', NOW);
    await seedMasterData(t);
    const created = await createTokens(t, {
      reader: { role: 'reader' },
      area: { role: 'area', areaId: 'hovedstaden' },
      otherArea: { role: 'area', areaId: 'nordjylland' },
      institution: { role: 'institution', institutionId: 'vestre' },
      otherInstitution: { role: 'institution', institutionId: 'aalborg' },
    });
    for (const [name, { token }] of Object.entries(created)) tokens[name] = token;
    for (const [name, areaId, institutionId] of [['north', 'nordjylland', 'aalborg'], ['capital', 'hovedstaden', 'vestre']] as const) {
      const res = await t.req('POST', '/api/staff', { body: { areaId, institutionId, name: `Medarbejder ${name}`, email: `${name}@kriminalforsorgen.test`, absences: [{ from: '2026-12-01', until: '2026-12-05', reason: 'Sygemeldt (stress)' }] } });
      expect(res.status, JSON.stringify(res.json)).toBe(201);
      staffIds[name] = res.json.id;
    }
  });
  afterAll(async () => t?.close());

  describe('1. the bearer check follows the matched route, not the raw URL', () => {
    const encoded = (id: string) => [
      '/%61pi/areas', '/%61pi/incidents', '/%61%70%69/deadlines', '/%61pi/staff', `/%61pi/staff/${id}`, `/%61pi/staff/${id}/calendar-feeds`,
      '/%61pi/settings', '/%61pi/institutions', `/%61pi/incidents/${id}`, '/%2Fapi/areas', '/%2fapi/incidents', '/%2F%61pi/areas', '/api%2Fareas', '/%61pi%2Fareas',
    ];

    it('answers 401 without a token for percent-encoded API paths, and never 500', async () => {
      for (const url of encoded(staffIds['north'] as string)) {
        for (const method of ['GET', 'POST', 'PATCH'] as const) {
          const res = await t.req(method, url, { token: null, ...(method === 'GET' ? {} : { body: { name: 'x' } }) });
          expect(res.status, `${method} ${url}`).toBe(401);
          expect(res.json.error.code, `${method} ${url}`).toBe('UNAUTHENTICATED');
        }
      }
    });

    it('still serves the documentation and health without a token, and the API with one', async () => {
      expect((await t.req('GET', '/api/docs', { token: null })).status).toBe(200);
      expect((await t.req('GET', '/healthz', { token: null })).status).toBe(200);
      expect((await t.req('GET', '/%61pi/areas', { token: tokens['reader'] as string })).status).toBe(200);
    });
  });

  describe('2. the login redirect stays on this site', () => {
    const hostile = ['%2F%09%2Fevil.example', '%2F%0A%2Fevil.example', '%2F%0D%2Fevil.example', '%2F%5Cevil.example', '%5C%5Cevil.example', '%2F%2Fevil.example', '%2F.%2F%2Fevil.example', '%2F%2E%2E%2F%2Fevil.example', 'https%3A%2F%2Fevil.example', '%2F%00%2Fevil.example', '%2F%E3%80%80%2Fevil.example'];
    const local = (location: unknown): void => {
      expect(typeof location).toBe('string');
      const l = location as string;
      expect(l.startsWith('/'), l).toBe(true);
      expect(l.startsWith('//'), l).toBe(false);
      expect([...l].some((c) => c <= '\u001f' || c === '\u007f' || c === '\\'), l).toBe(false);
      expect(new URL(l, 'http://h').host, l).toBe('h');
      expect(new URL(l, 'http://h').pathname.startsWith('//'), l).toBe(false);
    };

    it('a signed-in GET /login?next=… never leaves the site', async () => {
      const c = new Client(t);
      expect((await c.login(tokens['reader'] as string)).status).toBe(303);
      for (const next of hostile) {
        const res = await c.get(`/login?next=${next}`);
        // A NUL in any query value is refused before the page runs (item 7).
        if (next.includes('%00')) {
          expect(res.status, next).toBe(400);
          expect(res.headers['location'], next).toBeUndefined();
          continue;
        }
        expect(res.status, next).toBe(303);
        local(res.headers['location']);
      }
      const ok = await c.get(`/login?next=${encodeURIComponent('/compliance?year=2026')}`);
      expect(ok.headers['location']).toBe('/compliance?year=2026');
    });

    it('POST /login never leaves the site', async () => {
      for (const next of hostile) {
        const c = new Client(t);
        const form = await c.get('/login');
        const csrf = /name="_csrf" value="([^"]+)"/.exec(form.body)?.[1] ?? '';
        const res = await c.post('/login', { token: tokens['reader'] as string, next: decodeURIComponent(next) }, csrf);
        expect(res.status, next).toBe(303);
        local(res.headers['location']);
      }
    });
  });

  describe('3. staff and plan owners stay within their scope', () => {
    it('GET /api/staff/:id applies the same scope as the staff list', async () => {
      const north = staffIds['north'] as string;
      for (const name of ['institution', 'area'] as const) {
        const res = await t.req('GET', `/api/staff/${north}`, { token: tokens[name] as string });
        expect(res.status, name).toBe(403);
        expect(JSON.stringify(res.json)).not.toContain('Sygemeldt');
      }
      for (const name of ['otherArea', 'otherInstitution', 'reader'] as const) {
        const res = await t.req('GET', `/api/staff/${north}`, { token: tokens[name] as string });
        expect(res.status, name).toBe(200);
        expect(res.json.absences[0].reason).toBe('Sygemeldt (stress)');
      }
      expect((await t.req('GET', `/api/staff/${north}`)).status).toBe(200);
      expect((await t.req('GET', '/api/staff/00000000-0000-0000-0000-000000000000', { token: tokens['area'] as string })).status).toBe(404);
    });

    it('refuses a staff member whose institution or substitute is in another area, also for admins', async () => {
      const area = tokens['area'] as string;
      const base = { areaId: 'hovedstaden', name: 'Ny Medarbejder', email: 'ny@kriminalforsorgen.test' };
      const inst = await t.req('POST', '/api/staff', { token: area, body: { ...base, institutionId: 'aalborg' } });
      expect(inst.status).toBe(400);
      expect(inst.json.error.issues).toEqual([expect.objectContaining({ path: 'institutionId' })]);
      const sub = await t.req('POST', '/api/staff', { token: area, body: { ...base, substituteId: staffIds['north'] } });
      expect(sub.status).toBe(400);
      expect(sub.json.error.issues).toEqual([expect.objectContaining({ path: 'substituteId' })]);
      expect((await t.req('POST', '/api/staff', { body: { ...base, institutionId: 'aalborg' } })).status).toBe(400);
      const unknownSub = await t.req('POST', '/api/staff', { token: area, body: { ...base, substituteId: '00000000-0000-0000-0000-000000000000' } });
      expect(unknownSub.status).toBe(400);
      expect(unknownSub.json.error.issues[0].path).toBe('substituteId');

      const capital = staffIds['capital'] as string;
      const patchInst = await t.req('PATCH', `/api/staff/${capital}`, { token: area, body: { institutionId: 'aalborg' } });
      expect(patchInst.status).toBe(400);
      expect(patchInst.json.error.issues[0].path).toBe('institutionId');
      const patchSub = await t.req('PATCH', `/api/staff/${capital}`, { token: area, body: { substituteId: staffIds['north'] } });
      expect(patchSub.status).toBe(400);
      expect(patchSub.json.error.issues[0].path).toBe('substituteId');
      expect((await t.req('GET', `/api/staff/${capital}`)).json).toMatchObject({ institutionId: 'vestre', substituteId: null });

      const good = await t.req('POST', '/api/staff', { token: area, body: { ...base, institutionId: 'vestre', substituteId: capital } });
      expect(good.status, JSON.stringify(good.json)).toBe(201);
    });

    it("refuses a plan owner from another area on create, update and owner_assigned (400 naming ownerId)", async () => {
      const area = tokens['area'] as string;
      const plan = { institutionId: 'vestre', clientCategory: 'remand', admittedAt: '2026-11-12' };
      const created = await t.req('POST', '/api/action-plans', { token: area, body: { ...plan, journalNumber: 'HP-SR-1', ownerId: staffIds['north'], ownerAssignedAt: '2026-11-12' } });
      expect(created.status).toBe(400);
      expect(created.json.error.issues).toEqual([expect.objectContaining({ path: 'ownerId' })]);
      expect(created.json.error.message).toMatch(/^ownerId: /);

      const ok = await t.req('POST', '/api/action-plans', { token: area, body: { ...plan, journalNumber: 'HP-SR-2', ownerId: staffIds['capital'], ownerAssignedAt: '2026-11-12' } });
      expect(ok.status, JSON.stringify(ok.json)).toBe(201);
      const patched = await t.req('PATCH', `/api/action-plans/${ok.json.id}`, { token: area, body: { ownerId: staffIds['north'] } });
      expect(patched.status).toBe(400);
      expect(patched.json.error.issues[0].path).toBe('ownerId');
      const event = await t.req('POST', `/api/action-plans/${ok.json.id}/events`, { token: area, body: { type: 'owner_assigned', ownerId: staffIds['north'] } });
      expect(event.status).toBe(400);
      expect(event.json.error.issues[0].path).toBe('ownerId');
      const unknown = await t.req('POST', `/api/action-plans/${ok.json.id}/events`, { token: area, body: { type: 'owner_assigned', ownerId: '00000000-0000-0000-0000-000000000000' } });
      expect(unknown.status).toBe(400);
      expect(unknown.json.error.issues[0].path).toBe('ownerId');
      expect((await t.req('GET', `/api/action-plans/${ok.json.id}`)).json.ownerId).toBe(staffIds['capital']);
    });

    it('the importer refuses a plan owner from another area too', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'fristvagt-sr-'));
      try {
        const file = join(dir, 'action-plans.jsonl');
        writeFileSync(file, `${JSON.stringify({ institutionId: 'vestre', journalNumber: 'HP-SR-IMP-1', clientCategory: 'remand', admittedAt: '2026-11-12', ownerId: staffIds['north'], ownerAssignedAt: '2026-11-12' })}\n`);
        const summary = await importFile({ db: t.db.database.db, clock: () => t.clock.now, closureDays: [] }, file);
        expect(summary.rejected).toBe(1);
        expect(summary.rejections[0]?.issues).toEqual([expect.objectContaining({ field: 'ownerId' })]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe('4. CPR numbers in free text are masked for roles that may not see CPR', () => {
    const ids: Record<string, string> = {};
    const text = `Indsatte ${CPR_FORMS.join(', ')} fundet; sag 12.11.2026 kl. 14.05`;

    beforeAll(async () => {
      const inc = await t.req('POST', '/api/incidents', { body: { institutionId: 'vestre', journalNumber: 'SM-SR-4', kind: 'qualified_suicide_attempt', occurredAt: '2026-11-16T14:00:00+01:00', inmateName: 'Demo Person', cpr: CPR, description: text } });
      expect(inc.status, JSON.stringify(inc.json)).toBe(201);
      ids['incident'] = inc.json.id;
      const delay = await t.req('POST', `/api/incidents/${inc.json.id}/events`, { body: { type: 'delay_notified', expectedDate: '2026-12-30', reason: `Afventer journal for ${CPR_FORMS[2]}`, at: '2026-11-17T09:00:00+01:00' } });
      expect(delay.status, JSON.stringify(delay.json)).toBe(200);
      const cell = await t.req('POST', '/api/security-cell-placements', { body: { institutionId: 'vestre', journalNumber: 'SC-SR-4', placedAt: '2026-11-16T22:00:00+01:00', endedAt: '2026-11-17T08:00:00+01:00' } });
      expect(cell.status).toBe(201);
      ids['cell'] = cell.json.id;
      const post = await t.req('POST', `/api/security-cell-placements/${cell.json.id}/events`, { body: { type: 'follow_up_postponed', reason: `Overført, se ${CPR_FORMS[3]}` } });
      expect(post.status, JSON.stringify(post.json)).toBe(200);
    });

    it('the scrubber catches the dash, space and en-dash forms', () => {
      for (const f of CPR_FORMS) expect(scrubCpr(`cpr ${f}.`)).toBe('cpr XXXXXX-XXXX.');
      expect(scrubCpr('dato 12.11.2026, sag 2026-012345, tlf 12 34 56 78')).toBe('dato 12.11.2026, sag 2026-012345, tlf 12 34 56 78');
    });

    it('API: admin and reader see the free text with CPR numbers masked, in records, lists and deadlines', async () => {
      for (const who of ['reader', 'admin'] as const) {
        const token = who === 'admin' ? undefined : (tokens['reader'] as string);
        const opts = token ? { token } : {};
        const inc = await t.req('GET', `/api/incidents/${ids['incident']}`, opts);
        expect(inc.status).toBe(200);
        expect(inc.json.cpr).toBe('XXXXXX-XXXX');
        expect(inc.json.description).toContain('Indsatte XXXXXX-XXXX, XXXXXX-XXXX');
        expect(inc.json.description).toContain('12.11.2026 kl. 14.05');
        expect(inc.json.delayReason).toBe('Afventer journal for XXXXXX-XXXX');
        const cell = await t.req('GET', `/api/security-cell-placements/${ids['cell']}`, opts);
        expect(cell.json.followUpPostponedReason).toBe('Overført, se XXXXXX-XXXX');
        const followUp = cell.json.deadlines.find((d: { rule: string }) => d.rule === 'cell.follow-up-conversation');
        expect(followUp.suspendedReason).toBe('Overført, se XXXXXX-XXXX');
        expect(followUp.explanation).toContain('XXXXXX-XXXX');
        for (const url of ['/api/incidents?limit=500', '/api/security-cell-placements?limit=500', '/api/deadlines?limit=500', `/api/incidents/${ids['incident']}`, `/api/security-cell-placements/${ids['cell']}`]) {
          const res = await t.req('GET', url, opts);
          expect(res.status, url).toBe(200);
          expect(JSON.stringify(res.json), `${who} ${url}`).not.toMatch(CPR_DIGITS);
        }
      }
    });

    it('API: the roles that file the notices see the text as written', async () => {
      const inc = await t.req('GET', `/api/incidents/${ids['incident']}`, { token: tokens['area'] as string });
      expect(inc.json.description).toBe(text);
      const cell = await t.req('GET', `/api/security-cell-placements/${ids['cell']}`, { token: tokens['institution'] as string });
      expect(cell.json.followUpPostponedReason).toBe(`Overført, se ${CPR_FORMS[3]}`);
      const list = await t.req('GET', '/api/deadlines?limit=500&recordType=security_cell_placement', { token: tokens['area'] as string });
      expect(JSON.stringify(list.json)).toContain(CPR_FORMS[3]);
    });

    it('UI: the record page masks the free text, deadlines and timeline for reader and admin, not for area', async () => {
      for (const [who, token] of [['reader', tokens['reader']], ['admin', undefined]] as const) {
        const c = new Client(t);
        expect((await c.login(token ?? ADMIN_TOKEN)).status).toBe(303);
        for (const url of [`/records/incidents/${ids['incident']}`, `/records/security-cell-placements/${ids['cell']}`, '/']) {
          const page = await c.get(url);
          expect(page.status, url).toBe(200);
          expect(page.body, `${who} ${url}`).not.toMatch(CPR_DIGITS);
        }
        expect((await c.get(`/records/incidents/${ids['incident']}`)).body).toContain('XXXXXX-XXXX');
      }
      const area = new Client(t);
      await area.login(tokens['area'] as string);
      expect((await area.get(`/records/incidents/${ids['incident']}`)).body).toContain(CPR_FORMS[2]);
    });
  });

  describe('5. journal numbers that look like CPR numbers are refused at input', () => {
    const bad = ['010190-1234', '0101901234', '2026012345', 'J-010190-1234', 'SAG.0101901234'];

    it('API: 400 naming journalNumber, without echoing the value', async () => {
      for (const journalNumber of bad) {
        const res = await t.req('POST', '/api/force-uses', { body: { institutionId: 'vestre', journalNumber, occurredAt: '2026-11-10' } });
        expect(res.status, journalNumber).toBe(400);
        expect(res.json.error.issues, journalNumber).toEqual([expect.objectContaining({ path: 'journalNumber' })]);
        expect(JSON.stringify(res.json), journalNumber).not.toMatch(/\d{6}.?\d{4}/);
      }
      const ok = await t.req('POST', '/api/force-uses', { body: { institutionId: 'vestre', journalNumber: '2026-012345', occurredAt: '2026-11-10' } });
      expect(ok.status, JSON.stringify(ok.json)).toBe(201);
      const patch = await t.req('PATCH', `/api/force-uses/${ok.json.id}`, { body: { journalNumber: '010190-1234' } });
      expect(patch.status).toBe(400);
      expect(patch.json.error.issues[0].path).toBe('journalNumber');
      expect(t.logs.join('')).not.toMatch(/010190.?1234|2026012345/);
    });

    it('import: such rows are rejected with the field named and the value left out', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'fristvagt-sr-'));
      try {
        const file = join(dir, 'force-uses.csv');
        writeFileSync(file, ['institutionId,journalNumber,occurredAt', ...bad.map((j) => `vestre,${j},2026-11-10`), 'vestre,MA-SR-5-OK,2026-11-10'].join('\n'));
        const summary = await importFile({ db: t.db.database.db, clock: () => t.clock.now, closureDays: [] }, file);
        expect(summary.created).toBe(1);
        expect(summary.rejected).toBe(bad.length);
        for (const r of summary.rejections) expect(r.issues).toEqual([expect.objectContaining({ field: 'journalNumber' })]);
        expect(JSON.stringify(summary.rejections)).not.toMatch(/\d{6}.?\d{4}/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe('6. the session cookie is Secure when PUBLIC_URL is https', () => {
    it('marks the login and session cookies Secure behind a TLS-terminating proxy', async () => {
      const tls = await startTestApp('postgres', NOW, { config: { PUBLIC_URL: 'https://fristvagt.kf.test' } });
      try {
        const form = await tls.app.inject({ method: 'GET', url: '/login' });
        expect(String(form.headers['set-cookie'])).toMatch(/fristvagt_login_csrf=[^;]+;.*Secure/);
        const c = new Client(tls);
        const res = await c.login(ADMIN_TOKEN);
        expect(res.status).toBe(303);
        const cookies = ([] as string[]).concat(res.headers['set-cookie'] as string | string[]);
        const session = cookies.find((s) => s.startsWith('fristvagt_session='));
        expect(session).toMatch(/; Secure/);
        expect(session).toMatch(/HttpOnly/);
        expect(session).toMatch(/SameSite=Strict/);
      } finally {
        await tls.close();
      }
      // Plain http stays without Secure (a browser would drop the cookie on http://127.0.0.1).
      const form = await t.app.inject({ method: 'GET', url: '/login' });
      expect(String(form.headers['set-cookie'])).not.toMatch(/Secure/);
    });
  });

  describe('7. a NUL character is refused with 400 naming the field', () => {
    it('in record, event, master-data, token and query fields', async () => {
      const nul = 'a\u0000b';
      const cases: Array<[string, string, unknown, string]> = [
        ['POST', '/api/incidents', { institutionId: 'vestre', journalNumber: 'SM-SR-7', kind: 'death', occurredAt: '2026-11-16', description: nul }, 'description'],
        ['POST', '/api/incidents', { institutionId: 'vestre', journalNumber: 'SM-SR-7', kind: 'death', occurredAt: '2026-11-16', inmateName: nul }, 'inmateName'],
        ['POST', '/api/incidents', { institutionId: 'vestre', journalNumber: nul, kind: 'death', occurredAt: '2026-11-16' }, 'journalNumber'],
        ['POST', '/api/force-uses', { institutionId: 'vestre', journalNumber: 'MA-SR-7', occurredAt: '2026-11-10', description: `x${nul}` }, 'description'],
        ['POST', '/api/staff', { areaId: 'hovedstaden', name: nul, email: 'nul@kriminalforsorgen.test' }, 'name'],
        ['POST', '/api/staff', { areaId: 'hovedstaden', name: 'Nul', email: 'nul@kriminalforsorgen.test', title: nul }, 'title'],
        ['POST', '/api/staff', { areaId: 'hovedstaden', name: 'Nul', email: 'nul@kriminalforsorgen.test', absences: [{ from: '2026-12-01', until: '2026-12-02', reason: nul }] }, 'absences[0].reason'],
        ['PATCH', '/api/areas/hovedstaden', { name: nul }, 'name'],
        ['PATCH', '/api/institutions/vestre', { name: nul }, 'name'],
        ['POST', '/api/tokens', { name: nul, role: 'reader' }, 'name'],
        ['PUT', '/api/settings/closureDays', { value: ['06-05', `12-24${nul}`] }, 'value[1]'],
      ];
      for (const [method, url, body, path] of cases) {
        const res = await t.req(method, url, { body });
        expect(res.status, `${url} ${path}`).toBe(400);
        expect(res.json.error.issues.map((i: { path: string }) => i.path), `${url} ${path}`).toContain(path);
      }
      const inc = await t.req('POST', '/api/incidents', { body: { institutionId: 'vestre', journalNumber: 'SM-SR-7B', kind: 'qualified_self_harm', occurredAt: '2026-11-16' } });
      expect(inc.status).toBe(201);
      const ev = await t.req('POST', `/api/incidents/${inc.json.id}/events`, { body: { type: 'delay_notified', expectedDate: '2026-12-30', reason: nul } });
      expect(ev.status).toBe(400);
      expect(ev.json.error.issues[0].path).toBe('reason');
      const q = await t.req('GET', '/api/incidents?institution=%00');
      expect(q.status).toBe(400);
      expect(q.json.error.issues[0].path).toBe('institution');
      for (const url of ['/api/areas/%00', '/api/institutions/ve%00stre', '/api/settings/%00']) {
        const res = await t.req(url.includes('settings') ? 'PUT' : 'PATCH', url, { body: { name: 'x', value: true } });
        expect(res.status, url).toBeGreaterThanOrEqual(400);
        expect(res.status, url).toBeLessThan(500);
      }
    });

    it('in UI query strings: never a 500', async () => {
      const c = new Client(t);
      await c.login(tokens['reader'] as string);
      const params = ['area', 'institution', 'journal', 'recipient', 'rule', 'status', 'recordType', 'from', 'to', 'sort', 'dir', 'offset', 'lang', 'done', 'outcome', 'trend'];
      for (const page of ['/', '/overview/fragment', '/compliance', '/compliance.csv', '/compliance.xlsx', '/compliance/cases', '/mail']) {
        for (const p of params) {
          const res = await c.get(`${page}?${p}=a%00b`);
          expect(res.status, `${page}?${p}`).toBeLessThan(500);
        }
      }
    });

    it('in a UI form', async () => {
      const inc = await t.req('POST', '/api/incidents', { body: { institutionId: 'vestre', journalNumber: 'SM-SR-7C', kind: 'qualified_self_harm', occurredAt: '2026-11-16' } });
      const c = new Client(t);
      await c.login(tokens['area'] as string);
      await c.get(`/records/incidents/${inc.json.id}`);
      const res = await c.post(`/records/incidents/${inc.json.id}/events`, { form: 'delay', expectedDate: '2026-12-30', reason: 'a\u0000b' });
      expect(res.status).toBe(400);
      expect(res.body).toContain('Begrundelse: må ikke indeholde tegnet NUL');
    });
  });

  it('never writes a CPR number to the log', () => {
    expect(t.logs.join('')).not.toMatch(CPR_DIGITS);
    expect(t.logs.join('')).not.toMatch(/"level":50/);
  });
});
