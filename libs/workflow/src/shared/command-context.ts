/** Who asked, on whose behalf, and as part of what: stamped on every event a command writes. */
export interface CommandContext {
  actorId: string;
  /** The role the actor acted in. */
  role: string;
  actorName?: string;
  correlationId: string;
  /** The request (or event) that caused this command. */
  causationId: string;
  /** `If-Match`: the revision the caller decided on. */
  expectedRevision?: number;
}

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
