// Written by `npx tsx scripts/faq-train-rerank.ts --fit --no-grid --lambda 0.001 --depth 20`:
// pairwise logistic regression on the answerable questions of the six tuning sets. Do not edit by hand.

/** Candidates the re-ranker reorders (the engine's top N). */
export const RERANK_DEPTH = 20;

/** One weight per feature, in RERANK_FEATURES order (rerank.ts). */
export const RERANK_WEIGHTS: readonly number[] = [
  2.1441, // engineScore
  1.259, // engineRank
  1.0302, // coverSection
  0.6936, // coverHeading
  0.254, // coverPath
  1.4656, // coverExact
  1.4095, // headingSaid
  1.2015, // bigram
  -0.9064, // docTop
  -0.2441, // depth
  0.205, // length
  -0.0559, // headingQuestion
  0.7006, // whMatch
  0.6045, // sameDocAsFirst
];
