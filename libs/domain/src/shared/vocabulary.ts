/** The programme's fixed vocabulary (DESIGN.md, API.md). */

export const CATEGORIES = [
  'vocational_training',
  'management_training',
  'demonstration_model',
  'advanced_equipment',
  'trade_fair',
  'product_design',
  'consulting',
  'ecommerce',
] as const;
export type Category = (typeof CATEGORIES)[number];

export const INDICATORS = [
  'jobs_created',
  'workers_trained',
  'managers_trained',
  'new_designs',
  'fair_participations',
  'facilities_equipped',
  'export_value_vnd',
] as const;
export type Indicator = (typeof INDICATORS)[number];

export const APPLICANT_KINDS = ['enterprise', 'cooperative', 'household'] as const;
export type ApplicantKind = (typeof APPLICANT_KINDS)[number];

export const FUNDING_SOURCES = ['city', 'national'] as const;
export type FundingSource = (typeof FUNDING_SOURCES)[number];

export const RATINGS = ['achieved', 'partially_achieved', 'not_achieved'] as const;
export type Rating = (typeof RATINGS)[number];

export const RECOMMENDATIONS = ['approve', 'reject'] as const;
export type Recommendation = (typeof RECOMMENDATIONS)[number];

export type IndicatorValues = Partial<Record<Indicator, number>>;
export type TargetRange = { min: number; max: number };
export type Targets = Partial<Record<Indicator, TargetRange>>;
