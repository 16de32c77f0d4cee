/**
 * No Bicep compiler runs here, so these tests read infra/main.bicep as text and hold it to the app: the app
 * settings it sets must start the app in production, its parameters must all be used, its Node version must
 * be the Dockerfile's, and its secrets must come from Key Vault references.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, SETTING_NAMES } from '../../src/config.js';
import { REPO_ROOT } from '../support/build.js';

const BICEP = readFileSync(path.join(REPO_ROOT, 'infra', 'main.bicep'), 'utf8');
const DOCKERFILE = readFileSync(path.join(REPO_ROOT, 'Dockerfile'), 'utf8');
const PARAMETERS_EXAMPLE = JSON.parse(
  readFileSync(path.join(REPO_ROOT, 'infra', 'main.parameters.example.json'), 'utf8'),
) as { parameters: Record<string, { value: unknown }> };

/** The template without comments and without the text of `@description(...)` decorators. */
const CODE = BICEP.replace(/\/\/.*$/gm, '').replace(/@description\('(?:[^'\\]|\\.)*'\)/g, '');

interface Param {
  name: string;
  fallback?: string;
}
const PARAMS: Param[] = [...CODE.matchAll(/^param\s+(\w+)\s+\w+(?:\s*=\s*(.+))?$/gm)].map((m) => ({
  name: m[1]!,
  fallback: m[2]?.trim(),
}));

interface Setting {
  name: string;
  value: string;
}

/** `{ name: 'X' value: … }` entries in a piece of the template. */
function settingsIn(text: string): Setting[] {
  return [...text.matchAll(/name:\s*'([A-Za-z_][\w]*)'\s*\n\s*value:\s*(.+)/g)].map((m) => ({
    name: m[1]!,
    value: m[2]!.trim(),
  }));
}

/** The text of `var NAME = …` up to the next top-level declaration. */
function varBody(name: string): string {
  const m = new RegExp(`^var ${name} = ([\\s\\S]*?)(?=^(?:var|resource|param|output|//) )`, 'm').exec(CODE + '\nvar _end = 0\n');
  if (!m) throw new Error(`infra/main.bicep has no var ${name}`);
  return m[1]!;
}

/** A settings var: one list, or `cond ? [when] : [otherwise]` (the two lists, when first). */
function settingsVar(name: string): { when: Setting[]; otherwise: Setting[] } {
  const body = varBody(name);
  const ternary = /^\s*[\w!()' ]+\?\s*(\[[\s\S]*?\])\s*:\s*(\[[\s\S]*\])\s*$/.exec(body);
  if (!ternary) return { when: settingsIn(body), otherwise: settingsIn(body) };
  return { when: settingsIn(ternary[1]!), otherwise: settingsIn(ternary[2]!) };
}

/** The settings vars concatenated into the web app's `appSettings`. */
const SETTINGS_VARS = (/appSettings:\s*concat\(([^)]*)\)/.exec(CODE)?.[1] ?? '').split(',').map((s) => s.trim());

/** Every deployment choice the template offers: bot identity × storage access. */
const CHOICES = [
  { bot: 'UserAssignedMSI', storage: 'managedIdentity' },
  { bot: 'UserAssignedMSI', storage: 'connectionString' },
  { bot: 'SingleTenant', storage: 'managedIdentity' },
  { bot: 'SingleTenant', storage: 'connectionString' },
] as const;

/** The app settings for one choice (optional monitoring and model settings included: they must not break it). */
function appSettings(choice: (typeof CHOICES)[number]): Setting[] {
  const pick: Record<string, boolean> = {
    botSettings: choice.bot === 'UserAssignedMSI',
    storageSettings: choice.storage === 'managedIdentity',
    monitoringSettings: true,
    modelSettings: false, // `empty(openAiApiKey) ? [] : [key]`: the second list is the one with the key
  };
  return SETTINGS_VARS.filter((v) => v !== 'extraSettings').flatMap((v) => {
    const { when, otherwise } = settingsVar(v);
    return (pick[v] ?? true) ? when : otherwise;
  });
}

const KEY_VAULT_REFERENCE = /^'@Microsoft\.KeyVault\(SecretUri=\$\{\w+\.properties\.secretUri\}\)'$/;
/** Setting names that hold credentials. (APPLICATIONINSIGHTS_CONNECTION_STRING names a resource, no key.) */
const SECRET = /PASSWORD|SECRET|API_KEY|ACCOUNT_KEY|^AZURE_STORAGE_CONNECTION_STRING$/i;

