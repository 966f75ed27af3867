/**
 * The operations surface against real Postgres, real Redis (a prefix of its own) and a real SMTP
 * server: personal calendar feeds (strictly parsed iCalendar), /metrics fed by the real worker,
 * /readyz with reachable and unreachable dependencies, and the admin-only queue board.
 */
import { createServer } from 'node:net';
import { Writable } from 'node:stream';
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer, type ServerDeps } from '../../src/api/server.js';
import { notifications } from '../../src/db/schema.js';
import { createLogger } from '../../src/logger.js';
import { createSmtpMailer } from '../../src/mail/transport.js';
import { escapeText, foldLine } from '../../src/ops/ics.js';
import { enqueue } from '../../src/queue/registry.js';
import { login } from '../../src/ui/session.js';
import type { RunningWorker } from '../../src/worker/runtime.js';
import { REDIS_URL, startWorkerHarness, type WorkerHarness } from '../support/worker.js';

const ADMIN_TOKEN = 'ops-admin-token-0123456789abcdef';
const METRICS_TOKEN = 'ops-metrics-token-0123456789abcdef';
const PUBLIC_URL = 'https://fristvagt.kf.test';
const CPR = '010190-4321';
const INMATE = 'Karl Indsat';

interface Res {
  status: number;
  body: string;
  json: any;
  headers: Record<string, unknown>;
}

type Req = (method: string, url: string, opts?: { token?: string | null; body?: unknown; headers?: Record<string, string> }) => Promise<Res>;

function requester(app: FastifyInstance): Req {
  return async (method, url, opts = {}) => {
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    const token = opts.token === undefined ? ADMIN_TOKEN : opts.token;
    if (token !== null) headers['authorization'] = `Bearer ${token}`;
    const res = await app.inject({ method: method as 'GET', url, headers, ...(opts.body !== undefined ? { payload: opts.body as object } : {}) });
    let json: unknown;
    try {
      json = res.body ? JSON.parse(res.body) : null;
    } catch {
      json = null;
    }
    return { status: res.statusCode, body: res.body, json, headers: res.headers };
  };
}

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Re-checks a condition after each round trip (no timers); gives up after 10 s. */
async function until(cond: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error('condition not reached');
  }
}

// --- a strict iCalendar reader, just for what the feed uses ---

interface Prop {
  name: string;
  params: Record<string, string>;
  value: string;
}
interface Component {
  name: string;
  props: Prop[];
  children: Component[];
}

const TEXT_PROPS = new Set(['SUMMARY', 'DESCRIPTION', 'X-WR-CALNAME', 'X-WR-CALDESC', 'PRODID', 'UID']);

function unescapeText(v: string, where: string): string {
  let out = '';
  for (let i = 0; i < v.length; i++) {
    const c = v[i];
    if (c === '\\') {
      const n = v[++i];
      if (n === 'n' || n === 'N') out += '\n';
      else if (n === '\\' || n === ';' || n === ',') out += n;
      else throw new Error(`${where}: bad escape \\${n ?? ''}`);
    } else if (c === ';' || c === ',') {
      throw new Error(`${where}: unescaped "${c}" in a TEXT value`);
    } else {
      out += c;
    }
  }
  return out;
}

