/**
 * Builds the Teams app package for one environment: manifest/manifest.template.json with its ${{VAR}}
 * placeholders filled from env/.env.<name>, the bot's command menu derived from src/commands.ts, validated
 * against the Teams manifest schema named in its `$schema` (bundled offline by @microsoft/app-manifest),
 * zipped with the two icons into build/appPackage.<name>.zip.
 *
 *   npm run package                   → env/.env.local (the demo environment) → build/appPackage.local.zip
 *   npm run package -- --env prod     → env/.env.prod → build/appPackage.prod.zip
 *
 * Required in the env file: TEAMS_APP_ID, BOT_ID, BOT_DOMAIN. Optional: APP_NAME_SUFFIX (default empty),
 * APP_VERSION (default: package.json's version). Secrets never go in an app package: a placeholder named
 * like one is refused. See docs/deployment.md.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs, parseEnv } from 'node:util';
import { type AppManifest, AppManifestUtils } from '@microsoft/app-manifest';
import { strToU8, zipSync } from 'fflate';
import * as commands from '../src/commands.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const MANIFEST_DIR = join(ROOT, 'manifest');
export const TEMPLATE_PATH = join(MANIFEST_DIR, 'manifest.template.json');
export const ENV_DIR = join(ROOT, 'env');
export const BUILD_DIR = join(ROOT, 'build');

/** Icon file name in the package → expected width and height in pixels (Teams' requirements). */
export const ICONS = { 'color.png': 192, 'outline.png': 32 } as const;

const PLACEHOLDER = /\$\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const HOSTNAME =
  /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*(:\d{1,5})?$/i;

export type Vars = Record<string, string | undefined>;

/** Names that hold secrets (passwords, keys, tokens, connection strings): never a manifest placeholder. */
const SECRET_NAME = /(^SECRET_|PASSWORD|SECRET|API_KEY|ACCOUNT_KEY|_KEY$|TOKEN|CONNECTION_STRING)/i;

type Scope = 'personal' | 'team' | 'groupChat';
/** The Teams manifest schema's cap on a command list. */
export const MAX_COMMANDS_PER_LIST = 12;
export interface CommandList {
  scopes: Scope[];
  commands: { title: string; description: string }[];
}

/**
 * The bot's command menu, per scope, from what src/commands.ts exports: the one place that couples the
 * manifest to the bot's commands. Setup commands act on a channel (team only); `my …` and exports answer
 * privately (personal only); champions' and the rollout team's commands work in chat and in their channel;
 * everything else everywhere.
 */
export function commandLists(source: {
  KNOWN_COMMANDS: readonly string[];
  COMMAND_HELP: Readonly<Record<string, string>>;
  COMMAND_ROLE?: Readonly<Record<string, string>>;
} = commands): CommandList[] {
  const scopesOf = (name: string, help: string): Scope[] => {
    if (name.startsWith('setup ')) return ['team'];
    if (name.startsWith('my ') || name.startsWith('export ')) return ['personal'];
    if (/^(Champions|Rollout team):/.test(help)) return ['personal', 'team'];
    return ['personal', 'team', 'groupChat'];
  };
  const lists: CommandList[] = (['personal', 'team', 'groupChat'] as const).map((scope) => ({
    scopes: [scope],
    commands: [],
  }));
  for (const name of source.KNOWN_COMMANDS) {
    const description = source.COMMAND_HELP[name] ?? name;
    for (const scope of scopesOf(name, description)) {
      lists.find((l) => l.scopes[0] === scope)?.commands.push({ title: name, description });
    }
  }
  // Teams shows at most 12 commands a list: a channel's setup commands first (that is how a team starts),
  // then everyone's, champions', the rollout team's, each in the registry's order. The rest still work when
  // typed and are listed by "help".
  const roleRank: Record<string, number> = { staff: 0, champion: 1, rolloutTeam: 2 };
  const rank = (c: { title: string; description: string }) =>
    c.title.startsWith('setup ')
      ? -1
      : (roleRank[source.COMMAND_ROLE?.[c.title] ?? ''] ??
        (/^Champions:/.test(c.description) ? 1 : /^Rollout team:/.test(c.description) ? 2 : 0));
  for (const list of lists) {
    list.commands = list.commands
      .map((c, i) => ({ c, i }))
      .sort((a, b) => rank(a.c) - rank(b.c) || a.i - b.i)
      .slice(0, MAX_COMMANDS_PER_LIST)
      .map(({ c }) => c);
  }
  return lists.filter((l) => l.commands.length > 0);
}

