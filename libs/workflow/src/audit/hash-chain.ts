import { createHash } from 'node:crypto';
import type { EventMetadata, RecordedEvent } from '@kcflow/event-store/port';

/**
 * Tamper evidence: each event's metadata carries the hash of the previous event of its
 * stream (`prevHash`) and its own (`hash`, SHA-256 over a canonical serialisation of type,
 * data and metadata without the hash). Altering any stored event breaks the chain there.
 */

/** JSON with object keys sorted at every level, so equal content always hashes equally. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

export function hashEvent(event: { type: string; data: unknown; metadata: EventMetadata }): string {
  const { hash: _ignored, ...metadata } = event.metadata;
  return createHash('sha256').update(canonicalJson({ type: event.type, data: event.data, metadata })).digest('hex');
}

export interface ChainVerdict {
  valid: boolean;
  events: number;
  firstBrokenRevision?: number;
}

export function verifyChain(events: readonly RecordedEvent[]): ChainVerdict {
  let previous = '';
  for (const event of events) {
    if ((event.metadata.prevHash ?? '') !== previous || event.metadata.hash !== hashEvent(event)) {
      return { valid: false, events: events.length, firstBrokenRevision: event.revision };
    }
    previous = event.metadata.hash as string;
  }
  return { valid: true, events: events.length };
}
