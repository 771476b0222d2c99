/**
 * The message the treasury publishes on `treasury.payments.v1` when it has paid a tranche.
 * `paymentRef` is the treasury's reference: the same payment sent again is recorded once.
 */
export interface PaymentConfirmation {
  paymentRef: string;
  applicationId: string;
  /** Whole VND, a JSON integer greater than 0. */
  amount: number;
  /** ISO 8601: a date (2024-05-06, as the HTTP API takes it) or a date-time with a time zone (2024-05-06T09:30:00+07:00). */
  paidAt: string;
}

/** Why a message went to the dead-letter topic (`kcflow-dlq-code`); the domain's codes join these. */
export type MessageProblemCode = 'malformed_json' | 'invalid_message';

export type ParsedConfirmation = { ok: true; confirmation: PaymentConfirmation } | { ok: false; code: MessageProblemCode; reason: string };

const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/;
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;

/** Checks the shape of a confirmation and says, field by field, what is wrong. Extra fields are ignored. */
export function parsePaymentConfirmation(value: Buffer | string | null): ParsedConfirmation {
  let body: unknown;
  try {
    body = JSON.parse(value === null ? '' : value.toString());
  } catch (error) {
    return { ok: false, code: 'malformed_json', reason: `The message is not JSON: ${(error as Error).message}` };
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { ok: false, code: 'invalid_message', reason: 'The message must be a JSON object' };
  }
  const { paymentRef, applicationId, amount, paidAt } = body as Record<string, unknown>;
  const problems = [
    reference('paymentRef', paymentRef),
    reference('applicationId', applicationId),
    Number.isSafeInteger(amount) && (amount as number) > 0 ? null : 'amount must be a whole number of VND greater than 0 (a JSON integer)',
    typeof paidAt === 'string' && ISO_DATE_TIME.test(paidAt) && !Number.isNaN(Date.parse(paidAt))
      ? null
      : 'paidAt must be an ISO 8601 date (2024-05-06) or date-time with a time zone (2024-05-06T09:30:00+07:00)',
  ].filter((problem): problem is string => problem !== null);
  if (problems.length > 0) return { ok: false, code: 'invalid_message', reason: problems.join('; ') };
  return { ok: true, confirmation: { paymentRef, applicationId, amount, paidAt } as PaymentConfirmation };
}

function reference(field: string, value: unknown): string | null {
  const valid = typeof value === 'string' && value.trim() === value && value.length >= 1 && value.length <= 100 && !CONTROL_CHARACTERS.test(value);
  return valid ? null : `${field} must be a string of 1–100 characters without surrounding spaces`;
}
