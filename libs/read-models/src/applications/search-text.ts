/**
 * Folds text for search: lower case, without Vietnamese diacritics (đ → d), so "nguyen"
 * finds "Nguyễn". Done in JavaScript rather than SQL because lower() and unaccent depend on
 * the server's locale and extensions, and PGlite and PostgreSQL must answer alike.
 */
export function foldForSearch(text: string): string {
  return text
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .replace(/đ/gi, 'd')
    .toLowerCase();
}