/** A value App Service would hand the app for a setting: the literal, a parameter's default, or a stand-in. */
function standIn(setting: Setting): string {
  const literal = /^'([^'$]*)'$/.exec(setting.value);
  if (literal) return literal[1]!;
  if (KEY_VAULT_REFERENCE.test(setting.value)) return 'value-from-key-vault';
  const param = PARAMS.find((p) => p.name === setting.value || setting.value === `string(${p.name})`);
  // A parameter's default, unless empty: an empty default (botAppId, …) is one the operator must pass.
  const fallback = param?.fallback && /^'([^']+)'$|^(\d+)$/.exec(param.fallback);
  if (fallback) return fallback[1] ?? fallback[2]!;
  if (/Id$|_ID$/.test(setting.name)) return '00000000-0000-4000-8000-000000000001';
  if (/ENDPOINT$/.test(setting.name)) return 'https://account.table.core.windows.net/';
  if (/URL$/.test(setting.name)) return 'https://rolloutdesk.azurewebsites.net';
  return 'set-by-azure';
}

/** Names the app reads (its schema, plus the model settings documented in .env.example). */
const KNOWN = new Set([
  ...SETTING_NAMES,
  ...[...readFileSync(path.join(REPO_ROOT, '.env.example'), 'utf8').matchAll(/^#?\s*([A-Za-z_]\w*)=/gm)].map((m) => m[1]!),
]);
/** App Service's own settings, read by the platform rather than the app. */
const PLATFORM = /^(SCM_|WEBSITE_|WEBSITES_)/;

describe('infra/main.bicep', () => {
  it('is read as intended (the parser finds the parameters and the settings lists)', () => {
    expect(PARAMS.map((p) => p.name)).toEqual(expect.arrayContaining(['baseName', 'botAppType', 'storageAuthMode']));
    expect(SETTINGS_VARS).toEqual(expect.arrayContaining(['baseSettings', 'botSettings', 'storageSettings']));
    expect(appSettings(CHOICES[0]).map((s) => s.name)).toContain('NODE_ENV');
  });

  it.each(CHOICES)('sets every setting the app needs to start in production ($bot bot, $storage storage)', (choice) => {
    const settings = appSettings(choice);
    const env = Object.fromEntries(settings.map((s) => [s.name, standIn(s)]));
    expect(env.NODE_ENV).toBe('production');
    const config = loadConfig(env); // throws, naming each missing or wrong setting
    expect(config.auth.kind).toBe(choice.bot === 'UserAssignedMSI' ? 'UserAssignedMsi' : 'SingleTenant');
    expect(config.storage.kind).toBe(choice.storage === 'managedIdentity' ? 'identity' : 'account');
  });

  it('names only settings the app or App Service reads', () => {
    const names = CHOICES.flatMap((c) => appSettings(c).map((s) => s.name));
    const extra = Object.keys((PARAMETERS_EXAMPLE.parameters.extraAppSettings?.value ?? {}) as object);
    const unknown = [...new Set([...names, ...extra])].filter((n) => !KNOWN.has(n) && !PLATFORM.test(n));
    expect(unknown).toEqual([]);
  });

  it('uses every parameter it declares, and the example parameters file names only declared ones', () => {
    const unused = PARAMS.filter((p) => {
      const uses = CODE.match(new RegExp(`\\b${p.name}\\b`, 'g')) ?? [];
      return uses.length < 2; // the declaration itself is one
    });
    expect(unused.map((p) => p.name)).toEqual([]);
    const declared = new Set(PARAMS.map((p) => p.name));
    expect(Object.keys(PARAMETERS_EXAMPLE.parameters).filter((p) => !declared.has(p))).toEqual([]);
  });

  it('runs the same Node major version as the Dockerfile', () => {
    const stack = /linuxFxVersion:\s*'NODE\|(\d+)-lts'/.exec(CODE)?.[1];
    const images = [...DOCKERFILE.matchAll(/^FROM node:(\d+)/gm)].map((m) => m[1]);
    expect(images.length).toBeGreaterThan(0);
    expect(new Set(images)).toEqual(new Set([stack]));
  });

  it('takes every secret in the app settings from Key Vault, never inline', () => {
    const all = CHOICES.flatMap((c) => appSettings(c));
    const secrets = all.filter((s) => SECRET.test(s.name));
    expect(secrets.map((s) => s.name)).toEqual(expect.arrayContaining(['MicrosoftAppPassword', 'AZURE_STORAGE_CONNECTION_STRING']));
    for (const s of secrets) expect(s.value, s.name).toMatch(KEY_VAULT_REFERENCE);
    const secureParams = [...CODE.matchAll(/@secure\(\)\s*\nparam\s+(\w+)/g)].map((m) => m[1]!);
    for (const s of all) {
      expect(s.value, `${s.name} holds an account key`).not.toMatch(/listKeys\(/);
      for (const p of secureParams) expect(s.value, `${s.name} holds the secure parameter ${p}`).not.toMatch(new RegExp(`\\b${p}\\b`));
    }
    // And the model settings, when a key is given, refer to the vault too.
    for (const s of settingsVar('modelSettings').otherwise) expect(s.value, s.name).toMatch(KEY_VAULT_REFERENCE);
  });
});
