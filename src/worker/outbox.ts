/**
 * The outbox: claim → render → send → mark, written once for every mail the worker sends on its
 * own (notifications, plan owners' digests, the § 22 annual overview). Each kind of mail brings
 * its table, how to compose a claimed row into a mail, and what a permanent failure reports; the
 * protocol is here:
 *
 * - claim: rows go scheduled → sending (attempts + 1) in one statement. A send job claims its own
 *   row and, in the same statement, up to `batchSize − 1` other due rows nobody holds
 *   (`FOR UPDATE SKIP LOCKED`), immediate alerts first: one round trip for many mails. Rows that
 *   failed before are left to their own job, which runs after the row's backoff (delivery.ts).
 * - compose and send, a few mails at a time over the pooled transport (SMTP lanes), checking the
 *   SMTP circuit before each one. A lane's next mail ends its data only after the previous mail's
 *   mark: never more than one mail per lane accepted and not yet recorded.
 * - mark: sent rows are recorded in group commits: the first accepted mail is written one turn of
 *   the event loop later (with the others whose 250 came in that turn), those accepted while that
 *   write runs go together in the next one, so nothing waits between the SMTP server's 250 and the
 *   write but that turn and the write before it (README: delivery guarantee).
 * - settle a failure per row: transient → scheduled again with its backoff, permanent → failed
 *   (and reported), circuit open → given back without spending an attempt. A row of the batch
 *   other than the job's own gets its job back (deps.requeue) at its backoff.
 *
 * Every later write is conditional on still owning the claim (same id, `sending`, same attempt):
 * a worker slower than staleSendingMs has been taken over and must not undo the new owner's state.
 * The jobs of rows sent by another job's batch finish at once: this process remembers for a while
 * which rows its batches hold or finished.
 */
import { randomUUID } from 'node:crypto';
import { and, eq, or, sql, type SQL } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Db, Executor } from '../db/client.js';
import { updateJson } from '../db/bulk.js';
import { notifications } from '../db/schema.js';
import type { RenderedMail } from '../mail/render.js';
import { CircuitOpenError, MailError, type Mailer, type OutgoingMail, type SendResult } from '../mail/transport.js';
import { IMMEDIATE_STAGE_PREFIXES } from '../queue/job-options.js';
import { safeText } from '../safe-error.js';
import { circuitWait, classifyFault, deferWhileCircuitOpen, isFinal, notBefore, retryDbWrite, SendDeferred } from './delivery.js';
import type { RulesInForce } from '../records/calendar.js';
import type { WorkerSettings } from './settings.js';

export interface SendDeps {
  db: Db;
  mailer: Mailer;
  clock: () => Date;
  closureDays: readonly string[];
  settings: () => Promise<WorkerSettings>;
  /** Calendar and policy in force; the worker passes a briefly cached loader (one query less per mail). */
  rulesInForce?: () => Promise<RulesInForce>;
  from: string;
  publicUrl: string;
  logger: Logger;
  /**
   * A `sending` row older than this belongs to a worker that died mid-send; the job that finds it
   * (BullMQ hands a dead worker's job to another after the stalled check) takes it over instead of
   * waiting for the sweep. Unset: only `scheduled` rows are claimed.
   */
  staleSendingMs?: number;
  /** First wait after a transient failure (FRISTVAGT's backoff base; doubles per attempt, see delivery.ts). */
  retryDelayMs?: number;
  /**
   * Rows one claim may take (the job's own and other due ones). Unset or 1: only the job's own row
   * (a send called directly, by the UI or a test); the worker sets BATCH_SIZE.
   */
  batchSize?: number;
  /** Mails of one batch on their way to the SMTP server at once. Default SEND_LANES. */
  sendLanes?: number;
  /**
   * Puts the send jobs of rows back into the queue at their backoff (the sweep's enqueue): a row of
   * another job's batch that must wait may have lost its job meanwhile. Unset: the sweep does it.
   */
  requeue?: (rows: QueuedRow[]) => Promise<unknown>;
  /** How long a claim or a compose may go unanswered before it is given up (STALL_MS). */
  stallMs?: number;
}

/** What the sweep's enqueue needs of a notification row (its job id, priority and backoff). */
export interface QueuedRow {
  id: string;
  version: number;
  stage: string;
  plannedAt: Date;
  attempts: number;
  lastError: string | null;
  updatedAt: Date;
}

export const DEFAULT_RETRY_DELAY_MS = 2_000;
export const BATCH_SIZE = 50;
/**
 * An alert of another job is taken into a batch only if it fell due within this window: a burst,
 * not a backlog. Rows overdue for longer (after an outage) go through their own jobs, which the
 * sweep revives in due order, as before batching.
 */
export const BATCH_WINDOW_MS = 3_600_000;
export const SEND_LANES = 5;
/**
 * A claim or a compose that has not answered after this long is given up: a statement on a
 * connection that went quiet (neither answered nor closed) would otherwise hold its job, and the
 * rows its claim committed, for ever. Far beyond a lock wait behind a planner's transaction.
 */
export const STALL_MS = 30_000;

