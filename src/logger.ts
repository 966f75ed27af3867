/**
 * pino, with three guards against personal data in logs: known fields are redacted, an error
 * (`err`, `error`, also in fastify's own lines) is logged only as safeError() keeps it (no query
 * parameters, no `detail`), and message strings lose drizzle's parameter list and any CPR-shaped
 * number before they are written.
 */
import pino, { type DestinationStream, type Logger } from 'pino';
import { safeError, safeText } from './safe-error.js';

export function createLogger(opts: { level: string; destination?: DestinationStream }): Logger {
  return pino(
    {
      level: opts.level,
      base: { service: 'fristvagt' },
      redact: { paths: ['cpr', '*.cpr', 'inmateName', '*.inmateName', 'req.headers.authorization', 'headers.authorization', 'token'], censor: '[redacted]' },
      // fastify merges the logger's own serializers over its defaults, so its lines use these too.
      serializers: { err: (e: unknown) => safeError(e), error: (e: unknown) => safeError(e) },
      hooks: {
        logMethod(args, method) {
          // Without a message pino takes the error's own (a failed query's parameters): give the safe one.
          const [first, ...rest] = args as unknown[];
          const err = first instanceof Error ? first : first !== null && typeof first === 'object' && (first as { err?: unknown }).err instanceof Error ? (first as { err: Error }).err : undefined;
          const full = err && typeof rest[0] !== 'string' ? [first instanceof Error ? { err: first } : first, safeError(err).message, ...rest] : (args as unknown[]);
          method.apply(this, full.map((a) => (typeof a === 'string' ? safeText(a) : a)) as Parameters<typeof method>);
        },
      },
    },
    opts.destination,
  );
}
