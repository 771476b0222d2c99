import { EventStore, parsePosition } from '@kcflow/event-store';

export interface ProjectionLag {
  /** Events after the checkpoint up to the store's head; null if the store cannot count. */
  lagEvents: number | null;
  /** Age of the oldest event not yet applied, in seconds; 0 when caught up. */
  lagSeconds: number;
}

/** How far a projection's checkpoint (`ProjectionStatus.position`) stands behind the store. */
export async function projectionLag(store: EventStore, position: string | null, now = new Date()): Promise<ProjectionLag> {
  const after = position ? parsePosition(position) : undefined;
  const [oldest] = await store.readAll({ after, limit: 1 });
  if (!oldest) return { lagEvents: 0, lagSeconds: 0 };
  const lagEvents = store.countEvents ? await store.countEvents(after) : null;
  return { lagEvents, lagSeconds: Math.max(0, now.getTime() - oldest.recordedAt.getTime()) / 1000 };
}
