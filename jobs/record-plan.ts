import { parsePayload } from '../src/queue/registry.js';
import type { Processor } from './types.js';

export const recordPlan: Processor = async (job, deps) => {
  const { recordType, recordId } = parsePayload('record.plan', job.data);
  return deps.planAndEnqueue(recordType, recordId);
};
