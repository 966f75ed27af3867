/** Settings an administrator tunes (closure days, policy defaults); every change is audited. */
import { asc, eq } from 'drizzle-orm';
import type { z } from 'zod';
import { appendAudit } from '../db/audit.js';
import { settings } from '../db/schema.js';
import { z as zod } from 'zod';
import type { Executor } from '../db/client.js';
import { RULES } from '../domain/index.js';
import { recencySetting, recipientsSetting, scheduleSetting } from '../worker/settings.js';
import { closureDaysSetting, policyByAreaSetting, policySetting } from './calendar.js';
import { ServiceError, validationError } from './errors.js';
import { zodIssues, type Actor, type ServiceContext } from './service.js';
import { NUL_MESSAGE } from './values.js';

/**
 * The first string (key or value) holding U+0000, as a field path. Settings are jsonb, which cannot
 * store it (SQLSTATE 22P05), and their schemas live with their owners (the worker's among them).
 */
function nulPath(v: unknown, path: string): string | undefined {
  if (typeof v === 'string') return v.includes('\u0000') ? path : undefined;
  if (Array.isArray(v)) {
    for (const [i, x] of v.entries()) {
      const found = nulPath(x, `${path}[${i}]`);
      if (found) return found;
    }
    return undefined;
  }
  if (v !== null && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      if (k.includes('\u0000')) return path;
      const found = nulPath(x, `${path}.${k}`);
      if (found) return found;
    }
  }
  return undefined;
}

/** The rules compliance is measured for: deadlines that are duties (the inmate's complaint window is a right). */
export const COMPLIANCE_RULE_IDS: readonly string[] = RULES.filter((r) => r.timing === 'deadline' && r.obligation === 'duty').map((r) => r.id);

/**
 * Compliance targets an administrator sets: per rule, the share of decided deadlines (met on time,
 * met late or breached) to be met on time, in percent with at most one decimal. A rule without an
 * entry has no target.
 */
export const complianceTargetsSetting = zod.record(
  zod.string().refine((id) => COMPLIANCE_RULE_IDS.includes(id), 'unknown rule id (or not a duty with a deadline)'),
  zod.number().min(0).max(100).refine((v) => Math.abs(Math.round(v * 10) - v * 10) < 1e-9, 'at most one decimal'),
);
export type ComplianceTargets = Record<string, number>;

/** The stored targets ({} when none are set, or when the stored value no longer parses). */
export async function loadComplianceTargets(db: Executor): Promise<ComplianceTargets> {
  const [row] = await db.select({ value: settings.value }).from(settings).where(eq(settings.key, 'complianceTargets'));
  const parsed = complianceTargetsSetting.safeParse(row?.value ?? {});
  return parsed.success ? parsed.data : {};
}

/** Known settings and their schemas; other keys are refused. The worker's keys join this table. */
export const SETTINGS: Record<string, z.ZodType<unknown>> = {
  closureDays: closureDaysSetting,
  policy: policySetting,
  policyByArea: policyByAreaSetting,
  schedule: scheduleSetting,
  recipients: recipientsSetting,
  digest: zod.boolean(),
  recency: recencySetting,
  complianceTargets: complianceTargetsSetting,
};

export async function listSettings(ctx: ServiceContext, actor: Actor) {
  if (actor.role !== 'admin') throw new ServiceError('FORBIDDEN', 'only admin tokens may read settings');
  return ctx.db.select().from(settings).orderBy(asc(settings.key));
}

export async function putSetting(ctx: ServiceContext, key: string, body: unknown, actor: Actor) {
  if (actor.role !== 'admin') throw new ServiceError('FORBIDDEN', 'only admin tokens may change settings');
  // Own keys only: `__proto__`, `constructor` or `toString` must not find Object.prototype's members.
  const schema = Object.hasOwn(SETTINGS, key) ? SETTINGS[key] : undefined;
  if (!schema) throw new ServiceError('NOT_FOUND', `no setting ${key} (known: ${Object.keys(SETTINGS).join(', ')})`);
  const value = (body as { value?: unknown } | null)?.value;
  const nul = nulPath(value, 'value');
  if (nul) throw validationError([{ path: nul, message: NUL_MESSAGE }]);
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw validationError(zodIssues(parsed.error, ['value']));
  const now = ctx.clock();
  return ctx.db.transaction(async (tx) => {
    const [before] = await tx.select().from(settings).where(eq(settings.key, key));
    const [row] = await tx
      .insert(settings)
      .values({ key, value: parsed.data as object, updatedAt: now, updatedBy: actor.name })
      .onConflictDoUpdate({ target: settings.key, set: { value: parsed.data as object, updatedAt: now, updatedBy: actor.name } })
      .returning();
    await appendAudit(tx, { actor: actor.name, action: 'settings.update', entityType: 'setting', entityId: key, before: before?.value ?? null, after: parsed.data }, now);
    return row;
  });
}