/** A claim or a compose that did not answer within STALL_MS (transient: the job is retried). */
export class OutboxStalled extends Error {
  readonly code = 'OUTBOX_STALLED';
  constructor(what: string, ms: number) {
    super(`${what} unanswered after ${ms} ms; given up`);
    this.name = 'OutboxStalled';
  }
}

/**
 * `p`, or OutboxStalled once it has gone unanswered for deps.stallMs; `onStall` then decides what
 * becomes of whatever `p` did or still does (its late rejection is handled here).
 */
function unanswered<T>(deps: SendDeps, what: string, p: Promise<T>, onStall: () => void): Promise<T> {
  const ms = deps.stallMs ?? STALL_MS;
  let timer: NodeJS.Timeout | undefined;
  const stalled = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      p.catch(() => undefined);
      onStall();
      deps.logger.warn({ stalledMs: ms }, `${what} unanswered; given up`);
      reject(new OutboxStalled(what, ms));
    }, ms);
  });
  return Promise.race([p, stalled]).finally(() => clearTimeout(timer));
}
/**
 * Group-commit writes of one Marker in flight at once. Since a lane is free again at the SMTP
 * server's 250 and only its next mail's end of data waits for the mark (Lanes), the mark's round
 * trip mostly overlaps that mail's envelope and body; what costs throughput on this 2-core machine
 * is the number of mark statements (each a Postgres transaction and a socket write on both sides).
 * One write in flight, whose marks gather while the one before it runs and for one turn of the
 * event loop, measured better than two (which the lanes needed while they were held until the
 * mark): 85 % / 74–79 % of bare at c=5 / c=20 against 83 % / 69 %, same machine, same hour.
 */
const MARK_WRITES = 1;

/** `batched`: the row is in a batch of another job of this process, which sends it (or gives its job back). */
export type SendOutcome = 'sent' | 'not-due' | 'not-claimable' | 'cancelled' | 'failed' | 'batched';

/** What the outbox reads and writes of a row, in either table. */
export interface OutboxRow {
  id: string;
  status: string;
  plannedAt: Date;
  attempts: number;
  lastError: string | null;
  updatedAt: Date;
  recipient: string;
  claimedAt: Date | null;
}

/** One mail: the rows it settles (a digest settles several; the lead names it in logs and reports). */
export interface Unit<R extends OutboxRow> {
  rows: R[];
  lead: R;
  mail: RenderedMail & Pick<OutgoingMail, 'attachments'>;
  to: string[];
  messageId: string;
  /**
   * Decides on the server's answer: throws when the mail does not count as delivered (default: no
   * recipient accepted). May note on the lead row what the kind's extra column records.
   */
  accept?(res: SendResult): void;
}

/** What becomes of a claimed row (or rows): a mail, a cancellation, or a fault found while composing. */
export type Decision<R extends OutboxRow> = { send: Unit<R> } | { cancel: R[]; reason: string } | { fault: R[]; lead: R; err: unknown };

/** A kind of mail the outbox sends: its table and what only it knows. */
export interface OutboxKind<R extends OutboxRow> {
  /** notifications or annual_overviews: both have the columns of OutboxRow. */
  table: typeof notifications | object;
  /** For logs: what it is ('notification') and the key the lead row's id goes under. */
  label: string;
  logKey: string;
  /** Sent-row column kept through every settling write (the annual overview's officeCopySentAt). */
  extraKey?: string;
  /** The job's own row, and others due, as one claim; undefined claims only the own row. */
  claimable(deps: SendDeps, now: Date, ownId: string): { own: SQL; others?: SQL; urgent?: SQL };
  /** The own row was not claimed: why (or another way to claim it, the digest's). */
  unclaimed(deps: SendDeps, ownId: string, now: Date): Promise<R[] | SendOutcome>;
  compose(deps: SendDeps, rows: R[], now: Date): Promise<Array<Decision<R>>>;
  /** After a permanent failure, in the transaction that records it (the sweep queues what it writes). */
  /** Inside the failing row's transaction: it may use `tx` only (another connection could wait for this one's row locks). */
  report?(tx: Executor, deps: SendDeps, lead: R, settings: WorkerSettings): Promise<void>;
  /** Rows that go first in a batch (immediate alerts). */
  urgent?(row: R): boolean;
  /** What deps.requeue needs of a row beyond OutboxRow (notifications); none: the sweep requeues. */
  job?(row: R): { version: number; stage: string };
}

/** Stable per table: a cast, so one implementation of each write serves both tables (same column names). */
function columns(kind: OutboxKind<OutboxRow>): typeof notifications {
  return kind.table as typeof notifications;
}

/** isImmediateStage as SQL: the rows a batch claim takes first. */
export function immediateStage(stage: typeof notifications.stage): SQL {
  return sql`(${sql.join(IMMEDIATE_STAGE_PREFIXES.map((p) => sql`${stage} LIKE ${`${p}%`}`), sql` OR `)})`;
}

export function messageIdFor(prefix: string, id: string, from: string): string {
  const domain = /@([^>\s]+)>?\s*$/.exec(from)?.[1] ?? 'fristvagt.invalid';
  return `<${prefix}-${id}@${domain}>`;
}

