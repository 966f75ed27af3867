/**
 * The web UI over HTTP against real Postgres: login and logout, sessions that die with their
 * token, CSRF on every form, roles and scopes as in the API, every page and action, the impact
 * preview writing nothing, the settings save going through the audited service, the CSV export,
 * and no CPR number where the role may not see it (nor in any log line).
 */
import { createHash } from 'node:crypto';
import { eq, isNull, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { caughtMail, notifications, settings as settingsTable, uiSessions } from '../../src/db/schema.js';
import { createCatcherMailer } from '../../src/mail/transport.js';
import { CLIENT_CATEGORIES } from '../../src/domain/index.js';
import { computeImpact, loadSettingsSet } from '../../src/ui/data/impact.js';
import { RECORD_TABLES } from '../../src/ui/data/records.js';
import { loadIncomplete } from '../../src/ui/data/incomplete.js';
import { html, raw } from '../../src/ui/html.js';
import { planRecord, planRecords, type RecordRef } from '../../src/worker/planner.js';
import { sendNotification } from '../../src/worker/send.js';
import { loadWorkerSettings } from '../../src/worker/settings.js';
import { ADMIN_TOKEN, seedMasterData, startTestApp, type TestApp } from '../support/app.js';
import { Client } from '../support/ui-client.js';

const NOW = '2026-11-18T10:00:00+01:00'; // a Wednesday
const CPR = '050387-4321';

async function count(t: TestApp, table: string): Promise<number> {
  const res = await t.db.database.db.execute(sql.raw(`SELECT count(*)::int AS n FROM ${table}`));
  const rows = (Array.isArray(res) ? res : (res as { rows: unknown[] }).rows) as Array<{ n: number }>;
  return rows[0]?.n ?? -1;
}

describe('web UI over HTTP (Postgres)', () => {
  let t: TestApp;
  const tokens: Record<string, { id: string; token: string }> = {};
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    t = await startTestApp('postgres', NOW);
    await seedMasterData(t);
    for (const [name, body] of Object.entries({
      reader: { role: 'reader' },
      area: { role: 'area', areaId: 'hovedstaden' },
      institution: { role: 'institution', institutionId: 'vestre' },
      otherInstitution: { role: 'institution', institutionId: 'aalborg' },
      doomed: { role: 'area', areaId: 'hovedstaden' },
      admin2: { role: 'admin' },
    })) {
      const res = await t.req('POST', '/api/tokens', { body: { name, ...body } });
      expect(res.status, JSON.stringify(res.json)).toBe(201);
      tokens[name] = { id: res.json.id, token: res.json.token };
    }
    // The external recipients are settings an administrator sets (README "Go-live"); invented ones here.
    const recipients = await t.req('PUT', '/api/settings/recipients', { body: { value: { ombudsman: 'ombudsmand@ombud.test', directorate: 'direktorat@kf.test', admins: ['fristvagt-drift@kriminalforsorgen.dk'] } } });
    expect(recipients.status, JSON.stringify(recipients.json)).toBe(200);
    const inc = await t.req('POST', '/api/incidents', { body: { institutionId: 'vestre', journalNumber: 'SM-UI-1', kind: 'death', occurredAt: '2026-11-17T14:00:00+01:00', inmateName: 'Demo Person', cpr: CPR, description: 'Fundet livløs i cellen ved morgentællingen.' } });
    expect(inc.status, JSON.stringify(inc.json)).toBe(201);
    ids['incident'] = inc.json.id;
    const cell = await t.req('POST', '/api/security-cell-placements', { body: { institutionId: 'vestre', journalNumber: 'SC-UI-1', placedAt: '2026-11-16T22:00:00+01:00', endedAt: '2026-11-17T08:00:00+01:00' } });
    expect(cell.status, JSON.stringify(cell.json)).toBe(201);
    ids['cell'] = cell.json.id;
    // Entered the evening it happened (arriving a week late, its breached report would be backlog, not escalated).
    t.clock.now = new Date('2026-11-10T16:00:00+01:00');
    const force = await t.req('POST', '/api/force-uses', { body: { institutionId: 'aalborg', journalNumber: 'MA-UI-1', occurredAt: '2026-11-10T15:00:00+01:00' } });
    t.clock.now = new Date(NOW);
    expect(force.status).toBe(201);
    ids['force'] = force.json.id;
    const staff = await t.req('POST', '/api/staff', { body: { areaId: 'hovedstaden', institutionId: 'vestre', name: 'Plan Ejer', email: 'plan.ejer@kriminalforsorgen.test' } });
    const plan = await t.req('POST', '/api/action-plans', { body: { institutionId: 'vestre', journalNumber: 'HP-UI-1', clientCategory: 'remand', admittedAt: '2026-11-12', ownerId: staff.json.id, ownerAssignedAt: '2026-11-12' } });
    expect(plan.status, JSON.stringify(plan.json)).toBe(201);
    ids['plan'] = plan.json.id;
    // The worker's planner fills the outbox, as it would in production.
    const settings = await loadWorkerSettings(t.db.database.db);
    for (const [type, id] of [['incident', ids['incident']], ['security_cell_placement', ids['cell']], ['force_use', ids['force']], ['action_plan', ids['plan']]] as const) {
      await planRecord(t.db.database.db, { closureDays: [], now: t.clock.now, settings }, type, id as string);
    }
  });
  afterAll(async () => t?.close());

  describe('without a session', () => {
    it('sends every page to the login form and refuses every action, fragment and export with 401', async () => {
      const c = new Client(t);
      for (const url of ['/', `/records/incidents/${ids['incident']}`, `/records/incidents/${ids['incident']}/notice`, '/compliance', '/compliance/cases?outcome=breached', '/settings', '/mail', '/mail/notifications/00000000-0000-0000-0000-000000000000']) {
        const res = await c.get(url);
        expect(res.status, url).toBe(303);
        expect(res.headers['location'], url).toBe(`/login?next=${encodeURIComponent(url)}`);
      }
      for (const url of ['/overview/fragment', '/compliance.csv', '/compliance.xlsx']) expect((await c.get(url)).status, url).toBe(401);
      for (const url of [`/records/incidents/${ids['incident']}/events`, `/records/incidents/${ids['incident']}/notice`, '/settings/preview', '/settings/save', '/compliance/targets', '/logout']) {
        const res = await c.post(url, { form: 'event', type: 'closed' }, 'whatever');
        expect(res.status, url).toBe(401);
      }
      // The API's bearer token is not a UI session.
      const bearer = await t.app.inject({ method: 'GET', url: '/', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      expect(bearer.statusCode).toBe(303);
    });
  });

  describe('login and logout', () => {
    it('exchanges a token for an httpOnly SameSite=Strict cookie, stores only its hash, and logs out', async () => {
      const c = new Client(t);
      const form = await c.get('/login');
      expect(form.status).toBe(200);
      expect(form.body).toContain('<html lang="da">');
      expect(form.body).toMatch(/<label for="token">Token<\/label>/);
      const loginCsrf = /name="_csrf" value="([^"]+)"/.exec(form.body)?.[1] as string;

      expect((await c.post('/login', { token: ADMIN_TOKEN }, null)).status).toBe(403);
      expect((await c.post('/login', { token: ADMIN_TOKEN }, 'not-the-cookie')).status).toBe(403);
      const bad = await c.post('/login', { token: 'fv_unknown' }, loginCsrf);
      expect(bad.status).toBe(401);
      expect(bad.body).toContain('ukendt eller tilbagekaldt');
      expect(c.cookies.has('fristvagt_session')).toBe(false);

      const sessionsBefore = await count(t, 'ui_sessions');
      const res = await t.app.inject({ method: 'POST', url: '/login', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `fristvagt_login_csrf=${c.cookies.get('fristvagt_login_csrf') ?? ''}` }, payload: new URLSearchParams({ _csrf: c.cookies.get('fristvagt_login_csrf') ?? '', token: ADMIN_TOKEN, next: '/compliance' }).toString() });
      expect(res.statusCode).toBe(303);
      expect(res.headers['location']).toBe('/compliance');
      const cookie = res.cookies.find((x) => x.name === 'fristvagt_session');
      expect(cookie).toBeDefined();
      expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/' });
      expect((cookie as { secure?: boolean }).secure ?? false).toBe(false); // plain http here; https gets Secure
      expect(await count(t, 'ui_sessions')).toBe(sessionsBefore + 1);
      const rows = await t.db.database.db.select().from(uiSessions);
      const hash = createHash('sha256').update(cookie?.value ?? '').digest('hex');
      expect(rows.some((r) => r.sessionHash === hash && r.tokenId === 'env-admin')).toBe(true);
      expect(JSON.stringify(rows)).not.toContain(cookie?.value);

      // An open redirect through `next` is not possible.
      const evil = await c.login(ADMIN_TOKEN);
      expect(evil.status).toBe(303);
      const c2 = new Client(t);
      const f2 = await c2.get('/login?next=//evil.example/');
      const csrf2 = /name="_csrf" value="([^"]+)"/.exec(f2.body)?.[1] ?? '';
      const r2 = await c2.post('/login', { token: ADMIN_TOKEN, next: '//evil.example/' }, csrf2);
      expect(r2.headers['location']).toBe('/');

      const page = await c.get('/');
      expect(page.status).toBe(200);
      expect(page.body).toContain('Log ud');
      const loggedOut = c.cookies.get('fristvagt_session') ?? '';
      expect((await c.post('/logout', {}, null)).status).toBe(403);
      expect((await c.post('/logout', {}, 'wrong')).status).toBe(403);
      const out = await c.post('/logout', {});
      expect(out.status).toBe(303);
      expect(out.headers['location']).toMatch(/^\/login\?out=1/);
      expect(c.cookies.has('fristvagt_session')).toBe(false);
      // The old cookie is dead even when replayed.
      const replay = await t.app.inject({ method: 'GET', url: '/', headers: { cookie: `fristvagt_session=${loggedOut}` } });
      expect(replay.statusCode).toBe(303);
      // The first session is untouched by logging out of the second.
      const first = await t.app.inject({ method: 'GET', url: '/', headers: { cookie: `fristvagt_session=${cookie?.value ?? ''}` } });
      expect(first.statusCode).toBe(200);
    });

    it('ends the session when its API token is revoked', async () => {
      const c = new Client(t);
      expect((await c.login(tokens['doomed']?.token as string)).status).toBe(303);
      expect((await c.get('/')).status).toBe(200);
      const revoked = await t.req('DELETE', `/api/tokens/${tokens['doomed']?.id}`);
      expect(revoked.status).toBe(204);
      const after = await c.get('/');
      expect(after.status).toBe(303);
      expect(after.headers['location']).toMatch(/^\/login/);
    });

    it('switches to English with ?lang=en and keeps it in the session', async () => {
      const c = new Client(t);
      await c.login(tokens['reader']?.token as string);
      const en = await c.get('/?lang=en');
      expect(en.body).toContain('<html lang="en">');
      expect(en.body).toContain('Deadline overview');
      const again = await c.get('/compliance');
      expect(again.body).toContain('<html lang="en">');
      expect(again.body).toContain('Deadline compliance');
      const da = await c.get('/?lang=da');
      expect(da.body).toContain('Overblik over frister');
    });
  });

  describe('pages', () => {
    it('shows the overview with counts per area and institution, scoped by role, and a refreshable fragment', async () => {
      const admin = new Client(t);
      await admin.login(ADMIN_TOKEN);
      const res = await admin.get('/');
      expect(res.status).toBe(200);
      expect(res.headers['content-security-policy']).toContain("script-src 'self'");
      expect(res.headers['cache-control']).toBe('no-store');
      for (const s of ['Fængsel vestre', 'Fængsel aalborg', 'SM-UI-1', 'MA-UI-1', 'Foreløbig underretning', 'Overskredet', 'class="skip" href="#main"', 'data-refresh="/overview/fragment"']) expect(res.body).toContain(s);
      // The force report (1 working day after 10.11) is breached; the preliminary notice is due Friday 20.11.
      expect(res.body).toMatch(/fredag 20\.11\.2026/);
      // The fragment is the counts (the work queue below them is not replaced, so a selection is kept).
      const fragment = await admin.get('/overview/fragment?institution=aalborg');
      expect(fragment.status).toBe(200);
      expect(fragment.body).not.toContain('<html');
      expect(fragment.body).toContain('Fængsel aalborg');
      expect(fragment.body).not.toContain('Fængsel vestre');
      expect(fragment.body).not.toContain('id="deadline-list"');
      const sorted = await admin.get('/?sort=journal&dir=desc');
      expect(sorted.body).toContain('aria-sort="descending"');
      expect(sorted.body.indexOf('SM-UI-1')).toBeLessThan(sorted.body.indexOf('MA-UI-1'));

      const inst = new Client(t);
      await inst.login(tokens['institution']?.token as string);
      const own = await inst.get('/');
      expect(own.body).toContain('SM-UI-1');
      expect(own.body).not.toContain('MA-UI-1');
      expect(own.body).not.toContain('Fængsel aalborg');
      // A filter for someone else's institution shows nothing of it.
      expect((await inst.get('/overview/fragment?institution=aalborg')).body).not.toContain('Fængsel aalborg');
      expect((await inst.get('/?institution=aalborg')).body).not.toContain('MA-UI-1');
    });

    it('shows a record with deadlines, explanation, citation and timeline; CPR only to the roles that file notices', async () => {
      const url = `/records/incidents/${ids['incident']}`;
      const admin = new Client(t);
      await admin.login(ADMIN_TOKEN);
      const res = await admin.get(url);
      expect(res.status).toBe(200);
      for (const s of ['Hændelse SM-UI-1', 'Foreløbig underretning', 'Cirkulære om dødsfald m.v. § 6, stk. 2', 'XXXXXX-XXXX', 'Tidslinje', 'Revisionslog', 'Sagen oprettet', 'Mail planlagt', 'Foreløbig underretning: Påmindelse 1 arbejdsdag før']) expect(res.body).toContain(s);
      // Stages in plain words, not their ids: nowhere in what the page shows (the id stays only
      // in a data-stage attribute, for scripts and tests, never read out or displayed).
      const shown = res.body.replace(/<[^>]*>/g, ' ');
      expect(shown).not.toContain('incident.preliminary-notice:reminder-1');
      expect(res.body.replaceAll(/data-stage="[^"]*"/g, '')).not.toContain('incident.preliminary-notice:reminder-1');
      expect(res.body).not.toContain(CPR);
      expect(res.body).not.toContain('0503874321');

      const area = new Client(t);
      await area.login(tokens['area']?.token as string);
      const seen = await area.get(url);
      expect(seen.status).toBe(200);
      expect(seen.body).toContain(CPR);

      const reader = new Client(t);
      await reader.login(tokens['reader']?.token as string);
      const r = await reader.get(url);
      expect(r.status).toBe(200);
      expect(r.body).not.toContain(CPR);
      expect(r.body).toContain('Din rolle kan ikke ændre denne sag.');
      expect(r.body).not.toContain('name="form" value="event"');

      const other = new Client(t);
      await other.login(tokens['otherInstitution']?.token as string);
      expect((await other.get(url)).status).toBe(403);
      expect((await other.get(`/records/force-uses/${ids['force']}`)).status).toBe(200);
      expect((await admin.get('/records/incidents/00000000-0000-0000-0000-000000000000')).status).toBe(404);
      expect((await admin.get('/records/nonsense/x')).status).toBe(404);
    });

    it('records a completion through the record service; refuses readers, other scopes and bad CSRF, writing nothing', async () => {
      const url = `/records/security-cell-placements/${ids['cell']}/events`;
      const audit = await count(t, 'audit_log');
      const reader = new Client(t);
      await reader.login(tokens['reader']?.token as string);
      await reader.get(`/records/security-cell-placements/${ids['cell']}`);
      expect((await reader.post(url, { form: 'event', type: 'follow_up_held' })).status).toBe(403);
      const other = new Client(t);
      await other.login(tokens['otherInstitution']?.token as string);
      expect((await other.post(url, { form: 'event', type: 'follow_up_held' })).status).toBe(403);
      const inst = new Client(t);
      await inst.login(tokens['institution']?.token as string);
      await inst.get(`/records/security-cell-placements/${ids['cell']}`);
      expect((await inst.post(url, { form: 'event', type: 'follow_up_held' }, null)).status).toBe(403);
      expect((await inst.post(url, { form: 'event', type: 'follow_up_held' }, 'forged-token')).status).toBe(403);
      // Another session's CSRF token does not fit this session.
      expect((await inst.post(url, { form: 'event', type: 'follow_up_held' }, reader.csrf)).status).toBe(403);
      const badAt = await inst.post(url, { form: 'event', type: 'follow_up_held', at: '2026-13-45T25:00' });
      expect(badAt.status).toBe(400);
      expect(badAt.body).toContain('Tidspunkt: er ikke en dato og et klokkeslæt. Skriv dd.mm.åååå tt:mm');
      const future = await inst.post(url, { form: 'event', type: 'follow_up_held', at: '2026-12-01T10:00' });
      expect(future.status).toBe(400);
      // Danish in the UI (the API keeps its English), naming the field by its label, not its API name.
      expect(future.body).toContain('Tidspunkt: må ikke ligge i fremtiden.');
      expect(future.body).not.toContain('is in the future');
      const postponeNoReason = await inst.post(url, { form: 'postpone', reason: '' });
      expect(postponeNoReason.status).toBe(400);
      expect(postponeNoReason.body).toContain('Begrundelse: skal udfyldes.');
      expect(await count(t, 'audit_log')).toBe(audit);

      const postponed = await inst.post(url, { form: 'postpone', reason: 'Indlagt på psykiatrisk afdeling', newDate: '2026-11-27' });
      expect(postponed.status).toBe(303);
      let api = await t.req('GET', `/api/security-cell-placements/${ids['cell']}`);
      expect(api.json.deadlines[0]).toMatchObject({ rule: 'cell.follow-up-conversation', dueDate: '2026-11-27', originalDueDate: '2026-11-24' });
      const held = await inst.post(url, { form: 'event', type: 'follow_up_held', at: '2026-11-18T09:30' });
      expect(held.status).toBe(303);
      expect(held.headers['location']).toBe(`/records/security-cell-placements/${ids['cell']}?done=event`);
      api = await t.req('GET', `/api/security-cell-placements/${ids['cell']}`);
      expect(api.json.deadlines[0]).toMatchObject({ status: 'met', completedAt: '2026-11-18T09:30:00.000+01:00' });
      const page = await inst.get(held.headers['location'] as string);
      expect(page.body).toContain('Handlingen er registreret.');
      expect(page.body).toContain('Opfølgende samtale holdt');
      expect(await count(t, 'audit_log')).toBe(audit + 2);

      const delay = await inst.post(`/records/incidents/${ids['incident']}/events`, { form: 'delay', expectedDate: '2027-01-15', reason: 'Afventer obduktionsrapport' });
      expect(delay.status).toBe(303);
      api = await t.req('GET', `/api/incidents/${ids['incident']}`);
      expect(api.json.deadlines.find((d: { rule: string }) => d.rule === 'incident.final-report')).toMatchObject({ dueDate: '2027-01-15', originalDueDate: '2026-12-15' });
    });

    it('previews the preliminary notice for the filing roles and says clearly that this process cannot send it', async () => {
      const url = `/records/incidents/${ids['incident']}/notice`;
      const admin = new Client(t);
      await admin.login(ADMIN_TOKEN);
      expect((await admin.get(url)).status).toBe(403);
      const other = new Client(t);
      await other.login(tokens['otherInstitution']?.token as string);
      expect((await other.get(url)).status).toBe(403);
      const area = new Client(t);
      await area.login(tokens['area']?.token as string);
      const preview = await area.get(url);
      expect(preview.status).toBe(200);
      for (const s of ['Demo Person', CPR, 'omraade.hovedstaden@kriminalforsorgen.test', 'ingen mailtransport']) expect(preview.body).toContain(s);
      expect((await area.post(url, {}, null)).status).toBe(403);
      const fields = { occurredAt: 'tirsdag 10.11.2026 kl. 10:00', description: 'Fundet i cellen ved morgentællingen.', senderName: 'Hanne Jurist', senderTitle: 'Jurist' };
      const confirm = await area.post(url, { ...fields, step: 'preview' });
      expect(confirm.status).toBe(200);
      for (const s of ['Hanne Jurist', 'ingen mailtransport', 'id="notice-send" disabled']) expect(confirm.body).toContain(s);
      const send = await area.post(url, { ...fields, step: 'send' });
      expect(send.status).toBe(409);
      expect(send.body).toContain('ingen mailtransport');
      expect((await admin.post(url, {})).status).toBe(403);
    });

    it('shows compliance with charts and exports the same figures as CSV, scoped and filtered', async () => {
      const admin = new Client(t);
      await admin.login(ADMIN_TOKEN);
      const res = await admin.get('/compliance?from=2026-11&to=2026-12');
      expect(res.status).toBe(200);
      expect(res.body).toContain('<svg role="img"');
      expect(res.body).toContain('<ul class="bars">');
      expect(res.body).toContain('Overholdt til tiden');
      expect(res.body).toContain('href="/compliance.csv?from=2026-11&amp;to=2026-12"');
      expect(res.body).not.toContain('Klagefrist');

      const csv = await admin.get('/compliance.csv?from=2026-11&to=2026-12');
      expect(csv.status).toBe(200);
      expect(csv.headers['content-type']).toBe('text/csv; charset=utf-8');
      expect(csv.headers['content-disposition']).toContain('attachment; filename="fristvagt-efterlevelse-2026-11-2026-12.csv"');
      expect(csv.body.startsWith('\uFEFF')).toBe(true);
      const lines = csv.body.slice(1).trim().split('\r\n');
      expect(lines[0]).toBe('Område-id;Område;Institutions-id;Institution;Regel-id;Regel;Måned;I alt;Overholdt til tiden;Overholdt for sent;Overskredet;Åben;Andel overholdt til tiden (%);Andel overholdt for sent (%);Andel overskredet (%);Andel åben (%);Afgjorte;Til tiden af afgjorte (%);Mål (%)');
      const row = (rule: string) => lines.find((l) => l.includes(`;${rule};`))?.split(';');
      // The force report of 10.11 was due 11.11 and never filed: breached.
      expect(row('force.report')).toEqual(['nordjylland', 'Kriminalforsorgen Nordjylland', 'aalborg', 'Fængsel aalborg', 'force.report', 'Rapport om magtanvendelse', '2026-11', '1', '0', '0', '1', '0', '0', '0', '100', '0', '1', '0', '']);
      expect(row('cell.follow-up-conversation')?.slice(7, 12)).toEqual(['1', '1', '0', '0', '0']);
      expect(lines.some((l) => l.includes('force.complaint-window'))).toBe(false);

      const filtered = await admin.get('/compliance.csv?from=2026-11&to=2026-12&institution=vestre');
      expect(filtered.body).not.toContain('aalborg');
      const inst = new Client(t);
      await inst.login(tokens['institution']?.token as string);
      const scoped = await inst.get('/compliance.csv?from=2026-11&to=2026-12');
      expect(scoped.body).toContain('vestre');
      expect(scoped.body).not.toContain('aalborg');
      const bad = await admin.get('/compliance?from=2026-13');
      expect(bad.status).toBe(400);
      expect(bad.body).toContain('Fra måned');
      expect((await admin.get('/compliance.csv?from=nope')).status).toBe(400);
    });

    it('lists the outbox and the mail catcher, searchable and scoped, with CPR masked for roles that may not see it', async () => {
      // One reminder sent through the built-in catcher, as the worker would.
      const [n] = await t.db.database.db.select().from(notifications).where(sql`${notifications.recordId} = ${ids['force']} AND ${notifications.status} = 'scheduled'`).limit(1);
      expect(n).toBeDefined();
      await t.db.database.db.update(notifications).set({ plannedAt: new Date(t.clock.now.getTime() - 60_000) }).where(sql`${notifications.id} = ${n?.id}`);
      const mailer = createCatcherMailer(t.db.database.db);
      const outcome = await sendNotification({ db: t.db.database.db, mailer, clock: () => t.clock.now, closureDays: [], settings: () => loadWorkerSettings(t.db.database.db), from: 'fristvagt <fristvagt@kf.test>', publicUrl: 'https://fristvagt.kf.test', logger: (await import('../../src/logger.js')).createLogger({ level: 'silent' }) }, n?.id as string);
      expect(outcome).toBe('sent');
      // And a caught copy of a legal notice carrying a CPR number, for the masking check.
      const [notice] = await t.db.database.db.insert(notifications).values({ recordType: 'incident', recordId: ids['incident'] as string, stage: 'notice:preliminary', kind: 'alert', template: 'preliminary-notice', recipient: 'post@ombudsmand.test', plannedAt: t.clock.now, status: 'sent', messageId: '<n1@kf.test>', sentAt: t.clock.now }).returning();
      await t.db.database.db.insert(caughtMail).values({ messageId: '<n1@kf.test>', notificationId: notice?.id ?? null, fromAddress: 'fristvagt@kf.test', recipients: ['post@ombudsmand.test'], subject: 'Foreløbig underretning SM-UI-1', text: `Navn: Demo Person\nCPR: ${CPR}\n`, html: `<p>CPR: ${CPR}</p>` });

      const admin = new Client(t);
      await admin.login(ADMIN_TOKEN);
      const all = await admin.get('/mail');
      expect(all.status).toBe(200);
      for (const s of ['SM-UI-1', 'MA-UI-1', 'HP-UI-1', 'Planlagt', 'Sendt', 'Mailfangeren', 'Foreløbig underretning SM-UI-1']) expect(all.body).toContain(s);
      const byJournal = await admin.get('/mail?journal=MA-UI');
      expect(byJournal.body).toContain('MA-UI-1');
      expect(byJournal.body).not.toContain('>SM-UI-1<');
      const byRule = await admin.get('/mail?rule=force.report');
      expect(byRule.body).toContain('Rapport om magtanvendelse: ');
      expect(byRule.body).not.toContain('Foreløbig underretning: ');
      const byRecipient = await admin.get('/mail?recipient=plan.ejer');
      expect(byRecipient.body).toContain('plan.ejer@kriminalforsorgen.test');
      expect(byRecipient.body).not.toContain('vagt.aalborg@');
      const sentOnly = await admin.get('/mail?status=sent');
      expect(sentOnly.body).not.toContain('badge-n-scheduled');

      const detail = await admin.get(`/mail/notifications/${n?.id}`);
      expect(detail.status).toBe(200);
      expect(detail.body).toContain('Som modtaget af den indbyggede mailfanger.');
      expect(detail.body).toContain('MA-UI-1');
      const caughtId = /href="\/mail\/caught\/([0-9a-f-]{36})"/.exec((await admin.get('/mail')).body)?.[1];
      const caughtRows = await t.db.database.db.select().from(caughtMail);
      const noticeCaught = caughtRows.find((r) => r.notificationId === notice?.id);
      const masked = await admin.get(`/mail/caught/${noticeCaught?.id}`);
      expect(masked.status).toBe(200);
      expect(masked.body).toContain('XXXXXX-XXXX');
      expect(masked.body).not.toContain(CPR);
      const frame = await admin.get(`/mail/caught/${noticeCaught?.id}/html`);
      expect(frame.headers['content-security-policy']).toContain('sandbox');
      expect(frame.body).not.toContain(CPR);
      expect(caughtId).toBeDefined();

      const area = new Client(t);
      await area.login(tokens['area']?.token as string);
      expect((await area.get(`/mail/caught/${noticeCaught?.id}`)).body).toContain(CPR);
      const inst = new Client(t);
      await inst.login(tokens['otherInstitution']?.token as string);
      const own = await inst.get('/mail');
      expect(own.body).toContain('MA-UI-1');
      expect(own.body).not.toContain('SM-UI-1');
      expect((await inst.get(`/mail/caught/${noticeCaught?.id}`)).status).toBe(403);
      const planNote = (await t.db.database.db.select().from(notifications).where(sql`${notifications.recordId} = ${ids['plan']}`))[0];
      expect((await inst.get(`/mail/notifications/${planNote?.id}`)).status).toBe(403);
    });
  });

  describe('settings', () => {
    /** The form as the browser would send it, with reminder-2 moved from 2 to 4 working days before. */
    const settingsFields = (): Record<string, string | string[]> => {
      const fields: Record<string, string | string[]> = { scope: 'default', window_from: '07:00', window_to: '18:00', noWait: ['incident.preliminary-notice', 'incident.final-report'], digest: '1', closureDays: '', ombudsman: 'ombudsmand@ombud.test', directorate: 'direktorat@kf.test', admins: 'fristvagt-drift@kriminalforsorgen.dk' };
      const stages = [['reminder-2', 'reminder', 'responsible', '4', '08:00'], ['reminder-1', 'reminder', 'responsible', '1', '08:00'], ['reminder-0', 'reminder', 'responsible', '0', '08:00'], ['escalation-1', 'escalation', 'area_office', '0', '00:00'], ['escalation-2', 'escalation', 'second_level', '1', '08:00']];
      stages.forEach(([id, kind, aud, wd, at], i) => Object.assign(fields, { [`s_id_${i}`]: id, [`s_kind_${i}`]: kind, [`s_aud_${i}`]: aud, [`s_wd_${i}`]: wd, [`s_at_${i}`]: at }));
      for (const p of [['incident.inmate-conversation', 'workingDays', '1'], ['incident.closing-letter', 'weeks', '4'], ['incident.annual-overview', 'month', '1'], ['incident.annual-overview', 'day', '31'], ['force.report', 'workingDays', '1'], ['plan.create', 'youthWorkingDays', '7'], ['plan.parole-update', 'workingDays', '7']]) fields[`policy__${p[0]}__${p[1]}`] = p[2] as string;
      // Per area: every field empty, i.e. as the common policy.
      for (const area of ['hovedstaden', 'nordjylland']) for (const param of ['workingDays', 'enabled']) fields[`abp__${area}__cell.case-review__${param}`] = '';
      return fields;
    };

    it('is for admins only', async () => {
      for (const name of ['reader', 'area', 'institution']) {
        const c = new Client(t);
        await c.login(tokens[name]?.token as string);
        expect((await c.get('/settings')).status, name).toBe(403);
        await c.get('/');
        expect((await c.post('/settings/preview', { scope: 'default' })).status, name).toBe(403);
        expect((await c.post('/settings/save', { candidate: '{}', base: 'x' })).status, name).toBe(403);
      }
    });

    it('previews the impact of a change without writing anything, then saves it through the audited service', async () => {
      const admin = new Client(t);
      await admin.login(ADMIN_TOKEN);
      const page = await admin.get('/settings');
      expect(page.status).toBe(200);
      expect(page.body).toContain('name="s_wd_0" value="2"');

      const fields = settingsFields();

      const before = { settings: await count(t, 'settings'), audit: await count(t, 'audit_log'), notifications: JSON.stringify(await t.db.database.db.select().from(notifications).orderBy(notifications.id)), deadlines: await count(t, 'deadlines') };
      expect((await admin.post('/settings/preview', fields, null)).status).toBe(403);
      const preview = await admin.post('/settings/preview', fields);
      expect(preview.status).toBe(200);
      expect(preview.body).toContain('Konsekvenser af ændringen');
      expect(preview.body).toMatch(/Planlagte mails der flyttes \(\d+\)/);
      expect(preview.body).toContain('Påmindelse 4 arbejdsdage før');
      expect(preview.body).toContain('Ændrede indstillinger: Påmindelser og rykkere');
      expect(await count(t, 'settings')).toBe(before.settings);
      expect(await count(t, 'audit_log')).toBe(before.audit);
      expect(JSON.stringify(await t.db.database.db.select().from(notifications).orderBy(notifications.id))).toBe(before.notifications);

      // A closure day and a policy change move deadlines; the preview names them and what becomes breached.
      const closure = await admin.post('/settings/preview', { ...fields, closureDays: '2026-11-19', 'policy__force.report__workingDays': '3' });
      expect(closure.status).toBe(200);
      expect(closure.body).toMatch(/Frister der flyttes eller skifter status \(\d+\)/);
      expect(closure.body).toContain('SM-UI-1'); // the preliminary notice moves from Friday 20.11 to Monday 23.11
      expect(closure.body).toContain('mandag 23.11.2026');

      const invalid = await admin.post('/settings/preview', { ...fields, s_wd_1: 'abc', ombudsman: 'not-an-address' });
      expect(invalid.status).toBe(400);
      expect(invalid.body).toContain('Trin 2 › Arbejdsdage');
      expect(invalid.body).toContain('Folketingets Ombudsmand');
      expect(invalid.body).toContain('name="s_wd_1" value=');
      expect(await count(t, 'audit_log')).toBe(before.audit);

      const candidate = /name="candidate" value="([^"]+)"/.exec(preview.body)?.[1]?.replace(/&quot;/g, '"').replace(/&amp;/g, '&') ?? '';
      const base = /name="base" value="([^"]+)"/.exec(preview.body)?.[1] ?? '';
      expect((await admin.post('/settings/save', { candidate, base, scope: 'default' }, 'wrong')).status).toBe(403);
      expect((await admin.post('/settings/save', { candidate, base: 'stale', scope: 'default' })).status).toBe(409);
      const saved = await admin.post('/settings/save', { candidate, base, scope: 'default' });
      expect(saved.status).toBe(303);
      expect(saved.headers['location']).toBe('/settings?done=saved');
      const api = await t.req('GET', '/api/settings');
      const schedule = api.json.items.find((s: { key: string }) => s.key === 'schedule');
      expect(schedule.value.stages[0]).toMatchObject({ id: 'reminder-2', workingDays: 4 });
      expect(schedule.updatedBy).toBe('FRISTVAGT_ADMIN_TOKEN');
      expect(await count(t, 'audit_log')).toBe(before.audit + 1);
      const after = await admin.get('/settings?done=saved');
      expect(after.body).toContain('Indstillingerne er gemt.');
      expect(after.body).toMatch(/<td>FRISTVAGT_ADMIN_TOKEN<\/td><td><strong>Påmindelser og rykkere<\/strong>/);
      // The same preview again is stale now.
      expect((await admin.post('/settings/save', { candidate, base, scope: 'default' })).status).toBe(409);

      // Per-rule stages: a rule gets its own list, and "use the defaults" removes it again.
      const rulePage = await admin.get('/settings?rule=force.report');
      expect(rulePage.body).toContain('name="useDefault"');
      const own = await admin.post('/settings/preview', { ...fields, scope: 'force.report', s_id_0: 'reminder-1', s_kind_0: 'reminder', s_aud_0: 'responsible', s_wd_0: '1', s_at_0: '09:00', s_id_1: '', s_wd_1: '', s_id_2: '', s_wd_2: '', s_id_3: '', s_wd_3: '', s_id_4: '', s_wd_4: '' });
      expect(own.status).toBe(200);
      const cand2 = JSON.parse(/name="candidate" value="([^"]+)"/.exec(own.body)?.[1]?.replace(/&quot;/g, '"').replace(/&amp;/g, '&') ?? '{}');
      expect(cand2.schedule.perRule['force.report']).toEqual([{ id: 'reminder-1', kind: 'reminder', audience: 'responsible', workingDays: 1, at: '09:00' }]);
      expect(cand2.schedule.stages[0].workingDays).toBe(4);
    });

    it('turns the case review off or changes its days per area, through the same preview and audited save', async () => {
      const admin = new Client(t);
      await admin.login(ADMIN_TOKEN);
      const page = await admin.get('/settings');
      expect(page.body).toContain('id="area-policy"');
      expect(page.body).toContain('Praksis pr. område');
      expect(page.body).toContain('name="abp__hovedstaden__cell.case-review__enabled"');
      expect(page.body).toContain('<option value="" selected>som fælles praksis (til)</option>');
      expect(page.body).toMatch(/name="abp__nordjylland__cell\.case-review__workingDays" value="" placeholder="10"/);

      // Off for Hovedstaden: the review of SC-UI-1 (ended 17.11) is no longer watched there.
      const off = await admin.post('/settings/preview', { ...settingsFields(), 'abp__hovedstaden__cell.case-review__enabled': '0' });
      expect(off.status).toBe(200);
      expect(off.body).toContain('Ændrede indstillinger: Praksis pr. område');
      expect(off.body).toMatch(/Frister der flyttes eller skifter status \(\d+\)[\s\S]*SC-UI-1[\s\S]*Områdets gennemgang af sikringscellesagen/);

      const bad = await admin.post('/settings/preview', { ...settingsFields(), 'abp__nordjylland__cell.case-review__workingDays': 'ti', 'policy__force.report__workingDays': 'en' });
      expect(bad.status).toBe(400);
      // Rule ids hold dots: the error names the rule and the parameter, and marks the input.
      expect(bad.body).toContain('Praksisfrister (policy) › Rapport om magtanvendelse › arbejdsdage');
      expect(bad.body).toMatch(/name="policy__force\.report__workingDays" value="en"[^>]*aria-invalid="true"/);
      expect(bad.body).toContain('Praksis pr. område › Kriminalforsorgen Nordjylland › Områdets gennemgang af sikringscellesagen › arbejdsdage');
      expect(bad.body).toMatch(/name="abp__nordjylland__cell\.case-review__workingDays" value="ti" placeholder="10" aria-invalid="true"/);

      const audit = await count(t, 'audit_log');
      const twelve = await admin.post('/settings/preview', { ...settingsFields(), 'abp__nordjylland__cell.case-review__workingDays': '12' });
      expect(twelve.status).toBe(200);
      const candidate = /name="candidate" value="([^"]+)"/.exec(twelve.body)?.[1]?.replace(/&quot;/g, '"').replace(/&amp;/g, '&') ?? '';
      const base = /name="base" value="([^"]+)"/.exec(twelve.body)?.[1] ?? '';
      expect((await admin.post('/settings/save', { candidate, base, scope: 'default' })).status).toBe(303);
      expect(await count(t, 'audit_log')).toBe(audit + 1);
      const api = await t.req('GET', '/api/settings');
      expect(api.json.items.find((x: { key: string }) => x.key === 'policyByArea')?.value).toEqual({ nordjylland: { 'cell.case-review': { workingDays: 12 } } });
      expect((await admin.get('/settings')).body).toMatch(/name="abp__nordjylland__cell\.case-review__workingDays" value="12"/);
    });

    it('predicts what the worker does: a previewed change, saved and planned, changes exactly the waiting mails the preview listed', async () => {
      const db = t.db.database.db;
      const now = t.clock.now;
      const open: RecordRef[] = [];
      for (const [type, table] of RECORD_TABLES) for (const r of await db.select({ id: table.id }).from(table).where(isNull(table.closedAt))) open.push({ type, id: r.id });
      await planRecords(db, { closureDays: [], now, settings: await loadWorkerSettings(db) }, open);
      const current = await loadSettingsSet(db);
      // Reminders a working day earlier, the second escalation a day later.
      const next = { ...current, schedule: { ...current.schedule, stages: current.schedule.stages.map((x) => (x.id === 'reminder-2' ? { ...x, workingDays: 3 } : x.id === 'escalation-2' ? { ...x, workingDays: 2 } : x)) } };
      const impact = await computeImpact(db, [], current, next, now);
      const waiting = async (): Promise<Map<string, string>> => new Map((await db.select().from(notifications).where(sql`${notifications.status} = 'scheduled'`)).map((n) => [`${n.recordId}|${n.stage}|${n.recipient}`, n.plannedAt.toISOString()]));
      const before = await waiting();
      const [stored] = await db.select().from(settingsTable).where(eq(settingsTable.key, 'schedule'));
      await db.insert(settingsTable).values({ key: 'schedule', value: next.schedule, updatedAt: now, updatedBy: 'test' }).onConflictDoUpdate({ target: settingsTable.key, set: { value: next.schedule, updatedAt: now } });
      try {
        await planRecords(db, { closureDays: [], now, settings: await loadWorkerSettings(db) }, open);
        const after = await waiting();
        const key = (m: { recordId: string; stage: string; recipient: string }): string => `${m.recordId}|${m.stage}|${m.recipient}`;
        const sorted = (xs: Iterable<string>): string[] => [...xs].sort();
        expect(sorted(impact.added.map(key))).toEqual(sorted([...after.keys()].filter((k) => !before.has(k))));
        expect(sorted(impact.removed.map(key))).toEqual(sorted([...before.keys()].filter((k) => !after.has(k))));
        expect(sorted(impact.moved.map((m) => `${key(m)}>${m.newAt?.toISOString()}`))).toEqual(sorted([...after].filter(([k, v]) => before.has(k) && before.get(k) !== v).map(([k, v]) => `${k}>${v}`)));
        expect(impact.moved.length + impact.added.length).toBeGreaterThan(0);
      } finally {
        if (stored) await db.update(settingsTable).set({ value: stored.value as object, updatedAt: stored.updatedAt }).where(eq(settingsTable.key, 'schedule'));
        else await db.delete(settingsTable).where(eq(settingsTable.key, 'schedule'));
        await planRecords(db, { closureDays: [], now, settings: await loadWorkerSettings(db) }, open);
      }
    });
  });

  describe('issue 10 on the record page', () => {
    // Records of their own institution, made after the figures above were checked.
    const r: Record<string, string> = {};
    let area: Client;
    const create = async (collection: string, body: Record<string, unknown>): Promise<string> => {
      const res = await t.req('POST', `/api/${collection}`, { body: { institutionId: 'ellebaek', ...body } });
      expect(res.status, JSON.stringify(res.json)).toBe(201);
      return res.json.id as string;
    };
    const api = async (collection: string, id: string) => (await t.req('GET', `/api/${collection}/${id}`)).json;
    const deadline = (view: { deadlines: Array<{ rule: string }> }, rule: string) => view.deadlines.find((d) => d.rule === rule) as Record<string, unknown> | undefined;

    beforeAll(async () => {
      const inst = await t.req('POST', '/api/institutions', { body: { id: 'ellebaek', areaId: 'hovedstaden', name: 'Fængsel ellebaek', kind: 'prison', dutyManagerEmail: 'vagt.ellebaek@kriminalforsorgen.test' } });
      expect(inst.status, JSON.stringify(inst.json)).toBe(201);
      r['oldForce'] = await create('force-uses', { journalNumber: 'MA-I10-2016', occurredAt: '2016-05-10T10:00:00+02:00' });
      r['convicted'] = await create('action-plans', { journalNumber: 'HP-I10-DOMT', clientCategory: 'convicted_from_liberty', admittedAt: '2026-11-02' });
      r['force'] = await create('force-uses', { journalNumber: 'MA-I10-1', occurredAt: '2026-11-16T10:00:00+01:00' });
      r['forceNoted'] = await create('force-uses', { journalNumber: 'MA-I10-2', occurredAt: '2026-11-16T11:00:00+01:00' });
      r['cell'] = await create('security-cell-placements', { journalNumber: 'SC-I10-1', placedAt: '2026-11-01T20:00:00+01:00', endedAt: '2026-11-02T08:00:00+01:00' });
      r['death'] = await create('incidents', { journalNumber: 'SM-I10-DOD', kind: 'death', occurredAt: '2026-10-01T12:00:00+02:00' });
      r['selfHarm'] = await create('incidents', { journalNumber: 'SM-I10-KAP4', kind: 'qualified_self_harm', occurredAt: '2026-11-16T09:00:00+01:00' });
      r['youth'] = await create('action-plans', { journalNumber: 'HP-I10-UNG', clientCategory: 'youth_home_detention', admittedAt: '2026-11-16' });
      area = new Client(t);
      await area.login(tokens['area']?.token as string);
    });

    it('says why nothing is watched for a record from before the use-of-force order took effect', async () => {
      const view = await api('force-uses', r['oldForce'] as string);
      expect(view.deadlines).toEqual([]);
      expect(view.notInForce.map((n: { rule: string }) => n.rule)).toContain('force.report');
      const page = await area.get(`/records/force-uses/${r['oldForce']}`);
      expect(page.status).toBe(200);
      expect(page.body).toContain('id="not-in-force"');
      expect(page.body).toMatch(/Reglen gjaldt ikke endnu: [^<]+trådte i kraft 01\.04\.2017/);
      const en = await area.get(`/records/force-uses/${r['oldForce']}?lang=en`);
      expect(en.body).toMatch(/The rule did not apply yet: [^<]+took effect on 01\.04\.2017/);
      await area.get('/?lang=da');
    });

    it('names the missing field of an incomplete record, and the record appears among the incomplete on the overview', async () => {
      const page = await area.get(`/records/action-plans/${r['convicted']}`);
      expect(page.body).toContain('id="incomplete"');
      expect(page.body).toContain('<strong>Mangler: mulig prøveløsladelsesdato</strong>');
      expect(page.body).toContain('Dato for mulig prøveløsladelse mangler');
      const overview = await area.get('/');
      expect(overview.body).toContain('id="incomplete-cases"');
      expect(overview.body).toMatch(/id="incomplete-cases"[\s\S]*HP-I10-DOMT/);
      // A placement in a transition prison is a step of its own (pkt. 10/15).
      const placed = await area.post(`/records/action-plans/${r['convicted']}/events`, { form: 'event', type: 'transition_placed', at: '2026-11-17T09:00' });
      expect(placed.status).toBe(303);
      expect((await api('action-plans', r['convicted'] as string)).transitionPlacedAt).toBe('2026-11-17T09:00:00.000+01:00');
    });

    it("picks the overview's incomplete candidates so that no record the engine calls incomplete is missed", async () => {
      const inst = await t.req('POST', '/api/institutions', { body: { id: 'spejlet', areaId: 'nordjylland', name: 'Fængsel spejlet', kind: 'prison', dutyManagerEmail: 'vagt.spejlet@kriminalforsorgen.test' } });
      expect(inst.status).toBe(201);
      const variants: Array<Record<string, unknown>> = [{}, { possibleParoleDate: '2027-06-01' }, { expectedReleaseDate: '2027-12-01' }, { possibleParoleDate: '2027-06-01', expectedReleaseDate: '2027-12-01' }, { expelled: true }, { municipalityContactedAt: '2026-10-05T10:00:00+02:00' }, { sentenceStartDate: '2026-09-20' }];
      const ids: string[] = [];
      for (const category of CLIENT_CATEGORIES) {
        for (const [i, v] of variants.entries()) {
          const start = category === 'supervision' || category === 'measure_68_69' ? { supervisionEstablishedAt: '2026-10-01T10:00:00+02:00' } : { admittedAt: '2026-10-01' };
          const res = await t.req('POST', '/api/action-plans', { body: { institutionId: 'spejlet', journalNumber: `HP-SPEJL-${category}-${i}`, clientCategory: category, ...start, ...v } });
          expect(res.status, JSON.stringify(res.json)).toBe(201);
          ids.push(res.json.id);
        }
      }
      const byEngine = new Set<string>();
      for (const id of ids) if ((await api('action-plans', id)).incomplete.length > 0) byEngine.add(id);
      expect(byEngine.size).toBeGreaterThan(0);
      const ctx = { db: t.db.database.db, clock: () => t.clock.now, closureDays: [] };
      const listed = await loadIncomplete(ctx, { id: 'test', name: 'test', role: 'admin' }, { institution: 'spejlet' }, 'da');
      expect(new Set(listed.items.map((i) => i.recordId))).toEqual(byEngine);
      expect(listed.total).toBe(byEngine.size);
    });

    it('files a use-of-force report with or without the § 8 note, and warns when the note is missing', async () => {
      const page = await area.get(`/records/force-uses/${r['force']}`);
      expect(page.body).toContain('id="form-report"');
      expect(page.body).toContain('Den indsatte er orienteret om klageadgang og klagefrist (§ 8)');
      expect(page.body).toContain('Straks (snarest muligt)'); // "så hurtigt som muligt" (§ 7): the day is a policy default
      expect(page.body).not.toMatch(/<option value="report_filed"/);
      const without = await area.post(`/records/force-uses/${r['force']}/events`, { form: 'report', at: '2026-11-17T08:00' });
      expect(without.status).toBe(303);
      expect(without.headers['location']).toContain('done=report');
      expect((await api('force-uses', r['force'] as string)).complaintInfoNoted).toBe(false);
      const warned = await area.get(without.headers['location'] as string);
      expect(warned.body).toContain('Rapporten er registreret.');
      expect(warned.body).toMatch(/id="warnings"[\s\S]*data-field="complaintInfoNoted"/);

      const withNote = await area.post(`/records/force-uses/${r['forceNoted']}/events`, { form: 'report', at: '2026-11-17T08:30', complaintInfoNoted: '1' });
      expect(withNote.status).toBe(303);
      expect((await api('force-uses', r['forceNoted'] as string)).complaintInfoNoted).toBe(true);
      const noted = await area.get(`/records/force-uses/${r['forceNoted']}`);
      expect(noted.body).not.toContain('id="warnings"');
      expect(noted.body).not.toContain('id="form-complaintnote"');

      // The note added to the report afterwards (§ 8): the warning goes.
      expect(warned.body).toContain('id="form-complaintnote"');
      const added = await area.post(`/records/force-uses/${r['force']}/events`, { form: 'complaintnote' });
      expect(added.status).toBe(303);
      expect(added.headers['location']).toContain('done=complaintnote');
      expect((await api('force-uses', r['force'] as string)).complaintInfoNoted).toBe(true);
      const after = await area.get(added.headers['location'] as string);
      expect(after.body).toContain('Notatet er registreret.');
      expect(after.body).not.toContain('id="warnings"');
      // Before a report exists there is nothing to add the note to: refused on reportFiledAt.
      const early = await t.req('POST', `/api/force-uses/${r['oldForce']}/events`, { body: { type: 'complaint_info_noted' } });
      expect(early.status).toBe(400);
      expect(early.json.error.issues).toEqual([{ path: 'reportFiledAt', message: 'the report must be filed before its § 8 note is added' }]);
    });

    it('keeps a late postponement as a breach, shows an offer the inmate declined, and records the case review', async () => {
      const url = `/records/security-cell-placements/${r['cell']}`;
      // Ended Monday 02.11: the conversation was due Monday 09.11; a postponement decided today is too late.
      const postponed = await area.post(`${url}/events`, { form: 'postpone', reason: 'Indlagt på psykiatrisk afdeling', newDate: '2026-11-25' });
      expect(postponed.status).toBe(303);
      let view = await api('security-cell-placements', r['cell'] as string);
      expect(view.followUpPostponedAt).toBe('2026-11-18T10:00:00.000+01:00');
      expect(deadline(view, 'cell.follow-up-conversation')).toMatchObject({ status: 'breached', postponedLate: true });
      let page = await area.get(url);
      expect(page.body).toContain('udsættelse registreret efter fristen – overskridelsen står ved magt');
      expect(page.body).toContain('id="pp-at"');

      for (const [type, at] of [['follow_up_offered', '2026-11-17T10:00'], ['follow_up_declined', '2026-11-17T10:05']]) {
        const res = await area.post(`${url}/events`, { form: 'event', type: type as string, at: at as string });
        expect(res.status, type).toBe(303);
      }
      view = await api('security-cell-placements', r['cell'] as string);
      expect(deadline(view, 'cell.follow-up-conversation')).toMatchObject({ status: 'met_late', completion: 'declined' });
      page = await area.get(url);
      expect(page.body).toContain('tilbudt og afslået af den indsatte');
      expect(page.body).toContain('Samtalen afslået af den indsatte');
      // § 14: the note in the security-cell module is missing until it is recorded.
      expect(page.body).toMatch(/id="warnings"[\s\S]*data-field="followUpNoteAt"/);
      expect(page.body).not.toContain('<option value="follow_up_offered"');
      expect((await area.post(`${url}/events`, { form: 'event', type: 'follow_up_note_recorded', at: '2026-11-17T11:00' })).status).toBe(303);
      page = await area.get(url);
      expect(page.body).not.toContain('id="warnings"');
      expect(page.body).toContain('Notat i sikringscellemodulet (§ 14)');

      // The review names its fields in Danish and writes nothing when one is missing.
      expect(page.body).toContain('id="form-review"');
      const audit = await count(t, 'audit_log');
      const noReviewer = await area.post(`${url}/events`, { form: 'review', reviewer: '', outcome: 'Anbringelsen var begrundet.' });
      expect(noReviewer.status).toBe(400);
      expect(noReviewer.body).toContain('Gennemgået af: ');
      expect(noReviewer.body).toContain('Anbringelsen var begrundet.'); // what was typed is kept
      expect(await count(t, 'audit_log')).toBe(audit);
      expect((await api('security-cell-placements', r['cell'] as string)).caseReviewedAt).toBeNull();

      const reviewed = await area.post(`${url}/events`, { form: 'review', reviewer: 'Jurist Hansen', outcome: 'Anbringelsen var begrundet; personalet er vejledt om journalføring.', at: '2026-11-16T14:00' });
      expect(reviewed.status).toBe(303);
      expect(reviewed.headers['location']).toContain('done=review');
      view = await api('security-cell-placements', r['cell'] as string);
      expect(view).toMatchObject({ caseReviewedAt: '2026-11-16T14:00:00.000+01:00', caseReviewer: 'Jurist Hansen' });
      expect(deadline(view, 'cell.case-review')).toMatchObject({ status: 'met' });
      page = await area.get(reviewed.headers['location'] as string);
      expect(page.body).toContain('Gennemgangen er registreret.');
      expect(page.body).toContain('Jurist Hansen');
      expect(page.body).not.toContain('id="form-review"');
    });

    it('keeps every delay notice of a final report and judges each against the deadline in force when given', async () => {
      const url = `/records/incidents/${r['death']}`;
      // Death on 01.10.2026: the final report was due Thursday 29.10.2026 (4 weeks).
      const first = await area.post(`${url}/events`, { form: 'delay', expectedDate: '2026-11-10', reason: 'Afventer obduktionsrapport', at: '2026-10-20T10:00' });
      expect(first.status).toBe(303);
      // The form stays available after the first notice.
      expect((await area.get(url)).body).toContain('id="form-delay"');
      const second = await area.post(`${url}/events`, { form: 'delay', expectedDate: '2026-12-01', reason: 'Afventer retskemisk undersøgelse', at: '2026-11-12T10:00' });
      expect(second.status).toBe(303);
      const view = await api('incidents', r['death'] as string);
      expect(view.delayNotices).toHaveLength(2);
      const page = await area.get(url);
      expect(page.body.match(/<ul id="delay-notices">([\s\S]*?)<\/ul>/)?.[1]?.match(/<li>/g)).toHaveLength(2);
      expect(page.body).toContain('Meddelt tirsdag 20.10.2026 kl. 10:00, forventet tirsdag 10.11.2026: <strong>rettidig</strong>');
      expect(page.body).toContain('Meddelt torsdag 12.11.2026 kl. 10:00, forventet tirsdag 01.12.2026: <strong class="late">for sent (fristen var tirsdag 10.11.2026)</strong>');
      expect(page.body).toContain('Afventer retskemisk undersøgelse');
      // The audit entry of the second notice counts the notices instead of dumping them.
      expect(page.body).toContain('<li>Meddelelser om forsinkelse: 2</li>');
      // § 20 stk. 2 is a chapter 5 step: not offered for a death.
      expect(page.body).not.toContain('value="closed_not_reportable"');
    });

    it('marks deadlines ended by a reclassification to chapter 5 and closes the case as not reportable', async () => {
      const url = `/records/incidents/${r['selfHarm']}`;
      let page = await area.get(url);
      expect(page.body).toMatch(/data-rule="incident\.inmate-conversation"[\s\S]*?Straks \(snarest muligt\)/);
      expect((await area.post(`${url}/events`, { form: 'event', type: 'preliminary_notice_sent', at: '2026-11-17T10:00' })).status).toBe(303);
      // The reclassification form (§ 11 stk. 2): a reason is required, and a refusal names it in Danish and writes nothing.
      expect(page.body).toContain('id="form-reclassify"');
      expect(page.body).not.toMatch(/id="rc-kind"[\s\S]*?<option value="death"/);
      const audit = await count(t, 'audit_log');
      const noReason = await area.post(`${url}/events`, { form: 'reclassify', kind: 'other_self_harm_behaviour', reason: '', at: '2026-11-18T09:30' });
      expect(noReason.status).toBe(400);
      expect(noReason.body).toContain('Begrundelse: ');
      expect(await count(t, 'audit_log')).toBe(audit);
      expect((await api('incidents', r['selfHarm'] as string)).kind).toBe('qualified_self_harm');
      const re = await area.post(`${url}/events`, { form: 'reclassify', kind: 'other_self_harm_behaviour', reason: 'Lægelig vurdering: ikke nærliggende livsfare', at: '2026-11-18T09:30' });
      expect(re.status).toBe(303);
      expect(re.headers['location']).toContain('done=reclassify');
      const view = await api('incidents', r['selfHarm'] as string);
      expect(view.kind).toBe('other_self_harm_behaviour');
      expect(deadline(view, 'incident.preliminary-notice')).toMatchObject({ status: 'met', endedBy: 'reclassification' });
      page = await area.get(url);
      expect(page.body).toMatch(/data-rule="incident\.preliminary-notice"[^>]*data-ended-by="reclassification"[\s\S]*?afsluttet ved omklassificering/);
      expect(page.body).toContain('Omklassificeret fra Kvalificeret selvbeskadigende handling til Anden selvmords- eller selvbeskadigelsesadfærd');
      expect(page.body).toContain('value="closed_not_reportable"');
      // The chapter 4 conversation (due 17.11) was breached when the case left chapter 4: history, not a task.
      expect(deadline(view, 'incident.inmate-conversation')).toMatchObject({ status: 'breached', endedBy: 'reclassification' });
      const todo = await area.get('/?institution=ellebaek&status=breached');
      expect(todo.body).not.toContain('SM-I10-KAP4');
      expect(todo.body).toContain('SM-I10-DOD'); // the death's breached deadlines are still there to act on
      const csv = await area.get('/compliance.csv?from=2026-11&to=2026-11&institution=ellebaek');
      expect(csv.body.split('\r\n').find((l) => l.includes(';incident.inmate-conversation;'))?.split(';').slice(7, 12)).toEqual(['1', '0', '0', '1', '0']);
      const en = await area.get(`${url}?lang=en`);
      expect(en.body).toContain('ended by reclassification');
      expect(en.body).toContain('Reclassified from Qualified self-harm to Other self-harm behaviour');
      await area.get('/?lang=da');

      const closed = await area.post(`${url}/events`, { form: 'event', type: 'closed_not_reportable', at: '2026-11-18T09:00' });
      expect(closed.status).toBe(303);
      expect((await api('incidents', r['selfHarm'] as string)).closedNotReportableAt).toBe('2026-11-18T09:00:00.000+01:00');
      expect((await area.get(url)).body).toContain('Lukket som ikke indberetningspligtig');
    });

    it('creates a youth plan with the municipality contacted at the same time', async () => {
      const url = `/records/action-plans/${r['youth']}`;
      const page = await area.get(url);
      expect(page.body).toContain('Kommunen kontaktet samtidig (pkt. 32)');
      expect((await area.get(`/records/action-plans/${r['convicted']}`)).body).not.toContain('name="municipalityContacted"');
      const created = await area.post(`${url}/events`, { form: 'plancreated', at: '2026-11-17T13:00', municipalityContacted: '1' });
      expect(created.status).toBe(303);
      const view = await api('action-plans', r['youth'] as string);
      expect(view).toMatchObject({ planCreatedAt: '2026-11-17T13:00:00.000+01:00', municipalityContactedAt: '2026-11-17T13:00:00.000+01:00' });
      expect(deadline(view, 'plan.municipality-coordination')).toMatchObject({ status: 'met' });
    });
  });

  it('escapes everything it renders: the html`` helper and a record full of markup', async () => {
    const evil = `<img src=x onerror="alert(1)">'&`;
    expect(html`<p title="${evil}">${evil}${['<b>', html`<i>ok</i>`]}</p>`.value).toBe('<p title="&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&#39;&amp;">&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&#39;&amp;&lt;b&gt;<i>ok</i></p>');
    expect(html`${null}${undefined}${false}${0}${raw('<br>')}`.value).toBe('0<br>');
    const inc = await t.req('POST', '/api/incidents', { body: { institutionId: 'vestre', journalNumber: 'SM-UI-XSS', kind: 'qualified_self_harm', occurredAt: '2026-11-16T09:00:00+01:00', inmateName: '<script>alert(1)</script>', description: `"><svg onload=alert(1)>` } });
    expect(inc.status).toBe(201);
    const area = new Client(t);
    await area.login(tokens['area']?.token as string);
    const page = await area.get(`/records/incidents/${inc.json.id}`);
    expect(page.status).toBe(200);
    expect(page.body).not.toContain('<script>alert(1)</script>');
    expect(page.body).not.toContain('<svg onload');
    expect(page.body).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    // A hostile value in a query string comes back escaped too.
    const q = await area.get('/mail?journal=%22%3E%3Cscript%3Ex%3C%2Fscript%3E');
    expect(q.body).not.toContain('"><script>x</script>');
  });

  it('never writes a CPR number to the log', () => {
    // The number itself, dashed or not (a bare '4321' can turn up inside a timestamp or an id).
    const hits = t.logs.filter((l) => l.includes('050387-4321') || l.includes('0503874321'));
    expect(hits.map((l) => l.slice(0, 600))).toEqual([]);
    // The UI's requests are logged (route pattern, status, actor), so the check above has something to check.
    expect(t.logs.some((l) => l.includes('/records/:collection/:id'))).toBe(true);
  });
});
