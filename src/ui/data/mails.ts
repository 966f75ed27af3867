/**
 * Showing a notification's e-mail: the message the built-in catcher stored when there is one,
 * otherwise the worker's own composeNotification rendered now. CPR numbers are masked unless the
 * reader's role may see them.
 */
import { desc, eq, inArray } from 'drizzle-orm';
import type { FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { scheduleFor, scrubCpr, type Lang } from '../../domain/index.js';
import type { Executor } from '../../db/client.js';
import { caughtMail, notifications } from '../../db/schema.js';
import type { Mailer } from '../../mail/transport.js';
import { composeNotification, type SendDeps } from '../../worker/send.js';
import { loadWorkerSettings } from '../../worker/settings.js';
import { stageTitle } from '../format.js';
import type { UiContext } from '../index.js';
import { safeError } from '../../safe-error.js';

export type NotificationRow = typeof notifications.$inferSelect;
export type CaughtRow = typeof caughtMail.$inferSelect;

/** Rendering never sends: a mailer that refuses, so a mistake could not deliver anything. */
const NO_MAILER: Mailer = {
  kind: 'catcher',
  send: () => Promise.reject(new Error('the UI does not send reminders')),
  verify: async () => undefined,
  close: () => undefined,
};

/** Names outbox stages in plain words under the stages in force (an administrator may have changed them). */
export async function stageTitles(db: Executor, lang: Lang): Promise<(stage: string) => string> {
  const { schedule } = await loadWorkerSettings(db);
  return (stage) => stageTitle(stage, lang, (rule) => scheduleFor(rule, schedule).stages);
}

export function publicUrlOf(req: FastifyRequest): string {
  return `${req.protocol}://${req.host}`;
}

export function sendDepsFor(u: UiContext, req: FastifyRequest): SendDeps {
  return {
    db: u.deps.database.db,
    mailer: NO_MAILER,
    clock: u.deps.clock,
    closureDays: u.deps.config.FRISTVAGT_CLOSURE_DAYS,
    settings: () => loadWorkerSettings(u.deps.database.db),
    from: u.deps.mailFrom ?? 'fristvagt@kriminalforsorgen.invalid',
    publicUrl: publicUrlOf(req),
    logger: u.deps.logger as unknown as Logger,
  };
}

export interface ShownMail {
  source: 'caught' | 'rendered' | 'hidden' | 'unavailable';
  subject?: string;
  text?: string;
  html?: string;
  caughtId?: string;
  reason?: string;
}

export async function caughtFor(db: Executor, notificationIds: string[]): Promise<Map<string, CaughtRow>> {
  const out = new Map<string, CaughtRow>();
  if (notificationIds.length === 0) return out;
  const rows = await db.select().from(caughtMail).where(inArray(caughtMail.notificationId, notificationIds)).orderBy(desc(caughtMail.createdAt));
  for (const r of rows) if (r.notificationId && !out.has(r.notificationId)) out.set(r.notificationId, r);
  return out;
}

function mask(s: string, showCpr: boolean): string {
  return showCpr ? s : scrubCpr(s);
}

export async function mailOf(u: UiContext, req: FastifyRequest, n: NotificationRow, caught: CaughtRow | undefined, showCpr: boolean): Promise<ShownMail> {
  if (caught) return { source: 'caught', subject: mask(caught.subject, showCpr), text: mask(caught.text, showCpr), html: mask(caught.html ?? '', showCpr), caughtId: caught.id };
  // The legal notice carries the CPR number and is composed only on approval; the record page offers the archived message (notice_archive).
  if (n.template === 'preliminary-notice') return showCpr ? { source: 'unavailable', reason: 'notice' } : { source: 'hidden' };
  try {
    const res = await composeNotification(sendDepsFor(u, req), n);
    if ('cancel' in res) return { source: 'unavailable', reason: res.cancel };
    return { source: 'rendered', subject: mask(res.mail.subject, showCpr), text: mask(res.mail.text, showCpr), html: mask(res.mail.html, showCpr) };
  } catch (err) {
    return { source: 'unavailable', reason: safeError(err).message };
  }
}

export async function notificationById(db: Executor, id: string): Promise<NotificationRow | undefined> {
  if (!/^[0-9a-f-]{36}$/i.test(id)) return undefined;
  const [row] = await db.select().from(notifications).where(eq(notifications.id, id));
  return row;
}
