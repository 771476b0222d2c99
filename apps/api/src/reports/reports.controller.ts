import { Controller, Get, Query, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Access } from '@kcflow/auth';
import { refuse } from '@kcflow/domain';
import { OutcomeReport, budgetSummary, outcomeReport, programmeBudget } from '@kcflow/read-models';
import type { FastifyReply } from 'fastify';
import { ValidationFailedException } from '../http/validation';
import { ReadSide } from '../read-side';
import { BudgetExportQueryDto, BudgetReportQueryDto, OutcomesExportQueryDto, OutcomesQueryDto } from './report.dtos';
import {
  CONTENT_TYPES,
  ExportFormat,
  Lang,
  Sheet,
  budgetSummarySheets,
  outcomeSheets,
  programmeBudgetSheets,
  toCsv,
  toXlsx,
} from './report-exports';

/** API.md "Reports": budgets and outcomes from the read models, as JSON, CSV and XLSX. */
@ApiTags('reports')
@Controller('reports')
export class ReportsController {
  constructor(private readonly readSide: ReadSide) {}

  /** Every programme's budget totals, summed per plan year and funding source. */
  @Get('budget')
  @Access('reports.read')
  budget(@Query() query: BudgetReportQueryDto) {
    return budgetSummary(this.readSide.db, this.readSide.schema, query);
  }

  @Get('budget.csv')
  @Access('reports.read')
  budgetCsv(@Query() query: BudgetExportQueryDto, @Res({ passthrough: true }) reply: FastifyReply) {
    return this.exportBudget('csv', query, reply);
  }

  @Get('budget.xlsx')
  @Access('reports.read')
  budgetXlsx(@Query() query: BudgetExportQueryDto, @Res({ passthrough: true }) reply: FastifyReply) {
    return this.exportBudget('xlsx', query, reply);
  }

  /** One programme (`programmeId`), or the plan years `from`–`to` (either may be left open), or all. */
  @Get('outcomes')
  @Access('reports.read')
  outcomes(@Query() query: OutcomesQueryDto) {
    return this.outcomeReport(query);
  }

  @Get('outcomes.csv')
  @Access('reports.read')
  outcomesCsv(@Query() query: OutcomesExportQueryDto, @Res({ passthrough: true }) reply: FastifyReply) {
    return this.exportOutcomes('csv', query, reply);
  }

  @Get('outcomes.xlsx')
  @Access('reports.read')
  outcomesXlsx(@Query() query: OutcomesExportQueryDto, @Res({ passthrough: true }) reply: FastifyReply) {
    return this.exportOutcomes('xlsx', query, reply);
  }

  private async outcomeReport({ programmeId, from, to }: OutcomesQueryDto): Promise<OutcomeReport> {
    if (programmeId !== undefined && (from !== undefined || to !== undefined)) {
      throw new ValidationFailedException([{ field: 'programmeId', message: 'give either programmeId or a span of years (from, to), not both' }]);
    }
    if (from !== undefined && to !== undefined && from > to) {
      throw new ValidationFailedException([{ field: 'to', message: 'to must not be before from' }]);
    }
    const report = await outcomeReport(this.readSide.db, this.readSide.schema, { programmeId, from, to });
    if (!report) throw refuse.notFound(`Programme ${programmeId} not found`);
    return report;
  }

  private async exportBudget(format: ExportFormat, { programmeId, lang = 'en', ...filter }: BudgetExportQueryDto, reply: FastifyReply) {
    if (programmeId === undefined) {
      const summary = await budgetSummary(this.readSide.db, this.readSide.schema, filter);
      const name = ['budget', filter.year, filter.fundingSource].filter((part) => part !== undefined).join('-');
      return send(reply, format, name, budgetSummarySheets(summary, lang), lang);
    }
    if (filter.year !== undefined || filter.fundingSource !== undefined) {
      throw new ValidationFailedException([{ field: 'programmeId', message: 'give either programmeId or year/fundingSource, not both' }]);
    }
    const budget = await programmeBudget(this.readSide.db, this.readSide.schema, programmeId);
    if (!budget) throw refuse.notFound(`Programme ${programmeId} not found`);
    return send(reply, format, `budget-${programmeId}`, programmeBudgetSheets(budget, lang), lang);
  }

  private async exportOutcomes(format: ExportFormat, { lang = 'en', ...query }: OutcomesExportQueryDto, reply: FastifyReply) {
    const report = await this.outcomeReport(query);
    const scope = query.programmeId ?? (query.from !== undefined || query.to !== undefined ? `${query.from ?? ''}-${query.to ?? ''}` : 'all');
    return send(reply, format, `outcomes-${scope}`, outcomeSheets(report, lang), lang);
  }
}

/** The file as an attachment; names hold only letters, digits, - and _ (programme ids are validated). */
async function send(reply: FastifyReply, format: ExportFormat, name: string, sheets: Sheet[], lang: Lang): Promise<Buffer> {
  reply.header('Content-Type', CONTENT_TYPES[format]);
  reply.header('Content-Disposition', `attachment; filename="${name}${lang === 'vi' ? '-vi' : ''}.${format}"`);
  return format === 'csv' ? toCsv(sheets, lang) : toXlsx(sheets, lang);
}
