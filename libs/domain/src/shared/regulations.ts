import { Category } from './vocabulary';

/**
 * The most a category may give one application: at most `maxShareOfCost` of the project's
 * total cost and, when set, at most `maxAmount` VND. A programme may override any of these.
 */
export interface CategoryCap {
  maxShareOfCost: number;
  maxAmount: number | null;
}

/**
 * Defaults from Decree 45/2012/NĐ-CP (as amended by Decree 235/2025/NĐ-CP) and Circular
 * 28/2018/TT-BTC, as summarised in DESIGN.md. Categories the brief gives no figure for are
 * capped only by the project's cost; a programme sets its own cap for them when it has one.
 */
export const DEFAULT_CAPS: Record<Category, CategoryCap> = {
  vocational_training: { maxShareOfCost: 1, maxAmount: null },
  management_training: { maxShareOfCost: 1, maxAmount: null },
  demonstration_model: { maxShareOfCost: 0.3, maxAmount: 1_000_000_000 },
  advanced_equipment: { maxShareOfCost: 0.5, maxAmount: 300_000_000 },
  trade_fair: { maxShareOfCost: 1, maxAmount: null },
  product_design: { maxShareOfCost: 1, maxAmount: null },
  consulting: { maxShareOfCost: 1, maxAmount: null },
  ecommerce: { maxShareOfCost: 1, maxAmount: null },
};

/** Share of the approved amount that may be advanced before the outcome evaluation. */
export const DEFAULT_ADVANCE_SHARE = 0.7;
