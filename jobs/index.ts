import type { JobName } from '../src/queue/registry.js';
import { annualOverviewSend } from './annual-overview-send.js';
import { backlogSummarySend } from './backlog-summary-send.js';
import { notificationSend } from './notification-send.js';
import { recordPlan } from './record-plan.js';
import { retentionRun } from './retention.js';
import { sweep } from './sweep.js';
import type { Processor } from './types.js';

/** One processor per job name; the registry's names and this table must match (checked by the type). */
export const PROCESSORS: Record<JobName, Processor> = {
  'notification.send': notificationSend,
  'record.plan': recordPlan,
  sweep,
  'retention.run': retentionRun,
  'annual-overview.send': annualOverviewSend,
  'backlog-summary.send': backlogSummarySend,
};
