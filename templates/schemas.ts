/**
 * One zod schema per template: the variables it needs, all strings already formatted. Staff
 * mails (reminders, escalations, alerts) refuse anything CPR-shaped; only the legal preliminary
 * notice (§ 6 stk. 3) carries the CPR number, in its body.
 */
import { z } from 'zod';
import { containsCprLike } from '../src/domain/cpr.js';

const text = z.string().min(1).max(20_000);
/** A section's variable: empty leaves the section out (render.ts). */
const optional = z.string().max(20_000);
// The scrubber's own pattern (dash, space, en dash or none): what it would mask, a staff mail refuses.
const noCpr = text.refine((s) => !containsCprLike(s), 'must not contain a CPR number');
const url = z.url();

const deadlineVars = {
  recipientName: noCpr,
  title: noCpr,
  titleEn: noCpr,
  dueDate: z.string().regex(/^\d{2}\.\d{2}\.\d{4}$/),
  dueWeekday: noCpr,
  dueWeekdayEn: noCpr,
  journalNumber: noCpr,
  institutionName: noCpr,
  whatToDo: noCpr,
  whatToDoEn: noCpr,
  explanation: noCpr,
  explanationEn: noCpr,
  citation: noCpr,
  basisDa: z.enum(['lov', 'praksis fastsat af administrator']),
  basisEn: z.enum(['law', 'policy set by an administrator']),
  link: url,
};

export const TEMPLATE_SCHEMAS = {
  reminder: z.strictObject(deadlineVars),
  escalation: z.strictObject({ ...deadlineVars, responsible: noCpr, levelDa: noCpr, levelEn: noCpr }),
  'alert-area-director': z.strictObject({ recipientName: noCpr, kindDa: noCpr, kindEn: noCpr, journalNumber: noCpr, institutionName: noCpr, occurredAt: noCpr, citation: noCpr, deadlineLines: noCpr, link: url }),
  'alert-directorate-phone': z.strictObject({ kindDa: noCpr, journalNumber: noCpr, institutionName: noCpr, occurredAt: noCpr, citation: noCpr, link: url }),
  'preliminary-notice': z.strictObject({
    citation: text,
    areaName: text,
    institutionName: text,
    inmateName: text,
    cpr: z.string().regex(/^\d{6}-\d{4}$/),
    kindDa: text,
    occurredAt: text,
    description: text,
    journalNumber: text,
    /** Sections: an empty string leaves the section out. */
    remarks: optional,
    noticeLate: optional,
    lateReason: optional,
    finalDue: optional,
    finalDelayed: optional,
    finalOverdue: optional,
    finalSubmitted: optional,
    senderName: text,
    senderTitle: text,
  }),
  digest: z.strictObject({ recipientName: noCpr, count: z.string().regex(/^\d+$/), dayDa: noCpr, items: noCpr, itemsEn: noCpr, link: url }),
  'backlog-summary': z.strictObject({ areaName: noCpr, count: z.string().regex(/^\d+$/), dayDa: noCpr, table: noCpr, recencyDays: z.string().regex(/^\d+$/), link: url }),
  'annual-overview': z.strictObject({
    areaName: noCpr,
    year: z.string().regex(/^\d{4}$/),
    total: z.string().regex(/^\d+$/),
    noticeRate: noCpr,
    reportRate: noCpr,
    table: noCpr,
    csvName: z.string().regex(/^[\w.-]+\.csv$/),
    dueWeekday: noCpr,
    dueDate: z.string().regex(/^\d{2}\.\d{2}\.\d{4}$/),
    citation: noCpr,
    link: url,
  }),
  'failure-report': z.strictObject({ notificationId: noCpr, journalNumber: noCpr, stage: noCpr, recipient: noCpr, error: noCpr }),
} as const;

export type TemplateId = keyof typeof TEMPLATE_SCHEMAS;
export type TemplateVars<T extends TemplateId> = z.input<(typeof TEMPLATE_SCHEMAS)[T]>;
