/** The worker's tunable settings (schedule, recipients, digest), stored in `settings` and audited like the rest. */
import { inArray } from 'drizzle-orm';
import { z } from 'zod';
import { DEFAULT_RECENT_WORKING_DAYS, DEFAULT_SCHEDULE, minutesOf, RULE_IDS } from '../domain/index.js';
import type { Executor } from '../db/client.js';
import { settings } from '../db/schema.js';

const hhmm = z.string().refine((s) => {
  try {
    minutesOf(s);
    return true;
  } catch {
    return false;
  }
}, 'must be a time of day HH:MM');

const stage = z.strictObject({
  id: z.string().regex(/^(reminder|escalation)-[a-z0-9-]{1,40}$/, 'must look like reminder-… or escalation-…'),
  kind: z.enum(['reminder', 'escalation']),
  audience: z.enum(['responsible', 'area_office', 'second_level']),
  workingDays: z.number().int().min(0).max(30),
  at: hhmm,
});

export const scheduleSetting = z.strictObject({
  stages: z.array(stage).max(10),
  window: z.strictObject({ from: hhmm, to: hhmm }).refine((w) => minutesOf(w.from) < minutesOf(w.to), 'from must be before to'),
  noWaitRules: z.array(z.string().refine((r) => RULE_IDS.includes(r), 'unknown rule id')),
  /** Per-rule stage lists that replace the default stages for that rule. */
  perRule: z.record(z.string().refine((r) => RULE_IDS.includes(r), 'unknown rule id'), z.array(stage).max(10)).optional(),
}).superRefine((s, ctx) => {
  const ids = s.stages.map((x) => x.id);
  if (new Set(ids).size !== ids.length) ctx.addIssue({ code: 'custom', path: ['stages'], message: 'stage ids must be unique' });
  s.stages.forEach((x, i) => {
    if (!x.id.startsWith(x.kind)) ctx.addIssue({ code: 'custom', path: ['stages', i, 'id'], message: `must start with ${x.kind}` });
  });
});

const email = z.email('not a valid e-mail address');
export const recipientsSetting = z.strictObject({
  /** Unset (null) until an administrator sets it: the preliminary notice refuses to go without it. */
  ombudsman: email.nullable().default(null),
  /** Unset (null) until an administrator sets it. */
  directorate: email.nullable().default(null),
  admins: z.array(email).min(1).max(20),
});

/**
 * Policy, not law (README "Go-live"): an immediate alert is mailed only when its record arrived
 * within `workingDays` working days of the alert's trigger; older ones are listed in the backlog.
 */
export const recencySetting = z.strictObject({
  workingDays: z.number().int().min(0).max(30),
});

export type ScheduleSetting = z.output<typeof scheduleSetting>;
export type RecipientsSetting = z.output<typeof recipientsSetting>;
export type RecencySetting = z.output<typeof recencySetting>;

export const DEFAULT_RECIPIENTS: RecipientsSetting = { ombudsman: null, directorate: null, admins: ['fristvagt-drift@kriminalforsorgen.dk'] };
export const DEFAULT_RECENCY: RecencySetting = { workingDays: DEFAULT_RECENT_WORKING_DAYS };

export interface WorkerSettings {
  schedule: ScheduleSetting;
  recipients: RecipientsSetting;
  digest: boolean;
  recency: RecencySetting;
}

export async function loadWorkerSettings(db: Executor): Promise<WorkerSettings> {
  return workerSettingsOf(await db.select().from(settings).where(inArray(settings.key, ['schedule', 'recipients', 'digest', 'recency'])));
}

/** The worker's settings from stored rows; a key that is missing (or no longer valid) has its default. */
export function workerSettingsOf(rows: ReadonlyArray<{ key: string; value: unknown }>): WorkerSettings {
  const schedule = scheduleSetting.safeParse(rows.find((r) => r.key === 'schedule')?.value);
  const recipients = recipientsSetting.safeParse(rows.find((r) => r.key === 'recipients')?.value);
  const digest = z.boolean().safeParse(rows.find((r) => r.key === 'digest')?.value);
  const recency = recencySetting.safeParse(rows.find((r) => r.key === 'recency')?.value);
  return {
    schedule: schedule.success ? schedule.data : DEFAULT_SCHEDULE,
    recipients: recipients.success ? recipients.data : DEFAULT_RECIPIENTS,
    digest: digest.success ? digest.data : true,
    recency: recency.success ? recency.data : DEFAULT_RECENCY,
  };
}

/** The stages of one rule (the planning core's, src/domain/plan.ts). */
export { scheduleFor } from '../domain/index.js';

/** The external recipients an administrator has not set yet (config check, /readyz, the sweep's warning). */
export function unsetRecipients(r: RecipientsSetting): Array<'ombudsman' | 'directorate'> {
  return (['ombudsman', 'directorate'] as const).filter((k) => r[k] === null);
}