/** Parses and checks RFC 5545 framing: CRLF, ≤ 75-octet lines, folding that never splits a UTF-8 sequence, balanced components. */
function parseIcs(raw: Buffer): Component {
  const text = raw.toString('utf8');
  expect(text.endsWith('\r\n')).toBe(true);
  expect(text.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
  // Split the bytes, not the string: each physical line must be valid UTF-8 on its own.
  const physical: string[] = [];
  let start = 0;
  for (let i = 0; i < raw.length - 1; i++) {
    if (raw[i] === 0x0d && raw[i + 1] === 0x0a) {
      const bytes = raw.subarray(start, i);
      expect(bytes.length, `line ${physical.length + 1} is ${bytes.length} octets`).toBeLessThanOrEqual(75);
      physical.push(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
      start = i + 2;
      i++;
    }
  }
  const logical: string[] = [];
  for (const line of physical) {
    if (line.startsWith(' ') || line.startsWith('\t')) {
      expect(logical.length).toBeGreaterThan(0);
      logical[logical.length - 1] += line.slice(1);
    } else {
      logical.push(line);
    }
  }
  const root: Component = { name: '', props: [], children: [] };
  const stack: Component[] = [root];
  for (const line of logical) {
    const m = /^([A-Z][A-Z0-9-]*)((?:;[A-Z0-9-]+=[^;:,"]*)*):(.*)$/.exec(line);
    if (!m) throw new Error(`not a content line: ${line}`);
    const [, name, rawParams, value] = m as unknown as [string, string, string, string];
    const params = Object.fromEntries(rawParams.split(';').filter(Boolean).map((p) => p.split('=') as [string, string]));
    const top = stack[stack.length - 1] as Component;
    if (name === 'BEGIN') {
      const c: Component = { name: value, props: [], children: [] };
      top.children.push(c);
      stack.push(c);
    } else if (name === 'END') {
      expect(top.name, `END:${value} closes ${top.name}`).toBe(value);
      stack.pop();
    } else {
      top.props.push({ name, params, value: TEXT_PROPS.has(name) ? unescapeText(value, name) : value });
    }
  }
  expect(stack).toHaveLength(1);
  expect(root.children).toHaveLength(1);
  const cal = root.children[0] as Component;
  expect(cal.name).toBe('VCALENDAR');
  return cal;
}

const prop = (c: Component, name: string): Prop | undefined => c.props.find((p) => p.name === name);
const value = (c: Component, name: string): string => {
  const p = prop(c, name);
  if (!p) throw new Error(`${c.name} has no ${name}`);
  return p.value;
};

interface FeedEvent {
  uid: string;
  start: string;
  end: string;
  summary: string;
  description: string;
}

function events(cal: Component): FeedEvent[] {
  return cal.children.filter((c) => c.name === 'VEVENT').map((e) => {
    expect(prop(e, 'DTSTART')?.params).toEqual({ VALUE: 'DATE' });
    expect(prop(e, 'DTEND')?.params).toEqual({ VALUE: 'DATE' });
    expect(value(e, 'DTSTAMP')).toMatch(/^\d{8}T\d{6}Z$/);
    expect(value(e, 'DTSTART')).toMatch(/^\d{8}$/);
    return { uid: value(e, 'UID'), start: value(e, 'DTSTART'), end: value(e, 'DTEND'), summary: value(e, 'SUMMARY'), description: value(e, 'DESCRIPTION') };
  });
}

// --- Prometheus text ---

function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || !line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = Object.fromEntries([...(m[2] ?? '').matchAll(/([a-zA-Z_]+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => got[k] === v) && Object.keys(got).length === Object.keys(labels).length) return Number(m[3]);
  }
  return undefined;
}

describe('iCalendar writer', () => {
  it('escapes TEXT and folds at 75 octets without splitting a character', () => {
    expect(escapeText('a\\b;c,d\r\ne\nf')).toBe('a\\\\b\\;c\\,d\\ne\\nf');
    for (let pad = 0; pad < 6; pad++) {
      const line = `DESCRIPTION:${'x'.repeat(60 + pad)}æøå – ${'ø'.repeat(80)}`;
      const folded = foldLine(line);
      expect(folded.endsWith('\r\n')).toBe(true);
      const physical = folded.slice(0, -2).split('\r\n');
      for (const [i, p] of physical.entries()) {
        expect(Buffer.byteLength(p, 'utf8')).toBeLessThanOrEqual(75);
        if (i > 0) expect(p.startsWith(' ')).toBe(true);
      }
      expect(physical.map((p, i) => (i === 0 ? p : p.slice(1))).join('')).toBe(line);
    }
    expect(foldLine('SHORT:x')).toBe('SHORT:x\r\n');
  });
});

describe('operations surface', () => {
  let h: WorkerHarness;
  let w: RunningWorker;
  let app: FastifyInstance;
  let req: Req;
  const extraApps: FastifyInstance[] = [];
  const logs: string[] = [];
  const tokens = { area: '', otherArea: '', reader: '', institution: '' };
  let staffId = '';
  let feed = { id: '', url: '', secret: '' };
  const plans: Record<string, string> = {};

  const logger = createLogger({ level: 'debug', destination: new Writable({ write(c: Buffer, _e, cb) { logs.push(c.toString()); cb(); } }) });
  function deps(extra: Partial<ServerDeps> = {}): ServerDeps {
    return {
      database: h.db.database,
      config: { FRISTVAGT_ADMIN_TOKEN: ADMIN_TOKEN, FRISTVAGT_BODY_LIMIT: 64 * 1024, FRISTVAGT_CLOSURE_DAYS: [], FRISTVAGT_METRICS_TOKEN: METRICS_TOKEN, FRISTVAGT_QUEUE_PREFIX: h.prefix, PUBLIC_URL },
      clock: () => h.clock.now,
      logger,
      ...extra,
    };
  }
  async function extraApp(extra: Partial<ServerDeps>): Promise<Req> {
    const a = await buildServer(deps(extra));
    await a.ready();
    extraApps.push(a);
    return requester(a);
  }

  beforeAll(async () => {
    h = await startWorkerHarness('postgres', '2026-11-23T09:00:00+01:00');
    w = await h.start();
    app = await buildServer(deps({ redis: { url: REDIS_URL }, smtpVerify: () => h.mailer.verify() }));
    await app.ready();
    req = requester(app);
    const area = await req('POST', '/api/areas', { body: { id: 'nordjylland', name: 'Kriminalforsorgen Nordjylland', officeEmail: 'nord@kf.test', directorName: 'Direktør Nord', directorEmail: 'direktor.nord@kf.test' } });
    expect(area.status, area.body).toBe(201);
    for (const [name, body] of Object.entries({ area: { role: 'area', areaId: 'hovedstaden' }, otherArea: { role: 'area', areaId: 'nordjylland' }, reader: { role: 'reader' }, institution: { role: 'institution', institutionId: 'vestre' } })) {
      const res = await req('POST', '/api/tokens', { body: { name, ...body } });
      expect(res.status, res.body).toBe(201);
      tokens[name as keyof typeof tokens] = res.json.token;
    }
    // A name with every character TEXT must escape.
    const s = await req('POST', '/api/staff', { token: tokens.area, body: { areaId: 'hovedstaden', institutionId: 'vestre', name: 'Hansen, Jens; vikar\\B', email: 'jens.hansen@kf.test' } });
    expect(s.status, s.body).toBe(201);
    staffId = s.json.id;
  });

  afterAll(async () => {
    for (const a of [app, ...extraApps]) await a?.close();
    await h?.close();
  });

  describe('calendar feeds', () => {
    it('are managed by admins and the staff member’s own area only', async () => {
      const url = `/api/staff/${staffId}/calendar-feeds`;
      expect((await req('POST', url, { token: null })).status).toBe(401);
      expect((await req('POST', url, { token: 'fv_not-a-token' })).status).toBe(401);
      for (const t of [tokens.reader, tokens.institution, tokens.otherArea]) {
        const res = await req('POST', url, { token: t });
        expect(res.status, res.body).toBe(403);
        expect(res.json.error.code).toBe('FORBIDDEN');
      }
      expect((await req('POST', '/api/staff/00000000-0000-4000-8000-000000000000/calendar-feeds')).status).toBe(404);
      expect((await req('POST', '/api/staff/not-a-uuid/calendar-feeds')).status).toBe(404);
      const bad = await req('POST', url, { token: tokens.area, body: { label: 'telefon' } });
      expect(bad.status).toBe(400);
      expect(bad.json.error.issues[0]).toEqual({ path: 'label', message: 'unknown field' });

      const created = await req('POST', url, { token: tokens.area });
      expect(created.status, created.body).toBe(201);
      expect(created.json).toMatchObject({ staffId, active: true, revokedAt: null });
      expect(created.json.url).toMatch(/^https:\/\/fristvagt\.kf\.test\/calendar\/[A-Za-z0-9_-]{43}\.ics$/);
      const secret = /\/calendar\/(.+)\.ics$/.exec(created.json.url)?.[1] as string;
      feed = { id: created.json.id, url: created.json.url, secret };

      const listed = await req('GET', url, { token: tokens.area });
      expect(listed.status).toBe(200);
      expect(listed.json.items.map((f: { id: string }) => f.id)).toEqual([feed.id]);
      expect(listed.body).not.toContain(secret);
      expect(listed.json.items[0]).not.toHaveProperty('url');
      expect((await req('GET', url, { token: tokens.otherArea })).status).toBe(403);
      expect((await req('GET', url, { token: null })).status).toBe(401);

      const audit = await h.db.database.db.execute(sql`SELECT action, entity_id, after::text AS after FROM audit_log WHERE entity_type = 'calendar_feed'`);
      const rows = (Array.isArray(audit) ? audit : (audit as { rows: unknown[] }).rows) as Array<{ action: string; entity_id: string; after: string }>;
      expect(rows.map((r) => [r.action, r.entity_id])).toEqual([['calendar_feed.create', feed.id]]);
      expect(JSON.stringify(rows)).not.toContain(secret);
    });

    it('serves valid iCalendar with the owner’s open plan deadlines, and follows their changes', async () => {
      const other = await req('POST', '/api/staff', { body: { areaId: 'hovedstaden', institutionId: 'vestre', name: 'Anden Ejer', email: 'anden.ejer@kf.test' } });
      const mk = async (journal: string, body: Record<string, unknown>) => {
        const res = await req('POST', '/api/action-plans', { body: { institutionId: 'vestre', journalNumber: journal, inmateName: INMATE, cpr: CPR, ...body } });
        expect(res.status, res.body).toBe(201);
        plans[journal] = res.json.id;
        return res.json.id as string;
      };
      // Due next week (open) …
      await mk('HP-ICS-1', { clientCategory: 'remand', admittedAt: '2026-11-16', ownerId: staffId, ownerAssignedAt: '2026-11-16' });
      // … long overdue (breached: still a duty, shown as overdue) …
      await mk('HP-ICS-2', { clientCategory: 'convicted_from_liberty', admittedAt: '2026-10-01', possibleParoleDate: '2027-09-01', expectedReleaseDate: '2027-12-01', ownerId: staffId, ownerAssignedAt: '2026-10-01' });
      // … someone else's plan, and a closed one: neither belongs in the feed.
      await mk('HP-ICS-3', { clientCategory: 'remand', admittedAt: '2026-11-16', ownerId: other.json.id, ownerAssignedAt: '2026-11-16' });
      const closed = await mk('HP-ICS-4', { clientCategory: 'remand', admittedAt: '2026-11-16', ownerId: staffId, ownerAssignedAt: '2026-11-16' });
      expect((await req('POST', `/api/action-plans/${closed}/events`, { body: { type: 'closed' } })).status).toBe(200);
      const inc = await req('POST', '/api/incidents', { body: { institutionId: 'vestre', journalNumber: 'SM-ICS-1', kind: 'death', occurredAt: '2026-11-23T07:00:00+01:00', inmateName: INMATE, cpr: CPR } });
      expect(inc.status).toBe(201);

      const expected = async (): Promise<Array<{ id: string; key: string; dueDate: string; rule: string; recordId: string }>> => {
        const res = await req('GET', '/api/deadlines?recordType=action_plan&limit=500');
        return res.json.items.filter((d: { recordId: string; completedAt: string | null }) => [plans['HP-ICS-1'], plans['HP-ICS-2']].includes(d.recordId) && d.completedAt === null);
      };
      const fetchFeed = async () => {
        const res = await app.inject({ method: 'GET', url: `/calendar/${feed.secret}.ics` });
        expect(res.statusCode, res.body).toBe(200);
        expect(res.headers['content-type']).toBe('text/calendar; charset=utf-8');
        const cal = parseIcs(res.rawPayload);
        return { raw: res.rawPayload.toString('utf8'), cal, events: events(cal) };
      };

      const first = await fetchFeed();
      expect(value(first.cal, 'VERSION')).toBe('2.0');
      expect(value(first.cal, 'PRODID')).toBe('-//Kriminalforsorgen//fristvagt//DA');
      expect(value(first.cal, 'X-WR-CALNAME')).toBe('Frister – Hansen, Jens; vikar\\B');
      expect(first.raw).toContain('X-WR-CALNAME:Frister – Hansen\\, Jens\\; vikar\\\\B\r\n');
      // Long DESCRIPTIONs are folded.
      expect(first.raw).toMatch(/\r\n [^\r\n]/);

      const want = await expected();
      expect(want.length).toBeGreaterThanOrEqual(3);
      expect(first.events.map((e) => e.uid).sort()).toEqual(want.map((d) => `${d.id}@fristvagt.kf.test`).sort());
      for (const d of want) {
        const e = first.events.find((x) => x.uid === `${d.id}@fristvagt.kf.test`) as FeedEvent;
        expect(e.start).toBe(d.dueDate.replace(/-/g, ''));
        const next = new Date(`${d.dueDate}T00:00:00Z`);
        next.setUTCDate(next.getUTCDate() + 1);
        expect(e.end).toBe(next.toISOString().slice(0, 10).replace(/-/g, ''));
      }
      const create1 = want.find((d) => d.recordId === plans['HP-ICS-1'] && d.rule === 'plan.create') as { id: string; dueDate: string };
      expect(create1.dueDate).toBe('2026-11-25');
      const ev1 = first.events.find((e) => e.uid === `${create1.id}@fristvagt.kf.test`) as FeedEvent;
      expect(ev1.summary).toBe('Handleplan oprettet – j.nr. HP-ICS-1');
      expect(ev1.description).toContain('Hjemmel: Handleplansvejledningen pkt. 16');
      expect(ev1.description).toContain('Grundlag: lov');
      expect(ev1.description).toContain('7 hverdage');
      expect(ev1.description).toContain(`${PUBLIC_URL}/records/action-plans/${plans['HP-ICS-1']}`);
      const overdue = first.events.filter((e) => e.summary.startsWith('Overskredet: '));
      expect(overdue.map((e) => e.summary)).toContain('Overskredet: Handleplan oprettet – j.nr. HP-ICS-2');
      // A calendar leaves the building: no CPR number and no name of the inmate, in any form.
      for (const secretText of [CPR, CPR.replace('-', ''), INMATE, 'SM-ICS-1', 'HP-ICS-3', 'HP-ICS-4']) expect(first.raw).not.toContain(secretText);

      // The plan is created: its create deadline leaves the feed and the first evaluation arrives.
      h.clock.now = new Date('2026-11-23T10:00:00+01:00');
      const evt = await req('POST', `/api/action-plans/${plans['HP-ICS-1']}/events`, { body: { type: 'created', at: '2026-11-20' } });
      expect(evt.status, evt.body).toBe(200);
      const second = await fetchFeed();
      const want2 = await expected();
      expect(second.events.map((e) => e.uid).sort()).toEqual(want2.map((d) => `${d.id}@fristvagt.kf.test`).sort());
      expect(second.events.find((e) => e.uid === `${create1.id}@fristvagt.kf.test`)).toBeUndefined();
      const eval1 = want2.find((d) => d.recordId === plans['HP-ICS-1'] && d.key === 'plan.evaluate#1') as { id: string };
      const evalEvent = second.events.find((e) => e.uid === `${eval1.id}@fristvagt.kf.test`) as FeedEvent;
      expect(evalEvent).toMatchObject({ start: '20270220', summary: 'Evaluering af handleplan – j.nr. HP-ICS-1' });

      // More than two years to release: the evaluation moves to six months — same event (UID), new date.
      const patched = await req('PATCH', `/api/action-plans/${plans['HP-ICS-1']}`, { body: { expectedReleaseDate: '2030-01-01' } });
      expect(patched.status, patched.body).toBe(200);
      const third = await fetchFeed();
      expect(third.events.find((e) => e.uid === `${eval1.id}@fristvagt.kf.test`)?.start).toBe('20270520');
      expect(third.events).toHaveLength(second.events.length);
    });

    it('ends with revocation, and for a deactivated staff member', async () => {
      const del = `/api/calendar-feeds/${feed.id}`;
      expect((await req('DELETE', del, { token: null })).status).toBe(401);
      expect((await req('DELETE', del, { token: tokens.otherArea })).status).toBe(403);
      expect((await req('DELETE', del, { token: tokens.reader })).status).toBe(403);
      expect((await app.inject({ method: 'GET', url: `/calendar/${feed.secret}.ics` })).statusCode).toBe(200);
      expect((await req('DELETE', del, { token: tokens.area })).status).toBe(204);
      const gone = await app.inject({ method: 'GET', url: `/calendar/${feed.secret}.ics` });
      expect(gone.statusCode).toBe(404);
      expect(gone.body).not.toContain(feed.secret);
      expect((await req('DELETE', del, { token: tokens.area })).status).toBe(404);
      expect((await req('DELETE', '/api/calendar-feeds/not-a-uuid')).status).toBe(404);
      const listed = await req('GET', `/api/staff/${staffId}/calendar-feeds`);
      expect(listed.json.items[0]).toMatchObject({ id: feed.id, active: false });
      const audit = await h.db.database.db.execute(sql`SELECT action FROM audit_log WHERE entity_type = 'calendar_feed' AND entity_id = ${feed.id} ORDER BY id`);
      const actions = ((Array.isArray(audit) ? audit : (audit as { rows: unknown[] }).rows) as Array<{ action: string }>).map((r) => r.action);
      expect(actions).toEqual(['calendar_feed.create', 'calendar_feed.revoke']);

      for (const url of ['/calendar/nonsense.ics', `/calendar/${feed.secret}`, `/calendar/${'A'.repeat(43)}.ics`]) expect((await app.inject({ method: 'GET', url })).statusCode).toBe(404);

      const again = await req('POST', `/api/staff/${staffId}/calendar-feeds`);
      expect(again.status).toBe(201);
      const path = new URL(again.json.url).pathname;
      expect((await app.inject({ method: 'GET', url: path })).statusCode).toBe(200);
      expect((await req('PATCH', `/api/staff/${staffId}`, { body: { active: false } })).status).toBe(200);
      expect((await app.inject({ method: 'GET', url: path })).statusCode).toBe(404);
      expect((await req('PATCH', `/api/staff/${staffId}`, { body: { active: true } })).status).toBe(200);
      expect((await app.inject({ method: 'GET', url: path })).statusCode).toBe(200);
    });
  });

  describe('/metrics', () => {
    const scrape = async (): Promise<string> => {
      const res = await req('GET', '/metrics', { token: METRICS_TOKEN });
      expect(res.status, res.body).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
      return res.body;
    };

    it('needs the metrics token or an admin token', async () => {
      expect((await req('GET', '/metrics', { token: null })).status).toBe(401);
      expect((await req('GET', '/metrics', { token: 'wrong-token-0123456789abcdefgh' })).status).toBe(401);
      expect((await req('GET', '/metrics', { token: tokens.area })).status).toBe(403);
      expect((await req('GET', '/metrics')).status).toBe(200);
    });

    it('counts deadlines, notifications, lateness, queue depth and sweeps from the shared stores', async () => {
      await h.db.database.db.execute(sql`INSERT INTO worker_heartbeats (worker_id, hostname, pid, last_sweep_at, last_sweep_ms, sweeps_total, sweep_ms_total) VALUES ('worker-ops-a', 'host-a', 4242, now(), 1500, 4, 5000)`);
      const before = await scrape();
      for (const name of ['fristvagt_deadlines', 'fristvagt_notifications', 'fristvagt_notification_lateness_seconds', 'fristvagt_queue_jobs', 'fristvagt_worker_sweep_duration_seconds', 'fristvagt_worker_last_sweep_duration_seconds', 'fristvagt_worker_last_seen_timestamp_seconds', 'fristvagt_up', 'fristvagt_process_cpu_seconds_total']) {
        expect(before, name).toContain(`# TYPE ${name} `);
      }
      expect(sample(before, 'fristvagt_up', { source: 'postgres' })).toBe(1);
      expect(sample(before, 'fristvagt_up', { source: 'redis' })).toBe(1);
      expect(sample(before, 'fristvagt_worker_sweep_duration_seconds_sum', { worker: 'worker-ops-a', hostname: 'host-a' })).toBe(5);
      expect(sample(before, 'fristvagt_worker_sweep_duration_seconds_count', { worker: 'worker-ops-a', hostname: 'host-a' })).toBe(4);
      expect(sample(before, 'fristvagt_worker_last_sweep_duration_seconds', { worker: 'worker-ops-a', hostname: 'host-a' })).toBe(1.5);
      expect(before).toContain(`fristvagt_worker_last_seen_timestamp_seconds{worker="${w.id}"`);
      // The plans of the feed tests: HP-ICS-2's creation is overdue, HP-ICS-3's is still open.
      expect(sample(before, 'fristvagt_deadlines', { status: 'breached', rule: 'plan.create', basis: 'law' })).toBeGreaterThanOrEqual(1);
      expect(sample(before, 'fristvagt_deadlines', { status: 'open', rule: 'plan.create', basis: 'law' })).toBeGreaterThanOrEqual(1);
      for (const state of ['waiting', 'delayed', 'active', 'failed']) expect(sample(before, 'fristvagt_queue_jobs', { state }), state).toBeTypeOf('number');

      // Queue depth is read from Redis at scrape time.
      await enqueue(w.queue, 'sweep', {}, { jobId: 'ops-test-delayed', delay: 3600_000 });
      const delayed = await scrape();
      expect(sample(delayed, 'fristvagt_queue_jobs', { state: 'delayed' })).toBe((sample(before, 'fristvagt_queue_jobs', { state: 'delayed' }) ?? 0) + 1);

      // The real worker sends the area director's alert (and refuses the duty manager's with 550).
      const sentBefore = sample(before, 'fristvagt_notifications', { rule: 'incident.area-director-alert', status: 'sent' }) ?? 0;
      const failedBefore = sample(before, 'fristvagt_notifications', { rule: 'incident.directorate-phone', status: 'failed' }) ?? 0;
      const lateBefore = sample(before, 'fristvagt_notification_lateness_seconds_count') ?? 0;
      const openNotices = sample(before, 'fristvagt_deadlines', { status: 'open', rule: 'incident.preliminary-notice', basis: 'law' }) ?? 0;
      h.sink.refuseRcpt = (addr) => (addr === 'vagt@kf.test' ? 550 : undefined);
      const inc = await req('POST', '/api/incidents', { body: { institutionId: 'vestre', journalNumber: 'SM-MET-1', kind: 'death', occurredAt: '2026-11-23T08:30:00+01:00', mediaAttention: true } });
      expect(inc.status, inc.body).toBe(201);
      await w.deps.planAndEnqueue('incident', inc.json.id);
      await h.sink.waitFor((all) => all.some((m) => m.to.includes('direktor@kf.test') && /SM-MET-1|dødsfald/.test(m.subject)));
      const rowsOf = async () => (await h.db.database.db.select().from(notifications)).filter((n) => n.recordId === inc.json.id);
      await until(async () => {
        const rows = await rowsOf();
        return rows.some((n) => n.stage === 'alert:area-director' && n.status === 'sent') && rows.some((n) => n.stage === 'alert:directorate-phone' && n.status === 'failed');
      });
      h.sink.refuseRcpt = undefined;
      const sentNow = (await h.db.database.db.select().from(notifications)).filter((n) => n.status === 'sent').length;

      const after = await scrape();
      expect(sample(after, 'fristvagt_notifications', { rule: 'incident.area-director-alert', status: 'sent' })).toBe(sentBefore + 1);
      expect(sample(after, 'fristvagt_notifications', { rule: 'incident.directorate-phone', status: 'failed' })).toBe(failedBefore + 1);
      expect(sample(after, 'fristvagt_deadlines', { status: 'open', rule: 'incident.preliminary-notice', basis: 'law' })).toBe(openNotices + 1);
      const count = sample(after, 'fristvagt_notification_lateness_seconds_count') as number;
      expect(count).toBeGreaterThan(lateBefore);
      expect(count).toBe(sentNow);
      expect(sample(after, 'fristvagt_notification_lateness_seconds_bucket', { le: '+Inf' })).toBe(count);
      let last = 0;
      for (const le of ['1', '5', '60', '3600', '86400', '172800']) {
        const n = sample(after, 'fristvagt_notification_lateness_seconds_bucket', { le }) as number;
        expect(n).toBeGreaterThanOrEqual(last);
        last = n;
      }
      expect(sample(after, 'fristvagt_notification_lateness_seconds_sum')).toBeGreaterThanOrEqual(0);

      // Meeting the deadline moves it from open to met.
      const met = await req('POST', `/api/incidents/${inc.json.id}/events`, { body: { type: 'preliminary_notice_sent', at: '2026-11-23T09:30:00+01:00' } });
      expect(met.status, met.body).toBe(200);
      const later = await scrape();
      expect(sample(later, 'fristvagt_deadlines', { status: 'open', rule: 'incident.preliminary-notice', basis: 'law' })).toBe(openNotices);
      expect(sample(later, 'fristvagt_deadlines', { status: 'met', rule: 'incident.preliminary-notice', basis: 'law' })).toBeGreaterThanOrEqual(1);
    });
  });

  describe('/readyz', () => {
    it('reports every configured dependency, 503 when one is unreachable', async () => {
      const ok = await req('GET', '/readyz', { token: null });
      expect(ok.status, ok.body).toBe(200);
      expect(ok.json).toEqual({ ok: true, postgres: 'ok', redis: 'ok', smtp: 'ok', recipients: 'ok' });

      const port = await closedPort();
      const deadMailer = createSmtpMailer({ url: `smtp://127.0.0.1:${port}`, requireTls: false });
      const broken = await extraApp({ redis: { url: `redis://127.0.0.1:${port}` }, smtpVerify: () => deadMailer.verify() });
      const started = Date.now();
      const bad = await broken('GET', '/readyz', { token: null });
      expect(Date.now() - started).toBeLessThan(8_000);
      deadMailer.close();
      expect(bad.status, bad.body).toBe(503);
      expect(bad.json).toEqual({ ok: false, postgres: 'ok', redis: 'unreachable', smtp: 'unreachable', recipients: 'ok' });
      expect(bad.body).not.toContain(String(port));
      // A scrape still answers, saying Redis is down.
      const m = await broken('GET', '/metrics', { token: METRICS_TOKEN });
      expect(m.status).toBe(200);
      expect(sample(m.body, 'fristvagt_up', { source: 'redis' })).toBe(0);
      expect(sample(m.body, 'fristvagt_up', { source: 'postgres' })).toBe(1);
      // The board does not hang on a dead Redis either.
      expect((await broken('GET', '/admin/queues/api/queues')).status).toBe(503);

      const plain = await extraApp({});
      const p = await plain('GET', '/readyz', { token: null });
      expect(p.status).toBe(200);
      expect(p.json).toEqual({ ok: true, postgres: 'ok', redis: 'not configured', smtp: 'not configured', recipients: 'ok' });
      expect((await plain('GET', '/admin/queues')).status).toBe(503);
      expect((await plain('GET', '/healthz', { token: null })).json).toEqual({ ok: true });

      // The directorate's address unset: the legally required mails to it cannot go, so not ready (README "Go-live").
      const put = (directorate: string | null) => req('PUT', '/api/settings/recipients', { body: { value: { ombudsman: 'ombudsmand@ombud.test', directorate, admins: ['drift@kf.test'] } } });
      expect((await put(null)).status).toBe(200);
      const unset = await plain('GET', '/readyz', { token: null });
      expect(unset.status).toBe(503);
      expect(unset.json).toEqual({ ok: false, postgres: 'ok', redis: 'not configured', smtp: 'not configured', recipients: 'unset', unsetRecipients: ['recipients.directorate'] });
      expect((await put('direktorat@kf.test')).status).toBe(200);
      expect((await plain('GET', '/readyz', { token: null })).status).toBe(200);
    });
  });

  describe('/admin/queues', () => {
    it('is for admins only: bearer token or the UI session', async () => {
      expect((await req('GET', '/admin/queues', { token: null })).status).toBe(401);
      expect((await req('GET', '/admin/queues/api/queues', { token: null })).status).toBe(401);
      const browser = await req('GET', '/admin/queues', { token: null, headers: { accept: 'text/html' } });
      expect(browser.status).toBe(303);
      expect(browser.headers['location']).toBe('/login?next=%2Fadmin%2Fqueues');
      for (const t of [tokens.area, tokens.reader, tokens.institution]) expect((await req('GET', '/admin/queues', { token: t })).status).toBe(403);
      expect((await req('GET', '/admin/queues', { token: 'fv_unknown' })).status).toBe(401);

      const page = await req('GET', '/admin/queues');
      expect(page.status).toBe(200);
      expect(page.headers['content-type']).toMatch(/^text\/html/);
      // No request to another host: the board's web font link is removed, and its CSP allows this server only.
      expect(String(page.body)).toContain('static/js/');
      expect(String(page.body)).not.toMatch(/https?:\/\/(?!127\.0\.0\.1|localhost)[^"']*/);
      expect(page.headers['content-security-policy']).toMatch(/default-src 'self'/);
      const api = await req('GET', '/admin/queues/api/queues');
      expect(api.status, api.body).toBe(200);
      expect(api.json.queues.map((q: { name: string }) => q.name)).toEqual(['fristvagt']);

      // A browser signed in to the UI: the session cookie is enough, but only for reading cross-site.
      const admin = await login(h.db.database.db, ADMIN_TOKEN, ADMIN_TOKEN, 'da', h.clock.now);
      const area = await login(h.db.database.db, tokens.area, ADMIN_TOKEN, 'da', h.clock.now);
      const cookie = (c: string) => ({ cookie: `other=1; fristvagt_session=${c}` });
      expect((await req('GET', '/admin/queues/api/queues', { token: null, headers: cookie(admin!.cookie) })).status).toBe(200);
      expect((await req('GET', '/admin/queues/api/queues', { token: null, headers: cookie(area!.cookie) })).status).toBe(403);
      expect((await req('GET', '/admin/queues/api/queues', { token: null, headers: cookie('forged') })).status).toBe(401);
      const crossSite = await req('PUT', '/admin/queues/api/queues/pause', { token: null, headers: { ...cookie(admin!.cookie), 'sec-fetch-site': 'cross-site' } });
      expect(crossSite.status).toBe(403);
      expect(await w.queue.isPaused()).toBe(false);
      // From the board's own page the same session may act (retrying the failed jobs: there are none).
      const sameSite = await req('PUT', '/admin/queues/api/queues/fristvagt/retry/failed', { token: null, headers: { ...cookie(admin!.cookie), 'sec-fetch-site': 'same-origin' } });
      expect(sameSite.status, sameSite.body).toBeLessThan(300);
      const noOrigin = await req('PUT', '/admin/queues/api/queues/fristvagt/retry/failed', { token: null, headers: cookie(admin!.cookie) });
      expect(noOrigin.status).toBe(403);
    });
  });

  it('never logs a CPR number, an inmate name or a feed secret', () => {
    const all = logs.join('');
    expect(all.length).toBeGreaterThan(0);
    for (const s of [CPR, CPR.replace('-', ''), INMATE, feed.secret]) expect(all).not.toContain(s);
  });
});
