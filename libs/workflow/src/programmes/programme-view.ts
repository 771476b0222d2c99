import { availableIn, CATEGORIES, committedIn, OpenProgramme } from '@kcflow/domain';

/** The programme as GET /programmes/:id and its history show it, budget as the stream knows it. */
export function programmeView(programme: OpenProgramme, revision: number | undefined) {
  const budget = CATEGORIES.filter((c) => programme.allocations[c] !== undefined).map((category) => ({
    category,
    allocated: programme.allocations[category] ?? 0,
    committed: committedIn(programme, category),
    available: availableIn(programme, category),
  }));
  return {
    id: programme.id,
    name: programme.name,
    year: programme.year,
    fundingSource: programme.fundingSource,
    allocations: programme.allocations,
    caps: programme.caps,
    advanceShare: programme.advanceShare,
    targets: programme.targets,
    budget,
    revision: revision ?? -1,
  };
}
