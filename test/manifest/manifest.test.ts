import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inflateSync } from 'node:zlib';
import { type AppManifest, AppManifestUtils } from '@microsoft/app-manifest';
import { strFromU8, unzipSync } from 'fflate';
import { afterAll, describe, expect, it } from 'vitest';
import { ACCENT_COLOR, renderColorIcon, renderOutlineIcon } from '../../scripts/make-icons.js';
import {
  BUILD_DIR,
  commandLists,
  MAX_COMMANDS_PER_LIST,
  fillPlaceholders,
  listPlaceholders,
  main,
  PackagingError,
  packageManifest,
  readPngSize,
  type Vars,
} from '../../scripts/package-app.js';
import { COMMAND_HELP, COMMAND_ROLE, KNOWN_COMMANDS } from '../../src/commands.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const MANIFEST_DIR = join(ROOT, 'manifest');
const TEMPLATE = readFileSync(join(MANIFEST_DIR, 'manifest.template.json'), 'utf8');
const SCHEMA_URL = 'https://developer.microsoft.com/json-schemas/teams/v1.24/MicrosoftTeams.schema.json';

const EXAMPLE: Vars = {
  TEAMS_APP_ID: '0f6f2a52-6a1d-4d43-9b8e-3c7c1d2e4f50',
  BOT_ID: '6b1e9f3a-2c4d-4e5f-8a9b-0c1d2e3f4a5b',
  BOT_DOMAIN: 'rollout-desk.azurewebsites.net',
  APP_NAME_SUFFIX: ' (test)',
  APP_VERSION: '1.2.3',
};

/** Every command the bot understands must be offered in at least one command list. */
const REQUIRED_COMMANDS = KNOWN_COMMANDS;

const tempDirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'rollout-desk-manifest-'));
  tempDirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

interface Command {
  title: string;
  description: string;
}
interface FilledManifest {
  $schema: string;
  manifestVersion: string;
  id: string;
  version: string;
  name: { short: string; full?: string };
  accentColor: string;
  icons: { color: string; outline: string };
  bots: {
    botId: string;
    scopes: string[];
    supportsFiles?: boolean;
    commandLists: { scopes: string[]; commands: Command[] }[];
  }[];
  composeExtensions: {
    botId: string;
    composeExtensionType: string;
    commands: { id: string; type: string; parameters: { name: string }[] }[];
  }[];
  staticTabs: { entityId: string; name?: string; contentUrl?: string; scopes: string[] }[];
  configurableTabs: { configurationUrl: string; scopes: string[] }[];
  validDomains: string[];
  webApplicationInfo: { id: string; resource: string };
  authorization?: unknown;
}

/** The manifest as packaged (placeholders filled, command lists derived), read back from the zip. */
async function packagedManifest(vars: Vars = EXAMPLE): Promise<FilledManifest> {
  const { outFile } = await packageManifest({ vars, outFile: join(tempDir(), 'app.zip') });
  return JSON.parse(strFromU8(unzipSync(readFileSync(outFile))['manifest.json']!)) as FilledManifest;
}

