import { INDICATORS } from '@kcflow/domain';
import { registerDecorator, ValidationOptions } from 'class-validator';

/** Whole VND as a JSON integer: no strings, no fractions, nothing past 2^53. */
export function IsVnd(options: { positive?: boolean } = {}, validation?: ValidationOptions): PropertyDecorator {
  const least = options.positive ? 1 : 0;
  return (target, propertyName) =>
    registerDecorator({
      name: 'isVnd',
      target: target.constructor,
      propertyName: String(propertyName),
      options: {
        message: `$property must be a whole number of VND${options.positive ? ' greater than 0' : ''} (a JSON integer)`,
        ...validation,
      },
      validator: { validate: (value: unknown) => Number.isSafeInteger(value) && (value as number) >= least },
    });
}

/** `{ "<indicator>": n }` with known indicators and non-negative whole counts. */
export function IsIndicatorValues(validation?: ValidationOptions): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isIndicatorValues',
      target: target.constructor,
      propertyName: String(propertyName),
      options: {
        message: `$property must be an object of indicators (${INDICATORS.join(', ')}) to whole, non-negative numbers`,
        ...validation,
      },
      validator: {
        validate: (value: unknown) =>
          typeof value === 'object' &&
          value !== null &&
          !Array.isArray(value) &&
          Object.entries(value).every(
            ([key, n]) => (INDICATORS as readonly string[]).includes(key) && Number.isSafeInteger(n) && (n as number) >= 0,
          ),
      },
    });
}
