/**
 * One rule for every send path (notifications and digests, the § 22 annual overview, the
 * preliminary notice): which failures are worth another try, when the next try is, and how a
 * send that must wait says so. Classified once, here; the SMTP side of it in mail/transport.ts.
 *
 * - transient: the database went away or was busy (SQLSTATE class 08, 40001, 40P01, 55P03, 57P01,
 *   57014 and the like; a dropped connection), an SMTP 4xx, a connection the SMTP server refused.
 *   The row goes back to `scheduled` and is tried again after an exponential backoff with jitter,
 *   for as long as it takes: a transient fault never turns into a lost mail.
 * - permanent: the recipient refused with an SMTP 5xx, the template does not render, the data is
 *   wrong (SQLSTATE classes 22, 23, 42). The row ends `failed` and the administrators get a report.
 * - unavailable: the SMTP server's circuit is open. Nothing was tried: the send waits until the
 *   breaker lets a probe through and is not counted as an attempt.
 * An error of a kind not listed is retried like a transient one, but only UNCLASSIFIED_LIMIT
 * times: a fault nobody foresaw must reach the administrators rather than loop unseen.
 */
import { causeChain, isDatabaseUnavailable } from '../db/errors.js';
import { TemplateError } from '../mail/render.js';
import { CircuitOpenError, MailError, type Mailer } from '../mail/transport.js';

export type FaultKind = 'transient' | 'permanent' | 'unavailable';

export interface Fault {
  kind: FaultKind;
  /** For lastError and the log: codes and fixed words, never a value out of the data. */
  reason: string;
  /** Not recognised: retried, but only up to UNCLASSIFIED_LIMIT attempts. */
  unclassified?: boolean;
  /** unavailable: when the SMTP server may be tried again (epoch ms). */
  retryAt?: number;
}

/** Attempts after which an error of an unknown kind is taken to be permanent. */
export const UNCLASSIFIED_LIMIT = 8;
/** The longest wait between two attempts at one mail. */
export const RETRY_CAP_MS = 30 * 60_000;

/**
 * A database that is busy rather than gone (gone: isDatabaseUnavailable, shared with the API's 503):
 * serialization failure, deadlock, lock or statement timeout, object in use, read-only transaction,
 * insufficient resources, I/O errors.
 */
const BUSY_SQLSTATE = new Set(['40001', '40P01', '55P03', '55006', '57014', '25006', '53000', '53100', '53200', '53400', '58000', '58030']);
const SCHEMA_SQLSTATE = new Set(['42501', '42P01', '42703', '42883']);
/** Socket errors that reach a send path without a driver's wrapping (the database's own are in db/errors.ts). */
const TRANSIENT_NET = new Set(['ECONNABORTED', 'ENETDOWN', 'ERR_SOCKET_CLOSED']);

export function classifyFault(err: unknown): Fault {
  for (const e of causeChain(err, 8)) {
    if (e instanceof CircuitOpenError) return { kind: 'unavailable', reason: e.message, retryAt: e.retryAt };
    if (e instanceof MailError) return { kind: e.code === 'MAIL_PERMANENT' ? 'permanent' : 'transient', reason: e.message };
    if (e instanceof TemplateError) return { kind: 'permanent', reason: `render: ${e.message}` };
    const code = (e as { code?: unknown }).code;
    if (typeof code !== 'string') continue;
    // A claim or compose given up unanswered (outbox.ts OutboxStalled): the database's trouble.
    if (code === 'OUTBOX_STALLED') return { kind: 'transient', reason: 'database unanswered (stalled)' };
    if (isDatabaseUnavailable(e)) return { kind: 'transient', reason: `database unavailable (${code})` };
    if (/^[0-9A-Z]{5}$/.test(code) && (e as { severity?: unknown }).severity !== undefined) {
      // Postgres: the SQLSTATE says it all; its message may quote a value, so it stays out.
      if (BUSY_SQLSTATE.has(code)) return { kind: 'transient', reason: `database SQLSTATE ${code}` };
      // Not the data's fault but the installation's (permission denied, a table or column missing
      // while a migration is pending): retried like an unknown fault, reported if it lasts.
      if (SCHEMA_SQLSTATE.has(code)) return { kind: 'transient', reason: `database SQLSTATE ${code} (permissions or schema)`, unclassified: true };
      if (/^(22|23|42)/.test(code)) return { kind: 'permanent', reason: `database SQLSTATE ${code} (data error)` };
      return { kind: 'transient', reason: `database SQLSTATE ${code}`, unclassified: true };
    }
    if (TRANSIENT_NET.has(code)) return { kind: 'transient', reason: `connection ${code}` };
  }
  const name = err instanceof Error ? err.name : typeof err;
  return { kind: 'transient', reason: `unexpected ${name}`, unclassified: true };
}

