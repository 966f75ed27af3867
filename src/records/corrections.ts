/**
 * Undoing and correcting recorded events. An event is known by the audit entry that recorded it
 * (`<type>.event.<name>`, its id is the event's id). Each undo or correction is an audit entry of
 * its own (`<type>.event.<name>.undo` / `.correct`) whose `after` names the event (`correctionOf`)
 * and keeps the reason (`correctionReason`, personal: kept apart and erasable like every free
 * text). No column is needed: the audit log already holds the record before the event and after
 * its latest version, and what the event changed is the difference between the two.
 *
 * Undoing puts every field and history row the event changed back as it was before the event,
 * provided nothing changed them since (otherwise the later change must be undone first: a 409
 * naming the field). A correction is the undo and the corrected event in one write. Both go
 * through the service's `change` (service.ts): same scope checks, engine validation, idempotency,
 * audit and re-planning as every other write.
 */
import { and, eq, like } from 'drizzle-orm';
import { z } from 'zod';
import { canonicalJson, readAudit } from '../db/audit.js';
import type { Executor } from '../db/client.js';
import { auditLog, noticeArchive } from '../db/schema.js';
import { ServiceError, type FieldIssue } from './errors.js';
import { eventFields, HISTORY_LISTS, type AnyRow, type ChildOp, type KindDescriptor } from './kinds.js';
import { plainString, toTimestamp } from './values.js';

export const correctionReason = plainString().trim().min(1).max(2000);
/** `POST …/events/:eventId/undo`. */
export const undoBody = z.strictObject({ reason: correctionReason });
/** `POST …/events/:eventId/correct`: the event is checked with the kind's event schema (its issues under `event.`). */
export const correctBody = z.strictObject({ reason: correctionReason, event: z.unknown() });
/** The correction body as documented, with the kind's own event schema. */
export function correctBodyOf(kind: KindDescriptor): z.ZodType {
  return z.strictObject({ reason: correctionReason, event: kind.event });
}

export type CorrectionMode = 'record' | 'correct' | 'undo';

export interface EventEntry {
  auditId: number;
  at: Date;
  actor: string;
  mode: CorrectionMode;
  reason: string | null;
  before: Record<string, unknown>;
  after: Record<string, unknown>;
}

export interface EventChain {
  /** The audit entry that recorded the event. */
  id: number;
  type: string;
  /** The registration first, then each correction and undo in order. */
  entries: EventEntry[];
  status: 'recorded' | 'corrected' | 'undone';
}

/** What readAudit gives for a personal value retention erased: recognised by identity. */
const ERASED = Object.freeze({ erased: true });

/** A value as an event's view shows it: an erased personal value is null there. */
export function shownValue(v: unknown): unknown {
  return v === ERASED ? null : v;
}

export function parseEventId(eventId: string): number {
  if (!/^[1-9]\d{0,14}$/.test(eventId)) throw new ServiceError('NOT_FOUND', `no event ${eventId} on this record`);
  return Number(eventId);
}