/** Minimal PNG decoder (8-bit RGB/RGBA, no interlace, all five filter types) → RGBA pixels. */
function decodePng(png: Uint8Array): { width: number; height: number; rgba: Uint8Array } {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  let offset = 8;
  let width = 0;
  let height = 0;
  let colourType = -1;
  const idat: Uint8Array[] = [];
  while (offset < png.length) {
    const length = view.getUint32(offset);
    const type = String.fromCharCode(...png.subarray(offset + 4, offset + 8));
    const body = png.subarray(offset + 8, offset + 8 + length);
    if (type === 'IHDR') {
      width = view.getUint32(offset + 8);
      height = view.getUint32(offset + 12);
      expect(body[8], 'bit depth').toBe(8);
      colourType = body[9]!;
      expect([2, 6]).toContain(colourType);
      expect(body[12], 'interlace').toBe(0);
    } else if (type === 'IDAT') {
      idat.push(body);
    } else if (type === 'IEND') {
      break;
    }
    offset += 12 + length;
  }
  const bpp = colourType === 6 ? 4 : 3;
  const stride = width * bpp;
  const raw = inflateSync(Buffer.concat(idat));
  const pixels = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    for (let x = 0; x < stride; x++) {
      const value = raw[y * (stride + 1) + 1 + x]!;
      const a = x >= bpp ? pixels[y * stride + x - bpp]! : 0;
      const b = y > 0 ? pixels[(y - 1) * stride + x]! : 0;
      const c = x >= bpp && y > 0 ? pixels[(y - 1) * stride + x - bpp]! : 0;
      let predictor = 0;
      if (filter === 1) predictor = a;
      else if (filter === 2) predictor = b;
      else if (filter === 3) predictor = (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        predictor = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      pixels[y * stride + x] = (value + predictor) & 0xff;
    }
  }
  if (bpp === 4) return { width, height, rgba: pixels };
  const rgba = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    rgba.set(pixels.subarray(i * 3, i * 3 + 3), i * 4);
    rgba[i * 4 + 3] = 255;
  }
  return { width, height, rgba };
}

describe('manifest template', () => {
  it('declares the v1.24 schema and only the expected placeholders', () => {
    const raw = JSON.parse(TEMPLATE) as { $schema: string; manifestVersion: string };
    expect(raw.$schema).toBe(SCHEMA_URL);
    expect(raw.manifestVersion).toBe('1.24');
    expect(listPlaceholders(TEMPLATE).sort()).toEqual(
      ['APP_NAME_SUFFIX', 'APP_VERSION', 'BOT_DOMAIN', 'BOT_ID', 'TEAMS_APP_ID'].sort(),
    );
  });

  it('leaves the command lists to the packager (they come from src/commands.ts)', () => {
    const raw = JSON.parse(TEMPLATE) as FilledManifest;
    expect(raw.bots[0]!.commandLists).toEqual([]);
  });

  it('validates against the bundled Teams schema with zero errors once packaged', async () => {
    const manifest = await packagedManifest();
    const errors = await AppManifestUtils.validateAgainstSchema(manifest as unknown as AppManifest);
    expect(errors).toEqual([]);
  });

  it('schema validation does catch a broken manifest (the check is not vacuous)', async () => {
    const manifest = await packagedManifest();
    const list = manifest.bots[0]!.commandLists[0]!;
    list.commands = Array.from({ length: 13 }, (_, i) => ({ title: `c${i}`, description: 'x' }));
    const errors = await AppManifestUtils.validateAgainstSchema(manifest as unknown as AppManifest);
    expect(errors.join('\n')).toMatch(/commandLists\/0\/commands must NOT have more than 12 items/);
  });

  it('wires the bot, the message extension, the tabs and SSO to the filled values', async () => {
    const m = await packagedManifest();
    expect(m.id).toBe(EXAMPLE.TEAMS_APP_ID);
    expect(m.version).toBe('1.2.3');
    expect(m.name.short).toBe('Rollout Desk (test)');
    expect(m.accentColor.toLowerCase()).toBe(ACCENT_COLOR.toLowerCase());
    expect(m.icons).toEqual({ color: 'color.png', outline: 'outline.png' });

    expect(m.bots).toHaveLength(1);
    const bot = m.bots[0]!;
    expect(bot.botId).toBe(EXAMPLE.BOT_ID);
    expect(bot.scopes.sort()).toEqual(['groupChat', 'personal', 'team']);
    expect(bot.supportsFiles).toBe(false);
    for (const scope of bot.scopes) {
      expect(
        bot.commandLists.filter((l) => l.scopes.includes(scope)),
        `one command list for ${scope}`,
      ).toHaveLength(1);
    }
    for (const list of bot.commandLists) {
      const titles = list.commands.map((c) => c.title);
      expect(new Set(titles).size, 'no duplicate titles in a list').toBe(titles.length);
      for (const c of list.commands) {
        // Teams' bot-menu docs are stricter than the schema (title 32, description 128).
        expect(c.title.length).toBeLessThanOrEqual(32);
        expect(c.description.length).toBeLessThanOrEqual(128);
      }
    }
    const allTitles = new Set(bot.commandLists.flatMap((l) => l.commands.map((c) => c.title)));
    expect([...allTitles].filter((t) => !REQUIRED_COMMANDS.includes(t))).toEqual([]);
    const setup = bot.commandLists.find((l) => l.scopes.includes('team'))!.commands.map((c) => c.title);
    expect(setup).toEqual(expect.arrayContaining(['setup triage', 'setup support', 'setup announcements', 'setup rollout']));

    expect(m.composeExtensions).toHaveLength(1);
    const extension = m.composeExtensions[0]!;
    expect(extension.botId).toBe(EXAMPLE.BOT_ID);
    expect(extension.composeExtensionType).toBe('botBased');
    expect(extension.commands).toEqual([
      expect.objectContaining({
        id: 'searchGuidance',
        type: 'query',
        parameters: [expect.objectContaining({ name: 'query' })],
      }),
    ]);

    // The tab that exists today explains the bot; the adoption dashboard is not built yet.
    const guide = m.staticTabs.find((t) => t.entityId === 'guide');
    expect(guide).toMatchObject({
      name: 'How it works',
      contentUrl: 'https://rollout-desk.azurewebsites.net/tab/index.html',
      scopes: ['personal'],
    });
    expect(m.configurableTabs).toEqual([
      expect.objectContaining({
        configurationUrl: 'https://rollout-desk.azurewebsites.net/tab/config.html',
        scopes: ['team'],
      }),
    ]);
    expect(m.validDomains).toEqual(['rollout-desk.azurewebsites.net']);
    expect(m.webApplicationInfo).toEqual({
      id: EXAMPLE.BOT_ID,
      resource: `api://rollout-desk.azurewebsites.net/${EXAMPLE.BOT_ID}`,
    });
    expect(m.authorization, 'no resource-specific consent is needed').toBeUndefined();
  });

  it('escapes values for JSON when filling', () => {
    const { text } = fillPlaceholders('{"a": "x${{V}}"}', { V: 'say "hi"\\' });
    expect(JSON.parse(text)).toEqual({ a: 'xsay "hi"\\' });
  });
});

