import { execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { AddressInfo, createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { IHeaders, Kafka, KafkaMessage } from 'kafkajs';
import { ApplicationEvent, DEFAULT_CAPS } from '@kcflow/domain';
import { NewEvent } from '@kcflow/event-store';
import { MessagingLogger } from '../kafka-config';
import { TopicNames } from '../topics';

/** Helpers for the Kafka contract tests (test/contract/kafka-*.test.ts). */

const REPO_ROOT = resolve(__dirname, '../../../..');

/** Topic names no other test run uses. */
export function uniqueTopics(): TopicNames {
  const run = `${Date.now().toString(36)}-${randomUUID().slice(0, 8)}`;
  return {
    applications: `kcflow.applications.v1.test-${run}`,
    payments: `treasury.payments.v1.test-${run}`,
    paymentsDeadLetter: `treasury.payments.v1.test-${run}.dlq`,
  };
}

/** Keeps warnings and errors, to print when a test fails; KCFLOW_TEST_LOG=1 prints them as they come. */
export function recordingLogger(): MessagingLogger & { entries: string[] } {
  const entries: string[] = [];
  const record = (level: string) => (context: object, message: string) => {
    const line = `${level} ${message} ${JSON.stringify(context, (_key, value) => (value instanceof Error ? value.message : value))}`;
    entries.push(line);
    if (process.env.KCFLOW_TEST_LOG) console.log(line);
  };
  return { entries, info: () => undefined, warn: record('WARN'), error: record('ERROR') };
}

export async function waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export interface ConsumedMessage {
  key: string | null;
  value: string | null;
  headers: Record<string, string>;
  partition: number;
  offset: string;
}

/** Reads a topic from the beginning, in a group of its own, until `done` says it has enough. */
export async function consumeUntil(
  kafka: Kafka,
  topic: string,
  done: (messages: ConsumedMessage[]) => boolean,
  timeoutMs: number,
): Promise<ConsumedMessage[]> {
  const messages: ConsumedMessage[] = [];
  const consumer = kafka.consumer({ groupId: `test-reader-${randomUUID()}` });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        messages.push(toConsumed(partition, message));
      },
    });
    await waitFor(`messages on ${topic} (have ${messages.length})`, () => done(messages), timeoutMs);
    return messages;
  } finally {
    await consumer.disconnect();
  }
}

function toConsumed(partition: number, message: KafkaMessage): ConsumedMessage {
  return {
    key: message.key?.toString() ?? null,
    value: message.value?.toString() ?? null,
    headers: headerStrings(message.headers),
    partition,
    offset: message.offset,
  };
}

function headerStrings(headers: IHeaders = {}): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, Array.isArray(value) ? value.join(',') : String(value)]));
}

// ── Domain events with proper shapes ─────────────────────────────────────────────────

export function newEvent(event: { type: string; data: object }, occurredAt = new Date()): NewEvent {
  return {
    id: randomUUID(),
    type: event.type,
    data: event.data as Record<string, unknown>,
    metadata: {
      actorId: 'test',
      role: 'admin',
      correlationId: randomUUID(),
      causationId: randomUUID(),
      occurredAt: occurredAt.toISOString(),
      schemaVersion: 1,
    },
  };
}

/** Submission, review, approval, then disbursements of 1,000,000 VND: `count` events in all. */
export function applicationLife(applicationId: string, count: number): ApplicationEvent[] {
  const events: ApplicationEvent[] = [
    {
      type: 'ApplicationSubmitted',
      data: {
        applicationId,
        programmeId: 'hn-2024',
        category: 'product_design',
        ownerId: 'owner-1',
        applicant: { name: 'Hộ kinh doanh Nguyễn Văn A', taxCode: '0101234567', kind: 'household', district: 'Chương Mỹ', commune: 'Phú Nghĩa' },
        project: {
          title: 'Thiết kế mẫu mây tre đan',
          description: 'Mười mẫu sản phẩm mới cho hội chợ',
          totalCost: 400_000_000,
          requestedAmount: 200_000_000,
          expectedOutcomes: { new_designs: 10 },
        },
        cap: DEFAULT_CAPS.product_design,
      },
    },
    { type: 'ApplicationReviewed', data: { score: 82, recommendation: 'approve', recommendedAmount: 200_000_000, notes: 'Hồ sơ đầy đủ', reviewerId: 'reviewer-1', priority: { womenLed: true } } },
    { type: 'ApplicationApproved', data: { decisionNumber: '1234/QĐ-UBND', decisionDate: '2024-05-02', approvedAmount: 200_000_000, advanceShare: 0.7, approvedBy: 'committee-1' } },
  ];
  for (let i = 1; events.length < count; i++) {
    events.push({ type: 'FundsDisbursed', data: { paymentRef: `${applicationId}-p${i}`, amount: 1_000_000, paidAt: '2024-06-01T09:00:00+07:00' } });
  }
  return events.slice(0, count);
}

