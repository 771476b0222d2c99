import { Category, Indicator } from '@kcflow/domain';
import { BudgetSummary, OutcomeReport, ProgrammeBudget } from '@kcflow/read-models';
import { stringify } from 'csv-stringify/sync';
import { Workbook } from 'exceljs';

/**
 * The reports as tables finance and the city open in a spreadsheet: CSV (UTF-8 with a BOM,
 * so Excel reads the Vietnamese text as UTF-8; CRLF line ends) and XLSX (one sheet per table,
 * VND amounts as numbers formatted `#,##0 "₫"`). Amounts stay whole numbers in both, never
 * text, so a spreadsheet can add them up. Headings in English or, with lang=vi, Vietnamese.
 */

export const LANGS = ['en', 'vi'] as const;
export type Lang = (typeof LANGS)[number];
type Text = Record<Lang, string>;

type Kind = 'text' | 'vnd' | 'count' | 'percent';
export interface Sheet {
  name: Text;
  columns: { heading: Text; kind: Kind }[];
  rows: (string | number | null)[][];
}

const CATEGORY: Record<Category, Text> = {
  vocational_training: { en: 'Vocational training', vi: 'Truyền nghề, nâng cao tay nghề' },
  management_training: { en: 'Management training', vi: 'Nâng cao năng lực quản lý' },
  demonstration_model: { en: 'Technical demonstration model', vi: 'Mô hình trình diễn kỹ thuật' },
  advanced_equipment: { en: 'Advanced machinery and technology', vi: 'Ứng dụng máy móc thiết bị tiên tiến' },
  trade_fair: { en: 'Trade fairs and exhibitions', vi: 'Hội chợ, triển lãm' },
  product_design: { en: 'Product design', vi: 'Thiết kế mẫu sản phẩm' },
  consulting: { en: 'Consulting', vi: 'Tư vấn' },
  ecommerce: { en: 'E-commerce', vi: 'Thương mại điện tử' },
};

const INDICATOR: Record<Indicator, Text> = {
  jobs_created: { en: 'Jobs created', vi: 'Việc làm mới cho lao động nông thôn' },
  workers_trained: { en: 'Workers trained', vi: 'Lao động được truyền nghề, nâng cao tay nghề' },
  managers_trained: { en: 'Managers trained', vi: 'Học viên quản lý được nâng cao năng lực quản lý' },
  new_designs: { en: 'New product designs', vi: 'Mẫu thiết kế mới' },
  fair_participations: { en: 'Trade-fair participations', vi: 'Lượt cơ sở tham gia hội chợ, triển lãm' },
  facilities_equipped: { en: 'Facilities equipped', vi: 'Cơ sở đầu tư thiết bị tiên tiến' },
  export_value_vnd: { en: 'Export value (VND)', vi: 'Kim ngạch xuất khẩu (VNĐ)' },
};

const T = {
  category: { en: 'Support category', vi: 'Nội dung hỗ trợ' },
  district: { en: 'District', vi: 'Quận, huyện' },
  programme: { en: 'Programme', vi: 'Kế hoạch' },
  name: { en: 'Name', vi: 'Tên kế hoạch' },
  year: { en: 'Year', vi: 'Năm' },
  fundingSource: { en: 'Funding source', vi: 'Nguồn kinh phí' },
  allocated: { en: 'Allocated (VND)', vi: 'Kinh phí được giao (VNĐ)' },
  committed: { en: 'Committed (VND)', vi: 'Đã cam kết (VNĐ)' },
  disbursed: { en: 'Disbursed (VND)', vi: 'Đã giải ngân (VNĐ)' },
  available: { en: 'Available (VND)', vi: 'Còn lại (VNĐ)' },
  approved: { en: 'Applications approved', vi: 'Số hồ sơ được phê duyệt' },
  paid: { en: 'Applications paid', vi: 'Số hồ sơ đã giải ngân' },
  total: { en: 'Total', vi: 'Tổng cộng' },
  indicator: { en: 'Indicator', vi: 'Chỉ tiêu' },
  targetMin: { en: 'Target (min)', vi: 'Mục tiêu tối thiểu' },
  targetMax: { en: 'Target (max)', vi: 'Mục tiêu tối đa' },
  expected: { en: 'Expected (approved applications)', vi: 'Dự kiến (hồ sơ được phê duyệt)' },
  achieved: { en: 'Achieved (evaluations)', vi: 'Đạt được (nghiệm thu)' },
  percentOfMin: { en: '% of target min', vi: '% so với mục tiêu tối thiểu' },
  supportedFacilities: { en: 'Supported facilities (once per facility a year)', vi: 'Lượt cơ sở được hỗ trợ (mỗi cơ sở một lượt/năm)' },
  city: { en: 'City', vi: 'Ngân sách thành phố' },
  national: { en: 'National', vi: 'Ngân sách trung ương' },
} satisfies Record<string, Text>;

const label = (table: Record<string, Text>, key: string, lang: Lang) => table[key]?.[lang] ?? key;