/** A refusal to package, with one line per problem. */
export class PackagingError extends Error {
  constructor(
    message: string,
    readonly problems: readonly string[] = [],
  ) {
    super(problems.length > 0 ? `${message}\n${problems.map((p) => `  - ${p}`).join('\n')}` : message);
    this.name = 'PackagingError';
  }
}

/** The distinct placeholder names in a template, in order of first appearance. */
export function listPlaceholders(template: string): string[] {
  return [...new Set([...template.matchAll(PLACEHOLDER)].map((m) => m[1]!))];
}

/**
 * Replaces each ${{NAME}} with vars[NAME], escaped for a JSON string. A name whose value is undefined is
 * left in place and reported in `missing`. An empty string is a value (APP_NAME_SUFFIX is often empty).
 */
export function fillPlaceholders(template: string, vars: Vars): { text: string; missing: string[] } {
  const missing = new Set<string>();
  const text = template.replace(PLACEHOLDER, (whole, name: string) => {
    const value = vars[name];
    if (value === undefined) {
      missing.add(name);
      return whole;
    }
    return JSON.stringify(value).slice(1, -1);
  });
  return { text, missing: [...missing] };
}

/** Defaults for optional placeholders; anything else must be given. */
export function defaultVars(): Vars {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version?: string };
  return { APP_NAME_SUFFIX: '', APP_VERSION: pkg.version };
}

/** Friendlier checks of the values than the schema's regex errors; returns one line per problem. */
export function checkValues(vars: Vars): string[] {
  const problems: string[] = [];
  for (const name of ['TEAMS_APP_ID', 'BOT_ID']) {
    const value = vars[name];
    if (value !== undefined && !GUID.test(value)) {
      problems.push(`${name} must be a GUID like 00000000-0000-0000-0000-000000000000 (got "${value}")`);
    }
  }
  const domain = vars.BOT_DOMAIN;
  if (domain !== undefined && !HOSTNAME.test(domain)) {
    problems.push(
      `BOT_DOMAIN must be a bare host name such as rollout-desk.azurewebsites.net, without https:// or a path (got "${domain}")`,
    );
  }
  const version = vars.APP_VERSION;
  if (version !== undefined && !/^\d+\.\d+\.\d+$/.test(version)) {
    problems.push(`APP_VERSION must look like 1.2.3 (got "${version}")`);
  }
  return problems;
}

