/** A real SMTP server (smtp-server) that records what it receives and can be told to refuse. */
import { EventEmitter } from 'node:events';
import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer, type SMTPServerAddress, type SMTPServerSession } from 'smtp-server';

export interface ReceivedMail {
  to: string[];
  subject: string;
  messageId: string;
  text: string;
  html: string;
  /** The SMTP session was upgraded with STARTTLS (or implicit TLS). */
  secure: boolean;
  tlsProtocol: string | undefined;
  attachments: Array<{ filename: string; contentType: string; content: string }>;
  /** Date.now() when the message was stored (before the server answers 250). */
  receivedAt: number;
  /** The message exactly as the server received it (after DATA, dot-unstuffed). */
  raw: Buffer;
}

export interface SmtpSink {
  url: string;
  received: ReceivedMail[];
  /** Return an SMTP error code (e.g. 451, 550) to refuse a recipient. */
  refuseRcpt: ((address: string) => number | undefined) | undefined;
  /** Milliseconds the server takes to accept each message (to stretch a burst). */
  acceptDelayMs: number;
  /** RCPT TO commands seen, refused ones included: how often the worker tried. */
  attempts: number;
  /** AUTH commands that reached the server (with `auth`): a password was sent. */
  authCalls: number;
  /** Bytes of message data (after DATA) received so far, stored or not: what has arrived of a mail still open. */
  dataBytes: number;
  /** Resolves once at least `n` bytes of message data have arrived in all. */
  waitForBytes(n: number, timeoutMs?: number): Promise<void>;
  /** Stops listening and drops every open connection (an SMTP outage); `up()` listens again on the same port. */
  down(): Promise<void>;
  up(): Promise<void>;
  waitFor(pred: (all: ReceivedMail[]) => boolean, timeoutMs?: number): Promise<ReceivedMail[]>;
  close(): Promise<void>;
}

export interface SinkOptions {
  /** Offer AUTH on a connection without STARTTLS (a relay that would take the password in clear). */
  auth?: boolean;
}

export async function startSmtpSink(opts: SinkOptions = {}): Promise<SmtpSink> {
  const events = new EventEmitter();
  const received: ReceivedMail[] = [];
  /** Resolves once `done()` holds, checked now and after each `event`; rejects with `why()` after `timeoutMs`. */
  const until = (event: 'mail' | 'bytes', done: () => boolean, timeoutMs: number, why: () => string): Promise<void> => {
    if (done()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        events.off(event, check);
        reject(new Error(why()));
      }, timeoutMs);
      const check = (): void => {
        if (!done()) return;
        clearTimeout(timer);
        events.off(event, check);
        resolve();
      };
      events.on(event, check);
    });
  };
  const sink: SmtpSink = {
    url: '',
    received,
    refuseRcpt: undefined,
    acceptDelayMs: 0,
    attempts: 0,
    authCalls: 0,
    dataBytes: 0,
    waitForBytes: (n, timeoutMs = 15_000) => until('bytes', () => sink.dataBytes >= n, timeoutMs, () => `timed out waiting for ${n} bytes of message data; ${sink.dataBytes} arrived`),
    down: () => stopServer(),
    up: () => listen(),
    waitFor: async (pred, timeoutMs = 15_000) => {
      await until('mail', () => pred(received), timeoutMs, () => `timed out waiting for mail; received ${received.length}: ${received.map((m) => m.subject).join(' | ')}`);
      return received;
    },
    close: () => stopServer(),
  };
  let port = 0;
  let server: SMTPServer;
  const sockets = new Set<import('node:net').Socket>();
  const stopServer = (): Promise<void> =>
    new Promise((resolve) => {
      const inner = (server as unknown as { server: import('node:net').Server }).server;
      inner.close(() => resolve());
      for (const s of sockets) s.destroy();
      sockets.clear();
    });
  const listen = async (): Promise<void> => {
    server = createServer();
    const inner = (server as unknown as { server: import('node:net').Server }).server;
    inner.on('connection', (s: import('node:net').Socket) => {
      sockets.add(s);
      s.once('close', () => sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      inner.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    port = (inner.address() as AddressInfo).port;
  };
  const createServer = (): SMTPServer => {
    const server = new SMTPServer({
      authOptional: true,
      ...(opts.auth
        ? {
            disabledCommands: ['STARTTLS'],
            allowInsecureAuth: true,
            onAuth(_auth: unknown, _session: SMTPServerSession, cb: (err: Error | null | undefined, res?: { user: string }) => void) {
              sink.authCalls++;
              cb(null, { user: 'relay' });
            },
          }
        : { disabledCommands: ['AUTH'] }),
      logger: false,
      onRcptTo(address: SMTPServerAddress, _session: SMTPServerSession, cb: (err?: Error | null) => void) {
        sink.attempts++;
        const code = sink.refuseRcpt?.(address.address);
        if (code) {
          const err = Object.assign(new Error(code >= 500 ? 'mailbox unavailable' : 'try again later'), { responseCode: code });
          cb(err);
          return;
        }
        cb();
      },
      onData(stream, session, cb) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => {
          chunks.push(c);
          sink.dataBytes += c.length;
          events.emit('bytes');
        });
        stream.on('end', () => {
          const raw = Buffer.concat(chunks);
          void simpleParser(raw).then((parsed) => {
            received.push({
              to: session.envelope.rcptTo.map((r) => r.address),
              subject: parsed.subject ?? '',
              messageId: parsed.messageId ?? '',
              text: parsed.text ?? '',
              html: typeof parsed.html === 'string' ? parsed.html : '',
              secure: session.secure,
              tlsProtocol: (session as unknown as { tlsOptions?: { version?: string } }).tlsOptions?.version,
              attachments: parsed.attachments.map((a) => ({ filename: a.filename ?? '', contentType: a.contentType, content: a.content.toString('utf8') })),
              receivedAt: Date.now(),
              raw,
            });
            events.emit('mail');
            if (sink.acceptDelayMs > 0) setTimeout(() => cb(), sink.acceptDelayMs);
            else cb();
          }, cb);
        });
      },
    });
    // smtp-server re-emits a client's connection errors; a worker SIGKILLed mid-conversation resets
    // its sockets (ECONNRESET), which must not become an uncaught exception of the test run.
    server.on('error', () => undefined);
    return server;
  };
  await listen();
  sink.url = `smtp://127.0.0.1:${port}`;
  return sink;
}