describe('icons', () => {
  const color = readFileSync(join(MANIFEST_DIR, 'color.png'));
  const outline = readFileSync(join(MANIFEST_DIR, 'outline.png'));

  it('have the sizes Teams requires (read from IHDR)', () => {
    expect(readPngSize(color)).toEqual({ width: 192, height: 192 });
    expect(readPngSize(outline)).toEqual({ width: 32, height: 32 });
  });

  it('outline icon is white on transparent: every pixel fully transparent or white', () => {
    const { width, height, rgba } = decodePng(outline);
    let opaqueWhite = 0;
    let transparent = 0;
    for (let i = 0; i < width * height; i++) {
      const [r, g, b, a] = rgba.subarray(i * 4, i * 4 + 4);
      if (a === 0) {
        transparent++;
        continue;
      }
      expect([r, g, b], `pixel ${i % width},${Math.floor(i / width)}`).toEqual([255, 255, 255]);
      if (a === 255) opaqueWhite++;
    }
    expect(opaqueWhite).toBeGreaterThan(30);
    expect(transparent).toBeGreaterThan(width * height * 0.5);
  });

  it('colour icon is opaque, on the accent colour, with a white symbol', () => {
    const { rgba } = decodePng(color);
    const accent = [1, 3, 5].map((i) => Number.parseInt(ACCENT_COLOR.slice(i, i + 2), 16));
    expect([...rgba.subarray(0, 3)]).toEqual(accent);
    let white = 0;
    let notOpaque = 0;
    for (let i = 0; i < rgba.length; i += 4) {
      if (rgba[i + 3] !== 255) notOpaque++;
      if (rgba[i] === 255 && rgba[i + 1] === 255 && rgba[i + 2] === 255) white++;
    }
    expect(notOpaque).toBe(0);
    expect(white).toBeGreaterThan(1000);
  });

  it('match what scripts/make-icons.ts draws (regenerate them after changing it)', () => {
    const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));
    expect(same(decodePng(color).rgba, renderColorIcon().data), 'color.png is stale').toBe(true);
    expect(same(decodePng(outline).rgba, renderOutlineIcon().data), 'outline.png is stale').toBe(true);
  });
});

