import {
  ApplicationEvent,
  ApplicationState,
  evolveApplication,
  evolveProgramme,
  initialApplicationState,
  initialProgrammeState,
  ProgrammeEvent,
  ProgrammeState,
} from '@kcflow/domain';
import { Aggregate } from './command-loop';

export const applicationAggregate: Aggregate<ApplicationState, ApplicationEvent> = {
  initialState: initialApplicationState,
  evolve: evolveApplication,
};

export const programmeAggregate: Aggregate<ProgrammeState, ProgrammeEvent> = {
  initialState: initialProgrammeState,
  evolve: evolveProgramme,
};
