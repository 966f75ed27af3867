/**
 * The API's errors against the real server and a real Postgres database: a database error never
 * carries the failed query's parameters into a log line, a lost database is a 503 in the documented
 * shape, settings keys that name Object.prototype members are unknown settings, completion events
 * dated in the future are refused (the UI's rule), and the framework's own refusals (bad URL,
 * 431, malformed request, text/plain body) use the documented error shape too.
 */
import { connect } from 'node:net';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer } from '../../src/api/server.js';
import { createLogger } from '../../src/logger.js';
import { ADMIN_TOKEN, seedMasterData, startTestApp, type TestApp } from '../support/app.js';

const NAME = 'Parameterine Logsen';
const FREE_TEXT = 'Fandt en seddel under madrassen i celle 14';
const ERROR_SHAPE = { error: { code: expect.any(String), message: expect.any(String), issues: expect.any(Array) } };

/** The raw HTTP answer to bytes written on a socket (for what Node's parser refuses before fastify). */
function rawHttp(port: number, request: string): Promise<{ status: number; headers: string; body: string }> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.write(request));
    let data = '';
    s.setEncoding('utf8').on('data', (d: string) => (data += d));
    s.on('error', reject);
    s.on('close', () => {
      const [head = '', body = ''] = data.split('\r\n\r\n');
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0), headers: head, body });
    });
  });
}

