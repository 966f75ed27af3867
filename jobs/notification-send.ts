import { UnrecoverableError } from 'bullmq';
import { parsePayload } from '../src/queue/registry.js';
import { TemplateError } from '../src/mail/render.js';
import { SendDeferred } from '../src/worker/delivery.js';
import { MarkSentError, sendNotification } from '../src/worker/send.js';
import { deferJob } from './defer.js';
import type { Processor } from './types.js';

export const notificationSend: Processor = async (job, deps) => {
  const { notificationId } = parsePayload('notification.send', job.data);
  // The row's version is in the deterministic job id (send-<id>-<version>): a job of an older version
  // is never answered from what this process remembers of a newer one, nor the other way round.
  const version = /^send-[0-9a-f-]{36}-(\d+)$/.exec(job.id ?? '')?.[1];
  try {
    return await sendNotification(deps.send, notificationId, version === undefined ? undefined : Number(version));
  } catch (err) {
    if (err instanceof SendDeferred) return deferJob(job, err);
    // A template that cannot render will not on retry either; a mail that went out is not re-sent at once.
    if (err instanceof TemplateError || err instanceof MarkSentError) throw new UnrecoverableError(err.message);
    throw err;
  }
};
