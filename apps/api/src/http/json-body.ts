import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Server } from 'node:http';

/** Deeper JSON than any command needs; refused before the validator walks it recursively. */
export const MAX_JSON_DEPTH = 32;

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** A body refused before it is parsed (400); the message is the problem's detail. */
class BodyRefusedError extends Error {
  readonly statusCode = 400;
}

/**
 * The JSON body parser, stricter than the default in four ways an attacker would try:
 * invalid UTF-8 is refused instead of silently becoming U+FFFD in a stored event; nesting
 * beyond MAX_JSON_DEPTH is refused instead of reaching recursive code; text the event store
 * cannot hold (NUL, unpaired surrogates) is refused instead of failing the append; and
 * prototype-pollution keys are refused at any depth. Registering it also means no other body
 * type is parsed: a form body answers 415 (API.md: JSON in).
 */
export function useStrictJsonBodies(app: NestFastifyApplication, bodyLimit: number): void {
  const parse = app.getHttpAdapter().getInstance().getDefaultJsonParser('error', 'error');
  app.useBodyParser<Server>('application/json', { bodyLimit }, (request, body, done) => {
    let text: string;
    try {
      text = strictUtf8.decode(body);
    } catch {
      return done(new BodyRefusedError('The body is not valid UTF-8'), undefined);
    }
    if (nestingDepth(text) > MAX_JSON_DEPTH) {
      return done(new BodyRefusedError(`The body is nested more than ${MAX_JSON_DEPTH} levels deep`), undefined);
    }
    parse(request, text, (error, value) => {
      const refusal = error ? undefined : refusalOf(value);
      if (error || refusal) return done(error ?? new BodyRefusedError(refusal), undefined);
      done(null, value);
    });
  });
}

// PostgreSQL's jsonb refuses both (\u0000, lone UTF-16 surrogates): caught here, they are a 400, not a failed append.
const UNSTORABLE = /\u0000|\p{Cs}/u;
// No DTO has these fields, and the hostile-input test found two holes behind them: a
// "prototype" field was dropped silently by class-transformer instead of refused as unknown,
// and the whitelist check of class-validator took any name of Object.prototype ("valueOf",
// "toString", …) for a declared property and let it through. Refused here by name.
const PROTOTYPE_KEYS = new Set(['__proto__', 'prototype', ...Object.getOwnPropertyNames(Object.prototype)]);

/** Why the parsed body cannot be accepted, or undefined (depth is already bounded). */
function refusalOf(value: unknown): string | undefined {
  if (typeof value === 'string') return UNSTORABLE.test(value) ? 'The body contains a NUL character or an unpaired surrogate, which no event can store' : undefined;
  if (value === null || typeof value !== 'object') return undefined;
  for (const [key, v] of Object.entries(value)) {
    if (PROTOTYPE_KEYS.has(key)) return `The body contains the field "${key}", which is never accepted`;
    const refusal = refusalOf(key) ?? refusalOf(v);
    if (refusal) return refusal;
  }
  return undefined;
}

/** The deepest nesting of arrays and objects in JSON text (strings skipped), in one pass. */
export function nestingDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) deepest = Math.max(deepest, ++depth);
    else if (c === 0x7d || c === 0x5d) depth--;
  }
  return deepest;
}