// ---------------------------------------------------------------- what this process holds

/**
 * Rows of this process's batches, by row id and job version (a re-planned row has a new version
 * and a new job, which this memory must not answer): held by a batch now; finished (by the job's
 * own claim, or by another job's batch, whose outcome the row's own job then reports once); or
 * waiting for its backoff after a batch's transient failure, which its job, coming early, waits out.
 */
type Held = { version: number } & ({ state: 'inflight' } | { state: 'done'; at: number; outcome: SendOutcome; viaBatch: boolean } | { state: 'deferred'; until: number });
/** How long a finished row's job may still arrive and be answered from memory. */
const REMEMBER_MS = 5 * 60_000;
const REMEMBER_MAX = 100_000;
const memory = new WeakMap<SendDeps, Map<string, Held>>();

/** Per worker (its SendDeps): only kinds with a job version (notifications) are remembered. */
function heldBy(deps: SendDeps, kind: OutboxKind<OutboxRow>): Map<string, Held> | undefined {
  if (!kind.job) return undefined;
  let held = memory.get(deps);
  if (!held) memory.set(deps, (held = new Map()));
  return held;
}

function remember(held: Map<string, Held> | undefined, id: string, h: Held): void {
  if (!held) return;
  held.delete(id);
  held.set(id, h);
  if (held.size > REMEMBER_MAX) for (const k of [...held.keys()].slice(0, held.size - REMEMBER_MAX)) held.delete(k);
}

/** What this process knows of the job's row: an answer without a round trip, or undefined (ask Postgres). */
function recall(held: Map<string, Held> | undefined, id: string, version: number | undefined): SendOutcome | undefined {
  const h = held?.get(id);
  if (!h || (version !== undefined && h.version !== version)) return undefined;
  if (h.state === 'inflight') return 'batched';
  if (h.state === 'deferred') {
    if (h.until > Date.now()) throw new SendDeferred(h.until - Date.now(), 'waiting for its backoff');
    return undefined;
  }
  if (Date.now() - h.at > REMEMBER_MS) return undefined;
  if (!h.viaBatch) return 'not-claimable';
  // Sent (or failed, or cancelled) by another job's batch: its own job reports that, once.
  h.viaBatch = false;
  return h.outcome;
}

// ---------------------------------------------------------------- the protocol

/**
 * Sends the job's row `ownId` and whatever else its claim takes; returns what became of its own
 * row, or throws SendDeferred when that row has to wait (the job moves to `delayed`).
 */
export async function sendFromOutbox<R extends OutboxRow>(kind: OutboxKind<R>, deps: SendDeps, ownId: string, version?: number): Promise<SendOutcome> {
  const k = kind as unknown as OutboxKind<OutboxRow>;
  const known = recall(heldBy(deps, k), ownId, version);
  if (known !== undefined) return known;
  deferWhileCircuitOpen(deps.mailer, ownId);
  const now = deps.clock();
  let rows = await claim(k, deps, ownId, now, true);
  /** What the first claim took goes back if a later step fails before `deliver` holds it. */
  const orHandBack = async <T,>(step: () => Promise<T>): Promise<T> => {
    try {
      return await step();
    } catch (err) {
      if (rows.length > 0) handBack(k, deps, owned(k, rows));
      throw err;
    }
  };
  if (!rows.some((r) => r.id === ownId)) {
    // Skipped while locked (a batch claiming it, or the planner moving it): ask again, waiting
    // for the lock this time, so that a row still due is never left without its job.
    rows = [...rows, ...(await orHandBack(() => claim(k, deps, ownId, now, false)))];
  }
  if (!rows.some((r) => r.id === ownId)) {
    const other = await orHandBack(() => kind.unclaimed(deps, ownId, now));
    if (typeof other === 'string') {
      if (rows.length > 0) await deliver(k, deps, rows, undefined, now);
      return other;
    }
    rows = [...rows, ...other];
  }
  return deliver(k, deps, rows, ownId, now);
}