function asObject(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

/** Every recorded event of a record with its corrections, oldest first. */
export async function loadEventChains(db: Executor, kind: KindDescriptor, recordId: string): Promise<EventChain[]> {
  const prefix = `${kind.type}.event.`;
  const rows = await readAudit(db, and(eq(auditLog.entityType, kind.type), eq(auditLog.entityId, recordId), like(auditLog.action, `${prefix}%`)), ERASED);
  const chains = new Map<number, EventChain>();
  for (const r of rows) {
    const [type = '', suffix] = r.action.slice(prefix.length).split('.');
    const after = asObject(r.after);
    const mode: CorrectionMode = suffix === 'undo' || suffix === 'correct' ? suffix : 'record';
    const reason = typeof after['correctionReason'] === 'string' ? after['correctionReason'] : null;
    const entry: EventEntry = { auditId: r.id, at: r.at, actor: r.actor, mode, reason, before: asObject(r.before), after };
    if (mode === 'record') {
      chains.set(r.id, { id: r.id, type, entries: [entry], status: 'recorded' });
      continue;
    }
    const chain = chains.get(Number(after['correctionOf']));
    if (!chain) continue;
    chain.entries.push(entry);
    chain.status = mode === 'undo' ? 'undone' : 'corrected';
  }
  return [...chains.values()];
}

/** The chain of one event, refused when it cannot be changed any more (undone, or a notice fristvagt sent). */
export async function loadEventChain(db: Executor, kind: KindDescriptor, recordId: string, eventId: number): Promise<EventChain> {
  const chain = (await loadEventChains(db, kind, recordId)).find((c) => c.id === eventId);
  if (!chain) throw new ServiceError('NOT_FOUND', `no event ${eventId} on this record`);
  if (chain.status === 'undone') throw new ServiceError('CONFLICT', `event ${eventId} is undone already`, { issues: [{ path: 'eventId', message: 'is undone already' }] });
  if (await lockedBy(db, kind, recordId, chain)) throw new ServiceError('CONFLICT', `event ${eventId}: the preliminary notice was sent by fristvagt (archived messages); it cannot be undone or corrected`, { issues: [{ path: 'eventId', message: 'the preliminary notice was sent by fristvagt' }] });
  return chain;
}

/** Why an event cannot be undone or corrected: a preliminary notice fristvagt itself sent (its messages are archived). */
export async function lockedBy(db: Executor, kind: KindDescriptor, recordId: string, chain: EventChain): Promise<'notice_sent' | undefined> {
  if (kind.type !== 'incident' || chain.type !== 'preliminary_notice_sent') return undefined;
  const [sent] = await db.select({ id: noticeArchive.id }).from(noticeArchive).where(and(eq(noticeArchive.recordType, 'incident'), eq(noticeArchive.recordId, recordId))).limit(1);
  return sent ? 'notice_sent' : undefined;
}

const same = (a: unknown, b: unknown): boolean => canonicalJson(a ?? null) === canonicalJson(b ?? null);

type Item = Record<string, unknown> & { id: string };
function items(v: unknown): Item[] {
  return Array.isArray(v) ? (v as Item[]).filter((x) => x !== null && typeof x === 'object' && typeof x.id === 'string') : [];
}

/** The record before the event and after its latest version (audit views). */
function ends(chain: EventChain): { base: Record<string, unknown>; result: Record<string, unknown> } {
  const versions = chain.entries.filter((e) => e.mode !== 'undo');
  return { base: (chain.entries[0] as EventEntry).before, result: (versions.at(-1) ?? (chain.entries[0] as EventEntry)).after };
}

export interface EventChange {
  field: string;
  before: unknown;
  after: unknown;
}

/** What an event changed, as it stands: fields, history rows it added and history rows it updated. */
export function eventChanges(kind: KindDescriptor, row: AnyRow, chain: EventChain): { fields: EventChange[]; added: Array<{ list: string; item: Item }>; updated: Array<{ list: string; before: Item; after: Item }> } {
  const { base, result } = ends(chain);
  const derived = new Set(Object.keys(kind.derivedColumns?.(row) ?? {}));
  const fields = Object.keys(kind.fields).filter((f) => !derived.has(f) && !same(base[f], result[f])).map((f) => ({ field: f, before: base[f] ?? null, after: result[f] ?? null }));
  const added: Array<{ list: string; item: Item }> = [];
  const updated: Array<{ list: string; before: Item; after: Item }> = [];
  for (const list of HISTORY_LISTS) {
    const was = new Map(items(base[list]).map((x) => [x.id, x]));
    for (const x of items(result[list])) {
      const old = was.get(x.id);
      if (!old) added.push({ list, item: x });
      else if (!same(old, x)) updated.push({ list, before: old, after: x });
    }
  }
  return { fields, added, updated };
}

const CHANGED_SINCE = 'has been changed since the event was recorded; undo or correct that change first';

/**
 * The columns and child-row operations that put back what the event changed. `current` is the
 * record's audit view now: whatever the event set must still be as it left it.
 */
export function revertEvent(kind: KindDescriptor, row: AnyRow, chain: EventChain, current: Record<string, unknown>): { columns: Record<string, unknown>; children: ChildOp[] } {
  const { base, result } = ends(chain);
  const { fields, added, updated } = eventChanges(kind, row, chain);
  const conflicts: FieldIssue[] = [];
  const patch: Record<string, unknown> = {};
  for (const c of fields) {
    if (c.before === ERASED || c.after === ERASED) conflicts.push({ path: c.field, message: 'was erased by retention; the event can no longer be undone or corrected' });
    else if (!same(current[c.field], c.after)) conflicts.push({ path: c.field, message: CHANGED_SINCE });
    else patch[c.field] = c.before;
  }
  const children: ChildOp[] = [];
  for (const { list, item } of added) {
    if (!items(current[list]).some((x) => x.id === item.id)) conflicts.push({ path: list, message: CHANGED_SINCE });
    else children.push({ table: 'history-delete', list: list as (typeof HISTORY_LISTS)[number], id: item.id });
  }
  for (const u of updated) {
    const now = items(current[u.list]).find((x) => x.id === u.after.id);
    // Events update one thing of a history row: a plan's update after a transfer or a parole decision.
    if ((u.list !== 'transfers' && u.list !== 'paroleDecisions') || !same({ ...u.before, planUpdatedAt: null }, { ...u.after, planUpdatedAt: null })) {
      conflicts.push({ path: u.list, message: 'the event changed a history entry in a way that cannot be put back here' });
    } else if (!now || !same(now['planUpdatedAt'], u.after['planUpdatedAt'])) conflicts.push({ path: u.list, message: CHANGED_SINCE });
    else {
      const was = u.before['planUpdatedAt'];
      children.push({ table: 'history-plan-updated', list: u.list, id: u.after.id, planUpdatedAt: typeof was === 'string' ? toTimestamp(was) : null });
    }
  }
  for (const list of HISTORY_LISTS) {
    const kept = new Set(items(result[list]).map((x) => x.id));
    if (items(base[list]).some((x) => !kept.has(x.id))) conflicts.push({ path: list, message: 'the event removed a history entry, which cannot be put back here' });
  }
  if (conflicts.length > 0) throw new ServiceError('CONFLICT', `event ${chain.id}: ${conflicts[0]?.path ?? ''}: ${conflicts[0]?.message ?? ''}`, { issues: conflicts });
  // Through the field table's schemas (the institution too: a transfer changed it), as every write's values.
  const parsed = z.strictObject(Object.fromEntries(Object.keys(patch).map((f) => [f, (kind.fields[f] as z.ZodType).optional()]))).safeParse(patch);
  if (!parsed.success) throw new ServiceError('CONFLICT', `event ${chain.id}: the record before the event does not pass today's schema`, { issues: parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) });
  return { columns: kind.columns(parsed.data), children };
}

