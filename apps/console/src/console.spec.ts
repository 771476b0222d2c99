import { belongsTo, buildBody, type FieldSpec } from './form-model';
import { formatDate, formatDateTime, formatVnd, parseDate, parseVnd } from './format';

describe('formatting for Vietnamese officials', () => {
  it('writes VND with Vietnamese grouping and the đồng sign', () => {
    expect(formatVnd(1_250_000_000)).toBe('1.250.000.000\u00a0₫');
    expect(formatVnd(0)).toBe('0\u00a0₫');
    expect(formatVnd(null)).toBe('—');
  });

  it('writes dates dd/mm/yyyy, calendar dates without a time-zone shift', () => {
    expect(formatDate('2024-05-02')).toBe('02/05/2024');
    expect(formatDateTime(new Date(2024, 11, 31, 9, 5).toISOString())).toBe('31/12/2024 09:05');
  });

  it('reads amounts and dates as typed, and passes anything else on for the API to refuse', () => {
    expect(parseVnd('1.250.000.000')).toBe(1_250_000_000);
    expect(parseVnd(' 300 000 000 ₫ ')).toBe(300_000_000);
    expect(parseVnd('')).toBeUndefined();
    expect(parseVnd('ba trăm triệu')).toBe('ba trăm triệu');
    expect(parseDate('2/5/2024')).toBe('2024-05-02');
    expect(parseDate('2024-05-02')).toBe('2024-05-02');
    expect(parseDate('mai')).toBe('mai');
  });
});

describe('command forms', () => {
  const fields: FieldSpec[] = [
    { name: 'decisionNumber', kind: 'text' },
    { name: 'decisionDate', kind: 'date' },
    { name: 'approvedAmount', kind: 'vnd' },
    { name: 'notes', kind: 'textarea', optional: true },
    { name: 'priority.womenLed', kind: 'checkbox', optional: true },
    { name: 'project.expectedOutcomes', kind: 'map', keys: ['jobs_created', 'new_designs'], labels: 'indicator' },
    { name: 'targets', kind: 'ranges', keys: ['new_designs', 'jobs_created'], labels: 'indicator', optional: true },
  ];

  it('builds the nested request body the API expects, leaving out empty optional inputs', () => {
    const body = buildBody(fields, {
      decisionNumber: ' 1234/QĐ-UBND ',
      decisionDate: '02/05/2024',
      approvedAmount: '300.000.000',
      notes: '  ',
      'priority.womenLed': true,
      'project.expectedOutcomes.jobs_created': '12',
      'targets.new_designs.min': '650',
      'targets.new_designs.max': '800',
    });
    expect(body).toEqual({
      decisionNumber: '1234/QĐ-UBND',
      decisionDate: '2024-05-02',
      approvedAmount: 300_000_000,
      priority: { womenLed: true },
      project: { expectedOutcomes: { jobs_created: 12 } },
      targets: { new_designs: { min: 650, max: 800 } },
    });
  });

  it('sends an empty required text as "" so that the API, not the console, words the refusal', () => {
    expect(buildBody(fields.slice(0, 3), {})).toEqual({ decisionNumber: '' });
  });

  it('puts each field error of a 400 next to the input it names', () => {
    expect(belongsTo({ field: 'project.expectedOutcomes', message: '' }, 'project.expectedOutcomes')).toBe(true);
    expect(belongsTo({ field: 'targets.new_designs', message: '' }, 'targets')).toBe(true);
    expect(belongsTo({ field: 'approvedAmountX', message: '' }, 'approvedAmount')).toBe(false);
  });
});
