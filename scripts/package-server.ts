/**
 * Lays out the server exactly as the Dockerfile's final stage does — runtime dependencies only, the compiled
 * app, the folders it reads — and zips it for App Service code deployment (`az webapp deploy --type zip`).
 * The Dockerfile is the one description of that layout: this script reads its final stage's COPY lines,
 * so the image, the zip and the test that starts the layout cannot drift apart.
 *
 *   npm run package:server                          → build/rollout-desk-server.zip
 *   npm run package:server -- --guidance ~/our-docs  → the same, with the rollout's own guidance in
 *                                                       guidance/ (set GUIDANCE_DIR=guidance)
 *   npm run package:server -- --dir build/server     (the folder only, no zip)
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { zipSync } from 'fflate';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const DOCKERFILE = path.join(ROOT, 'Dockerfile');

export interface Instruction {
  op: string;
  args: string;
}
export interface Stage {
  image: string;
  name?: string;
  instructions: Instruction[];
}

/** Dockerfile text → stages (comments dropped, `\` continuations joined). */
export function parseDockerfile(text: string): Stage[] {
  const joined = text
    .split('\n')
    .filter((l) => !/^\s*#/.test(l))
    .join('\n')
    .replace(/\\\n/g, ' ');
  const stages: Stage[] = [];
  for (const line of joined.split('\n').map((l) => l.trim()).filter(Boolean)) {
    const [, op = '', args = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    if (op.toUpperCase() === 'FROM') {
      const [, image = '', name] = /^(\S+)(?:\s+AS\s+(\S+))?/i.exec(args) ?? [];
      stages.push({ image, name, instructions: [] });
    } else {
      stages.at(-1)?.instructions.push({ op: op.toUpperCase(), args });
    }
  }
  return stages;
}

export interface Copy {
  from?: string;
  sources: string[];
  dest: string;
}

/** The COPY instructions of a stage, with `--from` read and other flags (`--chown`, …) set aside. */
export function copiesOf(stage: Stage): Copy[] {
  return stage.instructions
    .filter((i) => i.op === 'COPY')
    .map((i) => {
      const words = i.args.split(/\s+/);
      const from = words.find((w) => w.startsWith('--from='))?.slice('--from='.length);
      const paths = words.filter((w) => !w.startsWith('--'));
      return { from, sources: paths.slice(0, -1), dest: paths.at(-1) ?? '.' };
    });
}

function workdirOf(stage: Stage): string {
  return stage.instructions.filter((i) => i.op === 'WORKDIR').at(-1)?.args ?? '/';
}

/** Where `dest` of a COPY lands, inside `outDir` standing for the stage's WORKDIR. */
function target(outDir: string, dest: string): string {
  return path.join(outDir, dest);
}

function copyInto(from: string, dest: string, intoDir: boolean): void {
  const to = intoDir ? path.join(dest, path.basename(from)) : dest;
  mkdirSync(path.dirname(to), { recursive: true });
  cpSync(from, to, { recursive: true, dereference: true });
}

export interface LayoutOptions {
  /**
   * A folder holding the `build` stage's output — an up-to-date `dist/` and what the stage copies in, the tab
   * with its bundles built; default: `npm run build` here.
   */
  builtApp?: string;
  /** Extra npm flags for the runtime install (the test passes --prefer-offline). */
  npmFlags?: string[];
}

/**
 * Writes the final stage's files into `outDir` (empty or absent). `COPY` from the build context takes the
 * repo's files; `--from=<stage>` runs that stage: an `npm ci …` stage really installs (same flags), the
 * stage that runs `npm run build` is replaced by `builtApp`'s compiled `dist/` and built tab.
 */
export function layOutServer(outDir: string, opts: LayoutOptions = {}): Stage {
  const stages = parseDockerfile(readFileSync(DOCKERFILE, 'utf8'));
  const final = stages.at(-1);
  if (!final) throw new Error('Dockerfile has no stage');
  const unsupported = final.instructions.filter((i) => i.op === 'RUN' || i.op === 'ADD');
  if (unsupported.length) throw new Error(`the final stage must only COPY; found ${unsupported[0]?.op}`);
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const stageDirs = `${outDir}.stages`;
  rmSync(stageDirs, { recursive: true, force: true });
  try {
    for (const copy of copiesOf(final)) {
      const intoDir = copy.dest.endsWith('/') || copy.sources.length > 1;
      if (!copy.from) {
        for (const src of copy.sources) copyInto(path.join(ROOT, src), target(outDir, copy.dest), intoDir);
        continue;
      }
      const stage = stages.find((s) => s.name === copy.from);
      if (!stage) throw new Error(`COPY --from=${copy.from}: no such stage`);
      const stageDir = path.join(stageDirs, copy.from);
      runStage(stage, stageDir, opts);
      for (const src of copy.sources) {
        const inStage = path.join(stageDir, path.relative(workdirOf(stage), src));
        const to = intoDir ? path.join(target(outDir, copy.dest), path.basename(src)) : target(outDir, copy.dest);
        mkdirSync(path.dirname(to), { recursive: true });
        renameSync(inStage, to);
      }
    }
  } finally {
    rmSync(stageDirs, { recursive: true, force: true });
  }
  return final;
}

/**
 * Runs one earlier stage in `stageDir` (standing for its WORKDIR). A stage that runs `npm run build` is the
 * compile step, done already (`builtApp`) or here with the repo's own dev dependencies; any other stage may
 * only COPY from the context and `npm ci`.
 */
function runStage(stage: Stage, stageDir: string, opts: LayoutOptions): void {
  if (existsSync(stageDir)) return;
  mkdirSync(stageDir, { recursive: true });
  if (stage.instructions.some((i) => i.op === 'RUN' && i.args === 'npm run build')) {
    if (!opts.builtApp) execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
    const built = opts.builtApp ?? ROOT;
    cpSync(path.join(built, 'dist'), path.join(stageDir, 'dist'), { recursive: true });
    // What the stage copied in, as the build left it: tab/ now holds its bundles beside its sources.
    for (const copy of copiesOf(stage)) {
      for (const src of copy.sources) copyInto(path.join(built, src), target(stageDir, copy.dest), copy.dest.endsWith('/') || copy.sources.length > 1);
    }
    return;
  }
  for (const i of stage.instructions) {
    if (i.op === 'COPY') {
      const copy = copiesOf({ ...stage, instructions: [i] })[0]!;
      if (copy.from) throw new Error(`stage ${stage.name}: COPY --from is not reproduced here`);
      const intoDir = copy.dest.endsWith('/') || copy.sources.length > 1;
      for (const src of copy.sources) copyInto(path.join(ROOT, src), target(stageDir, copy.dest), intoDir);
    } else if (i.op === 'RUN' && /^npm ci\b/.test(i.args)) {
      const args = i.args.split(/\s+/).slice(1);
      execFileSync('npm', [...args, ...(opts.npmFlags ?? [])], { cwd: stageDir, stdio: 'pipe' });
    } else if (i.op === 'RUN') {
      throw new Error(`stage ${stage.name}: cannot reproduce "RUN ${i.args}"`);
    }
  }
}

function filesForZip(dir: string, base = dir, out: Record<string, Uint8Array> = {}): Record<string, Uint8Array> {
  for (const entry of readdirSync(dir)) {
    const full = path.join(dir, entry);
    const stat = statSync(full); // follows node_modules/.bin links: the zip holds plain files
    if (stat.isDirectory()) filesForZip(full, base, out);
    else out[path.relative(base, full).split(path.sep).join('/')] = readFileSync(full);
  }
  return out;
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { dir: { type: 'string' }, out: { type: 'string' }, guidance: { type: 'string' } },
  });
  const dir = path.resolve(values.dir ?? path.join(ROOT, 'build', 'server'));
  if (values.guidance && !existsSync(values.guidance)) {
    console.error(`--guidance: no such folder: ${values.guidance}`);
    return 1;
  }
  layOutServer(dir);
  if (values.guidance) {
    // The rollout's own docs, beside the demo ones: the app reads them with GUIDANCE_DIR=guidance.
    cpSync(path.resolve(values.guidance), path.join(dir, 'guidance'), { recursive: true });
    console.log(`Guidance from ${values.guidance} is in guidance/: set GUIDANCE_DIR=guidance`);
  }
  if (values.dir) {
    console.log(`Laid out the server in ${dir} (start it there with: node dist/main.js)`);
    return 0;
  }
  const out = path.resolve(values.out ?? path.join(ROOT, 'build', 'rollout-desk-server.zip'));
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, zipSync(filesForZip(dir), { level: 6 }));
  rmSync(dir, { recursive: true, force: true });
  console.log(`Wrote ${out}`);
  console.log('Deploy it: az webapp deploy --resource-group <rg> --name <web app> --src-path <zip> --type zip');
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  process.exitCode = await main(process.argv.slice(2));
}