/** A fault that ends the mail: permanent, or unclassified after UNCLASSIFIED_LIMIT attempts. */
export function isFinal(f: Fault, attempts: number): boolean {
  return f.kind === 'permanent' || (f.unclassified === true && attempts >= UNCLASSIFIED_LIMIT);
}

/** A fraction in [0, 1) fixed by the key: the same jitter wherever the delay is computed. */
function jitter(key: string): number {
  let h = 2166136261;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 16777619);
  return (h >>> 0) / 2 ** 32;
}

/**
 * The wait after the `attempts`-th failed attempt at row `id`: base × 2^(attempts−1), at most
 * RETRY_CAP_MS, then scaled into [½, 1] by a jitter fixed per row and attempt, so that the
 * worker that defers the job and the sweep that re-adds it compute the same instant, and rows
 * that failed together do not come back together.
 */
export function retryDelayMs(id: string, attempts: number, baseMs: number): number {
  const raw = Math.min(baseMs * 2 ** Math.min(Math.max(attempts - 1, 0), 30), RETRY_CAP_MS);
  return Math.round(raw * (0.5 + 0.5 * jitter(`${id}:${attempts}`)));
}

/** When a row may be tried again: its planned time, or after its backoff if its last attempt failed. */
export function notBefore(r: { id: string; plannedAt: Date; attempts: number; lastError: string | null; updatedAt: Date }, baseMs: number): number {
  if (r.attempts === 0 || r.lastError === null) return r.plannedAt.getTime();
  return Math.max(r.plannedAt.getTime(), r.updatedAt.getTime() + retryDelayMs(r.id, r.attempts, baseMs));
}

/**
 * Thrown by a send that has to wait: the job processor moves its job to `delayed` for `delayMs`
 * (not a failed attempt in BullMQ's count), and the sweep, computing the same notBefore, leaves
 * it there.
 */
export class SendDeferred extends Error {
  readonly code = 'SEND_DEFERRED';
  constructor(readonly delayMs: number, reason: string) {
    super(`deferred ${Math.max(0, Math.round(delayMs))} ms: ${reason}`);
    this.name = 'SendDeferred';
  }
}

/** The wait for an open circuit: until its probe time, spread by up to a second so that waiting sends do not all wake in the same tick. */
export function circuitWait(retryAt: number, key: string): number {
  return Math.max(0, retryAt - Date.now()) + Math.round(1_000 * jitter(`${key}:circuit`));
}

/** Before a claim: an SMTP server known to be down defers the send until its probe, spending no attempt. */
export function deferWhileCircuitOpen(mailer: Pick<Mailer, 'unavailableUntil'>, key: string): void {
  const until = mailer.unavailableUntil?.();
  if (until !== undefined) throw new SendDeferred(circuitWait(until, key), 'SMTP server unavailable');
}

/**
 * Retries a database write for about 12 s (7 attempts) while its failure is transient; a
 * permanent one, or the last transient one, is thrown. The writes that settle a mail's state
 * (released, failed and reported, sent) go through here.
 */
export async function retryDbWrite<T>(write: () => Promise<T>, attempts = 7): Promise<T> {
  let lastError: unknown;
  for (let attempt = 0; attempt < attempts; attempt++) {
    try {
      return await write();
    } catch (err) {
      lastError = err;
      if (classifyFault(err).kind === 'permanent') break;
      if (attempt < attempts - 1) await new Promise((resolve) => setTimeout(resolve, 200 * 2 ** attempt));
    }
  }
  throw lastError;
}