async function claim(kind: OutboxKind<OutboxRow>, deps: SendDeps, ownId: string, now: Date, batch: boolean): Promise<OutboxRow[]> {
  const t = columns(kind);
  const { own, others, urgent } = kind.claimable(deps, now, ownId);
  // Each claim marks its rows with a token of its own: when the connection drops after the
  // claim committed and before its answer arrived, the rows are `sending` and nobody knows it
  // holds them (their jobs find them taken) until FRISTVAGT_STALE_SENDING_MS. The claimant asks
  // by the token instead, and carries on with what it finds.
  const token = randomUUID();
  const set = { status: 'sending', claimedAt: now, attempts: sql`${t.attempts} + 1`, claimToken: token, updatedAt: now } as const;
  let write: () => Promise<OutboxRow[]>;
  if (!batch) write = async () => (await deps.db.update(t).set(set).where(and(eq(t.id, ownId), own)).returning()) as OutboxRow[];
  else {
    const limit = others ? Math.max(1, deps.batchSize ?? 1) : 1;
    // Each part walks the due index in order and stops at its limit: the job's own row; due alerts;
    // then the rest by due time. Rows another claim holds are skipped, not waited for.
    const parts = [sql`SELECT ${t.id} FROM ${t} WHERE ${t.id} = ${ownId} AND ${own} FOR UPDATE SKIP LOCKED`];
    if (others && limit > 1) {
      if (urgent) parts.push(sql`SELECT ${t.id} FROM ${t} WHERE ${others} AND ${urgent} ORDER BY ${t.plannedAt} LIMIT ${limit - 1} FOR UPDATE SKIP LOCKED`);
      parts.push(sql`SELECT ${t.id} FROM ${t} WHERE ${others} AND ${t.id} <> ${ownId} ORDER BY ${t.plannedAt}, ${t.id} LIMIT ${limit - 1} FOR UPDATE SKIP LOCKED`);
    }
    const pick = sql`WITH ${sql.join(parts.map((p, i) => sql`${sql.raw(`p${i}`)} AS (${p})`), sql`, `)} ${sql.join(parts.map((_, i) => sql.raw(`SELECT id FROM p${i}`)), sql` UNION `)}`;
    // The claim leaves `version` alone: the row's queue job (send-<id>-<version>) stays the one job
    // that retries it, instead of every claim adding another one beside it.
    write = async () => (await deps.db.update(t).set(set).where(sql`${t.id} IN (${pick})`).returning()) as OutboxRow[];
  }
  const byToken = and(eq(t.claimToken, token), eq(t.status, 'sending')) as SQL;
  const pending = write();
  try {
    // Unanswered for STALL_MS: whatever the claim committed, or still commits when (if ever) it
    // answers, carries its token and goes back to `scheduled` (handBack); the job fails and is
    // retried. Nothing of it is sent: its rows are never looked up by the token.
    return await unanswered(deps, 'a claim', pending, () => {
      handBack(kind, deps, byToken);
      void pending.then(
        () => handBack(kind, deps, byToken),
        () => handBack(kind, deps, byToken),
      );
    });
  } catch (err) {
    if (err instanceof OutboxStalled || classifyFault(err).kind === 'permanent') throw err;
    // Committed or not? What carries the token was claimed by this call; nothing: it was not
    // (the rows are as they were, for the job's retry). A database still away after the retries
    // throws, and what the claim may have taken is handed back once it answers (handBack).
    let found: OutboxRow[];
    try {
      found = (await retryDbWrite(() => deps.db.select().from(t).where(byToken))) as OutboxRow[];
    } catch {
      // Nobody knows whether the claim committed, and no mail of it went out: whatever carries
      // the token goes back to `scheduled` once the database answers (handBack), not after
      // FRISTVAGT_STALE_SENDING_MS.
      handBack(kind, deps, byToken);
      throw err;
    }
    if (found.length === 0) throw err;
    deps.logger.warn({ [kind.logKey]: ownId, claimed: found.length }, 'the claim\'s answer was lost with its connection; its rows were found by their claim token');
    return found;
  }
}

/** Rows still held by the claim that returned them (same id, still sending, same attempt). */
function owned(kind: OutboxKind<OutboxRow>, rows: ReadonlyArray<Pick<OutboxRow, 'id' | 'attempts'>>): SQL {
  const t = columns(kind);
  // `or()` of nothing is no condition at all: it would match every row that is sending.
  if (rows.length === 0) return sql`false`;
  return and(eq(t.status, 'sending'), or(...rows.map((r) => and(eq(t.id, r.id), eq(t.attempts, r.attempts))))) as SQL;
}

/** Outcome of one unit: its rows' fate, or the wait of rows that go back to `scheduled`. */
type Settled = { outcome: SendOutcome } | { deferred: SendDeferred };

