import { BadRequestException, ConflictException } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { ACTOR_REQUEST_KEY, JwtVerifier, bearerToken, type Actor, type RequestWithActor } from '@kcflow/auth';
import { quoteSchema, SqlDatabase } from '@kcflow/sql';
import { canonicalJson } from '@kcflow/workflow';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

/** The same Idempotency-Key sent with a different body: API.md's 422. */
export class IdempotencyKeyReusedError extends Error {
  override readonly name = 'IdempotencyKeyReusedError';
  constructor() {
    super('This Idempotency-Key was used with a different request; use a new key for a new request');
  }
}

const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

type Claim =
  | { state: 'claimed' }
  | { state: 'done'; status: number; response: string; headers: Record<string, string> }
  | { state: 'in_progress' }
  | { state: 'mismatch' };

interface KeyRow {
  fingerprint: string;
  status_code: number | null;
  body: unknown;
  response: string | null;
  headers: Record<string, string> | null;
}

/**
 * Remembered answers to commands sent with an Idempotency-Key, per actor, for a day
 * (IDEMPOTENCY_TTL_HOURS). Kept in the read-side database: it is the API's own state,
 * not part of the audited history.
 */
export class IdempotencyStore {
  private readonly s: string;

  constructor(
    private readonly db: SqlDatabase,
    schema: string,
    private readonly ttlHours: number,
  ) {
    this.s = quoteSchema(schema);
  }

  async migrate(): Promise<void> {
    // Several api copies starting together would otherwise race on CREATE … IF NOT EXISTS.
    await this.db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`kcflow-idempotency:${this.s}`]);
      await tx.query(`CREATE SCHEMA IF NOT EXISTS ${this.s}`);
      await tx.query(`
        CREATE TABLE IF NOT EXISTS ${this.s}.idempotency_keys (
          actor_id text NOT NULL,
          key text NOT NULL,
          fingerprint text NOT NULL,
          status_code integer,
          body jsonb,
          headers jsonb,
          created_at timestamptz NOT NULL DEFAULT now(),
          PRIMARY KEY (actor_id, key)
        )`);
      // The answer as it was sent, byte for byte (jsonb reorders an object's keys); tables made before it get it here.
      await tx.query(`ALTER TABLE ${this.s}.idempotency_keys ADD COLUMN IF NOT EXISTS response text`);
    });
  }

  async claim(actorId: string, key: string, fingerprint: string): Promise<Claim> {
    await this.db.query(
      `DELETE FROM ${this.s}.idempotency_keys WHERE actor_id = $1 AND key = $2 AND created_at < now() - make_interval(hours => $3)`,
      [actorId, key, this.ttlHours],
    );
    const inserted = await this.db.query(
      `INSERT INTO ${this.s}.idempotency_keys (actor_id, key, fingerprint) VALUES ($1, $2, $3)
       ON CONFLICT DO NOTHING RETURNING key`,
      [actorId, key, fingerprint],
    );
    if (inserted.length === 1) return { state: 'claimed' };
    const [row] = await this.db.query<KeyRow>(
      `SELECT fingerprint, status_code, body, response, headers FROM ${this.s}.idempotency_keys WHERE actor_id = $1 AND key = $2`,
      [actorId, key],
    );
    if (!row) return this.claim(actorId, key, fingerprint);
    if (row.fingerprint !== fingerprint) return { state: 'mismatch' };
    if (row.status_code === null) return { state: 'in_progress' };
    // A key completed before the response column holds its answer in body only.
    const response = row.response ?? JSON.stringify(row.body);
    return { state: 'done', status: row.status_code, response, headers: { 'content-type': JSON_CONTENT_TYPE, ...row.headers } };
  }

  /** `response` is the answer's JSON text, as it was sent; body keeps it too, for api copies of the version before. */
  async complete(actorId: string, key: string, status: number, response: string, headers: Record<string, string>): Promise<void> {
    await this.db.query(
      `UPDATE ${this.s}.idempotency_keys SET status_code = $3, response = $4::text, body = $4::text::jsonb, headers = $5
       WHERE actor_id = $1 AND key = $2`,
      [actorId, key, status, response, JSON.stringify(headers)],
    );
  }

  /** The command failed: nothing was written, so the key is free for a retry. */
  async release(actorId: string, key: string): Promise<void> {
    await this.db.query(`DELETE FROM ${this.s}.idempotency_keys WHERE actor_id = $1 AND key = $2 AND status_code IS NULL`, [
      actorId,
      key,
    ]);
  }
}

const KEY = /^[\x21-\x7e]{1,200}$/;
const REPLAYED_HEADERS = ['etag', 'location', 'content-type'];
const WAIT_FOR_FIRST_MS = 10_000;

/** The key a request has claimed, until its answer completes or releases it. */
const CLAIM = Symbol('kcflow.idempotencyClaim');
type ClaimingRequest = FastifyRequest & RequestWithActor & { [CLAIM]?: { actorId: string; key: string } };

