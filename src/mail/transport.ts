/**
 * Sending mail: a pooled nodemailer SMTP transport, or the built-in catcher (a table) when no
 * SMTP_URL is set. SMTP errors are classified once here: 4xx and connection trouble are
 * transient (retry), 5xx is permanent (record and report). A circuit breaker per SMTP server
 * (cockatiel) stops the sending while the server is down: calls fail fast with a
 * CircuitOpenError that says when to come back, one call probes, and the log has one warning
 * per outage and one line when it is over.
 */
import { circuitBreaker, BrokenCircuitError, CircuitState, ConsecutiveBreaker, ExponentialBackoff, handleAll, type IBackoff, type IBackoffFactory } from 'cockatiel';
import { Readable } from 'node:stream';
import nodemailer from 'nodemailer';
import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import type { Logger } from 'pino';
import type { Db } from '../db/client.js';
import { caughtMail } from '../db/schema.js';
import { scrubCpr } from '../domain/index.js';
import { safeText } from '../safe-error.js';

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
  /**
   * The whole message, built by composeMime from the fields above: sent byte for byte as it is
   * (with the envelope from `from` and `to`), so what is archived is what the server accepted.
   */
  raw?: Buffer;
  /**
   * The end of the message's data (the final `.`) is sent only once this has settled. An SMTP
   * server stores a message when its data ends, never before; until then a crash or a cut
   * connection leaves nothing delivered. The outbox passes the mark of the previous mail of the
   * same lane here, so that the envelope and the body of the next mail travel while that mark is
   * written, and still no lane ever has more than one mail accepted and not yet recorded.
   */
  endAfter?: Promise<void>;
}

/** The headers every mail of fristvagt carries. */
const HEADERS = { 'Auto-Submitted': 'auto-generated' };

/** The nodemailer message of a mail, whether composed here or sent by the transport. */
function messageOf(mail: OutgoingMail): Record<string, unknown> {
  return {
    messageId: mail.messageId,
    from: mail.from,
    to: mail.to,
    subject: mail.subject,
    text: mail.text,
    html: mail.html,
    ...(mail.attachments ? { attachments: mail.attachments.map((a) => ({ filename: a.filename, content: a.content, contentType: a.contentType })) } : {}),
    headers: HEADERS,
    // Quoted-printable, which nodemailer would choose for Danish text anyway (mostly Latin letters):
    // said here, it does not count the characters of every part and header of every mail to decide.
    textEncoding: 'quoted-printable',
  };
}

/**
 * The exact MIME message (RFC 5322, CRLF line ends) nodemailer would send for this mail, dated
 * `date`: built once, so the caller can keep the bytes and send them with `raw`.
 */
