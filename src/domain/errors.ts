/** Typed errors: callers branch on `code`, never on message text. */
export type DomainErrorCode =
  | 'INVALID_RECORD'
  | 'INVALID_DATE'
  | 'INVALID_CLOSURE_DAY'
  | 'INVALID_OPTION';

export interface IssueDetail {
  path: Array<string | number>;
  message: string;
}

export class DomainError extends Error {
  readonly code: DomainErrorCode;
  readonly issues: IssueDetail[];

  constructor(code: DomainErrorCode, message: string, opts: { path?: Array<string | number>; issues?: IssueDetail[]; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'DomainError';
    this.code = code;
    this.issues = opts.issues ?? (opts.path ? [{ path: opts.path, message }] : []);
  }
}
