/** The calendar and policy in force: closure days and policy overrides from settings plus configuration. */
import { createRequire } from 'node:module';
import { eq, inArray } from 'drizzle-orm';
import { z } from 'zod';
import { calendarFor, parseClosureDays, RULES, type Calendar, type PolicyOverrides } from '../domain/index.js';
import type { Executor } from '../db/client.js';
import { settings } from '../db/schema.js';

const require = createRequire(import.meta.url);
const DATE_HOLIDAYS_VERSION = (require('date-holidays/package.json') as { version: string }).version;

export const closureDaysSetting = z.array(z.string().max(10)).max(366).superRefine((list, ctx) => {
  try {
    parseClosureDays(list, 'closureDays');
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
  }
});

const policyValues = z.record(z.string(), z.record(z.string(), z.number().int().min(0).max(366)));

/** Only rules and parameters the catalogue declares; `prefix` is where the overrides sit in the setting. */
function checkDeclared(policy: z.output<typeof policyValues>, ctx: z.RefinementCtx, prefix: string[] = []): void {
  for (const [ruleId, params] of Object.entries(policy)) {
    const rule = RULES.find((r) => r.id === ruleId);
    if (!rule) {
      ctx.addIssue({ code: 'custom', path: [...prefix, ruleId], message: `unknown rule ${ruleId}` });
      continue;
    }
    for (const name of Object.keys(params)) {
      if (!rule.defaults || !(name in rule.defaults)) ctx.addIssue({ code: 'custom', path: [...prefix, ruleId, name], message: `rule ${ruleId} has no parameter ${name}` });
    }
  }
}

/** rule id → parameter → positive integer, only for parameters the catalogue declares. */
export const policySetting = policyValues.superRefine((policy, ctx) => checkDeclared(policy, ctx));

/**
 * area id → the same as `policy`, for the records of that area (e.g. `{"nord": {"cell.case-review":
 * {"enabled": 0}}}`); what an area does not set comes from `policy`, then from the catalogue.
 */
export const policyByAreaSetting = z.record(z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be an area id'), policyValues).superRefine((byArea, ctx) => {
  for (const [areaId, policy] of Object.entries(byArea)) checkDeclared(policy, ctx, [areaId]);
});

export interface RulesInForce {
  calendar: Calendar;
  /** The policy for all areas (the `policy` setting). */
  policy: PolicyOverrides;
  /** The policy for the records of one area: `policyByArea` over `policy`. The same object while the settings stay. */
  policyFor(areaId: string): PolicyOverrides;
  closureDays: string[];
  calendarVersion: string;
}

/**
 * Merged policies by their settings' text. The engine caches its rule contexts per policy object
 * (a WeakMap), so the same settings must give the same object, across loads too. Bounded: a
 * settings change makes new entries, and the old ones go when it is full.
 */
const mergedPolicies = new Map<string, PolicyOverrides>();
const MERGED_MAX = 256;

function mergedPolicy(policy: PolicyOverrides, area: PolicyOverrides | undefined): PolicyOverrides {
  const key = JSON.stringify([policy, area ?? null]);
  let merged = mergedPolicies.get(key);
  if (!merged) {
    merged = { ...policy };
    for (const [ruleId, params] of Object.entries(area ?? {})) merged[ruleId] = { ...policy[ruleId], ...params };
    if (mergedPolicies.size >= MERGED_MAX) mergedPolicies.clear();
    mergedPolicies.set(key, merged);
  }
  return merged;
}

export type PolicyByArea = z.output<typeof policyByAreaSetting>;

/** The policy for the records of one area: its overrides over `policy`; the same object for the same settings. */
export function policyForArea(policy: PolicyOverrides, byArea: PolicyByArea, areaId: string): PolicyOverrides {
  return mergedPolicy(policy, Object.hasOwn(byArea, areaId) ? byArea[areaId] : undefined);
}

/** The stored `policyByArea` setting (empty when unset or no longer valid). */
export async function loadPolicyByArea(db: Executor): Promise<PolicyByArea> {
  const [row] = await db.select().from(settings).where(eq(settings.key, 'policyByArea'));
  const parsed = policyByAreaSetting.safeParse(row?.value ?? {});
  return parsed.success ? parsed.data : {};
}

/** The rules in force for given settings: the stored ones (loadRulesInForce) or proposed ones (the impact preview). */
export function rulesInForceOf(configClosureDays: readonly string[], s: { closureDays: readonly string[]; policy: PolicyOverrides; policyByArea: PolicyByArea }): RulesInForce {
  const closureDays = [...new Set([...configClosureDays, ...s.closureDays])].sort();
  const policy = mergedPolicy(s.policy, undefined);
  const areas = s.policyByArea;
  return {
    calendar: calendarFor(closureDays),
    policy,
    policyFor: (areaId) => policyForArea(policy, areas, areaId),
    closureDays,
    calendarVersion: `date-holidays@${DATE_HOLIDAYS_VERSION};closures=${closureDays.join(',')}`,
  };
}

export async function loadRulesInForce(db: Executor, configClosureDays: readonly string[]): Promise<RulesInForce> {
  const rows = await db.select().from(settings).where(inArray(settings.key, ['closureDays', 'policy', 'policyByArea']));
  const fromSettings = closureDaysSetting.safeParse(rows.find((r) => r.key === 'closureDays')?.value ?? []);
  const parsed = policySetting.safeParse(rows.find((r) => r.key === 'policy')?.value ?? {});
  const byArea = policyByAreaSetting.safeParse(rows.find((r) => r.key === 'policyByArea')?.value ?? {});
  return rulesInForceOf(configClosureDays, { closureDays: fromSettings.success ? fromSettings.data : [], policy: parsed.success ? parsed.data : {}, policyByArea: byArea.success ? byArea.data : {} });
}

export async function getSetting(db: Executor, key: string): Promise<unknown> {
  const [row] = await db.select().from(settings).where(eq(settings.key, key));
  return row?.value;
}
