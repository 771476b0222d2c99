import { Application } from '@kcflow/domain';

/** The application as API.md shows it: GET /applications/:id and the command responses. */
export function applicationView(application: Application, revision: number | undefined) {
  return {
    id: application.id,
    programmeId: application.programmeId,
    category: application.category,
    status: application.status,
    paymentStatus: application.paymentStatus,
    applicant: application.applicant,
    project: application.project,
    review: application.review,
    revisionRequest: application.revisionRequest,
    decision: application.decision,
    approvedAmount: application.approvedAmount,
    disbursedAmount: application.disbursedAmount,
    disbursements: application.disbursements,
    evaluation: application.evaluation,
    withdrawal: application.withdrawal,
    closure: application.closure,
    recusals: application.recusals,
    ownerId: application.ownerId,
    revision: revision ?? -1,
  };
}

export type ApplicationView = ReturnType<typeof applicationView>;

/** What every command answers: enough to chain the next command with If-Match. */
export interface CommandAnswer {
  id: string;
  revision: number;
  status: string;
  paymentStatus?: string;
}