/**
 * API.md: "same key and body within 24 h: the first response again, nothing written twice",
 * for every POST that carries an Idempotency-Key (also routes added later: safe by default).
 *
 * Fastify hooks, not a Nest interceptor: the app's only interceptor made every request pay for
 * Nest's interceptor chain, about a fifth of the api's CPU per command (bench/RESULTS.md).
 * The hooks run before Nest's guard, pipes and handler, so the key is claimed once the token
 * verifies but before the role check and the body's validation: a 403 or a 400 claims the key,
 * and the refusal releases it.
 */
export async function useIdempotency(app: NestFastifyApplication): Promise<void> {
  const store = app.get(IdempotencyStore);
  const verifier = app.get(JwtVerifier);
  await store.migrate();
  const fastify = app.getHttpAdapter().getInstance();

  // Callback hooks with a synchronous way out: a request without a key pays a branch, no promise.
  fastify.addHook('preHandler', (request: ClaimingRequest, reply, done) => {
    if (request.method !== 'POST' || request.headers['idempotency-key'] === undefined) return done();
    claimOrReplay(store, verifier, request, reply).then((replayed) => {
      // A replay has been sent: the handler must not run, so the hook never calls done.
      if (!replayed) done();
    }, done);
  });

  // onSend, not onResponse: it runs before the first byte leaves, so a retry that follows the
  // answer finds the key done. It also runs when the client has gone: Nest calls reply.send
  // with whatever the handler ended in, and Fastify's send does not look for an aborted
  // request, so a command that finishes after a disconnect still settles its key
  // (test/e2e/idempotency.postgres.test.ts). onResponse would not: it waits for a 'finish'
  // that an aborted response never has. The exception would be a handler that returns an
  // Observable: after a disconnect Nest sends nothing for it, and its key would stay in
  // progress until it expires; today every handler returns a promise or a value.
  fastify.addHook('onSend', (request: ClaimingRequest, reply, payload, done) => {
    const claim = request[CLAIM];
    if (claim === undefined) return done();
    request[CLAIM] = undefined;
    void settle(store, request, reply, payload, claim).then(() => done());
  });
}

/** true when the stored answer has been sent; throws the refusals (Nest's filter renders them). */
async function claimOrReplay(store: IdempotencyStore, verifier: JwtVerifier, request: ClaimingRequest, reply: FastifyReply): Promise<boolean> {
  // 1. The caller, as the guard will see it (the verdict is kept for the request). No token or
  //    a bad one: nothing to claim, the guard answers 401, before any complaint about the key.
  const token = bearerToken(request.headers.authorization);
  const actor = token ? await verifier.verifyForRequest(request, token).catch(() => undefined) : undefined;
  if (!actor) return false;

  // 2. The key.
  const key = request.headers['idempotency-key'];
  if (typeof key !== 'string' || !KEY.test(key)) {
    throw new BadRequestException('Idempotency-Key must be 1–200 visible ASCII characters');
  }

  // 3. Claim it; a first request with it still running is waited for.
  const fingerprint = createHash('sha256').update(`${request.method} ${request.url} ${canonicalJson(request.body ?? null)}`).digest('hex');
  const deadline = Date.now() + WAIT_FOR_FIRST_MS;
  let claim = await store.claim(actor.id, key, fingerprint);
  while (claim.state === 'in_progress' && Date.now() < deadline) {
    await sleep(50);
    claim = await store.claim(actor.id, key, fingerprint);
  }

  // 4. Go on, answer as the first time, or refuse.
  switch (claim.state) {
    case 'claimed':
      request[CLAIM] = { actorId: actor.id, key };
      return false;
    case 'done':
      void reply
        .code(claim.status)
        .headers({ ...claim.headers, 'idempotent-replayed': 'true' })
        .send(claim.response);
      return true;
    case 'mismatch':
      throw refusal(request, actor, new IdempotencyKeyReusedError());
    case 'in_progress':
      throw refusal(request, actor, new ConflictException('A request with this Idempotency-Key is still being processed; retry shortly'));
  }
}

/** The refused request keeps its caller, so its audit line says who, as when the guard ran first. */
function refusal(request: ClaimingRequest, actor: Actor, error: Error): Error {
  request[ACTOR_REQUEST_KEY] = actor;
  return error;
}

/** Completes the key with a success, releases it after anything else. Never throws: the answer goes out regardless. */
async function settle(
  store: IdempotencyStore,
  request: FastifyRequest,
  reply: FastifyReply,
  payload: unknown,
  { actorId, key }: { actorId: string; key: string },
): Promise<void> {
  if (reply.statusCode < 200 || reply.statusCode >= 300) {
    await store.release(actorId, key).catch((error: unknown) => {
      request.log.error({ err: error, actorId }, 'Idempotency-Key not released: retries with it get 409 until it expires');
    });
    return;
  }
  const headers = Object.fromEntries(
    REPLAYED_HEADERS.map((name) => [name, reply.getHeader(name)]).filter(([, value]) => typeof value === 'string'),
  );
  try {
    await store.complete(actorId, key, reply.statusCode, typeof payload === 'string' ? payload : 'null', headers);
  } catch (error) {
    // Not released: the command was written, and a free key would let a retry write it again.
    // The key stays in progress (retries get 409) until it expires.
    request.log.error({ err: error, actorId }, 'Idempotency-Key not completed after a successful command');
  }
}
