/**
 * A request path as it may appear in telemetry: a download link's token is a secret (it grants the file),
 * and a query string may carry anything, so both are cut.
 */
export function telemetryPath(path: string): string {
  return path.replace(/[?#].*$/, '').replace(/^\/exports\/[^/]+/, '/exports/:token');
}
