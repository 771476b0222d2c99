import { ApiPropertyOptional } from '@nestjs/swagger';
import { FUNDING_SOURCES, FundingSource } from '@kcflow/domain';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, Matches, Max, Min } from 'class-validator';
import { LANGS, Lang } from './report-exports';

const PROGRAMME_ID = /^[A-Za-z0-9_-]{1,64}$/;

export class BudgetReportQueryDto {
  @ApiPropertyOptional({ example: 2024 }) @IsOptional() @Type(() => Number) @IsInt() @Min(2000) @Max(2100) year?: number;
  @ApiPropertyOptional({ enum: FUNDING_SOURCES }) @IsOptional() @IsIn(FUNDING_SOURCES) fundingSource?: FundingSource;
}

export class BudgetExportQueryDto extends BudgetReportQueryDto {
  @ApiPropertyOptional({ description: 'one programme by category and district; without it, every programme year and fundingSource select' })
  @IsOptional()
  @Matches(PROGRAMME_ID, { message: 'programmeId must be 1–64 letters, digits, - or _' })
  programmeId?: string;
  @ApiPropertyOptional({ enum: LANGS, default: 'en', description: 'language of the headings' }) @IsOptional() @IsIn(LANGS) lang?: Lang;
}

export class OutcomesQueryDto {
  @ApiPropertyOptional({ example: 'HN-2024-city' })
  @IsOptional()
  @Matches(PROGRAMME_ID, { message: 'programmeId must be 1–64 letters, digits, - or _' })
  programmeId?: string;
  @ApiPropertyOptional({ example: 2021, description: 'first plan year (inclusive)' }) @IsOptional() @Type(() => Number) @IsInt() @Min(2000) @Max(2100) from?: number;
  @ApiPropertyOptional({ example: 2025, description: 'last plan year (inclusive)' }) @IsOptional() @Type(() => Number) @IsInt() @Min(2000) @Max(2100) to?: number;
}

export class OutcomesExportQueryDto extends OutcomesQueryDto {
  @ApiPropertyOptional({ enum: LANGS, default: 'en', description: 'language of the headings' }) @IsOptional() @IsIn(LANGS) lang?: Lang;
}
