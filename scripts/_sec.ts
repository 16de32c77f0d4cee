import { loadGuidanceDir } from '../src/faq/docs/index.js';
const l = await loadGuidanceDir(process.argv[2]!);
const want = process.argv.slice(3);
for (const w of want) {
  const [doc, heading] = w.split('::');
  const s = l.sections.filter((x) => x.doc === doc && x.heading === heading);
  if (s.length !== 1) { console.log(`!! ${w}: ${s.length} matches`); continue; }
  console.log(`=== ${w}\n${s[0]!.text.slice(0, 700)}\n`);
}
