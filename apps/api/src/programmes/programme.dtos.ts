import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { CATEGORIES, Category, FUNDING_SOURCES, FundingSource, INDICATORS } from '@kcflow/domain';
import {
  IsIn,
  IsInt,
  IsNotEmpty,
  IsNumber,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  registerDecorator,
  ValidationOptions,
} from 'class-validator';
import { IsVnd } from '../http/validators';

/** `{ "<key>": value }` whose keys are all from `keys` and whose values pass `valid`. */
function IsRecordOf(keys: readonly string[], valid: (value: unknown) => boolean, what: string, options?: ValidationOptions) {
  return (target: object, propertyName: string | symbol) =>
    registerDecorator({
      name: 'isRecordOf',
      target: target.constructor,
      propertyName: String(propertyName),
      options: { message: `$property must map ${keys.join(', ')} to ${what}`, ...options },
      validator: {
        validate: (value: unknown) =>
          typeof value === 'object' &&
          value !== null &&
          !Array.isArray(value) &&
          Object.entries(value).every(([key, v]) => keys.includes(key) && valid(v)),
      },
    });
}

const isVnd = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0;
const isCap = (v: unknown) => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const { maxAmount, maxShareOfCost, ...rest } = v as Record<string, unknown>;
  return (
    Object.keys(rest).length === 0 &&
    (maxAmount === undefined || maxAmount === null || isVnd(maxAmount)) &&
    (maxShareOfCost === undefined || (typeof maxShareOfCost === 'number' && maxShareOfCost > 0 && maxShareOfCost <= 1))
  );
};
const isRange = (v: unknown) => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const { min, max, ...rest } = v as Record<string, unknown>;
  return Object.keys(rest).length === 0 && isVnd(min) && isVnd(max) && (min as number) <= (max as number);
};

export class OpenProgrammeDto {
  @ApiProperty({ example: 'HN-2024-city', description: 'letters, digits, - and _' })
  @Matches(/^[A-Za-z0-9_-]{1,64}$/, { message: 'id must be 1–64 letters, digits, - or _' })
  id: string;
  @ApiProperty({ example: 'Kế hoạch khuyến công 2024' }) @IsString() @IsNotEmpty() @MaxLength(500) name: string;
  @ApiProperty({ example: 2024 }) @IsInt() @Min(2000) @Max(2100) year: number;
  @ApiProperty({ enum: FUNDING_SOURCES }) @IsIn(FUNDING_SOURCES) fundingSource: FundingSource;
  @ApiProperty({ example: { advanced_equipment: 3000000000 }, description: 'category → whole VND' })
  @IsRecordOf(CATEGORIES, isVnd, 'whole VND')
  allocations: Partial<Record<Category, number>>;
  @ApiPropertyOptional({ example: { advanced_equipment: { maxAmount: 300000000, maxShareOfCost: 0.5 } } })
  @IsOptional()
  @IsRecordOf(CATEGORIES, isCap, '{ maxAmount?: whole VND | null, maxShareOfCost?: (0, 1] }')
  caps?: Partial<Record<Category, { maxAmount?: number | null; maxShareOfCost?: number }>>;
  @ApiPropertyOptional({ example: 0.7 }) @IsOptional() @IsNumber() @Min(0) @Max(1) advanceShare?: number;
  @ApiPropertyOptional({ example: { new_designs: { min: 650, max: 800 } } })
  @IsOptional()
  @IsRecordOf(INDICATORS, isRange, '{ min, max } whole numbers with min ≤ max')
  targets?: Partial<Record<(typeof INDICATORS)[number], { min: number; max: number }>>;
}

export class AllocateBudgetDto {
  @ApiProperty({ enum: CATEGORIES }) @IsIn(CATEGORIES) category: Category;
  @ApiProperty({ description: 'the new allocation, whole VND' }) @IsVnd() amount: number;
}

export class SetTargetsDto {
  @ApiProperty({ example: { new_designs: { min: 650, max: 800 } } })
  @IsRecordOf(INDICATORS, isRange, '{ min, max } whole numbers with min ≤ max')
  targets: Partial<Record<(typeof INDICATORS)[number], { min: number; max: number }>>;
}
