/**
 * The HTTP API (fastify). Handlers are thin: authenticate, hand the body to the record service,
 * shape the answer. Errors always come back as {"error":{"code","message","issues":[{path,message}]}}.
 */
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Config } from '../config.js';
import type { Database } from '../db/client.js';
import { isDatabaseUnavailable } from '../db/errors.js';
import { scrubCpr } from '../domain/index.js';
import { listDeadlines } from '../records/deadline-list.js';
import { actOnEscalation, getEscalation, listEscalations } from '../records/escalations.js';
import { pgErrorInfo, ServiceError, validationError } from '../records/errors.js';
import { KINDS, type RecordTypeName } from '../records/kinds.js';
import * as master from '../records/masterdata.js';
import type { IdentityConfigKey } from '../ui/session.js';
import { actorLogId, correctEvent, createRecord, getRecord, listEvents, listRecords, recordEvent, undoEvent, updateRecord, type Actor, type ServiceContext } from '../records/service.js';
import { listSettings, putSetting } from '../records/settings.js';
import { plainString } from '../records/values.js';
import { authenticate, createToken, listTokens, revokeToken } from '../records/tokens.js';
import { buildOpenApi } from './openapi.js';
import { registerUsersApi } from './users.js';
import type { Mailer } from '../mail/transport.js';
import { listNoticeArchive, previewPreliminaryNotice, readNoticeMessage, sendPreliminaryNotice, startPreliminaryNotice } from '../worker/notice.js';
import { sendEvidencePack } from '../evidence/http.js';
import { registerUi } from '../ui/index.js';
import { registerOps, type OpsOptions } from '../ops/index.js';

declare module 'fastify' {
  interface FastifyRequest {
    actor?: Actor;
  }
}

/** `redis`, `smtpVerify`, `sessionActor`: the operations surface (src/ops), all optional. */
export interface ServerDeps extends OpsOptions {
  database: Database;
  config: Pick<Config, 'FRISTVAGT_ADMIN_TOKEN' | 'FRISTVAGT_BODY_LIMIT' | 'FRISTVAGT_CLOSURE_DAYS'> & Partial<Pick<Config, 'FRISTVAGT_METRICS_TOKEN' | 'FRISTVAGT_QUEUE_PREFIX' | 'PUBLIC_URL' | 'REDIS_URL' | 'FRISTVAGT_TRUST_PROXY' | IdentityConfigKey>>;
  clock: () => Date;
  logger: Logger;
  /** Sends the preliminary notice; without it the notice can be previewed but not sent. */
  mailer?: Mailer;
  mailFrom?: string;
}

interface ErrorBody {
  error: { code: string; message: string; issues: Array<{ path: string; message: string }> };
}

function errorBody(code: string, message: string, issues: Array<{ path: string; message: string }> = []): ErrorBody {
  return { error: { code, message: scrubCpr(message), issues } };
}

/** Seconds a client should wait before retrying after a 503 (the driver reconnects within about one). */
const RETRY_AFTER_S = 2;

/** Errors fastify raises before routing: a URL that does not decode, an overlong path segment. */
function frameworkError(err: FastifyError, _req: FastifyRequest, reply: FastifyReply): void {
  if (err.code === 'FST_ERR_BAD_URL') void reply.status(400).send(errorBody('VALIDATION', 'url: not a valid URL (malformed percent-encoding)', [{ path: 'url', message: 'malformed percent-encoding' }]));
  else if (err.code === 'FST_ERR_MAX_PARAM_LENGTH') void reply.status(414).send(errorBody('URL_TOO_LONG', 'url: a path segment is too long', [{ path: 'url', message: 'too long' }]));
  else void reply.status(500).send(errorBody('INTERNAL', 'internal error'));
}

/**
 * A request Node's HTTP parser refused (headers too large, malformed, too slow): no fastify request
 * exists, so the answer is written to the socket, in the documented shape all the same.
 */
