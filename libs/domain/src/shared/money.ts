import { refuse } from './errors';

/** Money is whole VND: a non-negative safe integer. */
export function isWholeVnd(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

export function assertWholeVnd(value: unknown, what: string): number {
  if (!isWholeVnd(value)) throw refuse.input(`${what} must be a whole, non-negative number of VND`);
  return value;
}

/** The largest whole-VND amount that is at most `share` of `amount` (never rounds up). */
export function shareOf(amount: number, share: number): number {
  // Work in basis points so 0.7 × 1_000_000 is exactly 700_000, not 699_999.99…
  const basisPoints = Math.round(share * 10_000);
  return Number((BigInt(amount) * BigInt(basisPoints)) / 10_000n);
}
