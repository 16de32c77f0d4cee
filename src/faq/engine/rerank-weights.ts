// Written by `npx tsx scripts/faq-train-rerank.ts --fit --no-grid --lambda 0.001 --depth 20`:
// pairwise logistic regression on the answerable questions of the five tuning sets. Do not edit by hand.

/** Candidates the re-ranker reorders (the engine's top N). */
export const RERANK_DEPTH = 20;

/** One weight per feature, in RERANK_FEATURES order (rerank.ts). */
export const RERANK_WEIGHTS: readonly number[] = [
  2.148, // engineScore
  1.3608, // engineRank
  1.1226, // coverSection
  0.5146, // coverHeading
  0.2988, // coverPath
  1.4817, // coverExact
  1.1472, // headingSaid
  1.182, // bigram
  -0.8888, // docTop
  -0.1076, // depth
  0.3248, // length
  -0.0055, // headingQuestion
  0.7681, // whMatch
  0.6133, // sameDocAsFirst
];