function rawClientError(err: Error & { code?: string }, socket: Socket): void {
  // A reset connection has nobody left to answer.
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, body] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, errorBody('HEADERS_TOO_LARGE', 'headers: larger than the server accepts', [{ path: 'headers', message: 'too large' }])]
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, errorBody('REQUEST_TIMEOUT', 'the request did not arrive in time')]
        : [400, errorBody('BAD_REQUEST', 'not a well-formed HTTP request')];
  const text = JSON.stringify(body);
  if (socket.writable) socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nContent-Length: ${Buffer.byteLength(text)}\r\nContent-Type: application/json; charset=utf-8\r\nConnection: close\r\n\r\n${text}`);
  socket.destroy(err);
}

const pageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
  institution: plainString().max(63).optional(),
  area: plainString().max(63).optional(),
});
const langQuery = z.object({ lang: z.enum(['da', 'en']).default('da') });

/**
 * Whether a request needs the bearer token. The router matches the decoded path (`/%61pi/areas`
 * is `/api/areas`), so the matched route decides, never the raw URL. A request no route matches
 * is judged by its decoded path, so that probing without a token learns nothing, not even a 404.
 */
function needsBearer(req: FastifyRequest): boolean {
  const route = req.routeOptions.url;
  if (route !== undefined) return route.startsWith('/api/') && route !== '/api/docs';
  const path = req.url.split('?')[0] ?? '';
  let decoded = path;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    // A malformed escape is no reason to skip the check: judge the raw path.
  }
  const normal = decoded.replace(/[\\/]+/g, '/').toLowerCase();
  return normal === '/api' || normal.startsWith('/api/');
}

export async function buildServer(deps: ServerDeps): Promise<FastifyInstance> {
  // pino's Logger and fastify's base logger differ only in optional fields under exactOptionalPropertyTypes.
  const app = Fastify({
    loggerInstance: deps.logger as unknown as FastifyBaseLogger,
    bodyLimit: deps.config.FRISTVAGT_BODY_LIMIT,
    // The client's address (the login rate limit's key) as the trusted proxies report it.
    trustProxy: deps.config.FRISTVAGT_TRUST_PROXY ?? false,
    // Bodies and query strings are never logged: records carry names and CPR numbers.
    logController: new LogController({ disableRequestLogging: true }),
    // The framework's own answers in the documented shape: the 503 while closing (hook below), a
    // URL that does not decode, and what Node's HTTP parser refuses before fastify sees a request.
    return503OnClosing: false,
    frameworkErrors: frameworkError,
    clientErrorHandler: rawClientError,
  });
  const ctx: ServiceContext = { db: deps.database.db, clock: deps.clock, closureDays: deps.config.FRISTVAGT_CLOSURE_DAYS };

  // Shutting down: requests still arriving on kept-alive connections get a 503 in the documented shape.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onRequest', async (_req, reply) => {
    if (!closing) return undefined;
    await reply.status(503).header('connection', 'close').header('retry-after', String(RETRY_AFTER_S)).send(errorBody('UNAVAILABLE', 'the server is shutting down; retry shortly'));
    return reply;
  });
  // Only JSON bodies (and the UI's forms, registered in its plugin): a text/plain body is a 415, not a string for the schemas.
  app.removeContentTypeParser('text/plain');

  app.addHook('onResponse', async (req, reply) => {
    req.log.info({ method: req.method, route: req.routeOptions.url ?? 'unknown', status: reply.statusCode, ms: Math.round(reply.elapsedTime), actor: actorLogId(req.actor) }, 'request');
  });

  app.setErrorHandler(async (err: unknown, req, reply) => {
    if (err instanceof ServiceError) {
      if (err.status === 401) void reply.header('www-authenticate', 'Bearer');
      return reply.status(err.status).send(errorBody(err.code, err.message, err.issues));
    }
    // The schemas refuse NUL and name the field; this catches a text value that reached Postgres some other way.
    const sqlState = pgErrorInfo(err).code;
    if (sqlState === '22021' || sqlState === '22P05') return reply.status(400).send(errorBody('VALIDATION', 'a text value contains a NUL character (\\u0000), which cannot be stored', [{ path: 'body', message: 'contains a NUL character' }]));
    const e = err as { code?: string; statusCode?: number; message?: string };
    if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return reply.status(413).send(errorBody('PAYLOAD_TOO_LARGE', `body: larger than ${deps.config.FRISTVAGT_BODY_LIMIT} bytes`, [{ path: 'body', message: 'too large' }]));
    if (e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return reply.status(415).send(errorBody('UNSUPPORTED_MEDIA_TYPE', 'body: send application/json', [{ path: 'body', message: 'must be application/json' }]));
    if (e.statusCode === 400) return reply.status(400).send(errorBody('VALIDATION', `body: ${e.message ?? 'invalid'}`, [{ path: 'body', message: e.message ?? 'invalid' }]));
    // A dropped or unreachable database: the process stays up and the driver reconnects; the client retries.
    if (isDatabaseUnavailable(err)) {
      req.log.warn({ err }, 'database unavailable');
      return reply.status(503).header('retry-after', String(RETRY_AFTER_S)).send(errorBody('UNAVAILABLE', 'the database is unavailable; retry shortly (a write with the same Idempotency-Key is applied at most once)'));
    }
    req.log.error({ err }, 'unhandled error');
    return reply.status(500).send(errorBody('INTERNAL', 'internal error'));
  });
  app.setNotFoundHandler(async (req, reply) => reply.status(404).send(errorBody('NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0] ?? ''}`)));

  const openapi = buildOpenApi();
  app.get('/api/docs', async () => openapi);
  app.get('/healthz', async () => ({ ok: true }));
  // --- ops: /readyz, /metrics, /calendar/<secret>.ics, calendar-feed API, /admin/queues (src/ops) ---
  await registerOps(app, deps, ctx);

  // Everything else under /api needs a bearer token.
  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    if (!needsBearer(req)) return;
    const header = req.headers.authorization;
    const token = header?.startsWith('Bearer ') ? header.slice(7).trim() : undefined;
    const actor = token ? await authenticate(deps.database.db, token, deps.config.FRISTVAGT_ADMIN_TOKEN, deps.clock()) : undefined;
    if (!actor) {
      await reply.status(401).header('www-authenticate', 'Bearer').send(errorBody('UNAUTHENTICATED', 'a valid bearer token is required'));
      return reply;
    }
    req.actor = actor;
    return undefined;
  });

  // The hook above sets the actor; a route it missed answers 401 rather than running without a caller.
  const actorOf = (req: FastifyRequest): Actor => {
    if (!req.actor) throw new ServiceError('UNAUTHENTICATED', 'a valid bearer token is required');
    return req.actor;
  };
  const writeOpts = (req: FastifyRequest) => ({ idempotencyKey: req.headers['idempotency-key'] as string | undefined, requestTarget: `${req.method} ${req.url.split('?')[0] ?? ''}` });
  const parseQuery = <T>(schema: z.ZodType<T>, q: unknown): T => {
    const r = schema.safeParse(q ?? {});
    if (!r.success) throw new ServiceError('VALIDATION', `query: ${r.error.issues[0]?.path.join('.') ?? ''}: ${r.error.issues[0]?.message ?? ''}`, { issues: r.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) });
    return r.data;
  };

  for (const type of Object.keys(KINDS) as RecordTypeName[]) {
    const base = `/api/${KINDS[type].collection}`;
    app.post(base, async (req, reply) => {
      const res = await createRecord(ctx, type, req.body, actorOf(req), writeOpts(req));
      if (res.replayed) void reply.header('idempotent-replayed', 'true');
      return reply.status(res.created ? 201 : 200).header('location', `${base}/${res.id}`).send(await getRecord(ctx, type, res.id, actorOf(req)));
    });
    app.get(base, async (req) => {
      const q = parseQuery(pageQuery, req.query);
      return listRecords(ctx, type, actorOf(req), { limit: q.limit, offset: q.offset, institutionId: q.institution, areaId: q.area });
    });
    app.get<{ Params: { id: string } }>(`${base}/:id`, async (req) => getRecord(ctx, type, req.params.id, actorOf(req), parseQuery(langQuery, req.query).lang));
    app.patch<{ Params: { id: string } }>(`${base}/:id`, async (req, reply) => {
      const res = await updateRecord(ctx, type, req.params.id, req.body, actorOf(req), writeOpts(req));
      if (res.replayed) void reply.header('idempotent-replayed', 'true');
      return getRecord(ctx, type, res.id, actorOf(req));
    });
    app.post<{ Params: { id: string } }>(`${base}/:id/events`, async (req, reply) => {
      const res = await recordEvent(ctx, type, req.params.id, req.body, actorOf(req), writeOpts(req));
      if (res.replayed) void reply.header('idempotent-replayed', 'true');
      return getRecord(ctx, type, res.id, actorOf(req));
    });
    // Recorded events, each undone or corrected by its id with a reason (audited, re-planned).
    app.get<{ Params: { id: string } }>(`${base}/:id/events`, async (req) => ({ items: await listEvents(ctx, type, req.params.id, actorOf(req)) }));
    for (const [mode, run] of [['undo', undoEvent], ['correct', correctEvent]] as const) {
      app.post<{ Params: { id: string; eventId: string } }>(`${base}/:id/events/:eventId/${mode}`, async (req, reply) => {
        const res = await run(ctx, type, req.params.id, req.params.eventId, req.body, actorOf(req), writeOpts(req));
        if (res.replayed) void reply.header('idempotent-replayed', 'true');
        return getRecord(ctx, type, res.id, actorOf(req));
      });
    }
    // The evidence pack (ZIP): admin, area and institution tokens in scope; each download is audited.
    app.get<{ Params: { id: string } }>(`${base}/:id/evidence`, async (req, reply) => sendEvidencePack(reply, ctx, type, req.params.id, actorOf(req)));
  }

  app.get('/api/deadlines', async (req) => listDeadlines(ctx, actorOf(req), req.query));

  // Escalation handling (src/records/escalations.ts, the same write path as the UI's forms).
  app.get('/api/escalations', async (req) => listEscalations(ctx, actorOf(req), req.query));
  app.get<{ Params: { deadlineId: string } }>('/api/escalations/:deadlineId', async (req) => getEscalation(ctx, req.params.deadlineId, actorOf(req)));
  app.post<{ Params: { deadlineId: string } }>('/api/escalations/:deadlineId/actions', async (req) => actOnEscalation(ctx, req.params.deadlineId, req.body, actorOf(req), writeOpts(req)));

  registerNoticeApi(app, ctx, deps, actorOf);

  app.get('/api/areas', async (req) => {
    actorOf(req);
    return { items: await master.listAreas(ctx) };
  });
  app.post('/api/areas', async (req, reply) => reply.status(201).send(await master.createArea(ctx, req.body, actorOf(req))));
  app.get<{ Params: { id: string } }>('/api/areas/:id', async (req) => master.getArea(ctx, req.params.id, actorOf(req)));
  app.patch<{ Params: { id: string } }>('/api/areas/:id', async (req) => master.updateArea(ctx, req.params.id, req.body, actorOf(req)));
  app.get('/api/institutions', async (req) => ({ items: await master.listInstitutions(ctx, actorOf(req)) }));
  app.post('/api/institutions', async (req, reply) => reply.status(201).send(await master.createInstitution(ctx, req.body, actorOf(req))));
  app.get<{ Params: { id: string } }>('/api/institutions/:id', async (req) => master.getInstitution(ctx, req.params.id, actorOf(req)));
  app.patch<{ Params: { id: string } }>('/api/institutions/:id', async (req) => master.updateInstitution(ctx, req.params.id, req.body, actorOf(req)));
  app.get('/api/staff', async (req) => ({ items: await master.listStaff(ctx, actorOf(req)) }));
  app.post('/api/staff', async (req, reply) => reply.status(201).send(await master.createStaff(ctx, req.body, actorOf(req))));
  app.get<{ Params: { id: string } }>('/api/staff/:id', async (req) => master.getStaff(ctx, req.params.id, actorOf(req)));
  app.patch<{ Params: { id: string } }>('/api/staff/:id', async (req) => master.updateStaff(ctx, req.params.id, req.body, actorOf(req)));

  app.get('/api/settings', async (req) => ({ items: await listSettings(ctx, actorOf(req)) }));
  app.put<{ Params: { key: string } }>('/api/settings/:key', async (req) => putSetting(ctx, req.params.key, req.body, actorOf(req)));

  // Admin tokens only: the token service checks the role (the UI's token page calls the same functions).
  app.get('/api/tokens', async (req) => ({ items: await listTokens(deps.database.db, actorOf(req)) }));
  app.post('/api/tokens', async (req, reply) => reply.status(201).send(await createToken(deps.database.db, req.body, actorOf(req), deps.clock())));
  app.delete<{ Params: { id: string } }>('/api/tokens/:id', async (req, reply) => {
    await revokeToken(deps.database.db, req.params.id, actorOf(req), deps.clock());
    return reply.status(204).send();
  });
  // People (src/api/users.ts): admins, and area offices within their area.
  registerUsersApi(app, { db: deps.database.db, clock: deps.clock, publicUrl: deps.config.PUBLIC_URL }, actorOf);

  // Web UI (src/ui): server-rendered pages with cookie sessions, in its own encapsulated plugin.
  await registerUi(app, deps, ctx);

  return app;
}

