/**
 * The operations surface: personal calendar feeds, /metrics, /readyz and the queue board.
 * Registered from buildServer; everything here is optional wiring around the records API, and
 * nothing here runs a query or opens a connection before it is asked to (except Redis, when configured).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Database } from '../db/client.js';
import type { Mailer } from '../mail/transport.js';
import { ServiceError } from '../records/errors.js';
import type { Actor, ServiceContext } from '../records/service.js';
import { limitsOf, resolveSession, SESSION_COOKIE } from '../ui/session.js';
import { bearerToken, callerOf, cookieValue, forbidden, sameSecret, unauthenticated, type AuthDeps } from './auth.js';
import { createFeed, listFeeds, renderFeed, revokeFeed, type FeedContext } from './calendar-feeds.js';
import { createMetrics } from './metrics.js';
import { registerQueueBoard } from './queue-board.js';
import { createReadiness } from './readiness.js';
import { connectOpsRedis, type OpsRedis } from './redis.js';

/** What a caller of buildServer may add for the operations surface. */
export interface OpsOptions {
  /** Redis for queue depth, readiness and the queue board (default: config.REDIS_URL; prefix default: config.FRISTVAGT_QUEUE_PREFIX). */
  redis?: { url: string; prefix?: string } | undefined;
  /** Checked by /readyz (default: the mailer's verify, when the mailer is an SMTP transport). */
  smtpVerify?: (() => Promise<void>) | undefined;
  /** The UI's session cookie → actor, so that a signed-in admin can open the queue board in a browser. */
  sessionActor?: ((req: FastifyRequest) => Promise<Actor | undefined>) | undefined;
}

export interface OpsDeps extends OpsOptions {
  database: Database;
  config: {
    FRISTVAGT_ADMIN_TOKEN?: string | undefined;
    FRISTVAGT_METRICS_TOKEN?: string | undefined;
    FRISTVAGT_QUEUE_PREFIX?: string;
    FRISTVAGT_SESSION_IDLE_MINUTES?: number;
    FRISTVAGT_SESSION_MAX_HOURS?: number;
    PUBLIC_URL?: string;
    REDIS_URL?: string | undefined;
  };
  clock: () => Date;
  logger: Logger;
  mailer?: Mailer;
}

const DEFAULT_PUBLIC_URL = 'http://127.0.0.1:8080';

export async function registerOps(app: FastifyInstance, deps: OpsDeps, ctx: ServiceContext): Promise<void> {
  const log = deps.logger.child({ component: 'ops' });
  const redisUrl = deps.redis?.url ?? deps.config.REDIS_URL;
  const redis: OpsRedis | undefined = redisUrl ? connectOpsRedis(redisUrl, deps.redis?.prefix ?? deps.config.FRISTVAGT_QUEUE_PREFIX ?? 'fristvagt', log) : undefined;
  const mailer = deps.mailer;
  const smtpVerify = deps.smtpVerify ?? (mailer?.kind === 'smtp' ? () => mailer.verify() : undefined);
  app.addHook('onClose', async () => {
    await redis?.close();
  });

  const adminToken = deps.config.FRISTVAGT_ADMIN_TOKEN;
  const limits = limitsOf(deps.config);
  // The UI's own session store (src/ui/session.ts): a signed-in admin opens the board in the browser,
  // where a bearer header cannot be sent. The cookie is SameSite=Strict on top of the same-origin check.
  const uiSession = async (req: FastifyRequest): Promise<Actor | undefined> => (await resolveSession(ctx.db, cookieValue(req, SESSION_COOKIE), adminToken, ctx.clock(), limits))?.actor;
  const auth: AuthDeps = { db: ctx.db, adminToken, session: deps.sessionActor ?? uiSession };
  const feeds: FeedContext = { db: ctx.db, clock: ctx.clock, publicUrl: deps.config.PUBLIC_URL ?? DEFAULT_PUBLIC_URL };

  // Liveness stays /healthz (in server.ts): a restart does not fix an unreachable Redis.
  const readiness = createReadiness({ db: ctx.db, redis, smtpVerify });
  app.get('/readyz', async (_req, reply) => {
    const r = await readiness();
    return reply.status(r.ok ? 200 : 503).header('cache-control', 'no-store').send(r);
  });

  const metrics = createMetrics({ db: ctx.db, clock: ctx.clock, redis });
  const metricsToken = deps.config.FRISTVAGT_METRICS_TOKEN;
  app.get('/metrics', async (req, reply) => {
    const token = bearerToken(req);
    if (!(token && metricsToken && sameSecret(token, metricsToken))) {
      const caller = token ? await callerOf(auth, req) : undefined;
      if (!caller) return unauthenticated(reply, 'a valid bearer token is required: FRISTVAGT_METRICS_TOKEN or an admin token');
      if (caller.actor.role !== 'admin') return forbidden(reply, `${caller.actor.role} token may not read /metrics; use FRISTVAGT_METRICS_TOKEN or an admin token`);
    }
    const body = await metrics.render();
    return reply.header('content-type', metrics.contentType).header('cache-control', 'no-store').send(body);
  });

  // The secret is the credential: no token, no cookie. Its route pattern, not the URL, is what gets logged.
  app.get<{ Params: { file: string } }>('/calendar/:file', async (req, reply) => {
    const body = await renderFeed(feeds, req.params.file);
    if (body === undefined) throw new ServiceError('NOT_FOUND', 'no such calendar feed (unknown or revoked)');
    return reply
      .header('content-type', 'text/calendar; charset=utf-8')
      .header('content-disposition', 'inline; filename="fristvagt.ics"')
      .header('cache-control', 'private, no-cache')
      .header('referrer-policy', 'no-referrer')
      .header('x-robots-tag', 'noindex, nofollow')
      .send(body);
  });

  const actorOf = (req: FastifyRequest): Actor => {
    if (!req.actor) throw new ServiceError('UNAUTHENTICATED', 'a valid bearer token is required');
    return req.actor;
  };
  app.post<{ Params: { id: string } }>('/api/staff/:id/calendar-feeds', async (req, reply) => reply.status(201).send(await createFeed(feeds, req.params.id, req.body, actorOf(req))));
  app.get<{ Params: { id: string } }>('/api/staff/:id/calendar-feeds', async (req) => listFeeds(feeds, req.params.id, actorOf(req)));
  app.delete<{ Params: { id: string } }>('/api/calendar-feeds/:id', async (req, reply) => {
    await revokeFeed(feeds, req.params.id, actorOf(req));
    return reply.status(204).send();
  });

  registerQueueBoard(app, { redis, auth });
}
