import { applicationsProjection } from './applications/applications.projection';
import { budgetProjection } from './budget/budget.projection';
import { outcomesProjection } from './outcomes/outcomes.projection';
import { Projection } from './projection';

export * from './projection';
export * from './projection-runner';
export * from './applications/applications.projection';
export * from './applications/applications.query';
export * from './budget/budget.projection';
export * from './budget/budget.query';
export * from './outcomes/outcomes.projection';
export * from './outcomes/outcomes.query';
export * from './projection-lag';
export * from './rebuild';
export * from './verification/verify-read-models';

/** Every read model the API and the worker run. */
export const ALL_PROJECTIONS: readonly Projection[] = [applicationsProjection, budgetProjection, outcomesProjection];