// ── A broker of the test's own (test/infra/kafka.sh) ─────────────────────────────────

const KAFKA_SH = resolve(REPO_ROOT, 'test/infra/kafka.sh');

/**
 * A broker that one test starts, stops and restarts: `test/infra/kafka.sh` on free ports
 * and a run folder of its own, so the shared test broker and the suites using it never
 * notice. kafka.sh can stop it, but its `start` wipes the run folder and formats a new
 * cluster (a lost disk, not a restart), so startAgain() runs the broker's own command line,
 * read from /proc before the stop, on the same data, and writes the pid back for kafka.sh.
 */
export class PrivateBroker {
  private argv: string[] = [];

  private constructor(
    readonly brokers: string,
    private readonly env: NodeJS.ProcessEnv,
    private readonly runDir: string,
  ) {}

  static async start(): Promise<PrivateBroker> {
    const [port, controllerPort] = [await freePort(), await freePort()];
    const runDir = mkdtempSync(join(tmpdir(), 'kcflow-kafka-'));
    const env = { ...process.env, KAFKA_PORT: String(port), KAFKA_CONTROLLER_PORT: String(controllerPort), KAFKA_RUN_DIR: runDir, KAFKA_LOG_LEVEL: 'WARN' };
    const broker = new PrivateBroker(`127.0.0.1:${port}`, env, runDir);
    try {
      await broker.script('start');
    } catch (error) {
      rmSync(runDir, { recursive: true, force: true });
      throw error;
    }
    return broker;
  }

  /** `kafka.sh stop`: TERM, and KILL if it lingers. */
  async stop(): Promise<void> {
    const pid = readFileSync(join(this.runDir, 'kafka.pid'), 'utf8').trim();
    this.argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((arg) => arg.length > 0);
    await this.script('stop');
  }

  /** The same broker, on the same data, as a restart after maintenance would be. */
  async startAgain(): Promise<void> {
    if (!this.argv.includes('kafka.Kafka')) throw new Error(`Not a Kafka command line: ${this.argv.join(' ')}`);
    const out = openSync(join(this.runDir, 'kafka.out'), 'a');
    const broker = spawn(this.argv[0], this.argv.slice(1), { detached: true, stdio: ['ignore', out, out] });
    closeSync(out);
    broker.unref();
    writeFileSync(join(this.runDir, 'kafka.pid'), `${broker.pid}\n`);
    await waitFor('the broker to accept connections again', () => portOpen(this.brokers), 60_000, 250);
  }

  /** Stops it for good and removes its run folder. */
  async destroy(): Promise<void> {
    await this.script('stop');
    rmSync(this.runDir, { recursive: true, force: true });
  }

  private async script(command: 'start' | 'stop'): Promise<void> {
    try {
      await promisify(execFile)('bash', [KAFKA_SH, command], { env: this.env, timeout: 120_000 });
    } catch (error) {
      const { stderr } = error as { stderr?: string };
      throw new Error(`test/infra/kafka.sh ${command} failed (this test runs a broker of its own: Java 17+ and the jar cache are needed)\n${stderr ?? error}`);
    }
  }
}

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => done(port));
    });
  });
}

function portOpen(hostPort: string): Promise<boolean> {
  const [host, port] = hostPort.split(':');
  return new Promise((done) => {
    const socket = createConnection({ host, port: Number(port), timeout: 1000 });
    socket.once('connect', () => {
      socket.destroy();
      done(true);
    });
    socket.once('error', () => done(false));
    socket.once('timeout', () => {
      socket.destroy();
      done(false);
    });
  });
}
