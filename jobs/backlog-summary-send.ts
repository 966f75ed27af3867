import { UnrecoverableError } from 'bullmq';
import { TemplateError } from '../src/mail/render.js';
import { parsePayload } from '../src/queue/registry.js';
import { sendBacklogSummary } from '../src/worker/backlog.js';
import { SendDeferred } from '../src/worker/delivery.js';
import { MarkSentError } from '../src/worker/send.js';
import { deferJob } from './defer.js';
import type { Processor } from './types.js';

export const backlogSummarySend: Processor = async (job, deps) => {
  const { summaryId } = parsePayload('backlog-summary.send', job.data);
  try {
    return await sendBacklogSummary(deps.send, summaryId);
  } catch (err) {
    if (err instanceof SendDeferred) return deferJob(job, err);
    if (err instanceof TemplateError || err instanceof MarkSentError) throw new UnrecoverableError(err.message);
    throw err;
  }
};
