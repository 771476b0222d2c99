/**
 * Every environment variable KCFlow reads, as the README's configuration table shows it.
 * `default` is the value used when the variable is unset or empty; a default that depends
 * on other variables is undefined here and described in `description`.
 */
export interface ConfigVariable {
  name: string;
  default?: string;
  description: string;
}

export const CONFIG_VARIABLES = [
  { name: 'PORT', default: '3000', description: 'HTTP port (0–65535; 0 picks a free port).' },
  { name: 'HOST', default: '0.0.0.0', description: 'Interface the HTTP server listens on.' },
  { name: 'LOG_LEVEL', default: 'info', description: 'pino level: fatal, error, warn, info, debug, trace or silent.' },
  { name: 'EVENT_STORE', default: 'pglite', description: 'Event store: pglite (embedded, data in DATA_DIR), postgres, memory (tests only) or esdb.' },
  { name: 'DATA_DIR', default: './data', description: 'Folder of the embedded PGlite database (EVENT_STORE=pglite).' },
  { name: 'EVENT_STORE_URL', description: 'postgres:// URL of the event store; required when EVENT_STORE=postgres.' },
  { name: 'EVENT_STORE_SCHEMA', default: 'kcflow', description: 'PostgreSQL schema of the event store tables (pglite, postgres).' },
  { name: 'ESDB_CONNECTION_STRING', description: 'esdb:// connection string; required when EVENT_STORE=esdb.' },
  {
    name: 'READ_MODEL_URL',
    description:
      'postgres:// URL of the read-model database. Unset: the store’s own database (pglite, postgres) or an in-memory PGlite (memory); required when EVENT_STORE=esdb.',
  },
  { name: 'READ_MODEL_SCHEMA', default: 'kcflow_read', description: 'PostgreSQL schema of the read-model tables.' },
  {
    name: 'PROJECTIONS_IN_PROCESS',
    description: 'Run projections inside the API process (true/false/1/0). Default: true for pglite and memory (where it must be true), else false.',
  },
  {
    name: 'AUTH_JWT_SECRET',
    description:
      'HS256 secret for development tokens, at least 32 characters. Default: the documented development secret, with a loud warning at start-up. Not allowed with AUTH_JWKS_URL.',
  },
  { name: 'AUTH_JWKS_URL', description: 'Identity provider key set (RS256, https). Set with AUTH_ISSUER and AUTH_AUDIENCE, or none of them; HS256 tokens are then refused.' },
  { name: 'AUTH_ISSUER', description: 'Expected "iss" of production tokens (with AUTH_JWKS_URL).' },
  { name: 'AUTH_AUDIENCE', description: 'Expected "aud" of production tokens (with AUTH_JWKS_URL).' },
  { name: 'KAFKA_BROKERS', description: 'Comma-separated host:port list. Unset: no Kafka (no relay, no payment consumer).' },
  { name: 'KAFKA_CLIENT_ID', default: 'kcflow', description: 'Kafka client id.' },
  { name: 'KAFKA_TOPIC_PARTITIONS', default: '3', description: 'Partitions of the topics created at start-up when absent.' },
  { name: 'KAFKA_SSL', description: 'TLS to the brokers (true/false; default false, and always on with SASL).' },
  { name: 'KAFKA_SASL_MECHANISM', description: 'plain, scram-sha-256 or scram-sha-512; unset: no SASL.' },
  { name: 'KAFKA_SASL_USERNAME', description: 'SASL user (required with KAFKA_SASL_MECHANISM).' },
  { name: 'KAFKA_SASL_PASSWORD', description: 'SASL password (required with KAFKA_SASL_MECHANISM).' },
  { name: 'RATE_LIMIT_PER_MINUTE', default: '600', description: "Requests per minute per actor (the verified token's subject, else the client IP); 0 turns the limit off." },
  { name: 'IDEMPOTENCY_TTL_HOURS', default: '24', description: 'How long an Idempotency-Key and its first response are kept.' },
  { name: 'RECONCILE_INTERVAL_SECONDS', default: '60', description: 'How often the budget reconciliation pass runs; 0 turns it off.' },
  { name: 'RECONCILE_GRACE_SECONDS', default: '30', description: 'Age a budget commitment without its recorded approval must reach before reconciliation finishes the approval or releases the money.' },
  { name: 'BODY_LIMIT_BYTES', default: '1048576', description: 'Largest request body accepted (413 above).' },
] as const satisfies readonly ConfigVariable[];

export type ConfigVariableName = (typeof CONFIG_VARIABLES)[number]['name'];
