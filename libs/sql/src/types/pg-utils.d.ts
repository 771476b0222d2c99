/**
 * `pg`'s own conversion of a parameter to its text (or Buffer) form, used by PgliteDatabase
 * so that both databases take parameters exactly alike. @types/pg does not declare it.
 */
declare module 'pg/lib/utils' {
  export function prepareValue(value: unknown): string | Buffer | null;
}
