/** How a proactive send ended: delivered, refused with 429 (Teams throttled us), or failed otherwise. */
export type SendOutcome = 'sent' | 'throttled' | 'failed';

/** The app's own figures. Features call these; where they go (Application Insights, or nowhere) is set at start. */
export interface AppMetrics {
  /** A question was asked: `answered` false when the guidance did not cover it. */
  questionAnswered(answered: boolean): void;
  /** A new issue was logged (not a repeat of a retried activity). */
  issueLogged(): void;
  /** One proactive send finished; call it for every 429 the outbound path sees, too. */
  messageSent(outcome: SendOutcome): void;
}

const ignore: AppMetrics = {
  questionAnswered: () => {},
  issueLogged: () => {},
  messageSent: () => {},
};

let sink: AppMetrics = ignore;

/** Where figures go: the telemetry exporter sets it when Application Insights is configured. */
export function setMetricsSink(next: AppMetrics | undefined): void {
  sink = next ?? ignore;
}

/** The figures, as features see them; a no-op until telemetry is started. */
export const metrics: AppMetrics = {
  questionAnswered: (answered) => sink.questionAnswered(answered),
  issueLogged: () => sink.issueLogged(),
  messageSent: (outcome) => sink.messageSent(outcome),
};
