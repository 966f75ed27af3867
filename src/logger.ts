/**
 * pino, with two guards against personal data in logs: known fields are redacted, and any
 * CPR-shaped number in a message string is masked before it is written.
 */
import pino, { type DestinationStream, type Logger } from 'pino';
import { scrubCpr } from './domain/index.js';

export function createLogger(opts: { level: string; destination?: DestinationStream }): Logger {
  return pino(
    {
      level: opts.level,
      base: { service: 'fristvagt' },
      redact: { paths: ['cpr', '*.cpr', 'inmateName', '*.inmateName', 'req.headers.authorization', 'headers.authorization', 'token'], censor: '[redacted]' },
      hooks: {
        logMethod(args, method) {
          const scrubbed = args.map((a) => (typeof a === 'string' ? scrubCpr(a) : a)) as Parameters<typeof method>;
          method.apply(this, scrubbed);
        },
      },
    },
    opts.destination,
  );
}
