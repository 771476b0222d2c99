import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  APPLICANT_KINDS,
  ApplicantKind,
  CATEGORIES,
  Category,
  IndicatorValues,
  RATINGS,
  Rating,
  RECOMMENDATIONS,
  Recommendation,
} from '@kcflow/domain';
import { Type } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsISO8601,
  IsNotEmpty,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import { IsIndicatorValues, IsVnd } from '../http/validators';

/** Request bodies of the application routes (API.md): the boundary where input is checked. */

const TEXT = 500;
const LONG_TEXT = 5000;

export class ApplicantDto {
  @ApiProperty({ example: 'HTX Mây tre đan Phú Vinh' }) @IsString() @IsNotEmpty() @MaxLength(TEXT) name: string;
  @ApiProperty({ example: '0101234567', description: '10 or 13 digits (13: 10 + "-" + 3)' })
  @Matches(/^\d{10}(-\d{3})?$/, { message: 'taxCode must be 10 digits, optionally followed by -NNN' })
  taxCode: string;
  @ApiProperty({ enum: APPLICANT_KINDS }) @IsIn(APPLICANT_KINDS) kind: ApplicantKind;
  @ApiProperty({ example: 'Chương Mỹ' }) @IsString() @IsNotEmpty() @MaxLength(TEXT) district: string;
  @ApiProperty({ example: 'Phú Nghĩa' }) @IsString() @IsNotEmpty() @MaxLength(TEXT) commune: string;
  @ApiPropertyOptional({ example: 'Phú Vinh' }) @IsOptional() @IsString() @MaxLength(TEXT) craftVillage?: string;
}

export class ProjectDto {
  @ApiProperty({ example: 'Đầu tư máy chẻ nan tự động' }) @IsString() @IsNotEmpty() @MaxLength(TEXT) title: string;
  @ApiProperty() @IsString() @MaxLength(LONG_TEXT) description: string;
  @ApiProperty({ example: 500000000, description: 'whole VND' }) @IsVnd({ positive: true }) totalCost: number;
  @ApiProperty({ example: 250000000, description: 'whole VND' }) @IsVnd({ positive: true }) requestedAmount: number;
  @ApiProperty({ example: { jobs_created: 12, facilities_equipped: 1 } }) @IsIndicatorValues() expectedOutcomes: IndicatorValues;
}

export class SubmitApplicationDto {
  @ApiProperty({ example: 'HN-2024-city' }) @IsString() @IsNotEmpty() @MaxLength(100) programmeId: string;
  @ApiProperty({ enum: CATEGORIES }) @IsIn(CATEGORIES) category: Category;
  @ApiProperty() @ValidateNested() @Type(() => ApplicantDto) applicant: ApplicantDto;
  @ApiProperty() @ValidateNested() @Type(() => ProjectDto) project: ProjectDto;
}

export class ReasonDto {
  @ApiProperty() @IsString() @IsNotEmpty() @MaxLength(LONG_TEXT) reason: string;
}

export class AmendApplicationDto {
  @ApiProperty() @ValidateNested() @Type(() => ProjectDto) project: ProjectDto;
}

export class PriorityDto {
  @ApiPropertyOptional({ description: 'Facility run by a woman (Decree 235/2025 priority)' }) @IsOptional() @IsBoolean() womenLed?: boolean;
  @ApiPropertyOptional({ description: 'Facility run by an ethnic minority' }) @IsOptional() @IsBoolean() ethnicMinority?: boolean;
}

export class ReviewApplicationDto {
  @ApiProperty({ minimum: 0, maximum: 100 }) @IsInt() @Min(0) @Max(100) score: number;
  @ApiProperty({ enum: RECOMMENDATIONS }) @IsIn(RECOMMENDATIONS) recommendation: Recommendation;
  @ApiPropertyOptional({ description: 'whole VND' }) @IsOptional() @IsVnd({ positive: true }) recommendedAmount?: number;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(LONG_TEXT) notes?: string;
  @ApiPropertyOptional() @IsOptional() @ValidateNested() @Type(() => PriorityDto) priority?: PriorityDto;
}

export class ApproveApplicationDto {
  @ApiProperty({ example: '1234/QĐ-UBND' }) @IsString() @IsNotEmpty() @MaxLength(100) decisionNumber: string;
  @ApiProperty({ example: '2024-05-02' }) @IsISO8601({ strict: true }) decisionDate: string;
  @ApiProperty({ example: 200000000, description: 'whole VND' }) @IsVnd({ positive: true }) approvedAmount: number;
}

export class RejectApplicationDto extends ReasonDto {
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(100) decisionNumber?: string;
}

export class DisburseFundsDto {
  @ApiProperty({ example: 'KBNN-2024-000123' }) @IsString() @IsNotEmpty() @MaxLength(100) paymentRef: string;
  @ApiProperty({ example: 140000000, description: 'whole VND' }) @IsVnd({ positive: true }) amount: number;
  @ApiProperty({ example: '2024-06-01' }) @IsISO8601({ strict: true }) paidAt: string;
}

export class EvaluateOutcomeDto {
  @ApiProperty({ example: { jobs_created: 10, facilities_equipped: 1 } }) @IsIndicatorValues() outcomes: IndicatorValues;
  @ApiProperty({ enum: RATINGS }) @IsIn(RATINGS) rating: Rating;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(LONG_TEXT) notes?: string;
}

export class CloseApplicationDto {
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(LONG_TEXT) reason?: string;
}

export class ListApplicationsQueryDto {
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(100) programmeId?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(40) status?: string;
  @ApiPropertyOptional({ enum: CATEGORIES }) @IsOptional() @IsIn(CATEGORIES) category?: Category;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(TEXT) district?: string;
  @ApiPropertyOptional({ description: 'applicant name or tax code' }) @IsOptional() @IsString() @MaxLength(TEXT) search?: string;
  @ApiPropertyOptional({ minimum: 1, maximum: 200 }) @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(200) limit?: number;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(500) cursor?: string;
}

export class HistoryQueryDto {
  @ApiPropertyOptional({ description: 'ISO 8601 moment' }) @IsOptional() @IsISO8601() asOf?: string;
  @ApiPropertyOptional() @IsOptional() @Type(() => Number) @IsInt() @Min(0) revision?: number;
}

/** The history routes: API.md's query, and optionally one page of the events instead of all of them. */
export class HistoryPageQueryDto extends HistoryQueryDto {
  @ApiPropertyOptional({ minimum: 1, maximum: 1000, description: 'list only the last eventsLimit events up to the revision (or before eventsCursor); the state is unchanged' })
  @ValidateIf((query: HistoryPageQueryDto) => query.eventsLimit !== undefined || query.eventsCursor !== undefined)
  @Type(() => Number) @IsInt() @Min(1) @Max(1000)
  eventsLimit?: number;
  @ApiPropertyOptional({ description: 'eventsPage.nextCursor of the previous page: the events before it' })
  @IsOptional() @Matches(/^\d{1,15}$/, { message: 'eventsCursor must be an eventsPage.nextCursor from this history' })
  eventsCursor?: string;

  /** The page asked for, if any. */
  static page(query: HistoryPageQueryDto): { limit: number; cursor?: string } | undefined {
    return query.eventsLimit === undefined ? undefined : { limit: query.eventsLimit, cursor: query.eventsCursor };
  }
}