const figureColumns = [
  { heading: T.allocated, kind: 'vnd' },
  { heading: T.committed, kind: 'vnd' },
  { heading: T.disbursed, kind: 'vnd' },
  { heading: T.available, kind: 'vnd' },
  { heading: T.approved, kind: 'count' },
  { heading: T.paid, kind: 'count' },
] as const;
type Figures = ProgrammeBudget['totals'];
const figures = (f: Figures) => [f.allocated, f.committed, f.disbursed, f.available, f.applicationsApproved, f.applicationsPaid];

/** One programme: per category with a total line, and per district. */
export function programmeBudgetSheets(budget: ProgrammeBudget, lang: Lang): Sheet[] {
  return [
    {
      name: { en: 'Budget by category', vi: 'Theo nội dung hỗ trợ' },
      columns: [{ heading: T.category, kind: 'text' }, ...figureColumns],
      rows: [...budget.categories.map((c) => [label(CATEGORY, c.category, lang), ...figures(c)]), [T.total[lang], ...figures(budget.totals)]],
    },
    {
      name: { en: 'Budget by district', vi: 'Theo quận, huyện' },
      columns: [
        { heading: T.district, kind: 'text' },
        { heading: T.committed, kind: 'vnd' },
        { heading: T.disbursed, kind: 'vnd' },
        { heading: T.approved, kind: 'count' },
      ],
      rows: budget.districts.map((d) => [d.district, d.committed, d.disbursed, d.applications]),
    },
  ];
}

/** Every programme the filter selects, with a total line; and the totals per year and funding source. */
export function budgetSummarySheets(summary: BudgetSummary, lang: Lang): Sheet[] {
  const source = (s: string) => label(T, s, lang);
  return [
    {
      name: { en: 'Budget by programme', vi: 'Theo kế hoạch' },
      columns: [
        { heading: T.programme, kind: 'text' },
        { heading: T.name, kind: 'text' },
        { heading: T.year, kind: 'text' },
        { heading: T.fundingSource, kind: 'text' },
        ...figureColumns,
      ],
      rows: [
        ...summary.programmes.map((p) => [p.programmeId, p.name, p.year, source(p.fundingSource), ...figures(p)]),
        [T.total[lang], null, null, null, ...figures(summary.totals)],
      ],
    },
    {
      name: { en: 'By year and source', vi: 'Theo năm và nguồn' },
      columns: [{ heading: T.year, kind: 'text' }, { heading: T.fundingSource, kind: 'text' }, ...figureColumns],
      rows: summary.groups.map((g) => [g.year, source(g.fundingSource), ...figures(g)]),
    },
  ];
}

/** Per indicator, and supported facilities on the last line. */
export function outcomeSheets(report: OutcomeReport, lang: Lang): Sheet[] {
  return [
    {
      name: { en: 'Outcomes', vi: 'Kết quả' },
      columns: [
        { heading: T.indicator, kind: 'text' },
        { heading: T.targetMin, kind: 'count' },
        { heading: T.targetMax, kind: 'count' },
        { heading: T.expected, kind: 'count' },
        { heading: T.achieved, kind: 'count' },
        { heading: T.percentOfMin, kind: 'percent' },
      ],
      rows: [
        ...report.indicators.map((i) => [
          label(INDICATOR, i.indicator, lang),
          i.target?.min ?? null,
          i.target?.max ?? null,
          i.expected,
          i.achieved,
          i.percentOfMin,
        ]),
        [T.supportedFacilities[lang], null, null, null, report.supportedFacilities, null],
      ],
    },
  ];
}

/** The first sheet as CSV: UTF-8 with BOM, CRLF, numbers without thousands separators. */
export function toCsv(sheets: Sheet[], lang: Lang): Buffer {
  const [sheet] = sheets;
  const rows = [sheet.columns.map((c) => c.heading[lang]), ...sheet.rows.map((row) => row.map((cell) => cell ?? ''))];
  return Buffer.from(stringify(rows, { bom: true, record_delimiter: 'windows' }), 'utf8');
}

const NUMBER_FORMAT: Record<Kind, string | undefined> = { text: undefined, vnd: '#,##0 "₫"', count: '#,##0', percent: '0.0' };

export async function toXlsx(sheets: Sheet[], lang: Lang): Promise<Buffer> {
  const workbook = new Workbook();
  workbook.creator = 'KCFlow';
  for (const sheet of sheets) {
    const worksheet = workbook.addWorksheet(sheet.name[lang]);
    worksheet.columns = sheet.columns.map((c) => ({
      header: c.heading[lang],
      width: Math.max(12, c.heading[lang].length + 2),
      style: NUMBER_FORMAT[c.kind] ? { numFmt: NUMBER_FORMAT[c.kind] } : {},
    }));
    worksheet.getRow(1).font = { bold: true };
    worksheet.views = [{ state: 'frozen', ySplit: 1 }];
    worksheet.addRows(sheet.rows);
  }
  return Buffer.from(await workbook.xlsx.writeBuffer());
}

export const CONTENT_TYPES = {
  csv: 'text/csv; charset=utf-8',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
} as const;
export type ExportFormat = keyof typeof CONTENT_TYPES;
