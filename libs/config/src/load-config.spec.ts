import { DEV_JWT_SECRET } from '@kcflow/auth';
import { CONFIG_VARIABLES } from './config-variables';
import { ConfigError, loadConfig, type AppConfig } from './load-config';

const PG = 'postgres://kcflow:s3cret@db:5432/kcflow';
const SECRET = 'a-production-like-secret-of-40-characters';

function problemsOf(env: NodeJS.ProcessEnv): readonly string[] {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('runs with no variables at all: embedded PGlite, dev secret, no Kafka', () => {
    const expected: AppConfig = {
      port: 3000,
      host: '0.0.0.0',
      logLevel: 'info',
      eventStore: { kind: 'pglite', dataDir: './data', schema: 'kcflow' },
      readModels: { kind: 'pglite', dataDir: './data', schema: 'kcflow_read' },
      projectionsInProcess: true,
      auth: { jwtSecret: DEV_JWT_SECRET, usingDevSecret: true },
      kafka: undefined,
      rateLimitPerMinute: 600,
      idempotencyTtlHours: 24,
      reconcileIntervalSeconds: 60,
      reconcileGraceSeconds: 30,
      bodyLimitBytes: 1_048_576,
    };
    expect(loadConfig({})).toEqual(expected);
  });

  it('treats blank values as unset and trims the rest', () => {
    expect(loadConfig({ PORT: ' ', HOST: ' 127.0.0.1 ', KAFKA_BROKERS: '' })).toMatchObject({ port: 3000, host: '127.0.0.1', kafka: undefined });
  });

  it('reads the production topology: EventStoreDB, PostgreSQL read models, Kafka, JWKS', () => {
    const config = loadConfig({
      EVENT_STORE: 'esdb',
      ESDB_CONNECTION_STRING: 'esdb://eventstore:2113?tls=false',
      READ_MODEL_URL: PG,
      KAFKA_BROKERS: 'kafka-1:9092, kafka-2:9092',
      AUTH_JWKS_URL: 'https://id.example.gov.vn/.well-known/jwks.json',
      AUTH_ISSUER: 'https://id.example.gov.vn',
      AUTH_AUDIENCE: 'kcflow-api',
      LOG_LEVEL: 'warn',
      RATE_LIMIT_PER_MINUTE: '0',
    });
    expect(config).toMatchObject({
      eventStore: { kind: 'esdb', connectionString: 'esdb://eventstore:2113?tls=false' },
      readModels: { kind: 'postgres', url: PG, schema: 'kcflow_read' },
      projectionsInProcess: false,
      kafka: { brokers: ['kafka-1:9092', 'kafka-2:9092'], clientId: 'kcflow' },
      auth: {
        jwksUrl: 'https://id.example.gov.vn/.well-known/jwks.json',
        issuer: 'https://id.example.gov.vn',
        audience: 'kcflow-api',
        usingDevSecret: false,
      },
      logLevel: 'warn',
      rateLimitPerMinute: 0,
    });
    expect(config.auth.jwtSecret).toBeUndefined();
  });

  it('puts read models in the store’s own PostgreSQL database unless READ_MODEL_URL says otherwise', () => {
    expect(loadConfig({ EVENT_STORE: 'postgres', EVENT_STORE_URL: PG, EVENT_STORE_SCHEMA: 'es' })).toMatchObject({
      eventStore: { kind: 'postgres', url: PG, schema: 'es' },
      readModels: { kind: 'postgres', url: PG, schema: 'kcflow_read' },
      projectionsInProcess: false,
    });
    const elsewhere = 'postgresql://reader@replica/kcflow';
    expect(loadConfig({ EVENT_STORE: 'postgres', EVENT_STORE_URL: PG, READ_MODEL_URL: elsewhere }).readModels).toEqual({
      kind: 'postgres',
      url: elsewhere,
      schema: 'kcflow_read',
    });
  });

  it('keeps the memory store’s read models in an in-memory PGlite, projections in process', () => {
    expect(loadConfig({ EVENT_STORE: 'memory' })).toMatchObject({
      eventStore: { kind: 'memory' },
      readModels: { kind: 'pglite', dataDir: undefined },
      projectionsInProcess: true,
    });
  });

  it.each([
    ['true', true],
    ['1', true],
    ['FALSE', false],
    ['0', false],
  ])('reads PROJECTIONS_IN_PROCESS=%s', (value, expected) => {
    expect(loadConfig({ EVENT_STORE: 'postgres', EVENT_STORE_URL: PG, PROJECTIONS_IN_PROCESS: value }).projectionsInProcess).toBe(expected);
  });

  it('uses a configured secret and stops flagging the dev secret', () => {
    expect(loadConfig({ AUTH_JWT_SECRET: SECRET }).auth).toEqual({ jwtSecret: SECRET, usingDevSecret: false });
  });

  it.each<[string, NodeJS.ProcessEnv, string]>([
    ['an unknown store', { EVENT_STORE: 'mysql' }, 'EVENT_STORE must be one of pglite, postgres, memory, esdb (got "mysql")'],
    ['postgres without its URL', { EVENT_STORE: 'postgres' }, 'EVENT_STORE_URL is required when EVENT_STORE=postgres'],
    ['esdb without its connection string', { EVENT_STORE: 'esdb', READ_MODEL_URL: PG }, 'ESDB_CONNECTION_STRING is required when EVENT_STORE=esdb'],
    ['esdb without read-model database', { EVENT_STORE: 'esdb', ESDB_CONNECTION_STRING: 'esdb://es:2113' }, 'READ_MODEL_URL is required when EVENT_STORE=esdb'],
    [
      'a store URL without its store',
      { EVENT_STORE_URL: PG },
      'EVENT_STORE_URL is set but EVENT_STORE=pglite; set EVENT_STORE=postgres to use it, or unset EVENT_STORE_URL',
    ],
    [
      'a non-postgres URL, password hidden',
      { EVENT_STORE: 'postgres', EVENT_STORE_URL: 'mysql://root:hunter2@db/kcflow' },
      'EVENT_STORE_URL must be a postgres:// or postgresql:// URL (got "mysql://root:***@db/kcflow")',
    ],
    ['a bad esdb string', { EVENT_STORE: 'esdb', ESDB_CONNECTION_STRING: 'tcp://es', READ_MODEL_URL: PG }, 'ESDB_CONNECTION_STRING must be a esdb:// or esdb+discover:// URL (got "tcp://es")'],
    ['a bad read-model URL', { READ_MODEL_URL: 'not a url' }, 'READ_MODEL_URL must be a postgres:// or postgresql:// URL (got "not a url")'],
    ['a port out of range', { PORT: '70000' }, 'PORT must be a whole number from 0 to 65535 (got "70000")'],
    ['a fractional number', { BODY_LIMIT_BYTES: '1e6' }, 'BODY_LIMIT_BYTES must be a whole number from 1024 to 104857600 (got "1e6")'],
    ['a negative number', { RATE_LIMIT_PER_MINUTE: '-1' }, 'RATE_LIMIT_PER_MINUTE must be a whole number from 0 to 1000000 (got "-1")'],
    ['a zero TTL', { IDEMPOTENCY_TTL_HOURS: '0' }, 'IDEMPOTENCY_TTL_HOURS must be a whole number from 1 to 720 (got "0")'],
    ['a negative interval', { RECONCILE_INTERVAL_SECONDS: '-1' }, 'RECONCILE_INTERVAL_SECONDS must be a whole number from 0 to 86400 (got "-1")'],
    ['a zero grace', { RECONCILE_GRACE_SECONDS: '0' }, 'RECONCILE_GRACE_SECONDS must be a whole number from 1 to 86400 (got "0")'],
    ['an unknown log level', { LOG_LEVEL: 'verbose' }, 'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent (got "verbose")'],
    ['a yes/no boolean', { EVENT_STORE: 'postgres', EVENT_STORE_URL: PG, PROJECTIONS_IN_PROCESS: 'yes' }, 'PROJECTIONS_IN_PROCESS must be true, false, 1 or 0 (got "yes")'],
    [
      'projections out of process on the embedded store',
      { PROJECTIONS_IN_PROCESS: 'false' },
      'PROJECTIONS_IN_PROCESS cannot be false when EVENT_STORE=pglite: no other process can open that store',
    ],
    [
      'a schema that is not an identifier',
      { READ_MODEL_SCHEMA: 'read-models' },
      'READ_MODEL_SCHEMA must be a lower-case SQL identifier (a-z, 0-9, _; not starting with a digit; at most 63) (got "read-models")',
    ],
    ['a short secret', { AUTH_JWT_SECRET: 'change-me' }, 'AUTH_JWT_SECRET must be at least 32 characters (got 9)'],
    [
      'part of the identity provider settings',
      { AUTH_JWKS_URL: 'https://id.example/jwks', AUTH_ISSUER: 'https://id.example' },
      'AUTH_JWKS_URL, AUTH_ISSUER, AUTH_AUDIENCE must be set together or not at all (missing: AUTH_AUDIENCE)',
    ],
    [
      'a secret next to the identity provider',
      { AUTH_JWKS_URL: 'https://id.example/jwks', AUTH_ISSUER: 'i', AUTH_AUDIENCE: 'a', AUTH_JWT_SECRET: SECRET },
      'AUTH_JWT_SECRET must not be set with AUTH_JWKS_URL: HS256 tokens are refused once an identity provider is configured',
    ],
    [
      'a key set over plain HTTP',
      { AUTH_JWKS_URL: 'http://id.example/jwks', AUTH_ISSUER: 'i', AUTH_AUDIENCE: 'a' },
      'AUTH_JWKS_URL must use https (http only for localhost) (got "http://id.example/jwks")',
    ],
    ['brokers without ports', { KAFKA_BROKERS: 'kafka-1,kafka-2:9092' }, 'KAFKA_BROKERS must be a comma-separated list of host:port (got "kafka-1,kafka-2:9092")'],
  ])('refuses %s, naming the variable', (_case, env, problem) => {
    expect(problemsOf(env)).toEqual([problem]);
  });

  it('lists every problem at once, one per line in the message', () => {
    const error = (() => {
      try {
        loadConfig({ EVENT_STORE: 'mysql', PORT: 'eighty', LOG_LEVEL: 'loud' });
      } catch (thrown) {
        return thrown as ConfigError;
      }
    })();
    expect(error?.problems).toHaveLength(3);
    expect(error?.message).toBe(
      [
        'Invalid configuration:',
        '  - EVENT_STORE must be one of pglite, postgres, memory, esdb (got "mysql")',
        '  - PORT must be a whole number from 0 to 65535 (got "eighty")',
        '  - LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent (got "loud")',
      ].join('\n'),
    );
  });

  it('allows a key set on localhost over http (a local identity provider)', () => {
    const env = { AUTH_JWKS_URL: 'http://localhost:8080/jwks', AUTH_ISSUER: 'i', AUTH_AUDIENCE: 'a' };
    expect(loadConfig(env).auth.jwksUrl).toBe('http://localhost:8080/jwks');
  });
});

