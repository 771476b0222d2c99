import {
  CallHandler,
  ConflictException,
  ExecutionContext,
  Injectable,
  NestInterceptor,
  BadRequestException,
  RequestMethod,
} from '@nestjs/common';
import { HTTP_CODE_METADATA, METHOD_METADATA } from '@nestjs/common/constants';
import { Reflector } from '@nestjs/core';
import { ACTOR_REQUEST_KEY, RequestWithActor } from '@kcflow/auth';
import { quoteSchema, SqlDatabase } from '@kcflow/sql';
import { canonicalJson } from '@kcflow/workflow';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { createHash } from 'node:crypto';
import { from, lastValueFrom, Observable } from 'rxjs';

/** The same Idempotency-Key sent with a different body: API.md's 422. */
export class IdempotencyKeyReusedError extends Error {
  override readonly name = 'IdempotencyKeyReusedError';
  constructor() {
    super('This Idempotency-Key was used with a different request; use a new key for a new request');
  }
}

type Claim =
  | { state: 'claimed' }
  | { state: 'done'; status: number; body: unknown; headers: Record<string, string> }
  | { state: 'in_progress' }
  | { state: 'mismatch' };

interface KeyRow {
  fingerprint: string;
  status_code: number | null;
  body: unknown;
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
      `SELECT fingerprint, status_code, body, headers FROM ${this.s}.idempotency_keys WHERE actor_id = $1 AND key = $2`,
      [actorId, key],
    );
    if (!row) return this.claim(actorId, key, fingerprint);
    if (row.fingerprint !== fingerprint) return { state: 'mismatch' };
    if (row.status_code === null) return { state: 'in_progress' };
    return { state: 'done', status: row.status_code, body: row.body, headers: row.headers ?? {} };
  }

  async complete(actorId: string, key: string, status: number, body: unknown, headers: Record<string, string>): Promise<void> {
    await this.db.query(
      `UPDATE ${this.s}.idempotency_keys SET status_code = $3, body = $4, headers = $5 WHERE actor_id = $1 AND key = $2`,
      [actorId, key, status, JSON.stringify(body ?? null), JSON.stringify(headers)],
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
const REPLAYED_HEADERS = ['etag', 'location'];
const WAIT_FOR_FIRST_MS = 10_000;

/**
 * API.md: "same key and body within 24 h: the first response again, nothing written twice".
 * A request that arrives while the first is still running waits for its answer.
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  constructor(
    private readonly store: IdempotencyStore,
    private readonly reflector: Reflector,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const request = context.switchToHttp().getRequest<FastifyRequest & RequestWithActor>();
    const key = request.headers['idempotency-key'];
    const actor = request[ACTOR_REQUEST_KEY];
    if (key === undefined || !actor || request.method !== 'POST') return next.handle();
    if (typeof key !== 'string' || !KEY.test(key)) {
      throw new BadRequestException('Idempotency-Key must be 1–200 visible ASCII characters');
    }
    const reply = context.switchToHttp().getResponse<FastifyReply>();
    const fingerprint = createHash('sha256').update(`${request.method} ${request.url} ${canonicalJson(request.body ?? null)}`).digest('hex');
    const status = this.successStatus(context);
    return from(this.run(actor.id, key, fingerprint, status, reply, () => lastValueFrom(next.handle())));
  }

  private async run(
    actorId: string,
    key: string,
    fingerprint: string,
    status: number,
    reply: FastifyReply,
    handle: () => Promise<unknown>,
  ): Promise<unknown> {
    const deadline = Date.now() + WAIT_FOR_FIRST_MS;
    let claim = await this.store.claim(actorId, key, fingerprint);
    while (claim.state === 'in_progress' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      claim = await this.store.claim(actorId, key, fingerprint);
    }
    switch (claim.state) {
      case 'mismatch':
        throw new IdempotencyKeyReusedError();
      case 'in_progress':
        throw new ConflictException('A request with this Idempotency-Key is still being processed; retry shortly');
      case 'done':
        for (const [name, value] of Object.entries(claim.headers)) reply.header(name, value);
        reply.header('Idempotent-Replayed', 'true');
        reply.status(claim.status);
        return claim.body;
      case 'claimed':
        try {
          const body = await handle();
          const headers = Object.fromEntries(
            REPLAYED_HEADERS.map((name) => [name, reply.getHeader(name)]).filter(([, v]) => typeof v === 'string'),
          );
          await this.store.complete(actorId, key, status, body, headers);
          return body;
        } catch (error) {
          await this.store.release(actorId, key);
          throw error;
        }
    }
  }

  /** The status Nest will answer with: @HttpCode's, else 201 for POST. */
  private successStatus(context: ExecutionContext): number {
    const declared = this.reflector.get<number | undefined>(HTTP_CODE_METADATA, context.getHandler());
    const method = this.reflector.get<RequestMethod | undefined>(METHOD_METADATA, context.getHandler());
    return declared ?? (method === RequestMethod.POST ? 201 : 200);
  }
}
