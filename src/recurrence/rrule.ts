import * as rrule from 'rrule';

/**
 * rrule's package "main" is a UMD build: Node's ESM loader (npm start) sees only a default export holding
 * everything, while Vitest and bundlers see the named exports. Either way, this is its RRule.
 */
const loaded = (rrule as unknown as { default?: typeof rrule }).default ?? rrule;
export const RRule: typeof rrule.RRule = loaded.RRule;
export type RRule = rrule.RRule;
