/** Amounts and dates as Vietnamese officials write them, whatever the interface language. */

const vnd = new Intl.NumberFormat('vi-VN', { style: 'currency', currency: 'VND', maximumFractionDigits: 0 });
const plain = new Intl.NumberFormat('vi-VN', { maximumFractionDigits: 1 });
const compact = new Intl.NumberFormat('vi-VN', { notation: 'compact', maximumFractionDigits: 1 });

/** 1250000000 → "1.250.000.000 ₫" (the space is a no-break space). */
export const formatVnd = (amount: number | null | undefined): string => (amount == null ? '—' : vnd.format(amount));
export const formatNumber = (value: number | null | undefined): string => (value == null ? '—' : plain.format(value));
/** Axis ticks: 1250000000 → "1,3 T" (tỷ). */
export const formatCompact = (value: number): string => compact.format(value);

const pad = (n: number) => String(n).padStart(2, '0');

/** "2024-05-02" (a calendar date) or an ISO timestamp → "02/05/2024". */
export function formatDate(value: string | null | undefined): string {
  if (!value) return '—';
  const day = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (day) return `${day[3]}/${day[2]}/${day[1]}`;
  const at = new Date(value);
  return Number.isNaN(at.getTime()) ? value : `${pad(at.getDate())}/${pad(at.getMonth() + 1)}/${at.getFullYear()}`;
}

/** An ISO timestamp → "02/05/2024 14:05" in the browser's time zone. */
export function formatDateTime(value: string | null | undefined): string {
  if (!value) return '—';
  const at = new Date(value);
  if (Number.isNaN(at.getTime())) return value;
  return `${formatDate(value)} ${pad(at.getHours())}:${pad(at.getMinutes())}`;
}

export const todayDdMmYyyy = (now = new Date()): string => `${pad(now.getDate())}/${pad(now.getMonth() + 1)}/${now.getFullYear()}`;

/**
 * What a form sends for an amount: "1.250.000.000", "1 250 000 000 ₫" → 1250000000. Anything
 * else is sent as typed, so the API's own validation message explains what is wrong.
 */
export function parseVnd(input: string): number | string | undefined {
  const text = input.trim();
  if (text === '') return undefined;
  const digits = text.replace(/[\s.,\u00a0₫]|VND|đ/gi, '');
  return /^\d{1,16}$/.test(digits) ? Number(digits) : text;
}

/** A whole number as typed, or the text itself for the API to refuse. */
export function parseInteger(input: string): number | string | undefined {
  const text = input.trim();
  if (text === '') return undefined;
  return /^-?\d{1,15}$/.test(text) ? Number(text) : text;
}

/** "02/05/2024" → "2024-05-02"; an ISO date passes; anything else is sent as typed. */
export function parseDate(input: string): string | undefined {
  const text = input.trim();
  if (text === '') return undefined;
  const match = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(text);
  return match ? `${match[3]}-${pad(Number(match[2]))}-${pad(Number(match[1]))}` : text;
}
