import { randomUUID } from 'node:crypto';
import { Application, applicationStream } from '@kcflow/domain';
import { EventStore } from '@kcflow/event-store';
import {
  ApproveApplicationCommand,
  ApproveApplicationHandler,
  BudgetLedger,
  ChangeProgrammeCommand,
  ChangeProgrammeHandler,
  CommandContext,
  CommandLoop,
  SubmitApplicationCommand,
  SubmitApplicationHandler,
  TransitionApplicationCommand,
  TransitionApplicationHandler,
  applicationAggregate,
  loadStream,
  systemClock,
} from '@kcflow/workflow';

const context = (role: string, actorId = `${role}-1`): CommandContext => ({ actorId, role, correlationId: randomUUID(), causationId: randomUUID() });

/** The real write side on a store: a programme is opened, applications walk the real lifecycle. */
export class Workflow {
  readonly loop: CommandLoop;
  readonly ledger: BudgetLedger;
  readonly transitions: TransitionApplicationHandler;
  private readonly programmeId = `hn-${randomUUID().slice(0, 8)}`;

  constructor(private readonly store: EventStore) {
    this.loop = new CommandLoop(store, systemClock);
    this.ledger = new BudgetLedger(this.loop);
    this.transitions = new TransitionApplicationHandler(this.loop, this.ledger);
  }

  async openProgramme(): Promise<void> {
    await new ChangeProgrammeHandler(this.loop).execute(
      new ChangeProgrammeCommand(
        this.programmeId,
        {
          type: 'OpenProgramme',
          data: { programmeId: this.programmeId, name: 'Khuyến công Hà Nội 2024', year: 2024, fundingSource: 'city', allocations: { product_design: 50_000_000_000 } },
        },
        context('admin'),
      ),
    );
  }

  /** A submitted application asking for 100,000,000 VND (advance limit after approval: 70,000,000). */
  async submitted(): Promise<string> {
    const id = randomUUID();
    await new SubmitApplicationHandler(this.store, this.loop).execute(
      new SubmitApplicationCommand(
        id,
        {
          programmeId: this.programmeId,
          category: 'product_design',
          applicant: { name: 'Hợp tác xã mây tre đan Phú Vinh', taxCode: '0500123456', kind: 'cooperative', district: 'Chương Mỹ', commune: 'Phú Nghĩa' },
          project: { title: 'Mẫu mây tre mới', description: 'Thiết kế 20 mẫu', totalCost: 200_000_000, requestedAmount: 100_000_000, expectedOutcomes: { new_designs: 20 } },
        },
        context('applicant'),
      ),
    );
    return id;
  }

  /** Submitted, reviewed and approved for 100,000,000 VND by the committee. */
  async approved(): Promise<string> {
    const id = await this.submitted();
    await this.transitions.execute(
      new TransitionApplicationCommand(
        id,
        { type: 'ReviewApplication', actor: { id: 'reviewer-1' }, data: { score: 90, recommendation: 'approve', recommendedAmount: 100_000_000 } },
        context('reviewer'),
      ),
    );
    await new ApproveApplicationHandler(this.loop, this.ledger).execute(
      new ApproveApplicationCommand(id, { decisionNumber: '1234/QĐ-UBND', decisionDate: '2024-05-02', approvedAmount: 100_000_000 }, context('committee')),
    );
    return id;
  }

  async application(id: string): Promise<{ application: Application; eventTypes: string[] }> {
    const { state, events } = await loadStream(this.store, applicationAggregate, applicationStream(id));
    return { application: state as Application, eventTypes: events.map((e) => e.type) };
  }
}
