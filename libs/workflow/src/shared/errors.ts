/** Refusals of the command loop itself; apps/api maps them to HTTP problems by name. */

/** `If-Match` named a revision, and the stream has moved on (412). */
export class PreconditionFailedError extends Error {
  override readonly name = 'PreconditionFailedError';
  constructor(
    readonly expectedRevision: number,
    readonly actualRevision: number | undefined,
  ) {
    super(
      `The resource is at revision ${actualRevision ?? 'none'}, not ${expectedRevision} as If-Match says: reload and decide again`,
    );
  }
}

/** Other writers kept winning the race for the stream; nothing was written (409). */
export class ConcurrencyRetryExhaustedError extends Error {
  override readonly name = 'ConcurrencyRetryExhaustedError';
  constructor(streamId: string, attempts: number) {
    super(`Stream ${streamId} kept changing under ${attempts} attempts; nothing was written, try again`);
  }
}
