import { Client } from 'pg';
import { createConnection } from 'node:net';
import { KAFKA_BROKERS, POSTGRES_URL } from './services';

async function probePostgres(): Promise<string | undefined> {
  const client = new Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('select 1');
    return undefined;
  } catch (error) {
    return `PostgreSQL at ${POSTGRES_URL} is not reachable (${(error as Error).message})`;
  } finally {
    await client.end().catch(() => undefined);
  }
}

function probeTcp(hostPort: string): Promise<string | undefined> {
  const [host, port] = hostPort.split(':');
  return new Promise((resolve) => {
    const socket = createConnection({ host, port: Number(port), timeout: 2000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve(undefined);
    });
    socket.once('error', (error) => resolve(`Kafka at ${hostPort} is not reachable (${error.message}); start it with test/infra/kafka.sh start`));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(`Kafka at ${hostPort} did not answer`);
    });
  });
}

export default async function globalSetup(): Promise<void> {
  const postgres = await probePostgres();
  if (postgres) process.env.KCFLOW_TEST_POSTGRES_UNAVAILABLE = postgres;
  const kafka = await probeTcp(KAFKA_BROKERS.split(',')[0]);
  if (kafka) process.env.KCFLOW_TEST_KAFKA_UNAVAILABLE = kafka;
}