async function deliver(kind: OutboxKind<OutboxRow>, deps: SendDeps, rows: OutboxRow[], ownId: string | undefined, now: Date): Promise<SendOutcome> {
  const held = heldBy(deps, kind);
  const versionOf = (r: OutboxRow): number => kind.job?.(r).version ?? 0;
  // Alerts first, then the job's own row, then by due time (RETURNING keeps no order).
  const urgent = (r: OutboxRow): number => (kind.urgent?.(r) ? 0 : 1);
  rows.sort((a, b) => urgent(a) - urgent(b) || Number(b.id === ownId) - Number(a.id === ownId) || a.plannedAt.getTime() - b.plannedAt.getTime() || a.id.localeCompare(b.id));
  for (const r of rows) remember(held, r.id, { version: versionOf(r), state: 'inflight' });
  const fates = new Map<string, Settled>();
  /** Rows whose mail the SMTP server accepted: never handed back, whatever becomes of their mark. */
  const accepted = new Set<string>();
  const settle = (unit: OutboxRow[], s: Settled): void => {
    for (const r of unit) {
      fates.set(r.id, s);
      const version = versionOf(r);
      if (!('deferred' in s)) remember(held, r.id, { version, state: 'done', at: Date.now(), outcome: s.outcome, viaBatch: r.id !== ownId });
      // Another job's row that must wait: its job, when it comes early, waits too. The job's own
      // row, and a digest's (whose siblings' jobs all send the same digest), are its job's to retry.
      else if (r.id !== ownId && unit.length === 1) remember(held, r.id, { version, state: 'deferred', until: Date.now() + s.deferred.delayMs });
      else held?.delete(r.id);
    }
  };
  try {
    let decisions: Array<Decision<OutboxRow>>;
    try {
      // Compose sends nothing: given up after STALL_MS, its rows are settled as a transient fault.
      decisions = await unanswered(deps, 'a compose', kind.compose(deps, rows, now), () => undefined);
    } catch (err) {
      decisions = [{ fault: rows, lead: rows.find((r) => r.id === ownId) ?? (rows[0] as OutboxRow), err }];
    }
    // Every mail of the batch at once: the SMTP lanes (sendUnit) bound what is on its way.
    const results = await Promise.allSettled(
      decisions.map(async (d) => {
        const unit = 'send' in d ? d.send.rows : 'cancel' in d ? d.cancel : d.fault;
        try {
          if ('cancel' in d) {
            await retryDbWrite(() => deps.db.update(columns(kind)).set({ status: 'cancelled', lastError: d.reason, updatedAt: deps.clock() }).where(owned(kind, d.cancel)));
            settle(unit, { outcome: 'cancelled' });
          } else if ('fault' in d) {
            settle(unit, { outcome: await settleFailure(kind, deps, d.fault, d.lead, d.err) });
          } else {
            settle(unit, { outcome: await sendUnit(kind, deps, d.send, accepted) });
          }
        } catch (err) {
          if (!(err instanceof SendDeferred)) throw Object.assign(err as object, { outboxUnit: unit });
          settle(unit, { deferred: err });
        }
      }),
    );
    for (const r of results) {
      if (r.status === 'fulfilled') continue;
      const unit = (r.reason as { outboxUnit?: OutboxRow[] }).outboxUnit ?? [];
      // The job's own mail decides the job (a MarkSentError ends it unretried); another row's
      // failure to settle is handed back below (or, if its mail went out, left to the sweep's
      // recovery), as if its own job had met it.
      if (ownId === undefined || unit.some((u) => u.id === ownId)) throw r.reason;
      deps.logger.warn({ [kind.logKey]: unit[0]?.id, err: { message: safeText((r.reason as Error).message) } }, 'a mail of the batch could not be settled; it is handed back when the database answers, or recovered by the sweep if it went out');
    }
  } finally {
    // A row left without a fate (its settling write kept failing): not held here any more. If its
    // mail was accepted, it waits for the sweep's recovery (MarkSentError); otherwise no mail of it
    // went out, and it goes back to `scheduled` as soon as the database answers again.
    const unsettled = rows.filter((r) => !fates.has(r.id));
    for (const r of unsettled) held?.delete(r.id);
    const notSent = unsettled.filter((r) => !accepted.has(r.id));
    if (notSent.length > 0) handBack(kind, deps, owned(kind, notSent));
  }
  await requeueOthers(kind, deps, rows, fates, ownId);
  if (ownId === undefined) return 'not-claimable';
  const mine = fates.get(ownId);
  if (!mine) return 'not-claimable';
  if ('deferred' in mine) throw mine.deferred;
  return mine.outcome;
}

/** Rows of this batch other than the job's own that must wait: their jobs may be gone, so they are put back. */
async function requeueOthers(kind: OutboxKind<OutboxRow>, deps: SendDeps, rows: OutboxRow[], fates: Map<string, Settled>, ownId: string | undefined): Promise<void> {
  const waiting = rows.filter((r) => r.id !== ownId && fates.get(r.id) !== undefined && 'deferred' in (fates.get(r.id) as Settled));
  // As written by the settling write: the failure's reason and time, so the sweep's backoff is the job's.
  await requeue(kind, deps, waiting, 'deferred', deps.clock());
}

/**
 * Puts the jobs of rows back into the queue at their backoff (deps.requeue); without it, or for a
 * kind without job versions, the sweep adds them. `updatedAt`: the settling write's time when the
 * rows in hand do not carry it.
 */
async function requeue(kind: OutboxKind<OutboxRow>, deps: SendDeps, rows: OutboxRow[], what: string, updatedAt?: Date): Promise<void> {
  const job = kind.job;
  if (!deps.requeue || !job || rows.length === 0) return;
  await deps.requeue(rows.map((r) => ({ id: r.id, ...job(r), plannedAt: r.plannedAt, attempts: r.attempts, lastError: r.lastError ?? 'deferred', updatedAt: updatedAt ?? r.updatedAt }))).catch((err: unknown) => {
    deps.logger.warn({ rows: rows.length, err: { message: safeText((err as Error).message) } }, `could not put ${what} rows back into the queue; the sweep will`);
  });
}

