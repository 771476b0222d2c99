import { DEV_JWT_SECRET } from '@kcflow/auth';
import { CONFIG_VARIABLES, type ConfigVariableName } from './config-variables';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const EVENT_STORE_KINDS = ['pglite', 'postgres', 'memory', 'esdb'] as const;
export type EventStoreKind = (typeof EVENT_STORE_KINDS)[number];

export type EventStoreConfig =
  | { kind: 'pglite'; dataDir: string; schema: string }
  | { kind: 'postgres'; url: string; schema: string }
  | { kind: 'memory' }
  | { kind: 'esdb'; connectionString: string };

/** Where the read models live, resolved: READ_MODEL_URL, else the store's own database. */
export type ReadModelConfig =
  | { kind: 'postgres'; url: string; schema: string }
  /** `dataDir` undefined: an in-memory PGlite (with EVENT_STORE=memory). */
  | { kind: 'pglite'; dataDir: string | undefined; schema: string };

/** Matches AuthModule.forRoot's options. */
export interface AuthConfig {
  jwtSecret?: string;
  jwksUrl?: string;
  issuer?: string;
  audience?: string;
  /** True while the documented development secret signs tokens: start-up must warn loudly. */
  usingDevSecret: boolean;
}

export interface AppConfig {
  port: number;
  host: string;
  logLevel: LogLevel;
  eventStore: EventStoreConfig;
  readModels: ReadModelConfig;
  projectionsInProcess: boolean;
  auth: AuthConfig;
  /** Undefined: Kafka is not configured. */
  kafka: KafkaSettings | undefined;
  /** 0: no rate limit. */
  rateLimitPerMinute: number;
  idempotencyTtlHours: number;
  reconcileIntervalSeconds: number;
  reconcileGraceSeconds: number;
  bodyLimitBytes: number;
}

export const KAFKA_SASL_MECHANISMS = ['plain', 'scram-sha-256', 'scram-sha-512'] as const;

export interface KafkaSettings {
  brokers: string[];
  clientId: string;
  /** TLS to the brokers (on when SASL is used). */
  ssl: boolean;
  sasl?: { mechanism: (typeof KAFKA_SASL_MECHANISMS)[number]; username: string; password: string };
  /** Partitions of the topics KCFlow creates when they are absent. */
  topicPartitions: number;
}

