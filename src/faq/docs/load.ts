import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { parseGuidanceDoc } from './parse.js';
import type { GuidanceDoc, GuidanceSection } from './types.js';

export interface SkippedDoc {
  /** Path relative to the docs dir, '/' separators. */
  path: string;
  reason: string;
}

export interface LoadedGuidance {
  docs: GuidanceDoc[];
  sections: GuidanceSection[];
  skipped: SkippedDoc[];
  /** Raw bytes' text per doc path, so a reload can tell which docs changed. */
  sources: Map<string, string>;
}

export interface LoadOptions {
  /** Called once per file that is skipped (or when the dir itself can't be listed). */
  onWarning?: (message: string) => void;
}

/** Rejects bytes that are not UTF-8 instead of silently serving U+FFFD soup. */
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Reads every `*.md` under `dir` (recursively, hidden folders skipped) into sections. A file
 * that can't be read, decoded or parsed is skipped with a warning naming it; the rest is
 * served. Docs come back sorted by path so results don't depend on directory order.
 */
export async function loadGuidanceDir(dir: string, options: LoadOptions = {}): Promise<LoadedGuidance> {
  const warn = options.onWarning ?? (() => {});
  const skipped: SkippedDoc[] = [];
  const files = await listMarkdownFiles(dir, dir, (path, reason) => {
    skipped.push({ path, reason });
    warn(`guidance: skipped ${path || dir}: ${reason}`);
  });

  const docs: GuidanceDoc[] = [];
  const sources = new Map<string, string>();
  for (const file of files.sort()) {
    const path = relative(dir, file).split(sep).join('/');
    try {
      const text = strictUtf8.decode(await readFile(file));
      docs.push(parseGuidanceDoc(path, text));
      sources.set(path, text);
    } catch (error) {
      const reason = describe(error);
      skipped.push({ path, reason });
      warn(`guidance: skipped ${path}: ${reason}`);
    }
  }
  return { docs, sections: docs.flatMap((doc) => doc.sections), skipped, sources };
}

async function listMarkdownFiles(
  root: string,
  dir: string,
  onSkip: (path: string, reason: string) => void,
): Promise<string[]> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    onSkip(relative(root, dir).split(sep).join('/'), describe(error));
    return [];
  }
  const files: string[] = [];
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    const full = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...(await listMarkdownFiles(root, full, onSkip)));
    // Symlinks and odd entries named *.md are tried too: if they can't be read, the reader warns.
    else if (entry.name.toLowerCase().endsWith('.md')) files.push(full);
  }
  return files;
}

function describe(error: unknown): string {
  if (error instanceof TypeError && /encoded data was not valid/i.test(error.message))
    return 'not valid UTF-8';
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    const firstLine = error.message.split('\n')[0] ?? error.message;
    return code ? `${code}: ${firstLine}` : firstLine;
  }
  return String(error);
}