describe('packager', () => {
  it('refuses an unfilled placeholder, naming it, and writes nothing', async () => {
    const outFile = join(tempDir(), 'app.zip');
    const { BOT_DOMAIN: _omitted, ...vars } = EXAMPLE;
    const attempt = packageManifest({ vars, outFile });
    await expect(attempt).rejects.toBeInstanceOf(PackagingError);
    await expect(attempt).rejects.toThrow(/BOT_DOMAIN/);
    expect(existsSync(outFile)).toBe(false);
  });

  it('refuses a BOT_DOMAIN given as a URL', async () => {
    const outFile = join(tempDir(), 'app.zip');
    await expect(
      packageManifest({
        vars: { ...EXAMPLE, BOT_DOMAIN: 'https://rollout-desk.azurewebsites.net/' },
        outFile,
      }),
    ).rejects.toThrow(/BOT_DOMAIN must be a bare host name/);
    expect(existsSync(outFile)).toBe(false);
  });

  it('writes a zip with manifest.json and the two icons at its root', async () => {
    const outFile = join(tempDir(), 'nested', 'rollout-desk.zip');
    const result = await packageManifest({ vars: EXAMPLE, outFile });
    expect(result.outFile).toBe(outFile);
    const entries = unzipSync(readFileSync(outFile));
    expect(Object.keys(entries).sort()).toEqual(['color.png', 'manifest.json', 'outline.png']);
    const text = strFromU8(entries['manifest.json']!);
    expect(text).not.toContain('${{');
    const manifest = JSON.parse(text) as FilledManifest;
    expect(manifest.$schema).toBe(SCHEMA_URL);
    expect(manifest.bots[0]!.botId).toBe(EXAMPLE.BOT_ID);
    expect(await AppManifestUtils.validateAgainstSchema(manifest as unknown as AppManifest)).toEqual([]);
    expect(Buffer.from(entries['color.png']!)).toEqual(readFileSync(join(MANIFEST_DIR, 'color.png')));
    expect(Buffer.from(entries['outline.png']!)).toEqual(readFileSync(join(MANIFEST_DIR, 'outline.png')));
  });

  it('refuses a template placeholder named like a secret: secrets never go in an app package', async () => {
    const dir = tempDir();
    for (const icon of ['color.png', 'outline.png']) copyFileSync(join(MANIFEST_DIR, icon), join(dir, icon));
    writeFileSync(
      join(dir, 'manifest.template.json'),
      TEMPLATE.replace('"${{BOT_DOMAIN}}"]', '"${{BOT_DOMAIN}}", "${{BOT_PASSWORD}}"]'),
    );
    const outFile = join(dir, 'app.zip');
    const attempt = packageManifest({ vars: { ...EXAMPLE, BOT_PASSWORD: 'hunter2' }, manifestDir: dir, outFile });
    await expect(attempt).rejects.toThrow(/secrets never go in an app package[\s\S]*BOT_PASSWORD/);
    expect(existsSync(outFile)).toBe(false);
  });

  it('npm run package (no --env) packages the committed demo environment as build/appPackage.local.zip', async () => {
    const log = console.log;
    console.log = () => {};
    try {
      expect(await main([])).toBe(0);
    } finally {
      console.log = log;
    }
    const entries = unzipSync(readFileSync(join(BUILD_DIR, 'appPackage.local.zip')));
    expect(Object.keys(entries).sort()).toEqual(['color.png', 'manifest.json', 'outline.png']);
    const manifest = JSON.parse(strFromU8(entries['manifest.json']!)) as FilledManifest;
    expect(manifest.name.short).toBe('Rollout Desk (local demo)');
    expect(await AppManifestUtils.validateAgainstSchema(manifest as unknown as AppManifest)).toEqual([]);
  });

  it('--env NAME reads env/.env.NAME and fails, naming what is missing, when the file is incomplete', async () => {
    const envDir = tempDir();
    const messages: string[] = [];
    const [log, error] = [console.log, console.error];
    console.log = (...args: unknown[]) => messages.push(args.join(' '));
    console.error = (...args: unknown[]) => messages.push(args.join(' '));
    try {
      writeFileSync(
        join(envDir, '.env.pilot'),
        `# pilot tenant\nTEAMS_APP_ID=${EXAMPLE.TEAMS_APP_ID}\nBOT_ID=${EXAMPLE.BOT_ID}\nBOT_DOMAIN=bot.example.org\n`,
      );
      const outFile = join(envDir, 'pilot.zip');
      expect(await main(['--env', 'pilot', '--out', outFile], envDir)).toBe(0);
      const manifest = JSON.parse(strFromU8(unzipSync(readFileSync(outFile))['manifest.json']!)) as FilledManifest;
      expect(manifest.validDomains).toEqual(['bot.example.org']);

      writeFileSync(join(envDir, '.env.broken'), `TEAMS_APP_ID=${EXAMPLE.TEAMS_APP_ID}\n`);
      expect(await main(['--env', 'broken', '--out', join(envDir, 'x.zip')], envDir)).toBe(1);
      expect(messages.join('\n')).toMatch(/BOT_ID[\s\S]*BOT_DOMAIN/);
      expect(existsSync(join(envDir, 'x.zip'))).toBe(false);

      expect(await main(['--env', 'nowhere'], envDir)).toBe(1);
      expect(messages.join('\n')).toContain('.env.nowhere');
    } finally {
      console.log = log;
      console.error = error;
    }
  });
});