async function sendUnit(kind: OutboxKind<OutboxRow>, deps: SendDeps, unit: Unit<OutboxRow>, accepted: Set<string>): Promise<SendOutcome> {
  const { lead, rows } = unit;
  // A lane is held for the SMTP conversation; its next mail's data ends only after this mail's
  // mark (Lanes): no more mails of this process than lanes are ever accepted and not yet recorded
  // (what a crash could repeat).
  const sent = await lanesOf(deps).run(async (lane): Promise<SendOutcome | { marking: Promise<void> }> => {
    let response: string;
    try {
      // The circuit may have opened while this mail waited for its lane: nothing more goes to a
      // server known to be down (given back, not an attempt).
      const until = deps.mailer.unavailableUntil?.();
      if (until !== undefined) throw new CircuitOpenError('SMTP', until);
      const res = await deps.mailer.send({ messageId: unit.messageId, from: deps.from, to: unit.to, ...(kind.table === notifications ? { notificationId: lead.id } : {}), ...unit.mail, endAfter: lane.marked });
      if (unit.accept) unit.accept(res);
      else if (res.accepted.length === 0) throw new MailError('MAIL_PERMANENT', `rejected: ${res.rejected.join(', ')}`);
      response = res.response;
    } catch (err) {
      return settleFailure(kind, deps, rows, lead, err);
    }
    for (const r of rows) accepted.add(r.id);
    // Accepted: from here on a failure must never lead to a retry of the send. Nothing runs between
    // the SMTP server's 250 and this write but the group commit it joins.
    const marking = markerOf(deps, kind).mark(rows, unit.messageId, response, extraOf(kind, lead) ?? null);
    lane.marked = marking.then(
      () => undefined,
      () => undefined,
    );
    return { marking };
  }, kind.urgent?.(lead) ?? false);
  if (typeof sent === 'string') return sent;
  await sent.marking;
  deps.logger.info({ [kind.logKey]: lead.id, grouped: rows.length > 1 ? rows.length : undefined }, `${kind.label} sent`);
  return 'sent';
}

function extraOf(kind: OutboxKind<OutboxRow>, row: OutboxRow): Date | null | undefined {
  return kind.extraKey ? ((row as unknown as Record<string, Date | null>)[kind.extraKey] ?? null) : undefined;
}

function extraSet(kind: OutboxKind<OutboxRow>, value: Date | null | undefined): Record<string, Date | null> {
  return kind.extraKey && value !== undefined ? { [kind.extraKey]: value } : {};
}

/**
 * A claimed mail (or digest) that could not be composed or sent. Permanent: the rows end `failed`
 * and the kind reports it, in one transaction. Otherwise the rows go back to `scheduled` and the
 * job waits (SendDeferred): after the row's backoff, or, when the SMTP server's circuit is open,
 * until its probe, giving the attempt back. The settling write is retried; if the database stays
 * away, the rows stay `sending` and the sweep hands them back after FRISTVAGT_STALE_SENDING_MS.
 */
export async function settleFailure(kind: OutboxKind<OutboxRow>, deps: SendDeps, rows: OutboxRow[], lead: OutboxRow, err: unknown): Promise<SendOutcome> {
  const t = columns(kind);
  const fault = classifyFault(err);
  const mine = owned(kind, rows);
  const now = deps.clock();
  const log = { [kind.logKey]: lead.id, grouped: rows.length > 1 ? rows.length : undefined, attempts: lead.attempts, reason: safeText(fault.reason) };
  const kept = extraSet(kind, extraOf(kind, lead));
  if (fault.kind === 'unavailable') {
    await retryDbWrite(() => deps.db.update(t).set({ status: 'scheduled', attempts: sql`greatest(${t.attempts} - 1, 0)`, updatedAt: now, ...kept }).where(mine));
    throw new SendDeferred(circuitWait(fault.retryAt ?? Date.now(), lead.id), fault.reason);
  }
  if (isFinal(fault, lead.attempts)) {
    // Read before the transaction: a query on another connection while this one holds the row's
    // lock can wait for ever when the pool is taken by planners waiting for that very lock.
    const settings = await deps.settings();
    await retryDbWrite(() =>
      deps.db.transaction(async (tx) => {
        const failed = await tx.update(t).set({ status: 'failed', lastError: fault.reason, updatedAt: deps.clock(), ...kept }).where(mine).returning({ id: t.id });
        if (failed.length > 0) await kind.report?.(tx, deps, lead, settings);
      }),
    );
    deps.logger.error({ ...log, responseCode: (err as MailError).responseCode }, `${kind.label} failed for good${kind.report ? '; the administrators get a report' : ''}`);
    return 'failed';
  }
  await retryDbWrite(() => deps.db.update(t).set({ status: 'scheduled', lastError: fault.reason, updatedAt: now, ...kept }).where(mine));
  for (const r of rows) r.lastError = fault.reason;
  const delayMs = notBefore({ id: lead.id, plannedAt: lead.plannedAt, attempts: lead.attempts, lastError: fault.reason, updatedAt: now }, deps.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS) - now.getTime();
  // Info, not a warning: during an outage the circuit breaker's one warning speaks for all of them.
  deps.logger.info({ ...log, retryInMs: delayMs }, `${kind.label} deferred after a transient failure`);
  throw new SendDeferred(delayMs, fault.reason);
}

// ---------------------------------------------------------------- claims this process let go of

