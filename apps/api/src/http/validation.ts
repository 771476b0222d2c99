import { BadRequestException, ValidationPipe, type ArgumentMetadata, type ValidationError } from '@nestjs/common';

/** One problem with one field; `field` is a path into the request, e.g. `project.totalCost`, `items[2].amount`. */
export interface FieldError {
  field: string;
  message: string;
}

/** 400 with the field errors the problem-details filter returns as `errors`. */
export class ValidationFailedException extends BadRequestException {
  constructor(readonly errors: readonly FieldError[]) {
    super(`The request is invalid (${errors.length} ${errors.length === 1 ? 'error' : 'errors'}); see errors for each field`);
    this.name = 'ValidationFailedException';
  }
}

/** The field of the value as a whole (a body that is not an object at all). */
export const ROOT_FIELD = '$';

/**
 * ValidationPipe, except that a JSON body which is not an object ([], "text", 7, null) is
 * refused in so many words: class-transformer would otherwise map an array item by item
 * and report its indexes as unknown fields.
 */
class RequestValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const notAnObject = value === null || typeof value !== 'object' || Array.isArray(value);
    if (metadata.type === 'body' && value !== undefined && notAnObject && this.toValidate(metadata)) {
      throw new ValidationFailedException([{ field: ROOT_FIELD, message: 'the body must be a JSON object' }]);
    }
    return super.transform(value, metadata);
  }
}

/**
 * The global pipe: DTO classes describe the whole request; unknown fields are refused, not
 * dropped, so a misspelt optional field is noticed. No implicit type conversion: query DTOs
 * convert with `@Type(() => Number)`, so JSON bodies with "12" for 12 are refused.
 */
export function createValidationPipe(): ValidationPipe {
  return new RequestValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    transform: true,
    // Field errors name the field; echoing values back could repeat personal data.
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => new ValidationFailedException(toFieldErrors(errors)),
  });
}

/** Flattens class-validator's tree (nested objects, arrays) into one error per failed constraint. */
export function toFieldErrors(errors: readonly ValidationError[], parentPath = ''): FieldError[] {
  return errors.flatMap((error) => {
    const field = joinPath(parentPath, error.property);
    const own = Object.entries(error.constraints ?? {}).map(([constraint, message]) => ({
      field: field || ROOT_FIELD,
      message: clearer(constraint, error.property, message),
    }));
    return [...own, ...toFieldErrors(error.children ?? [], field)];
  });
}

function joinPath(parent: string, property: string | undefined): string {
  if (property === undefined || property === '') return parent;
  if (/^\d+$/.test(property)) return `${parent}[${property}]`;
  return parent ? `${parent}.${property}` : property;
}

// class-validator's "property x should not exist" says how it works, not what to fix.
function clearer(constraint: string, property: string | undefined, message: string): string {
  return constraint === 'whitelistValidation' ? `${property} is not an accepted field` : message;
}