/** The configuration is wrong; `problems` names each variable and why, one line each. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const MIN_SECRET_LENGTH = 32; // 256 bits, as RFC 7518 asks of HS256 keys
const POSTGRES_URL = ['postgres:', 'postgresql:'];
const ESDB_URL = ['esdb:', 'esdb+discover:'];
const SQL_IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;
const HOST_PORT = /^[A-Za-z0-9.-]+:\d{1,5}$/;
const LOOPBACK = ['localhost', '127.0.0.1', '[::1]'];

/** Reads the environment once, at start-up; throws ConfigError listing every problem. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const read = new EnvReader(env);

  const eventStoreKind = read.oneOf('EVENT_STORE', EVENT_STORE_KINDS);
  const eventStore = readEventStore(read, eventStoreKind);
  const readModelUrl = read.url('READ_MODEL_URL', POSTGRES_URL);
  const readModelSchema = read.identifier('READ_MODEL_SCHEMA');
  if (eventStoreKind === 'esdb' && !read.isSet('READ_MODEL_URL')) {
    // EventStoreDB has no tables, and a per-process PGlite would give each API replica its own figures.
    read.problem('READ_MODEL_URL is required when EVENT_STORE=esdb');
  }
  const embedded = eventStoreKind === 'pglite' || eventStoreKind === 'memory';
  const projectionsInProcess = read.boolean('PROJECTIONS_IN_PROCESS') ?? embedded;
  if (embedded && !projectionsInProcess) {
    read.problem(`PROJECTIONS_IN_PROCESS cannot be false when EVENT_STORE=${eventStoreKind}: no other process can open that store`);
  }

  const config: AppConfig = {
    port: read.integer('PORT', 0, 65_535),
    host: read.text('HOST'),
    logLevel: read.oneOf('LOG_LEVEL', LOG_LEVELS),
    eventStore,
    readModels: resolveReadModels(eventStore, readModelUrl, readModelSchema),
    projectionsInProcess,
    auth: readAuth(read),
    kafka: readKafka(read),
    rateLimitPerMinute: read.integer('RATE_LIMIT_PER_MINUTE', 0, 1_000_000),
    idempotencyTtlHours: read.integer('IDEMPOTENCY_TTL_HOURS', 1, 720),
    reconcileIntervalSeconds: read.integer('RECONCILE_INTERVAL_SECONDS', 0, 86_400),
    // At least a second, so a commitment whose approval is being written is never released.
    reconcileGraceSeconds: read.integer('RECONCILE_GRACE_SECONDS', 1, 86_400),
    bodyLimitBytes: read.integer('BODY_LIMIT_BYTES', 1_024, 104_857_600),
  };
  if (read.problems.length > 0) throw new ConfigError(read.problems);
  return config;
}

function readEventStore(read: EnvReader, kind: EventStoreKind): EventStoreConfig {
  // A URL set for a store that is not selected usually means EVENT_STORE was forgotten:
  // refusing beats silently writing to the embedded default.
  for (const [name, owner] of [
    ['EVENT_STORE_URL', 'postgres'],
    ['ESDB_CONNECTION_STRING', 'esdb'],
  ] as const) {
    if (kind !== owner && read.isSet(name)) read.problem(`${name} is set but EVENT_STORE=${kind}; set EVENT_STORE=${owner} to use it, or unset ${name}`);
  }
  switch (kind) {
    case 'pglite':
      return { kind, dataDir: read.text('DATA_DIR'), schema: read.identifier('EVENT_STORE_SCHEMA') };
    case 'postgres':
      return { kind, url: read.url('EVENT_STORE_URL', POSTGRES_URL, 'EVENT_STORE=postgres') ?? '', schema: read.identifier('EVENT_STORE_SCHEMA') };
    case 'memory':
      return { kind };
    case 'esdb':
      return { kind, connectionString: read.url('ESDB_CONNECTION_STRING', ESDB_URL, 'EVENT_STORE=esdb') ?? '' };
  }
}

function resolveReadModels(store: EventStoreConfig, url: string | undefined, schema: string): ReadModelConfig {
  if (url !== undefined) return { kind: 'postgres', url, schema };
  switch (store.kind) {
    case 'postgres':
      return { kind: 'postgres', url: store.url, schema };
    case 'pglite':
      return { kind: 'pglite', dataDir: store.dataDir, schema };
    case 'memory':
      return { kind: 'pglite', dataDir: undefined, schema };
    case 'esdb':
      return { kind: 'postgres', url: '', schema }; // refused above: READ_MODEL_URL is required
  }
}

function readAuth(read: EnvReader): AuthConfig {
  const trio = ['AUTH_JWKS_URL', 'AUTH_ISSUER', 'AUTH_AUDIENCE'] as const;
  const missing = trio.filter((name) => !read.isSet(name));
  if (missing.length === 0) {
    if (read.isSet('AUTH_JWT_SECRET')) {
      read.problem('AUTH_JWT_SECRET must not be set with AUTH_JWKS_URL: HS256 tokens are refused once an identity provider is configured');
    }
    const jwksUrl = read.url('AUTH_JWKS_URL', ['https:', 'http:']);
    if (jwksUrl !== undefined && new URL(jwksUrl).protocol === 'http:' && !LOOPBACK.includes(new URL(jwksUrl).hostname)) {
      // Keys fetched over plain HTTP could be swapped on the way.
      read.problem(`AUTH_JWKS_URL must use https (http only for localhost) (got "${jwksUrl}")`);
    }
    return { jwksUrl, issuer: read.text('AUTH_ISSUER'), audience: read.text('AUTH_AUDIENCE'), usingDevSecret: false };
  }
  if (missing.length < trio.length) {
    read.problem(`${trio.join(', ')} must be set together or not at all (missing: ${missing.join(', ')})`);
  }
  const jwtSecret = read.optionalText('AUTH_JWT_SECRET') ?? DEV_JWT_SECRET;
  if (jwtSecret.length < MIN_SECRET_LENGTH) {
    read.problem(`AUTH_JWT_SECRET must be at least ${MIN_SECRET_LENGTH} characters (got ${jwtSecret.length})`);
  }
  return { jwtSecret, usingDevSecret: jwtSecret === DEV_JWT_SECRET };
}

function readKafka(read: EnvReader): AppConfig['kafka'] {
  const clientId = read.text('KAFKA_CLIENT_ID');
  const list = read.optionalText('KAFKA_BROKERS');
  if (list === undefined) return undefined;
  const brokers = list.split(',').map((broker) => broker.trim());
  const bad = brokers.filter((broker) => !HOST_PORT.test(broker) || Number(broker.split(':')[1]) > 65_535);
  if (bad.length > 0) read.problem(`KAFKA_BROKERS must be a comma-separated list of host:port (got "${list}")`);
  const topicPartitions = read.integer('KAFKA_TOPIC_PARTITIONS', 1, 1000);
  if (!read.isSet('KAFKA_SASL_MECHANISM')) return { brokers, clientId, ssl: read.boolean('KAFKA_SSL') ?? false, topicPartitions };
  const mechanism = read.oneOf('KAFKA_SASL_MECHANISM', KAFKA_SASL_MECHANISMS);
  const username = read.text('KAFKA_SASL_USERNAME');
  const password = read.text('KAFKA_SASL_PASSWORD');
  // Credentials never cross the network in clear text.
  if (read.boolean('KAFKA_SSL') === false) read.problem('KAFKA_SSL cannot be false when KAFKA_SASL_MECHANISM is set');
  return { brokers, clientId, ssl: true, sasl: { mechanism, username, password }, topicPartitions };
}

/**
 * Reads one variable at a time, recording each problem instead of stopping at the first, so
 * one start-up shows everything to fix. On a problem a reader returns a placeholder; the
 * caller throws before any placeholder can be used.
 */