/**
 * Rows this process claimed and could not settle, because the database stayed away longer than
 * the settling write's retries (about 12 s), and whose mail never reached the SMTP server (a claim
 * whose answer and token lookup were both lost; a compose or a settling write that kept failing).
 * Left alone they would stay `sending`, their jobs finding them taken, until the sweep's recovery
 * after FRISTVAGT_STALE_SENDING_MS: minutes for an alert that a dropped connection alone held up.
 * This process knows it holds them, so it hands them back itself: `scheduled` again (the attempt
 * counts, as after any transient failure) as soon as the database answers, and their jobs put back
 * at the row's backoff (deps.requeue; without it the sweep adds them). Retried with backoff up to
 * HAND_BACK_MAX_MS; a worker that stops meanwhile leaves them to the recovery. Conditional on
 * still owning the claim, like every later write: a row another worker took over is not touched.
 */
const HAND_BACK_FIRST_MS = 500;
const HAND_BACK_MAX_MS = 30_000;
interface HandBacks {
  pending: Array<{ kind: OutboxKind<OutboxRow>; where: SQL }>;
  timer?: NodeJS.Timeout | undefined;
  delayMs: number;
}
const handBacks = new WeakMap<SendDeps, HandBacks>();

const HAND_BACK_REASON = 'handed back: the database was unavailable while sending';

function handBack(kind: OutboxKind<OutboxRow>, deps: SendDeps, where: SQL): void {
  let h = handBacks.get(deps);
  if (!h) handBacks.set(deps, (h = { pending: [], delayMs: HAND_BACK_FIRST_MS }));
  h.pending.push({ kind, where });
  if (!h.timer) scheduleHandBack(deps, h);
}

function scheduleHandBack(deps: SendDeps, h: HandBacks): void {
  h.timer = setTimeout(() => void runHandBacks(deps, h), h.delayMs);
  h.timer.unref();
}

async function runHandBacks(deps: SendDeps, h: HandBacks): Promise<void> {
  const todo = h.pending.splice(0);
  for (const [i, item] of todo.entries()) {
    const t = columns(item.kind);
    try {
      const rows = (await deps.db.update(t).set({ status: 'scheduled', lastError: HAND_BACK_REASON, updatedAt: deps.clock() }).where(item.where).returning()) as OutboxRow[];
      if (rows.length > 0) deps.logger.warn({ [item.kind.logKey]: rows[0]?.id, rows: rows.length }, `${item.kind.label} handed back after the database was unavailable while sending`);
      await requeue(item.kind, deps, rows, 'handed-back');
    } catch {
      // Still away: this one and the rest wait for the next try.
      h.pending.unshift(...todo.slice(i));
      h.delayMs = Math.min(h.delayMs * 2, HAND_BACK_MAX_MS);
      scheduleHandBack(deps, h);
      return;
    }
  }
  h.timer = undefined;
  h.delayMs = HAND_BACK_FIRST_MS;
  if (h.pending.length > 0) scheduleHandBack(deps, h);
}

// ---------------------------------------------------------------- SMTP lanes

/**
 * At most `sendLanes` mails of this process on their way to one mailer at a time, whichever batch
 * they belong to, served in order: as many as the pool has connections, so that an outage costs a
 * handful of attempts before the circuit opens, and a batch's alert goes before its reminders.
 *
 * A lane is held for a mail's SMTP conversation. Its mark is written after the lane is free again,
 * while the lane's next mail sends its envelope and body; that mail's data ends (the final `.`,
 * when the SMTP server stores it) only once the mark has been written (`Lane.marked`, passed to the
 * mailer as `endAfter`). So a lane has at most one mail accepted and not yet recorded, as when it
 * was held until the mark, but the mark's round trip no longer idles the SMTP connection.
 */
interface Lane {
  /** The mark of the last mail this lane sent: settled (either way) once it is no longer pending. */
  marked: Promise<void>;
}

class Lanes {
  private readonly free: Lane[];
  private readonly waiting: Array<(lane: Lane) => void> = [];
  private urgentWaiting = 0;
  constructor(size: number) {
    this.free = Array.from({ length: size }, () => ({ marked: Promise.resolve() }));
  }

  /** `urgent`: an alert, served before every routine mail still waiting for a lane. */
  async run<T>(fn: (lane: Lane) => Promise<T>, urgent = false): Promise<T> {
    const lane =
      this.free.pop() ??
      (await new Promise<Lane>((resolve) => {
        if (urgent) this.waiting.splice(this.urgentWaiting++, 0, (l) => (this.urgentWaiting--, resolve(l)));
        else this.waiting.push(resolve);
      }));
    try {
      return await fn(lane);
    } finally {
      const next = this.waiting.shift();
      if (next) next(lane);
      else this.free.push(lane);
    }
  }
}

const lanes = new WeakMap<object, Lanes>();

function lanesOf(deps: SendDeps): Lanes {
  let l = lanes.get(deps.mailer);
  if (!l) lanes.set(deps.mailer, (l = new Lanes(Math.max(1, deps.sendLanes ?? SEND_LANES))));
  return l;
}

// ---------------------------------------------------------------- marking sent, in group commits