/** Width and height from a PNG's IHDR chunk; throws if the bytes are not a PNG. */
export function readPngSize(png: Uint8Array): { width: number; height: number } {
  const signature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const isPng =
    png.length >= 24 &&
    signature.every((byte, i) => png[i] === byte) &&
    String.fromCharCode(...png.subarray(12, 16)) === 'IHDR';
  if (!isPng) throw new Error('not a PNG file');
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

export interface PackageOptions {
  /** Values for the placeholders (merged over the defaults). */
  vars: Vars;
  /** Where to write the zip (default build/appPackage.<name>.zip). */
  outFile?: string;
  /** The environment's name, for the default output file. */
  envName?: string;
  /** Folder holding manifest.template.json and the icons. */
  manifestDir?: string;
}

export interface PackageResult {
  outFile: string;
  manifest: Record<string, unknown>;
  files: string[];
}

/** Fills, checks, validates and zips. Throws PackagingError naming every problem found. */
export async function packageManifest(options: PackageOptions): Promise<PackageResult> {
  const manifestDir = options.manifestDir ?? MANIFEST_DIR;
  const outFile = resolve(options.outFile ?? join(BUILD_DIR, `appPackage.${options.envName ?? 'local'}.zip`));
  const template = readFileSync(join(manifestDir, 'manifest.template.json'), 'utf8');
  const vars: Vars = { ...defaultVars(), ...options.vars };

  const secretLike = listPlaceholders(template).filter((name) => SECRET_NAME.test(name));
  if (secretLike.length > 0) {
    throw new PackagingError(
      'Cannot package the Teams app: secrets never go in an app package, but the template names',
      secretLike.map((name) => `\${{${name}}}`),
    );
  }

  const { text, missing } = fillPlaceholders(template, vars);
  if (missing.length > 0) {
    throw new PackagingError(
      `Cannot package the Teams app: ${missing.length === 1 ? 'a placeholder is' : 'placeholders are'} not filled. Set ${missing.length === 1 ? 'this variable' : 'these variables'} in the environment or in the env file:`,
      missing.map((name) => `${name} (\${{${name}}} in manifest.template.json)`),
    );
  }
  const badValues = checkValues(vars);
  if (badValues.length > 0) throw new PackagingError('Cannot package the Teams app: bad values.', badValues);

  let manifest: Record<string, unknown>;
  try {
    manifest = JSON.parse(text) as Record<string, unknown>;
  } catch (err) {
    throw new PackagingError(`The filled manifest is not valid JSON: ${(err as Error).message}`);
  }
  const bot = (manifest.bots as { commandLists?: unknown }[] | undefined)?.[0];
  if (bot) bot.commandLists = commandLists();
  const leftover = listPlaceholders(text);
  if (leftover.length > 0) {
    throw new PackagingError(
      'Cannot package the Teams app: a value itself contains a placeholder.',
      leftover,
    );
  }

  const schemaErrors = await AppManifestUtils.validateAgainstSchema(manifest as unknown as AppManifest);
  if (schemaErrors.length > 0) {
    throw new PackagingError(
      `The filled manifest does not match its schema (${String(manifest.$schema)}):`,
      schemaErrors,
    );
  }

  const icons: Record<string, Uint8Array> = {};
  const iconProblems: string[] = [];
  for (const [name, size] of Object.entries(ICONS)) {
    const path = join(manifestDir, name);
    if (!existsSync(path)) {
      iconProblems.push(`${name} is missing (run: npx tsx scripts/make-icons.ts)`);
      continue;
    }
    const png = readFileSync(path);
    try {
      const { width, height } = readPngSize(png);
      if (width !== size || height !== size) {
        iconProblems.push(`${name} is ${width}×${height}; Teams needs ${size}×${size}`);
      }
    } catch {
      iconProblems.push(`${name} is not a PNG file`);
    }
    icons[name] = png;
  }
  if (iconProblems.length > 0)
    throw new PackagingError('Cannot package the Teams app: bad icons.', iconProblems);

  const entries: Record<string, Uint8Array> = {
    'manifest.json': strToU8(`${JSON.stringify(manifest, null, 2)}\n`),
    ...icons,
  };
  // A fixed timestamp keeps the zip byte-for-byte reproducible for the same inputs.
  const zip = zipSync(entries, { level: 9, mtime: new Date(2000, 0, 1) });
  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(outFile, zip);
  return { outFile, manifest, files: Object.keys(entries) };
}

/** Reads KEY=VALUE lines (dotenv syntax, as `node --env-file`). */
export function loadEnvFile(path: string): Vars {
  return parseEnv(readFileSync(path, 'utf8'));
}

const USAGE = `Usage: npm run package -- [--env NAME] [--out FILE]

Fills manifest/manifest.template.json from env/.env.NAME (default: local, the demo environment), derives
the bot's commands from src/commands.ts, validates the manifest offline and writes the Teams app package
(manifest.json + color.png + outline.png) to build/appPackage.NAME.zip unless --out is given.

Variables in the env file:
  TEAMS_APP_ID     GUID of the Teams app; generate once and keep it
  BOT_ID           the bot's Microsoft App ID (output botId of infra/main.bicep)
  BOT_DOMAIN       host name serving /api/messages and /tab, e.g. rollout-desk.azurewebsites.net
  APP_NAME_SUFFIX  optional, appended to the app name, e.g. " (test)"
  APP_VERSION      optional, defaults to package.json's version; raise it for each update`;

export async function main(argv: string[], envDir: string = ENV_DIR): Promise<number> {
  let args: { env?: string; out?: string; help?: boolean };
  try {
    ({ values: args } = parseArgs({
      args: argv,
      options: {
        env: { type: 'string' },
        out: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (args.help) {
    console.log(USAGE);
    return 0;
  }
  const envName = args.env ?? 'local';
  if (!/^[\w-]+$/.test(envName)) {
    console.error(`--env must be a name such as prod or test (got "${envName}")`);
    return 2;
  }
  const envFile = join(envDir, `.env.${envName}`);
  if (!existsSync(envFile)) {
    console.error(`No env file for "${envName}": create ${envFile} (copy env/.env.local and edit it).`);
    return 1;
  }
  try {
    const result = await packageManifest({ vars: loadEnvFile(envFile), outFile: args.out, envName });
    console.log(`Wrote ${result.outFile} (${result.files.join(', ')}) from ${envFile}`);
    console.log('Upload it in the Teams admin centre (Teams apps › Manage apps › Upload new app).');
    return 0;
  } catch (err) {
    console.error(err instanceof PackagingError ? err.message : err);
    return 1;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  process.exitCode = await main(process.argv.slice(2));
}
