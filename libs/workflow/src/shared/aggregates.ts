import {
  APPLICATION_FOLD_VERSION,
  ApplicationEvent,
  ApplicationState,
  evolveApplication,
  evolveProgramme,
  foldApplication,
  foldProgramme,
  initialApplicationState,
  initialProgrammeState,
  PROGRAMME_FOLD_VERSION,
  ProgrammeEvent,
  ProgrammeState,
} from '@kcflow/domain';
import { Aggregate } from './fold';

/** Events between two snapshots of a stream: the most a load or an audit replay folds beyond one. */
export const SNAPSHOT_EVERY = 100;

/**
 * An application stream is short (a dozen events) unless it is paid in many tranches, so
 * commands read it whole, in one round trip; its snapshots serve the audit replay.
 */
export const applicationAggregate: Aggregate<ApplicationState, ApplicationEvent> = {
  initialState: initialApplicationState,
  evolve: evolveApplication,
  fold: foldApplication,
  snapshots: { foldVersion: `application/${APPLICATION_FOLD_VERSION}`, every: SNAPSHOT_EVERY, loadOnCommand: false },
};

/** A programme stream gains an event with every approval and release: commands load it from a recent point. */
export const programmeAggregate: Aggregate<ProgrammeState, ProgrammeEvent> = {
  initialState: initialProgrammeState,
  evolve: evolveProgramme,
  fold: foldProgramme,
  snapshots: { foldVersion: `programme/${PROGRAMME_FOLD_VERSION}`, every: SNAPSHOT_EVERY, loadOnCommand: true },
};
