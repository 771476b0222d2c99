import type { ApplicationView, Role, Session } from './api';
import { todayDdMmYyyy } from './format';
import { CATEGORIES, INDICATORS, type FieldSpec, type Values } from './forms';

/**
 * The transitions of API.md's table: who may take each, in which stages (the domain's rules,
 * libs/domain/src/application/application.ts), and the body it posts. The API remains the
 * judge; this only decides which forms to offer.
 */
export interface Transition {
  action: string;
  path: string;
  role: Role;
  when: (application: ApplicationView, session: Session) => boolean;
  fields: readonly FieldSpec[];
  initial?: (application: ApplicationView) => Values;
}

const inStatus = (...statuses: string[]) => (a: ApplicationView) => statuses.includes(a.status);
const own = (check: (a: ApplicationView) => boolean) => (a: ApplicationView, s: Session) => a.ownerId === s.sub && check(a);
const amount = (value: number | null | undefined) => (value == null ? '' : String(value));

const projectFields: readonly FieldSpec[] = [
  { name: 'project.title', kind: 'text' },
  { name: 'project.description', kind: 'textarea' },
  { name: 'project.totalCost', kind: 'vnd' },
  { name: 'project.requestedAmount', kind: 'vnd' },
  { name: 'project.expectedOutcomes', kind: 'map', keys: INDICATORS, labels: 'indicator' },
];

export const TRANSITIONS: readonly Transition[] = [
  {
    action: 'review',
    path: 'reviews',
    role: 'reviewer',
    when: inStatus('submitted'),
    fields: [
      { name: 'score', kind: 'int' },
      { name: 'recommendation', kind: 'select', options: ['approve', 'reject'], labels: 'recommendation' },
      { name: 'recommendedAmount', kind: 'vnd', optional: true },
      { name: 'notes', kind: 'textarea', optional: true },
      { name: 'priority.womenLed', kind: 'checkbox', optional: true },
      { name: 'priority.ethnicMinority', kind: 'checkbox', optional: true },
    ],
    initial: (a) => ({ recommendedAmount: amount(a.project.requestedAmount) }),
  },
  { action: 'requestRevision', path: 'revision-requests', role: 'reviewer', when: inStatus('submitted', 'reviewed'), fields: [{ name: 'reason', kind: 'textarea' }] },
  {
    action: 'approve',
    path: 'approval',
    role: 'committee',
    when: inStatus('reviewed'),
    fields: [
      { name: 'decisionNumber', kind: 'text' },
      { name: 'decisionDate', kind: 'date' },
      { name: 'approvedAmount', kind: 'vnd' },
    ],
    initial: (a) => ({ decisionDate: todayDdMmYyyy(), approvedAmount: amount(a.review?.recommendedAmount ?? a.project.requestedAmount) }),
  },
  {
    action: 'reject',
    path: 'rejection',
    role: 'committee',
    when: inStatus('reviewed'),
    fields: [
      { name: 'reason', kind: 'textarea' },
      { name: 'decisionNumber', kind: 'text', optional: true },
    ],
  },
  {
    action: 'disburse',
    path: 'disbursements',
    role: 'finance',
    when: (a) => ['approved', 'evaluated'].includes(a.status) && a.paymentStatus !== 'full' && a.evaluation?.rating !== 'not_achieved',
    fields: [
      { name: 'paymentRef', kind: 'text' },
      { name: 'amount', kind: 'vnd' },
      { name: 'paidAt', kind: 'date' },
    ],
    // After the evaluation, the balance; before it the advance limit is the programme's to say.
    initial: (a) => ({ paidAt: todayDdMmYyyy(), amount: a.status === 'evaluated' ? amount((a.approvedAmount ?? 0) - a.disbursedAmount) : '' }),
  },
  {
    action: 'evaluate',
    path: 'evaluation',
    role: 'reviewer',
    when: inStatus('approved'),
    fields: [
      { name: 'outcomes', kind: 'map', keys: INDICATORS, labels: 'indicator' },
      { name: 'rating', kind: 'select', options: ['achieved', 'partially_achieved', 'not_achieved'], labels: 'rating' },
      { name: 'notes', kind: 'textarea', optional: true },
    ],
    initial: (a) => Object.fromEntries(Object.entries(a.project.expectedOutcomes).map(([k, v]) => [`outcomes.${k}`, String(v)])),
  },
  { action: 'close', path: 'closure', role: 'admin', when: inStatus('evaluated'), fields: [{ name: 'reason', kind: 'textarea', optional: true }] },
  {
    action: 'amend',
    path: 'amendments',
    role: 'applicant',
    when: own(inStatus('revision_requested')),
    fields: projectFields,
    initial: (a) => projectValues(a.project),
  },
  { action: 'withdraw', path: 'withdrawal', role: 'applicant', when: own(inStatus('submitted', 'revision_requested', 'reviewed')), fields: [{ name: 'reason', kind: 'textarea' }] },
  {
    action: 'recuse',
    path: 'recusals',
    role: 'reviewer',
    when: inStatus('submitted', 'revision_requested', 'reviewed', 'approved'),
    fields: [{ name: 'reason', kind: 'textarea' }],
  },
];

export function transitionsFor(application: ApplicationView, session: Session): Transition[] {
  return TRANSITIONS.filter((t) => session.roles.includes(t.role) && t.when(application, session));
}

function projectValues(project: ApplicationView['project']): Values {
  const values: Values = {
    'project.title': project.title,
    'project.description': project.description,
    'project.totalCost': String(project.totalCost),
    'project.requestedAmount': String(project.requestedAmount),
  };
  for (const [k, v] of Object.entries(project.expectedOutcomes)) values[`project.expectedOutcomes.${k}`] = String(v);
  return values;
}

/** POST /applications (applicant). */
export const SUBMIT_APPLICATION: readonly FieldSpec[] = [
  { name: 'programmeId', kind: 'text' },
  { name: 'category', kind: 'select', options: CATEGORIES, labels: 'category' },
  { name: 'applicant.name', kind: 'text' },
  { name: 'applicant.taxCode', kind: 'text' },
  { name: 'applicant.kind', kind: 'select', options: ['enterprise', 'cooperative', 'household'], labels: 'kind' },
  { name: 'applicant.district', kind: 'text' },
  { name: 'applicant.commune', kind: 'text' },
  { name: 'applicant.craftVillage', kind: 'text', optional: true },
  ...projectFields,
];

/** POST /programmes (admin); caps and the advance share keep the regulations' defaults. */
export const OPEN_PROGRAMME: readonly FieldSpec[] = [
  { name: 'id', kind: 'text' },
  { name: 'name', kind: 'text' },
  { name: 'year', kind: 'int' },
  { name: 'fundingSource', kind: 'select', options: ['city', 'national'], labels: 'fundingSource' },
  { name: 'allocations', kind: 'map', keys: CATEGORIES, labels: 'category', money: true },
  { name: 'targets', kind: 'ranges', keys: INDICATORS, labels: 'indicator', optional: true },
];
