/** The metrics Rollout Desk computes each week (rollup.ts), by the name a measure's `source: bot.<name>` uses. No imports: the tab's code reads these types too. */

export const BOT_METRICS = {
  weeklyActiveUsers: 'Weekly active users of the bot',
  questionsAsked: 'Questions asked in the week',
  shareAnswered: 'Share of questions answered from the guidance (%)',
  shareHelpful: 'Share of rated answers marked helpful (%)',
  issuesOpened: 'Issues opened in the week',
  issuesResolved: 'Issues resolved in the week',
  openIssues: 'Open issues at the end of the week',
  medianHoursToTriage: 'Median hours from logging to triage',
  medianDaysToResolve: 'Median days from logging to resolution',
  slaBreaches: 'Issues triaged later than the SLA, or open past it',
} as const;
export type BotMetric = keyof typeof BOT_METRICS;
export const BOT_METRIC_NAMES = Object.keys(BOT_METRICS) as BotMetric[];

