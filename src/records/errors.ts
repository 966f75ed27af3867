/** Errors the record service raises; the API maps `code` to an HTTP status. */
import { causeChain } from '../db/errors.js';

export type ServiceErrorCode = 'VALIDATION' | 'NOT_FOUND' | 'FORBIDDEN' | 'UNAUTHENTICATED' | 'CONFLICT' | 'IDEMPOTENCY_MISMATCH';

export interface FieldIssue {
  path: string;
  message: string;
}

const STATUS: Record<ServiceErrorCode, number> = {
  VALIDATION: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  IDEMPOTENCY_MISMATCH: 422,
};

export class ServiceError extends Error {
  readonly code: ServiceErrorCode;
  readonly issues: FieldIssue[];
  readonly status: number;

  constructor(code: ServiceErrorCode, message: string, opts: { issues?: FieldIssue[]; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'ServiceError';
    this.code = code;
    this.issues = opts.issues ?? [];
    this.status = STATUS[code];
  }
}

export function validationError(issues: FieldIssue[]): ServiceError {
  const first = issues[0];
  const message = first ? `${first.path ? `${first.path}: ` : ''}${first.message}${issues.length > 1 ? ` (and ${issues.length - 1} more)` : ''}` : 'invalid request';
  return new ServiceError('VALIDATION', message, { issues });
}

/** The SQLSTATE and constraint of a driver error, wherever drizzle wrapped it. */
export function pgErrorInfo(err: unknown): { code?: string; constraint?: string } {
  for (const e of causeChain(err)) {
    const o = e as { code?: unknown; constraint?: unknown; constraint_name?: unknown };
    if (typeof o.code === 'string' && /^[0-9A-Z]{5}$/.test(o.code)) {
      const constraint = typeof o.constraint_name === 'string' ? o.constraint_name : typeof o.constraint === 'string' ? o.constraint : undefined;
      return constraint === undefined ? { code: o.code } : { code: o.code, constraint };
    }
  }
  return {};
}