class EnvReader {
  readonly problems: string[] = [];

  constructor(private readonly env: NodeJS.ProcessEnv) {}

  problem(message: string): void {
    this.problems.push(message);
  }

  /** Set and not blank (compose files often set `NAME=` to mean unset). */
  isSet(name: ConfigVariableName): boolean {
    return this.valueOf(name) !== undefined;
  }

  optionalText(name: ConfigVariableName): string | undefined {
    return this.valueOf(name) ?? defaultOf(name);
  }

  text(name: ConfigVariableName): string {
    const value = this.optionalText(name);
    if (value === undefined) this.problem(`${name} is required`);
    return value ?? '';
  }

  oneOf<T extends string>(name: ConfigVariableName, allowed: readonly T[]): T {
    const value = this.text(name);
    if ((allowed as readonly string[]).includes(value)) return value as T;
    this.problem(`${name} must be one of ${allowed.join(', ')} (got "${value}")`);
    return allowed[0];
  }

  integer(name: ConfigVariableName, min: number, max: number): number {
    const value = this.text(name);
    const number = /^\d+$/.test(value) ? Number(value) : NaN;
    if (number >= min && number <= max) return number;
    this.problem(`${name} must be a whole number from ${min} to ${max} (got "${value}")`);
    return min;
  }

  boolean(name: ConfigVariableName): boolean | undefined {
    const value = this.optionalText(name);
    if (value === undefined) return undefined;
    const lower = value.toLowerCase();
    if (lower === 'true' || lower === '1') return true;
    if (lower === 'false' || lower === '0') return false;
    this.problem(`${name} must be true, false, 1 or 0 (got "${value}")`);
    return undefined;
  }

  identifier(name: ConfigVariableName): string {
    const value = this.text(name);
    if (SQL_IDENTIFIER.test(value)) return value;
    this.problem(`${name} must be a lower-case SQL identifier (a-z, 0-9, _; not starting with a digit; at most 63) (got "${value}")`);
    return value;
  }

  /** A URL with one of `protocols`; `requiredWhen` makes it required and says when. */
  url(name: ConfigVariableName, protocols: readonly string[], requiredWhen?: string): string | undefined {
    const value = this.optionalText(name);
    if (value === undefined) {
      if (requiredWhen) this.problem(`${name} is required when ${requiredWhen}`);
      return undefined;
    }
    // An EventStoreDB cluster lists its nodes (esdb://a:2113,b:2113,c:2113), which URL cannot
    // parse; the first node stands for the shape of the rest.
    const firstHost = value.replace(/^([a-z+]+:\/\/(?:[^@/]*@)?[^,/?]+)(?:,[^/?]+)+/, '$1');
    if (!URL.canParse(firstHost) || !protocols.includes(new URL(firstHost).protocol)) {
      const schemes = protocols.map((protocol) => `${protocol}//`).join(' or ');
      this.problem(`${name} must be a ${schemes} URL (got "${withoutPassword(value)}")`);
      return undefined;
    }
    return value;
  }

  private valueOf(name: ConfigVariableName): string | undefined {
    const value = this.env[name]?.trim();
    return value === '' ? undefined : value;
  }
}

function defaultOf(name: ConfigVariableName): string | undefined {
  const variable: { name: string; default?: string } | undefined = CONFIG_VARIABLES.find((candidate) => candidate.name === name);
  return variable?.default;
}

// Error messages end up in logs: never print a database password.
function withoutPassword(value: string): string {
  return value.replace(/\/\/([^/@:]*):[^/@]*@/, '//$1:***@');
}