describe('bot commands', () => {
  it('lists only commands the bot understands, with their help text, staff ones first, within Teams\' cap', async () => {
    const lists = (await packagedManifest()).bots[0]!.commandLists;
    const titles = new Set(lists.flatMap((l) => l.commands.map((c) => c.title)));
    expect([...titles].filter((t) => !KNOWN_COMMANDS.includes(t))).toEqual([]);
    for (const c of lists.flatMap((l) => l.commands)) {
      expect(c.description).toBe(COMMAND_HELP[c.title as keyof typeof COMMAND_HELP]);
    }
    for (const list of lists) expect(list.commands.length).toBeLessThanOrEqual(MAX_COMMANDS_PER_LIST);
    // Everything staff can do is in their personal menu; champions' and the rollout team's extras follow.
    const personal = lists.find((l) => l.scopes.includes('personal'))!.commands.map((c) => c.title);
    const staff = KNOWN_COMMANDS.filter((c) => COMMAND_ROLE[c] === 'staff');
    expect(staff.filter((c) => !personal.includes(c) && !c.startsWith('setup '))).toEqual([]);
  });

  it('offers each command where it works: setup in channels, private ones in chat, staff ones everywhere', () => {
    const lists = commandLists({
      KNOWN_COMMANDS: ['help', 'setup news', 'my bookings', 'queue'],
      COMMAND_HELP: {
        help: 'What I can do',
        'setup news': 'Rollout team: …',
        'my bookings': 'Your bookings',
        queue: 'Champions: the queue',
      },
    });
    const scopes = Object.fromEntries(
      ['help', 'setup news', 'my bookings', 'queue'].map((name) => [
        name,
        lists.filter((l) => l.commands.some((c) => c.title === name)).map((l) => l.scopes[0]),
      ]),
    );
    expect(scopes).toEqual({
      help: ['personal', 'team', 'groupChat'],
      'setup news': ['team'],
      'my bookings': ['personal'],
      queue: ['personal', 'team'],
    });
  });
});
