import pino from 'pino';
import { ApplicationEvent, applicationStream, programmeStream } from '@kcflow/domain';
import { RecordedEvent } from '@kcflow/event-store';
import { APPLICATION_CONTRACT, toIntegrationEvent } from './integration-events';
import { MessagingLogger } from './kafka-config';
import { parsePaymentConfirmation } from './payment-confirmation';
import { applicationLife, newEvent } from './testing/kafka-testing';

function recorded(streamId: string, event: { type: string; data: object }, revision = 0): RecordedEvent {
  return { ...newEvent(event, new Date('2024-05-02T03:00:00Z')), streamId, revision, position: { commit: 1n, prepare: 1n }, recordedAt: new Date() };
}

describe('integration events', () => {
  const id = 'a1';

  it('maps every application event type, each to a versioned type of its own, or skips it on purpose', () => {
    const types = Object.values(APPLICATION_CONTRACT).flatMap((mapping) => (mapping ? [mapping.type] : []));
    expect(new Set(types).size).toBe(types.length);
    for (const type of types) expect(type).toMatch(/^kcflow\.application\.[a-z_]+\.v1$/);
    expect(APPLICATION_CONTRACT.ReviewerRecused).toBeNull();
  });

  it('wraps an event in the CloudEvents envelope, keyed by application', () => {
    const [submitted] = applicationLife(id, 1);
    const event = recorded(applicationStream(id), submitted);
    expect(toIntegrationEvent(event)).toEqual({
      specversion: '1.0',
      id: event.id,
      type: 'kcflow.application.submitted.v1',
      source: 'kcflow',
      subject: id,
      time: '2024-05-02T03:00:00.000Z',
      datacontenttype: 'application/json',
      revision: 0,
      data: expect.objectContaining({ applicationId: id, district: 'Chương Mỹ', applicantKind: 'household' }),
    });
  });

  it.each([
    ['2024-05-02T03:00:00.000Z', '2024-05-02T03:00:00.000Z'],
    ['2024-05-02T10:00:00+07:00', '2024-05-02T03:00:00.000Z'],
    ['2024-05-02T03:00:00Z', '2024-05-02T03:00:00.000Z'],
    ['2024-13-02T03:00:00.000Z', '2024-06-01T00:00:00.000Z'],
    ['yesterday', '2024-06-01T00:00:00.000Z'],
  ])('gives the time the command was decided, occurredAt %s, as %s (the recorded time if it is not a date)', (occurredAt, time) => {
    const [submitted] = applicationLife(id, 1);
    const event = recorded(applicationStream(id), submitted);
    const published = toIntegrationEvent({ ...event, metadata: { ...event.metadata, occurredAt }, recordedAt: new Date('2024-06-01T00:00:00Z') });
    expect(published?.time).toBe(time);
  });

  it('leaves out personal data and free text', () => {
    const life: ApplicationEvent[] = [
      ...applicationLife(id, 4),
      { type: 'RevisionRequested', data: { reason: 'Thiếu hóa đơn của bà Lan', reviewerId: 'reviewer-9' } },
      { type: 'ApplicationRejected', data: { reason: 'Không đủ điều kiện', decisionNumber: '99/QĐ', rejectedBy: 'committee-9' } },
      { type: 'ApplicationWithdrawn', data: { reason: 'Gia đình có việc riêng' } },
      { type: 'OutcomeEvaluated', data: { outcomes: { new_designs: 8 }, rating: 'achieved', notes: 'Ông Hùng làm tốt', evaluatorId: 'officer-9' } },
      { type: 'ApplicationClosed', data: { reason: 'Quyết toán xong' } },
    ];
    const published = JSON.stringify(life.map((e, revision) => toIntegrationEvent(recorded(applicationStream(id), e, revision))));
    for (const secret of ['0101234567', 'Nguyễn Văn A', 'Phú Nghĩa', 'Mười mẫu', 'Thiết kế mẫu', 'Hồ sơ', 'womenLed', 'bà Lan', 'Không đủ', 'Gia đình', 'Ông Hùng', 'Quyết toán', 'reviewer-9', 'committee-9', 'officer-9', 'owner-1']) {
      expect(published).not.toContain(secret);
    }
    expect(published).toContain('"decisionNumber":"99/QĐ"');
    expect(published).toContain('"outcomes":{"new_designs":8}');
  });

  it('skips programme events and recusals, and refuses an application event type it does not know', () => {
    expect(toIntegrationEvent(recorded(programmeStream('p'), { type: 'ProgrammeOpened', data: {} }))).toBeUndefined();
    expect(toIntegrationEvent(recorded(applicationStream(id), { type: 'ReviewerRecused', data: { reviewerId: 'r', reason: 'họ hàng' } }))).toBeUndefined();
    expect(() => toIntegrationEvent(recorded(applicationStream(id), { type: 'ApplicationTeleported', data: {} }))).toThrow(/No integration event is defined for ApplicationTeleported/);
  });
});

describe('payment confirmation shape', () => {
  const good = { paymentRef: 'KBNN-1', applicationId: 'a1', amount: 1_000_000, paidAt: '2024-06-03T10:15:00+07:00' };

  it('accepts a well-formed confirmation and ignores extra fields', () => {
    expect(parsePaymentConfirmation(Buffer.from(JSON.stringify({ ...good, bank: 'VCB' })))).toEqual({ ok: true, confirmation: good });
  });

  it.each([
    [null, 'malformed_json', /^The message is not JSON/],
    ['{"paymentRef":', 'malformed_json', /^The message is not JSON/],
    ['[1,2]', 'invalid_message', /^The message must be a JSON object$/],
    [JSON.stringify({ ...good, amount: 1.5 }), 'invalid_message', /^amount must be a whole number/],
    [JSON.stringify({ ...good, amount: 0 }), 'invalid_message', /^amount must be a whole number/],
    [JSON.stringify({ ...good, paidAt: '2024-06-03T10:15:00' }), 'invalid_message', /^paidAt must be an ISO 8601 date/],
    [JSON.stringify({ ...good, paidAt: '2024-13-45T10:15:00Z' }), 'invalid_message', /^paidAt/],
    [JSON.stringify({ ...good, paymentRef: ' KBNN-1' }), 'invalid_message', /^paymentRef must be/],
    [JSON.stringify({ amount: 5 }), 'invalid_message', /^paymentRef must be .*; applicationId must be .*; paidAt must be/],
  ])('refuses %s with %s', (value, code, reason) => {
    const parsed = parsePaymentConfirmation(value === null ? null : Buffer.from(value));
    expect(parsed).toEqual({ ok: false, code, reason: expect.stringMatching(reason) });
  });
});

it('takes a pino logger', () => {
  const logger: MessagingLogger = pino({ level: 'silent' });
  expect(typeof logger.warn).toBe('function');
});

describe('payment confirmation dates', () => {
  it.each(['2024-06-03', '2024-06-03T10:15:00+07:00', '2024-06-03T03:15:00Z'])('accepts %s, as the HTTP API does', (paidAt) => {
    const parsed = parsePaymentConfirmation(Buffer.from(JSON.stringify({ paymentRef: 'KBNN-1', applicationId: 'a1', amount: 1, paidAt })));
    expect(parsed).toMatchObject({ ok: true, confirmation: { paidAt } });
  });
});
