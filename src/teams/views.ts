import { type AdaptiveCard, renderCard } from '../cards/template.js';
import { COMMAND_HELP, type CommandName } from '../commands.js';
import { type Actor, type Role, roleLabel } from '../roles/roles.js';

/** Data for cards/welcome.json. */
export interface WelcomeCardData {
  systemName: string;
  commands: { name: string; description: string }[];
  modeNote: string;
}

/** Data for cards/help.json. */
export interface HelpCardData {
  title: string;
  intro: string;
  commands: { name: string; description: string }[];
}

/** Data for cards/whoami.json. */
export interface WhoAmICardData {
  name: string;
  roleLabel: string;
  aadObjectId: string;
  teamsId: string;
  roleExplanation: string;
}

const STAFF_COMMANDS: CommandName[] = ['help', 'whoami', 'report', 'my issues', 'issue'];
const CHAMPION_COMMANDS: CommandName[] = ['triage', 'assigned', 'gaps'];
const TEAM_COMMANDS: CommandName[] = [
  'export issues',
  'setup triage',
  'setup support',
  'setup announcements',
];

/** The commands a role may use: no one is shown a command they would be refused. */
export function commandsFor(role: Role): { name: string; description: string }[] {
  const names = [
    ...STAFF_COMMANDS,
    ...(role !== 'staff' ? CHAMPION_COMMANDS : []),
    ...(role === 'rolloutTeam' ? TEAM_COMMANDS : []),
  ];
  return names.map((name) => ({ name, description: COMMAND_HELP[name] }));
}

export function welcomeCard(systemName: string, local: boolean): AdaptiveCard {
  return renderCard<WelcomeCardData>('welcome', {
    systemName,
    commands: commandsFor('staff').slice(0, 4),
    modeNote: local ? 'Running locally without Bot Framework authentication (demo mode).' : '',
  });
}

export function helpCard(role: Role): AdaptiveCard {
  return renderCard<HelpCardData>('help', {
    title: 'What I can do',
    intro:
      'Ask me a question in your own words and I answer from the rollout guidance, citing the section. Or use one of these commands:',
    commands: commandsFor(role),
  });
}

const ROLE_EXPLANATION: Record<Role, string> = {
  staff: 'You can ask questions, log issues and follow them with "my issues".',
  champion: 'You can triage issues in the triage channel, see your assigned issues and the guidance gaps.',
  rolloutTeam: 'You run the rollout: you can set up channels, export issues and do everything champions do.',
};

export function whoAmICard(actor: Actor, role: Role): AdaptiveCard {
  return renderCard<WhoAmICardData>('whoami', {
    name: actor.name,
    roleLabel: roleLabel(role),
    aadObjectId: actor.aadObjectId ?? 'unknown',
    teamsId: actor.id,
    roleExplanation: ROLE_EXPLANATION[role],
  });
}
