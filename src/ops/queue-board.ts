/**
 * bull-board at /admin/queues for the `fristvagt` queue, for admins only. The board can retry,
 * remove and promote jobs, so it sits behind the same admin check as the rest, and a browser
 * session may only change things from our own pages (see sameOriginWrite).
 *
 * Like every page, the board makes no request to another host: its page links a web font from
 * fonts.googleapis.com, which is taken out (it falls back to the system font; offline it would
 * fail), and a Content-Security-Policy keeps whatever the board loads on this server.
 */
import { createBullBoard } from '@bull-board/api';
import type { IServerAdapter } from '@bull-board/api/typings/app';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { callerOf, errorBody, forbidden, sameOriginWrite, unauthenticated, type AuthDeps } from './auth.js';
import type { OpsRedis } from './redis.js';

export const BOARD_PATH = '/admin/queues';

/** The board's own pages may use inline style (React) but load nothing from another host. */
const BOARD_CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'self'; base-uri 'self'";

/** The board's HTML without links to other hosts (its web font); everything else is served from here. */
export function withoutExternalLinks(page: string): string {
  return page.replace(/<link\b[^>]*\bhref="(?:https?:)?\/\/[^"]*"[^>]*>\s*/gi, '');
}

export function registerQueueBoard(app: FastifyInstance, opts: { redis: OpsRedis | undefined; auth: AuthDeps }): void {
  const guard = async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    const caller = await callerOf(opts.auth, req);
    if (!caller) {
      // A browser that is not signed in goes to the UI's login page and comes back; API clients get the 401.
      if (req.method === 'GET' && !req.headers.authorization && req.url.split('?')[0] === BOARD_PATH && (req.headers.accept ?? '').includes('text/html')) {
        return reply.redirect(`/login?next=${encodeURIComponent(BOARD_PATH)}`, 303);
      }
      return unauthenticated(reply, 'the queue board needs an admin bearer token or an admin UI session');
    }
    if (caller.actor.role !== 'admin') return forbidden(reply, `${caller.actor.role} token may not open the queue board; admins only`);
    if (caller.via === 'session' && !sameOriginWrite(req)) return forbidden(reply, 'a change to the queue must come from the board itself (cross-site request refused)');
    req.actor = caller.actor;
    // BullMQ waits for a connection that is down until it is back; the board's data calls would hang with it.
    if (opts.redis && opts.redis.redis.status !== 'ready' && req.url.startsWith(`${BOARD_PATH}/api/`)) {
      return reply.status(503).send(errorBody('UNAVAILABLE', 'Redis is unreachable; the queue cannot be read right now'));
    }
    return undefined;
  };

  void app.register(async (scope) => {
    scope.addHook('onRequest', guard);
    if (!opts.redis) {
      const unavailable = async (_req: FastifyRequest, reply: FastifyReply) => reply.status(503).send(errorBody('UNAVAILABLE', 'no Redis is configured in this process, so there is no queue to show'));
      scope.all(BOARD_PATH, unavailable);
      scope.all(`${BOARD_PATH}/*`, unavailable);
      return;
    }
    scope.addHook('onSend', async (_req, reply, payload) => {
      if (!String(reply.getHeader('content-type') ?? '').startsWith('text/html')) return payload;
      void reply.header('content-security-policy', BOARD_CSP).header('referrer-policy', 'same-origin');
      return typeof payload === 'string' ? withoutExternalLinks(payload) : payload;
    });
    const serverAdapter = new FastifyAdapter();
    serverAdapter.setBasePath(BOARD_PATH);
    // @bull-board/fastify carries its own copy of @bull-board/api's types (one patch version apart); the runtime contract is the same.
    createBullBoard({ queues: [new BullMQAdapter(opts.redis.queue)], serverAdapter: serverAdapter as unknown as IServerAdapter, options: { uiConfig: { boardTitle: 'fristvagt', locale: { lng: 'da-DK' }, hideDocsLink: true, miscLinks: [{ text: 'fristvagt', url: '/' }] } } });
    await scope.register(serverAdapter.registerPlugin(), { prefix: BOARD_PATH });
  });
}
