import type { FieldError } from './api';
import { parseDate, parseInteger, parseVnd } from './format';

export { CATEGORIES, INDICATORS } from '@kcflow/domain';

/**
 * One input of a command form. `name` is the field's path in the request body
 * (`project.totalCost`), which is also how the API names it in a 400's `errors[]`, so each
 * message lands next to its input. The console does not validate: the API's messages are
 * the only ones, and they are shown as the API words them.
 */
export type FieldSpec = { name: string; optional?: boolean } & (
  | { kind: 'text' | 'textarea' | 'vnd' | 'int' | 'date' | 'checkbox' }
  | { kind: 'select'; options: readonly string[]; labels: string }
  /** A map of each key to a whole number (indicators → counts, categories → VND). */
  | { kind: 'map'; keys: readonly string[]; labels: string; money?: boolean }
  /** indicator → { min, max } */
  | { kind: 'ranges'; keys: readonly string[]; labels: string }
);

export type Values = Record<string, string | boolean>;

/** The request body the inputs describe; empty optional inputs are left out. */
export function buildBody(fields: readonly FieldSpec[], values: Values): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  const text = (key: string) => String(values[key] ?? '');
  for (const field of fields) {
    const raw = text(field.name);
    let value: unknown;
    switch (field.kind) {
      case 'text':
      case 'textarea':
        value = raw.trim() === '' && field.optional ? undefined : raw.trim();
        break;
      case 'select':
        value = raw === '' ? undefined : raw;
        break;
      case 'vnd':
        value = parseVnd(raw);
        break;
      case 'int':
        value = parseInteger(raw);
        break;
      case 'date':
        value = parseDate(raw);
        break;
      case 'checkbox':
        value = values[field.name] === true ? true : undefined;
        break;
      case 'map': {
        const parse = field.money ? parseVnd : parseInteger;
        const entries = field.keys.map((key) => [key, parse(text(`${field.name}.${key}`))] as const);
        value = Object.fromEntries(entries.filter(([, v]) => v !== undefined));
        break;
      }
      case 'ranges': {
        const entries = field.keys.map((key) => {
          const [min, max] = [parseInteger(text(`${field.name}.${key}.min`)), parseInteger(text(`${field.name}.${key}.max`))];
          return [key, min === undefined && max === undefined ? undefined : { min, max }] as const;
        });
        value = Object.fromEntries(entries.filter(([, v]) => v !== undefined));
        break;
      }
    }
    if (value !== undefined) setPath(body, field.name, value);
  }
  return body;
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = target;
  for (const key of keys.slice(0, -1)) node = (node[key] ??= {}) as Record<string, unknown>;
  node[keys[keys.length - 1]] = value;
}

/** Whether the API's field error is about this input (`project` owns `project.totalCost`, `items` owns `items[2]`). */
export const belongsTo = (error: FieldError, name: string): boolean =>
  error.field === name || error.field.startsWith(`${name}.`) || error.field.startsWith(`${name}[`);
