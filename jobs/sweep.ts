import { parsePayload } from '../src/queue/registry.js';
import type { Processor } from './types.js';

export const sweep: Processor = async (job, deps) => {
  parsePayload('sweep', job.data);
  return deps.sweep();
};
