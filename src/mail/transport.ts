/**
 * Sending mail: a pooled nodemailer SMTP transport, or the built-in catcher (a table) when no
 * SMTP_URL is set. Errors are classified once here: 4xx and connection trouble are transient
 * (retry), 5xx is permanent (record and report).
 */
import nodemailer from 'nodemailer';
import type { Db } from '../db/client.js';
import { caughtMail } from '../db/schema.js';
import { scrubCpr } from '../domain/index.js';

export interface OutgoingMail {
  messageId: string;
  from: string;
  to: string[];
  subject: string;
  text: string;
  html: string;
  notificationId?: string;
  /** Refuse to send unless the connection is TLS 1.2+ (legal notices with CPR, external recipients). */
  requireTls?: boolean;
  /** Small generated files (the annual overview's CSV); never personal data. */
  attachments?: Array<{ filename: string; content: string; contentType: string }>;
}

export interface SendResult {
  messageId: string;
  accepted: string[];
  rejected: string[];
  /** SMTP reply code per rejected recipient, where the server gave one (4xx: try again, 5xx: give up). */
  rejectedCodes?: Record<string, number | undefined>;
}

export interface Mailer {
  readonly kind: 'smtp' | 'catcher';
  send(mail: OutgoingMail): Promise<SendResult>;
  verify(): Promise<void>;
  close(): void;
}

export class MailError extends Error {
  readonly code: 'MAIL_TRANSIENT' | 'MAIL_PERMANENT';
  readonly responseCode: number | undefined;
  constructor(code: 'MAIL_TRANSIENT' | 'MAIL_PERMANENT', message: string, opts: { responseCode?: number | undefined; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'MailError';
    this.code = code;
    this.responseCode = opts.responseCode;
  }
}

export function classifySmtpError(err: unknown): MailError {
  const e = err as { responseCode?: number; code?: string; message?: string; response?: string };
  const rc = typeof e.responseCode === 'number' ? e.responseCode : undefined;
  // A receiving server (a DLP gateway, say) may quote the message back; this text goes to logs and lastError.
  const text = scrubCpr((e.response ?? e.message ?? 'mail error').replace(/\s+/g, ' ')).slice(0, 500);
  if (rc !== undefined && rc >= 500) return new MailError('MAIL_PERMANENT', `SMTP ${rc}: ${text}`, { responseCode: rc, cause: err });
  return new MailError('MAIL_TRANSIENT', rc !== undefined ? `SMTP ${rc}: ${text}` : `${e.code ?? 'error'}: ${text}`, { responseCode: rc, cause: err });
}

export interface SmtpOptions {
  url: string;
  /** STARTTLS required for every mail on this transport. */
  requireTls: boolean;
  /** false only for test servers with self-signed certificates. */
  rejectUnauthorized?: boolean;
  maxConnections?: number;
}

function transportOptions(o: SmtpOptions, requireTls: boolean): Record<string, unknown> {
  const u = new URL(o.url);
  const secure = u.protocol === 'smtps:';
  const opts: Record<string, unknown> = {
    pool: true,
    maxConnections: o.maxConnections ?? 5,
    host: u.hostname,
    port: Number(u.port || (secure ? 465 : 587)),
    secure,
    requireTLS: requireTls && !secure,
    // Plain connections are only for a local sink; anything with TLS must be 1.2 or newer.
    tls: { minVersion: 'TLSv1.2', rejectUnauthorized: o.rejectUnauthorized ?? true },
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
  };
  if (!requireTls && !secure) opts['ignoreTLS'] = false;
  if (u.username) opts['auth'] = { user: decodeURIComponent(u.username), pass: decodeURIComponent(u.password) };
  return opts;
}

export function createSmtpMailer(o: SmtpOptions): Mailer {
  // Two pools: mails that must go over TLS never share a connection that might not be.
  const plain = nodemailer.createTransport(transportOptions(o, o.requireTls));
  const tls = o.requireTls ? plain : nodemailer.createTransport(transportOptions(o, true));
  return {
    kind: 'smtp',
    async send(mail) {
      const transport = mail.requireTls ? tls : plain;
      try {
        const info = await transport.sendMail({
          messageId: mail.messageId,
          from: mail.from,
          to: mail.to,
          subject: mail.subject,
          text: mail.text,
          html: mail.html,
          ...(mail.attachments ? { attachments: mail.attachments.map((a) => ({ filename: a.filename, content: a.content, contentType: a.contentType })) } : {}),
          headers: { 'Auto-Submitted': 'auto-generated' },
        });
        const rejectedCodes: Record<string, number | undefined> = {};
        for (const e of ((info as { rejectedErrors?: Array<{ recipient?: string; responseCode?: number }> }).rejectedErrors ?? [])) {
          if (e.recipient) rejectedCodes[e.recipient] = e.responseCode;
        }
        return { messageId: mail.messageId, accepted: (info.accepted as Array<string | { address: string }>).map(addr), rejected: (info.rejected as Array<string | { address: string }>).map(addr), rejectedCodes };
      } catch (err) {
        throw classifySmtpError(err);
      }
    },
    async verify() {
      try {
        await plain.verify();
      } catch (err) {
        throw classifySmtpError(err);
      }
    },
    close() {
      plain.close();
      if (tls !== plain) tls.close();
    },
  };
}

function addr(a: string | { address: string }): string {
  return typeof a === 'string' ? a : a.address;
}

/** The catcher has no attachment column: attached text files are shown after the body, as a mail client would list them. */
function withAttachments(mail: OutgoingMail): string {
  if (!mail.attachments || mail.attachments.length === 0) return mail.text;
  return `${mail.text}${mail.attachments.map((a) => `\n\n--- Vedhæftet fil / attachment: ${a.filename} (${a.contentType}) ---\n${a.content}`).join('')}`;
}

/** Stores messages instead of sending them; they show in the UI's mail log. */
export function createCatcherMailer(db: Db): Mailer {
  return {
    kind: 'catcher',
    async send(mail) {
      await db
        .insert(caughtMail)
        .values({ messageId: mail.messageId, notificationId: mail.notificationId ?? null, fromAddress: mail.from, recipients: mail.to, subject: mail.subject, text: withAttachments(mail), html: mail.html })
        .onConflictDoNothing({ target: caughtMail.messageId });
      return { messageId: mail.messageId, accepted: [...mail.to], rejected: [] };
    },
    async verify() {},
    close() {},
  };
}
