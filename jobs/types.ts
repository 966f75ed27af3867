import type { Job } from 'bullmq';
import type { WorkerDeps } from '../src/worker/runtime.js';

/** A processor: parse the payload, load through repositories, call the domain, send, record. */
export type Processor = (job: Job, deps: WorkerDeps) => Promise<unknown>;