describe('API errors', () => {
  let t: TestApp;
  let incidentId: string;

  beforeAll(async () => {
    t = await startTestApp('postgres');
    await seedMasterData(t);
    const created = await t.req('POST', '/api/incidents', { body: { institutionId: 'vestre', journalNumber: 'ERR-1', kind: 'death', occurredAt: '2026-11-20T10:00:00+01:00' } });
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    incidentId = created.json.id;
  });
  afterAll(async () => t?.close());

  it('logs a database error without the query parameters, the detail or the free text', async () => {
    // A trigger of this test's own database refuses the insert with an error the service does not
    // translate: it reaches the error handler (500) and its log line.
    await t.db.database.db.execute(
      sql.raw(`CREATE FUNCTION test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'refused by a test trigger' USING DETAIL = 'row of ' || NEW.inmate_name || ': ' || NEW.description; END $$;
        CREATE TRIGGER test_refuse BEFORE INSERT ON incidents FOR EACH ROW WHEN (NEW.journal_number = 'ERR-LOG') EXECUTE FUNCTION test_refuse();`),
    );
    const before = t.logs.length;
    const res = await t.req('POST', '/api/incidents', { body: { institutionId: 'vestre', journalNumber: 'ERR-LOG', kind: 'death', occurredAt: '2026-11-20T10:00:00+01:00', inmateName: NAME, description: FREE_TEXT } });
    expect(res.status).toBe(500);
    expect(res.json).toEqual({ error: { code: 'INTERNAL', message: 'internal error', issues: [] } });
    const lines = t.logs.slice(before).join('');
    const logged = lines.split('\n').filter((l) => l.includes('unhandled error'));
    expect(logged).toHaveLength(1);
    // What helps an operator stays: the kind of error, its SQLSTATE and the statement's shape.
    expect(logged[0]).toContain('P0001');
    expect(logged[0]).toContain('refused by a test trigger');
    expect(logged[0]).toContain('insert into \\"incidents\\"');
    expect(lines).not.toContain(NAME);
    expect(lines).not.toContain(FREE_TEXT);
    expect(lines).not.toContain('params:');
  });

  it('answers 503 UNAVAILABLE with Retry-After when the database is gone', async () => {
    const other = await startTestApp('postgres');
    try {
      await seedMasterData(other);
      await other.db.database.close();
      const res = await other.req('POST', '/api/incidents', { body: { institutionId: 'vestre', journalNumber: 'ERR-503', kind: 'death', occurredAt: '2026-11-20T10:00:00+01:00', inmateName: NAME, description: FREE_TEXT } });
      expect(res.status).toBe(503);
      expect(res.json).toEqual({ error: { code: 'UNAVAILABLE', message: expect.stringContaining('database'), issues: [] } });
      expect(res.headers['retry-after']).toMatch(/^\d+$/);
      expect(JSON.stringify(res.json)).not.toContain(NAME);
    } finally {
      await other.close();
    }
  });

  it('treats __proto__, constructor and toString as unknown settings (404), not a crash', async () => {
    for (const key of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      const res = await t.req('PUT', `/api/settings/${key}`, { body: { value: 1 } });
      expect(res.status, `${key}: ${JSON.stringify(res.json)}`).toBe(404);
      expect(res.json).toEqual(ERROR_SHAPE);
      expect(res.json.error.code).toBe('NOT_FOUND');
    }
  });

  it('refuses completion events dated in the future, by the injected clock (the UI forms’ rule)', async () => {
    t.clock.now = new Date('2026-11-22T12:00:00+01:00');
    const event = (at: string) => t.req('POST', `/api/incidents/${incidentId}/events`, { body: { type: 'preliminary_notice_sent', at } });
    for (const at of ['2026-11-22T12:02:00+01:00', '2026-11-23', '2027-01-01T00:00:00Z']) {
      const res = await event(at);
      expect(res.status, at).toBe(400);
      expect(res.json).toEqual({ error: { code: 'VALIDATION', message: 'at: is in the future', issues: [{ path: 'at', message: 'is in the future' }] } });
    }
    // Within the minute the forms allow (their minute precision), and today's date, are "done now".
    expect((await event('2026-11-22T12:00:30+01:00')).status).toBe(200);
    expect((await event('2026-11-22')).status).toBe(200);
    // The clock is the injected one: an hour later, that hour has happened.
    t.clock.now = new Date('2026-11-22T13:00:00+01:00');
    expect((await event('2026-11-22T12:59:00+01:00')).status).toBe(200);
  });

  it('answers a URL that does not decode with 400 in the documented shape, with or without a token', async () => {
    for (const token of [undefined, null]) {
      for (const url of ['/api/%zz', '/%', '/api/incidents/%E0%A4%A']) {
        const res = await t.req('GET', url, token === null ? { token: null } : {});
        expect(res.status, url).toBe(400);
        expect(res.json).toEqual({ error: { code: 'VALIDATION', message: expect.any(String), issues: [{ path: 'url', message: expect.any(String) }] } });
      }
    }
  });

  it('answers a text/plain body with 415 in the documented shape', async () => {
    const res = await t.req('POST', '/api/incidents', { body: 'journalNumber=X', headers: { 'content-type': 'text/plain' } });
    expect(res.status).toBe(415);
    expect(res.json).toEqual({ error: { code: 'UNSUPPORTED_MEDIA_TYPE', message: expect.any(String), issues: [{ path: 'body', message: expect.any(String) }] } });
  });

  describe('over a socket', () => {
    let port: number;
    beforeAll(async () => {
      await t.app.listen({ host: '127.0.0.1', port: 0 });
      port = (t.app.server.address() as { port: number }).port;
    });

    it('answers headers too large with 431 in the documented shape', async () => {
      const res = await rawHttp(port, `GET /api/areas HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
      expect(res.status).toBe(431);
      expect(res.headers).toMatch(/content-type: application\/json/i);
      expect(JSON.parse(res.body)).toEqual({ error: { code: 'HEADERS_TOO_LARGE', message: expect.any(String), issues: [{ path: 'headers', message: expect.any(String) }] } });
    });

    it('answers a request arriving while the server shuts down with 503 in the documented shape', async () => {
      // A second server on the same database, so that closing it leaves the others alone; the test's
      // own preClose hook runs after the server's and sends a request on a connection kept alive.
      let duringClose: () => Promise<void> = async () => undefined;
      const app = await buildServer({ database: t.db.database, config: { FRISTVAGT_ADMIN_TOKEN: ADMIN_TOKEN, FRISTVAGT_BODY_LIMIT: 65_536, FRISTVAGT_CLOSURE_DAYS: [] }, clock: () => t.clock.now, logger: createLogger({ level: 'silent' }) });
      app.addHook('preClose', async () => duringClose());
      await app.listen({ host: '127.0.0.1', port: 0 });
      const s = connect((app.server.address() as { port: number }).port, '127.0.0.1');
      let data = '';
      s.setEncoding('utf8').on('data', (d: string) => (data += d));
      const answered = (): Promise<void> =>
        new Promise((resolve) => {
          const check = (): void => {
            if (!/\r\n\r\n\{.*\}$/s.test(data)) return;
            s.off('data', check);
            resolve();
          };
          s.on('data', check);
        });
      const first = answered();
      s.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
      await first;
      expect(data).toMatch(/^HTTP\/1\.1 200/);
      let during = '';
      duringClose = async () => {
        data = '';
        const second = answered();
        s.write(`GET /api/areas HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ADMIN_TOKEN}\r\n\r\n`);
        await second;
        during = data;
      };
      await app.close();
      s.destroy();
      expect(during).toMatch(/^HTTP\/1\.1 503/);
      expect(during).toMatch(/retry-after: \d+/i);
      expect(JSON.parse(during.split('\r\n\r\n')[1] ?? '')).toEqual({ error: { code: 'UNAVAILABLE', message: expect.any(String), issues: [] } });
    });

    it('answers a malformed request with 400 in the documented shape', async () => {
      const res = await rawHttp(port, 'GET /api/areas HTTP/1.1\r\nHost: x\r\nNot a header\r\n\r\n');
      expect(res.status).toBe(400);
      expect(JSON.parse(res.body)).toEqual({ error: { code: 'BAD_REQUEST', message: expect.any(String), issues: [] } });
    });
  });
});
