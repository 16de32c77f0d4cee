/**
 * Sums a V8 .cpuprofile (node --cpu-prof) into self time per place: a package under node_modules, a folder
 * of src/, node's internals, or V8's own work (GC, idle, compiled code without a script).
 */

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export function cpuProfileSummary(json: string): { where: string; share: number; ms: number }[] {
  const profile = JSON.parse(json) as Profile;
  const placeOf = new Map<number, string>();
  for (const n of profile.nodes) placeOf.set(n.id, place(n.callFrame));
  const ms = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const dt = (profile.timeDeltas[i] ?? 0) / 1000;
    const where = placeOf.get(id) ?? '(unknown)';
    ms.set(where, (ms.get(where) ?? 0) + dt);
    total += dt;
  });
  return [...ms]
    .map(([where, t]) => ({ where, ms: Math.round(t), share: (100 * t) / total }))
    .sort((a, b) => b.ms - a.ms);
}

function place(frame: { functionName: string; url: string }): string {
  const url = frame.url;
  if (!url) return `(${frame.functionName || 'program'})`;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  const src = /\/src\/([^/]+)/.exec(url);
  if (src) return `src/${src[1]}`;
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[1] ?? url.slice(5)}`;
  return url.split('/').slice(-2).join('/');
}
