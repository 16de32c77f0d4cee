import { type AdaptiveCard, escapeText, renderCard } from '../cards/template.js';
import { COMMANDS } from '../registry/index.js';
import { allows } from '../roles/permissions.js';
import { type Actor, type Role, roleLabel } from '../roles/roles.js';

/** Data for cards/help-welcome.json. */
export interface WelcomeCardData {
  systemName: string;
  commands: { name: string; description: string }[];
  modeNote: string;
}

/** Data for cards/help-commands.json. */
export interface HelpCardData {
  title: string;
  intro: string;
  commands: { name: string; description: string }[];
}

/** Data for cards/help-whoami.json. */
export interface WhoAmICardData {
  name: string;
  roleLabel: string;
  aadObjectId: string;
  teamsId: string;
  roleExplanation: string;
}

/** The commands a role may use: no one is shown a command they would be refused. */
export function commandsFor(role: Role, localMode: boolean): { name: string; description: string }[] {
  return COMMANDS.filter((c) => allows(role, c.permission) && (!c.localOnly || localMode)).map((c) => ({
    name: c.name,
    description: c.help,
  }));
}

const DEMO_NOTE =
  'Running locally without Bot Framework authentication (demo mode). Type "demo as champion" or "demo as rollout team" to see what they see, "demo as staff" to come back.';

export function welcomeCard(systemName: string, local: boolean): AdaptiveCard {
  return renderCard<WelcomeCardData>('help-welcome', {
    systemName: escapeText(systemName),
    commands: commandsFor('staff', false).slice(0, 4),
    modeNote: local ? DEMO_NOTE : '',
  });
}

export function helpCard(role: Role, localMode: boolean): AdaptiveCard {
  return renderCard<HelpCardData>('help-commands', {
    title: 'What I can do',
    intro:
      'Ask me a question in your own words and I answer from the rollout guidance, citing the section. Or use one of these commands:',
    commands: commandsFor(role, localMode),
  });
}

const ROLE_EXPLANATION: Record<Role, string> = {
  staff: 'You can ask questions, log issues and follow them with "my issues".',
  champion: 'You can triage issues in the triage channel, see your assigned issues and the guidance gaps.',
  rolloutTeam: 'You run the rollout: you can set up channels, export issues and do everything champions do.',
};

export function whoAmICard(actor: Actor, role: Role, demo = false): AdaptiveCard {
  return renderCard<WhoAmICardData>('help-whoami', {
    name: escapeText(actor.name),
    roleLabel: demo ? `${roleLabel(role)} (demo: switched with "demo as")` : roleLabel(role),
    aadObjectId: actor.aadObjectId ?? 'unknown',
    teamsId: actor.id,
    roleExplanation: ROLE_EXPLANATION[role],
  });
}
