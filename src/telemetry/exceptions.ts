type ExceptionSink = (err: Error) => void;

let sink: ExceptionSink | undefined;

/** Where reported exceptions go: set by the telemetry exporter when Application Insights is configured. */
export function setExceptionSink(next: ExceptionSink | undefined): void {
  sink = next;
}

/** Reports a fault that was caught and logged (the logger calls this for every error with an `err`). */
export function reportException(err: unknown): void {
  if (sink && err instanceof Error) sink(err);
}
