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

/** rule id → parameter → positive integer, only for parameters the catalogue declares. */
export const policySetting = z.record(z.string(), z.record(z.string(), z.number().int().min(0).max(366))).superRefine((policy, ctx) => {
  for (const [ruleId, params] of Object.entries(policy)) {
    const rule = RULES.find((r) => r.id === ruleId);
    if (!rule) {
      ctx.addIssue({ code: 'custom', path: [ruleId], message: `unknown rule ${ruleId}` });
      continue;
    }
    for (const name of Object.keys(params)) {
      if (!rule.defaults || !(name in rule.defaults)) ctx.addIssue({ code: 'custom', path: [ruleId, name], message: `rule ${ruleId} has no parameter ${name}` });
    }
  }
});

export interface RulesInForce {
  calendar: Calendar;
  policy: PolicyOverrides;
  closureDays: string[];
  calendarVersion: string;
}

export async function loadRulesInForce(db: Executor, configClosureDays: readonly string[]): Promise<RulesInForce> {
  const rows = await db.select().from(settings).where(inArray(settings.key, ['closureDays', 'policy']));
  const fromSettings = closureDaysSetting.safeParse(rows.find((r) => r.key === 'closureDays')?.value ?? []);
  const policy = policySetting.safeParse(rows.find((r) => r.key === 'policy')?.value ?? {});
  const closureDays = [...new Set([...configClosureDays, ...(fromSettings.success ? fromSettings.data : [])])].sort();
  return {
    calendar: calendarFor(closureDays),
    policy: policy.success ? policy.data : {},
    closureDays,
    calendarVersion: `date-holidays@${DATE_HOLIDAYS_VERSION};closures=${closureDays.join(',')}`,
  };
}

export async function getSetting(db: Executor, key: string): Promise<unknown> {
  const [row] = await db.select().from(settings).where(eq(settings.key, key));
  return row?.value;
}