/**
 * The SMTP server accepted the mail and the row could not be marked `sent` (the database stalled,
 * say). Retrying the job would send the mail again at once, so the job is not retried; the row
 * stays `sending`, and only after FRISTVAGT_STALE_SENDING_MS does recovery send it again, with
 * the same Message-ID (a database down that long cannot record anything).
 */
export class MarkSentError extends Error {
  readonly code = 'MARK_SENT_FAILED';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MarkSentError';
  }
}

/** Retries a database write for about 12 s (7 attempts), then gives up with a MarkSentError (never retried by the queue). */
export async function retryWrite<T>(write: () => Promise<T>, failure: string, attempts = 7): Promise<T> {
  try {
    return await retryDbWrite(write, attempts);
  } catch (err) {
    throw new MarkSentError(failure, { cause: err });
  }
}

interface Mark {
  rows: OutboxRow[];
  messageId: string;
  response: string;
  extra: Date | null;
  done: (err?: unknown) => void;
}

/**
 * One marker per database client and table: accepted mails join the next write while
 * MARK_WRITES run, and a write starts one turn of the event loop after the mark that asks for it
 * (the SMTP replies read in the same turn go with it).
 * The write commits with synchronous_commit off: visible to every reader (and to the worker's own
 * next claim) at once, on disk within a moment (the WAL writer, about 200 ms). Waiting for the
 * flush here would keep each SMTP lane idle for it and halve the sending rate. What it risks: a
 * crash of Postgres itself (not of a worker) within that moment loses the newest marks; those rows
 * stay `sending` and are sent again after FRISTVAGT_STALE_SENDING_MS, with the same Message-ID,
 * like a mail whose mark could not be written at all.
 */
class Marker {
  private pending: Mark[] = [];
  private writing = 0;
  private armed = false;
  constructor(private readonly kind: OutboxKind<OutboxRow>, private readonly deps: SendDeps) {}

  mark(rows: OutboxRow[], messageId: string, response: string, extra: Date | null): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ rows, messageId, response, extra, done: (err) => (err === undefined ? resolve() : reject(err as Error)) });
      // One turn of the event loop first: the 250s that arrived with this one join its write.
      if (!this.armed) {
        this.armed = true;
        setImmediate(() => {
          this.armed = false;
          this.pump();
        });
      }
    });
  }

  private pump(): void {
    while (this.pending.length > 0 && this.writing < MARK_WRITES) {
      const batch = this.pending.splice(0, 200);
      this.writing++;
      this.write(batch).then(
        () => { for (const m of batch) m.done(); },
        (err: unknown) => { for (const m of batch) m.done(err); },
      ).finally(() => {
        this.writing--;
        this.pump();
      });
    }
  }

  /** Marks accepted mail as sent, retrying the write for about 12 s: a database hiccup here must not turn into a second mail. */
  private async write(batch: Mark[]): Promise<void> {
    const { kind, deps } = this;
    const t = columns(kind);
    const rows = batch.flatMap((m) => m.rows.map((r) => ({ r, m })));
    const at = deps.clock();
    // One statement, one parameter (src/db/bulk.ts): a drizzle CASE over 200 rows built ~40 query
    // objects per mail, about a tenth of the worker's CPU per mail. Only rows still held by this
    // claim (same id, still sending, same attempt) are marked.
    const marked = await retryWrite(
      () =>
        updateJson(
          deps.db,
          t,
          rows.map(({ r, m }) => ({ id: r.id, attempts: r.attempts, status: 'sent', messageId: m.messageId, smtpResponse: m.response, sentAt: at, lastError: null, updatedAt: at, ...extraSet(kind, m.extra) })),
          {
            assign: ['status', 'messageId', 'smtpResponse', 'sentAt', 'lastError', 'updatedAt', ...(kind.extraKey ? [kind.extraKey] : [])],
            // Visible at once, durable a moment later (the WAL writer; see Marker): set for this
            // statement's own transaction, so the mark stays one round trip.
            where: `t.status = 'sending' and t.attempts = u.attempts and (select set_config('synchronous_commit', 'off', true)) is not null`,
          },
        ),
      `${rows.length === 1 ? `mail ${batch[0]?.messageId ?? ''} was` : `${rows.length} mails were`} accepted by the SMTP server but could not be recorded as sent`,
    );
    if (marked.length < rows.length) {
      const got = new Set(marked);
      deps.logger.warn({ ids: rows.filter(({ r }) => !got.has(r.id)).map(({ r }) => r.id), marked: marked.length }, 'mail accepted after the row was taken over by another worker (a send slower than FRISTVAGT_STALE_SENDING_MS); it may arrive twice, with the same Message-ID');
    }
  }
}

const markers = new WeakMap<object, Map<object, Marker>>();

function markerOf(deps: SendDeps, kind: OutboxKind<OutboxRow>): Marker {
  let byDb = markers.get(deps.db as object);
  if (!byDb) markers.set(deps.db as object, (byDb = new Map()));
  let m = byDb.get(kind.table);
  if (!m) byDb.set(kind.table, (m = new Marker(kind, deps)));
  return m;
}