/** Record fields an event field is stored in, where the names differ (a best guess for the correction form). */
const STORED_AS: Record<string, readonly string[]> = {
  reason: ['followUpPostponedReason'],
  newDate: ['followUpRescheduledTo'],
  reviewer: ['caseReviewer'],
  outcome: ['caseReviewOutcome'],
  value: ['mediaAttention'],
};

/**
 * The event as it was recorded (its latest version), as far as the record tells: the values a
 * correction form starts from. `at` is the instant the event set, or its history row's time.
 */
export function recordedValues(kind: KindDescriptor, row: AnyRow, chain: EventChain): Record<string, unknown> {
  const { result } = ends(chain);
  const { fields, added, updated } = eventChanges(kind, row, chain);
  const after = new Map(fields.map((c) => [c.field, c.after]));
  const item = added[0]?.item ?? updated[0]?.after;
  const out: Record<string, unknown> = {};
  const instant = fields.find((c) => typeof c.after === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(c.after));
  const itemAt = updated[0] ? updated[0].after['planUpdatedAt'] : (item?.['at'] ?? item?.['notifiedAt']);
  for (const f of eventFields(kind, chain.type) ?? []) {
    if (f.name === 'at') out['at'] = itemAt ?? instant?.after ?? null;
    else if (f.name === 'kind' && item && 'toKind' in item) out['kind'] = item['toKind'];
    else if (f.name === 'reason' && added[0]?.list === 'delayNotices') {
      const i = items(result['delayNotices']).findIndex((x) => x.id === added[0]?.item.id);
      out['reason'] = (result['delayNoticeReasons'] as unknown[] | null | undefined)?.[i] ?? null;
    } else if (f.name === 'reason' && added[0]?.list === 'reclassifications') {
      const i = items(result['reclassifications']).findIndex((x) => x.id === added[0]?.item.id);
      out['reason'] = (result['reclassificationReasons'] as unknown[] | null | undefined)?.[i] ?? null;
    } else if (f.name === 'transferId' || f.name === 'decisionId') out[f.name] = updated[0]?.after.id ?? null;
    else if (item && f.name in item) out[f.name] = item[f.name];
    else if (after.has(f.name)) out[f.name] = after.get(f.name);
    else {
      const stored = (STORED_AS[f.name] ?? []).find((s) => after.has(s));
      if (stored) out[f.name] = after.get(stored);
      else if (f.input === 'boolean') out[f.name] = f.name === 'municipalityContacted' ? after.has('municipalityContactedAt') : (result[f.name] ?? null);
    }
    if (out[f.name] === ERASED) out[f.name] = null;
  }
  return out;
}
