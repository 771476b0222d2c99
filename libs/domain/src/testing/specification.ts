import { DomainError, DomainErrorCode } from '../shared/errors';

/**
 * Given-events / when-command / then-events-or-error, for any pure decider:
 *
 *   spec.given([submitted]).when(review).then([reviewed]);
 *   spec.given([]).when(review).thenRefuses('not_found', /not found/);
 */
export interface Decider<Command, Event, State> {
  decide(command: Command, state: State): Event[];
  evolve(state: State, event: Event): State;
  initialState(): State;
  /** Many events at once; when given, every spec also checks it agrees with `evolve` event by event. */
  fold?(state: State, events: Event[]): State;
}

export function specificationFor<Command, Event, State>(decider: Decider<Command, Event, State>) {
  return {
    given(events: Event[]) {
      return {
        when(command: Command) {
          const run = () => {
            const state = events.reduce(decider.evolve, decider.initialState());
            if (decider.fold) expect(decider.fold(decider.initialState(), events)).toEqual(state);
            return decider.decide(command, state);
          };
          return {
            then(expected: Event[]) {
              expect(run()).toEqual(expected);
            },
            thenNothingHappens() {
              expect(run()).toEqual([]);
            },
            thenRefuses(code: DomainErrorCode, message?: RegExp) {
              let thrown: unknown;
              try {
                run();
              } catch (error) {
                thrown = error;
              }
              expect(thrown).toBeInstanceOf(DomainError);
              expect((thrown as DomainError).code).toBe(code);
              if (message) expect((thrown as DomainError).message).toMatch(message);
            },
          };
        },
      };
    },
  };
}