/**
 * The preliminary notice for machines, as in the UI: GET the prefilled fields, POST them to
 * `…/preview` for the text and its hash, POST them again with `previewHash` to send; nothing is
 * sent without the hash of what was previewed. The archived messages: a list, and each one as the
 * .eml the SMTP server accepted (CPR roles only).
 */
function registerNoticeApi(app: FastifyInstance, ctx: ServiceContext, deps: ServerDeps, actorOf: (req: FastifyRequest) => Actor): void {
  app.get<{ Params: { id: string } }>('/api/incidents/:id/preliminary-notice', async (req) => startPreliminaryNotice(ctx, req.params.id, actorOf(req)));
  app.post<{ Params: { id: string } }>('/api/incidents/:id/preliminary-notice/preview', async (req) => {
    const draft = await previewPreliminaryNotice(ctx, req.params.id, actorOf(req), req.body);
    if (draft.issues.length > 0) throw validationError(draft.issues.map(({ path, message }) => ({ path, message })));
    return draft;
  });
  app.post<{ Params: { id: string } }>('/api/incidents/:id/preliminary-notice', async (req) => {
    if (!deps.mailer) throw new ServiceError('CONFLICT', 'no mail transport is configured in this process');
    const res = await sendPreliminaryNotice({ ctx, db: deps.database.db, mailer: deps.mailer, from: deps.mailFrom ?? 'fristvagt@kriminalforsorgen.invalid' }, req.params.id, actorOf(req), req.body);
    return { ...res, record: await getRecord(ctx, 'incident', req.params.id, actorOf(req)) };
  });
  app.get<{ Params: { id: string } }>('/api/incidents/:id/preliminary-notice/messages', async (req) => ({ items: await listNoticeArchive(ctx, req.params.id, actorOf(req)) }));
  app.get<{ Params: { id: string; messageId: string } }>('/api/incidents/:id/preliminary-notice/messages/:messageId', async (req, reply) => {
    const m = await readNoticeMessage(ctx, req.params.id, req.params.messageId, actorOf(req));
    return reply
      .header('content-type', 'message/rfc822')
      .header('content-disposition', `attachment; filename="${m.filename}"`)
      .header('cache-control', 'no-store')
      .header('x-content-sha256', m.message.sha256)
      .send(m.mime);
  });
}