describe('CONFIG_VARIABLES (the README table)', () => {
  it('documents every variable once, with a description', () => {
    const names = CONFIG_VARIABLES.map((variable) => variable.name);
    expect(new Set(names).size).toBe(names.length);
    expect(CONFIG_VARIABLES.every((variable) => variable.description.length > 0)).toBe(true);
  });

  it('documents every variable loadConfig reads: setting each to garbage fails on that one', () => {
    // A variable loadConfig reads but the table lacks would not be typed as a ConfigVariableName,
    // so this checks the other way round: each documented variable is really read.
    const unread = CONFIG_VARIABLES.filter(({ name }) => {
      const freeText = ['DATA_DIR', 'HOST', 'KAFKA_CLIENT_ID', 'AUTH_ISSUER', 'AUTH_AUDIENCE', 'KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD'];
      if (freeText.includes(name)) return false; // any value is valid
      // The other Kafka settings are read only when Kafka is configured.
      const context = name.startsWith('KAFKA_') && name !== 'KAFKA_BROKERS' ? { KAFKA_BROKERS: '127.0.0.1:9092' } : {};
      return problemsOf({ ...context, [name]: 'ÿ not valid ÿ' }).every((problem) => !problem.includes(name));
    });
    expect(unread).toEqual([]);
  });
});

