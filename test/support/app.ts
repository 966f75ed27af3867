/** An API server on a per-file database, with an injected clock and captured logs. */
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { buildServer, type ServerDeps } from '../../src/api/server.js';
import { createLogger } from '../../src/logger.js';
import type { Mailer } from '../../src/mail/transport.js';
import { openTestDatabase, type Driver, type TestDatabase } from './db.js';

export const ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';

export interface TestApp {
  app: FastifyInstance;
  db: TestDatabase;
  logs: string[];
  clock: { now: Date };
  close(): Promise<void>;
  /** inject() with the admin token unless another is given. */
  req(method: string, url: string, opts?: { body?: unknown; token?: string | null; headers?: Record<string, string> }): Promise<{ status: number; json: any; headers: Record<string, unknown> }>;
}

export async function startTestApp(driver: Driver, now = '2026-11-22T12:00:00+01:00', extra: { mailer?: Mailer; config?: Partial<ServerDeps['config']>; redis?: ServerDeps['redis'] } = {}): Promise<TestApp> {
  const db = await openTestDatabase(driver);
  const logs: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      logs.push(chunk.toString('utf8'));
      cb();
    },
  });
  const clock = { now: new Date(now) };
  const app = await buildServer({
    database: db.database,
    config: { FRISTVAGT_ADMIN_TOKEN: ADMIN_TOKEN, FRISTVAGT_BODY_LIMIT: 64 * 1024, FRISTVAGT_CLOSURE_DAYS: [], ...extra.config },
    clock: () => clock.now,
    logger: createLogger({ level: 'debug', destination }),
    ...(extra.mailer ? { mailer: extra.mailer, mailFrom: 'fristvagt <fristvagt@kriminalforsorgen.test>' } : {}),
    ...(extra.redis ? { redis: extra.redis } : {}),
  });
  await app.ready();
  return {
    app,
    db,
    logs,
    clock,
    async close() {
      await app.close();
      await db.drop();
    },
    async req(method, url, opts = {}) {
      const headers: Record<string, string> = { ...(opts.headers ?? {}) };
      const token = opts.token === undefined ? ADMIN_TOKEN : opts.token;
      if (token !== null) headers['authorization'] = `Bearer ${token}`;
      const res = await app.inject({ method: method as 'GET', url, headers, ...(opts.body !== undefined ? { payload: opts.body as object } : {}) });
      let json: unknown;
      try {
        json = res.body ? JSON.parse(res.body) : null;
      } catch {
        json = res.body;
      }
      return { status: res.statusCode, json, headers: res.headers };
    },
  };
}

/** Two areas with one institution each, the master data most tests need. */
export async function seedMasterData(t: TestApp): Promise<void> {
  for (const [id, name] of [['hovedstaden', 'Hovedstaden'], ['nordjylland', 'Nordjylland']] as const) {
    const a = await t.req('POST', '/api/areas', { body: { id, name: `Kriminalforsorgen ${name}`, officeEmail: `omraade.${id}@kriminalforsorgen.test`, directorName: `Direktør ${name}`, directorEmail: `direktor.${id}@kriminalforsorgen.test` } });
    if (a.status !== 201) throw new Error(`area: ${JSON.stringify(a.json)}`);
  }
  for (const [id, areaId] of [['vestre', 'hovedstaden'], ['aalborg', 'nordjylland']] as const) {
    const i = await t.req('POST', '/api/institutions', { body: { id, areaId, name: `Fængsel ${id}`, kind: 'prison', dutyManagerEmail: `vagt.${id}@kriminalforsorgen.test` } });
    if (i.status !== 201) throw new Error(`institution: ${JSON.stringify(i.json)}`);
  }
}

/** One API token per name (created with the admin token): name → the token, shown once. */
export async function createTokens(t: TestApp, specs: Record<string, { role: string; areaId?: string; institutionId?: string }>): Promise<Record<string, { id: string; token: string }>> {
  const out: Record<string, { id: string; token: string }> = {};
  for (const [name, body] of Object.entries(specs)) {
    const res = await t.req('POST', '/api/tokens', { body: { name, ...body } });
    if (res.status !== 201) throw new Error(`token ${name}: ${JSON.stringify(res.json)}`);
    out[name] = { id: res.json.id, token: res.json.token };
  }
  return out;
}
