/**
 * Storing computed deadlines, many records at a time: one read of what is stored, one upsert of
 * the rows whose values changed, one update of the rows that no longer apply. A row whose values
 * are what the engine computes again is not written: `computed_at` is when its stored values were
 * computed (last changed), which is also what the calendar feeds give as LAST-MODIFIED.
 */
import { and, inArray, type SQL } from 'drizzle-orm';
import { CATALOGUE_VERSION, type Deadline, type DeadlineSet } from '../domain/index.js';
import { insertJson, selectRows, updateJson } from '../db/bulk.js';
import type { Executor } from '../db/client.js';
import { deadlines } from '../db/schema.js';
import type { RulesInForce } from './calendar.js';
import type { AnyRow, KindDescriptor, RecordTypeName } from './kinds.js';

/** Deadline rows as stored. */
export function deadlineRows(kind: KindDescriptor, row: AnyRow, areaId: string, list: readonly Deadline[], rules: RulesInForce, now: Date) {
  const institutionId = (row as { institutionId: string }).institutionId;
  return list.map((d) => ({
    recordType: kind.type,
    recordId: row.id,
    institutionId,
    areaId,
    key: d.key,
    ruleId: d.rule,
    basis: d.basis,
    obligation: d.obligation,
    citation: d.citation,
    explanation: d.explanation,
    startDate: d.startDate,
    dueDate: d.dueDate,
    dueAt: new Date(d.dueAt),
    originalDueDate: d.originalDueDate ?? null,
    status: d.status,
    suspended: d.suspended ?? false,
    completedAt: d.completedAt ? new Date(Date.parse(d.completedAt)) : null,
    calendarVersion: rules.calendarVersion,
    catalogueVersion: CATALOGUE_VERSION,
    computedAt: now,
    active: true,
    endedBy: d.endedBy ?? null,
    endedAt: d.endedAt ? new Date(Date.parse(d.endedAt)) : null,
  }));
}

export interface DeadlinesOf {
  kind: KindDescriptor;
  row: AnyRow;
  areaId: string;
  set: DeadlineSet;
}

type Stored = typeof deadlines.$inferSelect;
type Computed = ReturnType<typeof deadlineRows>[number];

/** Values compared to decide whether a stored row must be written (everything but `computedAt`). */
const COMPARED = ['institutionId', 'areaId', 'ruleId', 'basis', 'obligation', 'citation', 'explanation', 'startDate', 'dueDate', 'dueAt', 'originalDueDate', 'status', 'suspended', 'completedAt', 'calendarVersion', 'catalogueVersion', 'active', 'endedBy', 'endedAt'] as const;

function same(a: unknown, b: unknown): boolean {
  if (a instanceof Date || b instanceof Date) return a instanceof Date && b instanceof Date && a.getTime() === b.getTime();
  return (a ?? null) === (b ?? null);
}

function unchanged(stored: Stored, computed: Computed): boolean {
  return COMPARED.every((c) => same(stored[c], computed[c]));
}

const toSnake = (s: string): string => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
const UPSERT = `ON CONFLICT (record_type, record_id, key) DO UPDATE SET ${[...COMPARED, 'computedAt'].map((c) => `${toSnake(c)} = excluded.${toSnake(c)}`).join(', ')}`;

export interface StoreResult {
  /** `<recordType>:<recordId>` → deadline key → the stored row's id (active rows). */
  ids: Map<string, Map<string, string>>;
  written: number;
  unchanged: number;
  deactivated: number;
}

export const recordKey = (type: RecordTypeName | string, id: string): string => `${type}:${id}`;

/** Stores the deadlines of many records inside the caller's transaction. */
export async function storeDeadlines(tx: Executor, items: readonly DeadlinesOf[], rules: RulesInForce, now: Date): Promise<StoreResult> {
  const result: StoreResult = { ids: new Map(), written: 0, unchanged: 0, deactivated: 0 };
  if (items.length === 0) return result;
  const stored = await selectRows(tx, deadlines, and(inArray(deadlines.recordId, items.map((i) => i.row.id)), inArray(deadlines.recordType, [...new Set(items.map((i) => i.kind.type))])) as SQL);
  const storedBy = new Map<string, Stored>();
  const storedOf = new Map<string, Stored[]>();
  for (const s of stored) {
    const rk = recordKey(s.recordType, s.recordId);
    storedBy.set(`${rk}|${s.key}`, s);
    const list = storedOf.get(rk);
    if (list) list.push(s);
    else storedOf.set(rk, [s]);
  }
  const write: Computed[] = [];
  const deactivate: Array<{ id: string; computedAt: Date }> = [];
  for (const item of items) {
    const rk = recordKey(item.kind.type, item.row.id);
    const ids = new Map<string, string>();
    result.ids.set(rk, ids);
    const computed = deadlineRows(item.kind, item.row, item.areaId, item.set.deadlines, rules, now);
    const keys = new Set<string>();
    for (const c of computed) {
      keys.add(c.key);
      const s = storedBy.get(`${rk}|${c.key}`);
      if (s && unchanged(s, c)) {
        ids.set(c.key, s.id);
        result.unchanged++;
      } else write.push(c);
    }
    // Deadlines that no longer apply (an open one dropped by a reclassification, a rule turned off) stay for history, inactive.
    for (const s of storedOf.get(rk) ?? []) {
      if (s.active && !keys.has(s.key)) deactivate.push({ id: s.id, computedAt: now });
    }
  }
  for (let i = 0; i < write.length; i += 1000) {
    const back = await insertJson(tx, deadlines, write.slice(i, i + 1000), { onConflict: UPSERT, returning: ['id', 'recordType', 'recordId', 'key'] });
    for (const r of back) result.ids.get(recordKey(r['recordType'] as string, r['recordId'] as string))?.set(r['key'] as string, r['id'] as string);
  }
  result.written = write.length;
  if (deactivate.length > 0) {
    await updateJson(tx, deadlines, deactivate, { assign: ['computedAt'], set: 'active = false' });
    result.deactivated = deactivate.length;
  }
  return result;
}