export async function composeMime(mail: OutgoingMail, date: Date): Promise<Buffer> {
  const built = await buildMime(mail, date);
  // The composer leaves a text part's own line breaks bare; SMTP sends every line end as CRLF
  // (nodemailer's DATA stream converts them), so they are converted here, to keep what goes over the wire.
  return Buffer.from(built.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1');
}

/**
 * nodemailer's MIME message of a mail, as one buffer. Every mail is sent this way (`raw`), not as
 * nodemailer's streamed message: the stream reaches the socket in about ten writes per mail (the
 * headers and each part's pieces), a buffer in one, and on this kind of machine a socket write is
 * a system call of 0.05–0.1 ms. Line ends are left as the composer writes them: the DATA stream
 * sends every one as CRLF (composeMime converts them itself, for the archived copy).
 */
function buildMime(mail: OutgoingMail, date?: Date): Promise<Buffer> {
  return new MailComposer({ ...messageOf(mail), ...(date ? { date } : {}) }).compile().build();
}

export interface SendResult {
  messageId: string;
  accepted: string[];
  rejected: string[];
  /** SMTP reply code per rejected recipient, where the server gave one (4xx: try again, 5xx: give up). */
  rejectedCodes?: Record<string, number | undefined>;
  /** The server's reply to the end of DATA (`250 2.0.0 Ok: queued as …`), kept as evidence of the hand-over. */
  response: string;
}

export interface MailerStats {
  /** SMTP conversations begun (a refused connection counts): what an outage costs. */
  attempts: number;
  /** Sends refused at once because the circuit was open (no connection tried). */
  failedFast: number;
  /** Times the circuit opened (outages, or a probe that found the server still down). */
  opened: number;
  circuit: 'closed' | 'open' | 'half-open';
}

export interface Mailer {
  readonly kind: 'smtp' | 'catcher';
  send(mail: OutgoingMail): Promise<SendResult>;
  verify(): Promise<void>;
  /**
   * While the SMTP server is taken to be down: the epoch ms at which it may be tried again
   * (a caller waits until then instead of claiming work it cannot send). Undefined: go ahead.
   */
  unavailableUntil?(): number | undefined;
  stats?(): MailerStats;
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

/**
 * The circuit of this SMTP server is open: nothing was sent and no connection was tried. Not an
 * attempt at the mail: the caller waits until `retryAt` and does not count it against the mail.
 */
export class CircuitOpenError extends MailError {
  readonly retryAt: number;
  constructor(server: string, retryAt: number, cause?: unknown) {
    super('MAIL_TRANSIENT', `SMTP server ${server} unavailable (circuit open)`, cause === undefined ? {} : { cause });
    this.name = 'CircuitOpenError';
    this.retryAt = retryAt;
  }
}

export function classifySmtpError(err: unknown, opts: { authWithoutTls?: boolean } = {}): MailError {
  const e = err as { responseCode?: number; code?: string; message?: string; response?: string };
  // No STARTTLS where credentials would be sent: refused before AUTH. The server's 5xx to the
  // STARTTLS command is not the recipient's refusal: the operator has to act, the mail waits.
  if (e.code === 'ETLS' && opts.authWithoutTls) {
    return new MailError('MAIL_TRANSIENT', 'ETLS: the SMTP server offers no STARTTLS, and the SMTP password is never sent without TLS (set SMTP_ALLOW_INSECURE_AUTH=true to allow it on a trusted network)', { cause: err });
  }
  const rc = typeof e.responseCode === 'number' ? e.responseCode : undefined;
  // The server refused our login (a rotated or mistyped password, 530/534/535/538): not the
  // recipient's refusal. Failing every due mail for good would lose them all; the mail waits, the
  // breaker opens with one warning, and sending resumes once the operator fixes SMTP_URL.
  if (e.code === 'EAUTH' || e.code === 'ENOAUTH' || (rc !== undefined && [530, 534, 535, 538].includes(rc))) {
    return new MailError('MAIL_TRANSIENT', `EAUTH${rc === undefined ? '' : ` ${rc}`}: the SMTP server refused fristvagt's login; check the credentials in SMTP_URL`, { responseCode: rc, cause: err });
  }
  // A receiving server (a DLP gateway, say) may quote the message back; this text goes to logs and lastError.
  const text = scrubCpr((e.response ?? e.message ?? 'mail error').replace(/\s+/g, ' ')).slice(0, 500);
  if (rc !== undefined && rc >= 500 && e.code !== 'ETLS') return new MailError('MAIL_PERMANENT', `SMTP ${rc}: ${text}`, { responseCode: rc, cause: err });
  return new MailError('MAIL_TRANSIENT', rc !== undefined ? `SMTP ${rc}: ${text}` : `${e.code ?? 'error'}: ${text}`, { responseCode: rc, cause: err });
}

export interface SmtpOptions {
  url: string;
  /** STARTTLS required for every mail on this transport. */
  requireTls: boolean;
  /** false only for test servers with self-signed certificates. */
  rejectUnauthorized?: boolean;
  maxConnections?: number;
  /**
   * Credentials in the URL may go over a connection without TLS (SMTP_ALLOW_INSECURE_AUTH). Off:
   * a server without STARTTLS gets no AUTH, so the password is never sent in clear.
   */
  allowInsecureAuth?: boolean;
  /** Circuit breaker: consecutive transient failures that open it (default 5). */
  breakAfter?: number;
  /** First wait before a probe (default 5 s); doubles, with jitter, up to `maxProbeDelayMs` (default 60 s). */
  probeDelayMs?: number;
  maxProbeDelayMs?: number;
  /** Where the outage warning and the recovery line go. */
  logger?: Logger;
}

function transportOptions(o: SmtpOptions, requireTls: boolean): Record<string, unknown> {
  const u = new URL(o.url);
  const secure = u.protocol === 'smtps:';
  // Credentials are only sent after STARTTLS, unless the operator said otherwise.
  if (u.username && !secure && !o.allowInsecureAuth) requireTls = true;
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

/** A backoff that remembers the delay it handed out last: when the open circuit lets a probe through. */
function recording(inner: IBackoffFactory<unknown>, record: (ms: number) => void): IBackoffFactory<unknown> {
  const wrap = (b: IBackoff<unknown>): IBackoff<unknown> => {
    record(b.duration);
    return { duration: b.duration, next: (ctx) => wrap(b.next(ctx)) };
  };
  return { next: (ctx) => wrap(inner.next(ctx)) };
}

/** The SMTP server's answer is in: a refusal (5xx) is an answer, only a transient failure counts against the server. */
type Attempt = { ok: SendResult } | { refused: MailError };

export function createSmtpMailer(o: SmtpOptions): Mailer {
  // Two pools: mails that must go over TLS never share a connection that might not be.
  const plain = nodemailer.createTransport(transportOptions(o, o.requireTls));
  const tls = o.requireTls ? plain : nodemailer.createTransport(transportOptions(o, true));
  const u = new URL(o.url);
  const server = `${u.hostname}:${u.port || (u.protocol === 'smtps:' ? 465 : 587)}`;
  const authWithoutTls = u.username !== '' && u.protocol !== 'smtps:' && !o.allowInsecureAuth;
  const stats: MailerStats = { attempts: 0, failedFast: 0, opened: 0, circuit: 'closed' };

  // One breaker for this server, shared by both pools. Every failure that reaches it is a
  // transient one (a refusal is returned as a value, see Attempt), so handleAll is right.
  let probeDelay = 0;
  let openedAt = 0;
  let outageStart = 0;
  let lastReason = '';
  const breaker = circuitBreaker(handleAll, {
    breaker: new ConsecutiveBreaker(o.breakAfter ?? 5),
    halfOpenAfter: recording(new ExponentialBackoff({ initialDelay: o.probeDelayMs ?? 5_000, maxDelay: o.maxProbeDelayMs ?? 60_000 }), (ms) => (probeDelay = ms)),
  });
  let previous = CircuitState.Closed;
  breaker.onStateChange((state) => {
    if (state === CircuitState.Open) {
      openedAt = Date.now();
      stats.opened++;
      stats.circuit = 'open';
      if (previous === CircuitState.Closed) {
        outageStart = openedAt;
        o.logger?.warn({ smtp: server, reason: safeText(lastReason), probeInMs: probeDelay }, 'SMTP server unavailable: mails wait and are not counted as attempts; probing until it answers again');
      } else {
        o.logger?.debug({ smtp: server, probeInMs: probeDelay }, 'SMTP probe failed; circuit open again');
      }
    } else if (state === CircuitState.HalfOpen) {
      stats.circuit = 'half-open';
    } else if (state === CircuitState.Closed) {
      stats.circuit = 'closed';
      if (previous !== CircuitState.Closed) o.logger?.info({ smtp: server, outageMs: Date.now() - outageStart, failedFast: stats.failedFast }, 'SMTP server answers again: sending resumes');
    }
    previous = state;
  });

  async function attempt(mail: OutgoingMail, release: Promise<void> | undefined): Promise<Attempt> {
    stats.attempts++;
    const transport = mail.requireTls ? tls : plain;
    try {
      const bytes = mail.raw ?? (await buildMime(mail));
      const raw = release ? endingAfter(bytes, release) : bytes;
      const info = await transport.sendMail({ messageId: mail.messageId, envelope: { from: mail.from, to: mail.to }, raw });
      const rejectedCodes: Record<string, number | undefined> = {};
      for (const e of ((info as { rejectedErrors?: Array<{ recipient?: string; responseCode?: number }> }).rejectedErrors ?? [])) {
        if (e.recipient) rejectedCodes[e.recipient] = e.responseCode;
      }
      return { ok: { messageId: mail.messageId, accepted: (info.accepted as Array<string | { address: string }>).map(addr), rejected: (info.rejected as Array<string | { address: string }>).map(addr), rejectedCodes, response: scrubCpr(String(info.response ?? '').replace(/\s+/g, ' ')).slice(0, 500) } };
    } catch (err) {
      const e = classifySmtpError(err, { authWithoutTls });
      if (e.code === 'MAIL_PERMANENT') return { refused: e };
      lastReason = e.message;
      throw e;
    }
  }

  const unavailableUntil = (): number | undefined => {
    if (breaker.state === CircuitState.Open) {
      const at = openedAt + probeDelay;
      return at > Date.now() ? at : undefined;
    }
    // A probe is on its way: its answer decides within moments.
    if (breaker.state === CircuitState.HalfOpen) return Date.now() + 1_000;
    return undefined;
  };

  return {
    kind: 'smtp',
    async send(mail) {
      // Settled either way, and handled from the start: a rejected endAfter only ends the data.
      const release = mail.endAfter?.then(
        () => undefined,
        () => undefined,
      );
      let result: Attempt;
      try {
        result = await breaker.execute(() => attempt(mail, release));
      } catch (err) {
        if (err instanceof BrokenCircuitError) {
          stats.failedFast++;
          throw new CircuitOpenError(server, unavailableUntil() ?? Date.now() + 1_000);
        }
        // The failure that opened the circuit, or a probe that found the server still down: the
        // server's outage, not this mail's; the mail waits for the next probe like the others.
        if (err instanceof MailError && breaker.state === CircuitState.Open) throw new CircuitOpenError(server, unavailableUntil() ?? Date.now() + 1_000, err);
        throw err;
      }
      if ('refused' in result) throw result.refused;
      return result.ok;
    },
    async verify() {
      try {
        await plain.verify();
      } catch (err) {
        throw classifySmtpError(err, { authWithoutTls });
      }
    },
    unavailableUntil,
    stats: () => ({ ...stats }),
    close() {
      plain.close();
      if (tls !== plain) tls.close();
    },
  };
}

/** The message as a stream that gives all its bytes at once and ends once `release` has resolved. */
function endingAfter(bytes: Buffer, release: Promise<void>): Readable {
  let given = false;
  return new Readable({
    read() {
      if (given) return;
      given = true;
      this.push(bytes);
      void release.then(() => this.push(null));
    },
  });
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
      // As over SMTP: the message is not "delivered" before its data has ended.
      await mail.endAfter?.then(
        () => undefined,
        () => undefined,
      );
      await db
        .insert(caughtMail)
        .values({ messageId: mail.messageId, notificationId: mail.notificationId ?? null, fromAddress: mail.from, recipients: mail.to, subject: mail.subject, text: withAttachments(mail), html: mail.html })
        .onConflictDoNothing({ target: caughtMail.messageId });
      return { messageId: mail.messageId, accepted: [...mail.to], rejected: [], response: 'caught: kept in the built-in mail catcher (no SMTP_URL), not sent' };
    },
    async verify() {},
    unavailableUntil: () => undefined,
    stats: () => ({ attempts: 0, failedFast: 0, opened: 0, circuit: 'closed' }),
    close() {},
  };
}