describe('Kafka settings', () => {
  it('is off without KAFKA_BROKERS', () => {
    expect(loadConfig({}).kafka).toBeUndefined();
  });

  it('reads brokers, TLS and SASL; SASL forces TLS', () => {
    expect(loadConfig({ KAFKA_BROKERS: 'a:9092,b:9093' }).kafka).toEqual({ brokers: ['a:9092', 'b:9093'], clientId: 'kcflow', ssl: false, topicPartitions: 3 });
    expect(
      loadConfig({ KAFKA_BROKERS: 'a:9092', KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: 'kc', KAFKA_SASL_PASSWORD: 'pw' }).kafka,
    ).toMatchObject({ ssl: true, sasl: { mechanism: 'scram-sha-512', username: 'kc', password: 'pw' } });
  });

  it('refuses SASL without credentials or over plain text', () => {
    expect(problemsOf({ KAFKA_BROKERS: 'a:9092', KAFKA_SASL_MECHANISM: 'plain' })).toEqual(
      expect.arrayContaining(['KAFKA_SASL_USERNAME is required', 'KAFKA_SASL_PASSWORD is required']),
    );
    expect(problemsOf({ KAFKA_BROKERS: 'a:9092', KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p', KAFKA_SSL: 'false' })).toEqual([
      'KAFKA_SSL cannot be false when KAFKA_SASL_MECHANISM is set',
    ]);
  });
});

describe('EventStoreDB connection strings', () => {
  it('takes a single node and a cluster of nodes', () => {
    const base = { EVENT_STORE: 'esdb', READ_MODEL_URL: 'postgres://rm@db/kcflow' };
    expect(loadConfig({ ...base, ESDB_CONNECTION_STRING: 'esdb://node1:2113?tls=false' }).eventStore).toEqual({
      kind: 'esdb',
      connectionString: 'esdb://node1:2113?tls=false',
    });
    const cluster = 'esdb://admin:changeit@node1:2113,node2:2113,node3:2113?tlsCAFile=/certs/ca.crt';
    expect(loadConfig({ ...base, ESDB_CONNECTION_STRING: cluster }).eventStore).toEqual({ kind: 'esdb', connectionString: cluster });
  });

  it('still refuses what is not an esdb URL', () => {
    expect(problemsOf({ EVENT_STORE: 'esdb', READ_MODEL_URL: 'postgres://rm@db/kcflow', ESDB_CONNECTION_STRING: 'http://a:2113,b:2113' })[0]).toMatch(
      /^ESDB_CONNECTION_STRING must be a esdb:\/\/ or esdb\+discover:\/\/ URL/,
    );
  });
});
