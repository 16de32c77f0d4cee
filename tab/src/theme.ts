import { teamsDarkTheme, teamsHighContrastTheme, teamsLightTheme, type Theme } from '@fluentui/tokens';

/**
 * Teams' look from Fluent's own design tokens: the Teams light, dark and high-contrast themes become CSS
 * custom properties (`--colorNeutralBackground1`, …) that tab.css uses, and the charts take their colours
 * from the same theme. Teams says which theme it is in, and when it changes.
 */

export type TeamsTheme = 'default' | 'dark' | 'contrast';

const THEMES: Record<TeamsTheme, Theme> = { default: teamsLightTheme, dark: teamsDarkTheme, contrast: teamsHighContrastTheme };

let current: TeamsTheme = 'default';
const listeners: ((t: TeamsTheme) => void)[] = [];

export function applyTheme(name: string | undefined): void {
  current = name === 'dark' || name === 'contrast' ? name : 'default';
  const tokens = THEMES[current];
  const root = document.documentElement;
  for (const [key, value] of Object.entries(tokens)) root.style.setProperty(`--${key}`, String(value));
  root.dataset.theme = current;
  for (const l of listeners) l(current);
}

export function onThemeChange(l: (t: TeamsTheme) => void): void {
  listeners.push(l);
}

export function token(name: keyof Theme): string {
  return String(THEMES[current][name]);
}

/** Series colours that read on the current background (high contrast: the foreground colours only). */
export function seriesColors(): string[] {
  if (current === 'contrast') return [token('colorNeutralForeground1'), token('colorBrandForeground1'), token('colorNeutralForeground2')];
  return [
    token('colorBrandForeground1'),
    token('colorPaletteDarkOrangeBorderActive'),
    token('colorPaletteTealBorderActive'),
    token('colorPaletteBerryBorderActive'),
    token('colorPaletteMarigoldBorderActive'),
    token('colorPalettePurpleBorderActive'),
    token('colorPaletteGreenBorderActive'),
    token('colorPaletteRedBorderActive'),
  ];
}
