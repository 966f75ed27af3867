/**
 * The web UI: server-rendered HTML on the API's fastify app. Everything lives in one encapsulated
 * plugin, so its cookie and form parsers, hooks and HTML error pages never touch the JSON API.
 */
import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import type { FastifyInstance } from 'fastify';
import type { ServerDeps } from '../api/server.js';
import { scrubCpr } from '../domain/index.js';
import { BOARD_PATH } from '../ops/queue-board.js';
import { ServiceError } from '../records/errors.js';
import type { ServiceContext } from '../records/service.js';
import { NUL_MESSAGE } from '../records/values.js';
import { CSS, JS } from './assets.js';
import { parseLang, t } from './i18n.js';
import { fieldLabel, issueMessage } from './issues.js';
import { registerAuth } from './pages/auth.js';
import { ssoOrigin as ssoOriginOf } from './pages/sso.js';
import { registerBacklog } from './pages/backlog.js';
import { registerCompliance } from './pages/compliance.js';
import { registerEscalations } from './pages/escalations.js';
import { registerMail } from './pages/mail.js';
import { registerMasterdata } from './pages/masterdata.js';
import { registerOverview } from './pages/overview.js';
import { registerNotice } from './pages/notice.js';
import { registerRecord } from './pages/record.js';
import { registerRecordForms } from './pages/record-form.js';
import { registerSettings } from './pages/settings.js';
import { registerUsers } from './pages/users.js';
import { limitsOf, resolveSession, SESSION_COOKIE, setSessionLang } from './session.js';
import { errorPage, queryOf, uiState } from './web.js';

export interface UiContext {
  deps: ServerDeps;
  ctx: ServiceContext;
}

export async function registerUi(app: FastifyInstance, deps: ServerDeps, ctx: ServiceContext): Promise<void> {
  await app.register(async (ui) => {
    await ui.register(cookie);
    await ui.register(formbody);
    const env = deps.config.FRISTVAGT_ADMIN_TOKEN;
    const limits = limitsOf(deps.config);
    const ssoOrigin = ssoOriginOf(deps.config);
    // The ops layer serves the queue board when Redis is configured (src/ops/index.ts uses the same two).
    const queueBoard = (deps.redis?.url ?? deps.config.REDIS_URL) ? BOARD_PATH : undefined;

    ui.addHook('onRequest', async (req, reply) => {
      if (req.url.startsWith('/ui/')) return undefined;
      const session = await resolveSession(deps.database.db, req.cookies[SESSION_COOKIE], env, deps.clock(), limits);
      const asked = parseLang(queryOf(req)['lang']);
      if (session && asked && asked !== session.lang) {
        await setSessionLang(deps.database.db, session.id, asked);
        session.lang = asked;
      }
      req.ui = { lang: asked ?? session?.lang ?? 'da', session, queueBoard, ssoOrigin };
      // The API's request log line names the actor; the UI's does the same.
      if (session) req.actor = session.actor;
      // Pages hand their filters to SQL, and Postgres text cannot hold U+0000 (a 500 there). Forms
      // need no such check: their values go through the API's schemas, which name the field.
      for (const [name, value] of Object.entries((req.query ?? {}) as Record<string, unknown>)) {
        if ((Array.isArray(value) ? value : [value]).some((v) => typeof v === 'string' && v.includes('\u0000'))) return errorPage(req, reply, 400, `${name}: ${NUL_MESSAGE}`);
      }
      return undefined;
    });

    ui.setErrorHandler(async (err: unknown, req, reply) => {
      const lang = uiState(req).lang;
      // A refusal with field issues says them in the page's language (issues.ts), as the forms do.
      if (err instanceof ServiceError && err.issues.length > 0 && err.code === 'VALIDATION') return errorPage(req, reply, err.status, err.issues.map((i) => `${i.path ? `${fieldLabel(lang, i.path)}: ` : ''}${issueMessage(lang, i.message)}`).join(' '));
      if (err instanceof ServiceError) return errorPage(req, reply, err.status, err.status === 403 ? `${t(lang).forbidden} (${err.message})` : err.message);
      const e = err as { code?: string; statusCode?: number; message?: string };
      if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return errorPage(req, reply, 413, 'body: too large');
      if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) return errorPage(req, reply, e.statusCode, scrubCpr(e.message ?? 'bad request'));
      req.log.error({ err: { code: e.code, message: scrubCpr(e.message ?? '') } }, 'ui: unhandled error');
      return errorPage(req, reply, 500, t(lang).internalError);
    });

    ui.get('/ui/app.css', async (_req, reply) => reply.header('content-type', 'text/css; charset=utf-8').header('cache-control', 'public, max-age=3600').send(CSS));
    ui.get('/ui/app.js', async (_req, reply) => reply.header('content-type', 'text/javascript; charset=utf-8').header('cache-control', 'public, max-age=3600').send(JS));

    const uctx: UiContext = { deps, ctx };
    registerAuth(ui, uctx);
    registerOverview(ui, uctx);
    registerEscalations(ui, uctx);
    registerRecordForms(ui, uctx);
    registerRecord(ui, uctx);
    registerNotice(ui, uctx);
    registerCompliance(ui, uctx);
    registerBacklog(ui, uctx);
    registerSettings(ui, uctx);
    registerMail(ui, uctx);
    registerMasterdata(ui, uctx);
    registerUsers(ui, uctx);
  });
}
