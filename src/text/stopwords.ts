/**
 * Words that carry no topic in questions or docs. A general English list plus the filler of
 * typed questions ("how do i", "is there a way", "please help"); nothing domain-specific.
 */
const STOP_WORDS = new Set(
  `a about above after again against all also am an and any anyone anything are aren arent as at be because been
  before being below between both but by can cannot cant could couldn couldnt did didn didnt do does doesn doesnt
  doing don dont down during each either else etc ever every few for from further get gets getting got had hadn
  has hasn hasnt have haven havent having he her here hers herself him himself his how however i id if im in into
  is isn isnt it its itself ive just know let lets like ll may me might mine more most much must my myself need
  needs no nor not now of off ok okay on once one only or other our ours ourselves out over own please pls re
  really s same shall she should shouldn so some someone something still such t than thank thanks that thats the
  their theirs them themselves then there theres these they theyre this those though through thus to too u under
  until up upon us use used using ve very via want wants was wasn we were weren what whats when where whether which
  while who whom whose why will with won wont would wouldn ya yes yet you your youre yours yourself yourselves
  hi hello hey guys way possible anyway sure maybe lot lots tell help thing things stuff back`
    .split(/\s+/)
    .filter(Boolean),
);

export function isStopWord(word: string): boolean {
  return STOP_WORDS.has(word);
}
