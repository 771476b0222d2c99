/**
 * Why a command was refused. One place at the HTTP edge maps each code to a status
 * (apps/api/src/http/problem-details.filter.ts); the domain never thinks in HTTP.
 */
export type DomainErrorCode =
  /** The lifecycle does not allow this step from the current stage (409). */
  | 'invalid_transition'
  /** A business rule refuses it: budget exhausted, over-disbursement, caps (409). */
  | 'business_rule'
  /** The application or programme does not exist (404). */
  | 'not_found'
  /** The actor may not do this to this aggregate, e.g. a recused reviewer (403). */
  | 'forbidden'
  /** The command is malformed in a way only the domain can see (400). */
  | 'invalid_input';

export class DomainError extends Error {
  constructor(
    readonly code: DomainErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export const refuse = {
  transition: (message: string) => new DomainError('invalid_transition', message),
  rule: (message: string) => new DomainError('business_rule', message),
  notFound: (message: string) => new DomainError('not_found', message),
  forbidden: (message: string) => new DomainError('forbidden', message),
  input: (message: string) => new DomainError('invalid_input', message),
};
