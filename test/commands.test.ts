import { describe, expect, it } from 'vitest';
import { parseCommand } from '../src/commands.js';

describe('parseCommand', () => {
  it('recognises commands with arguments, case and spacing forgiven', () => {
    expect(parseCommand('help')).toEqual({ name: 'help', args: '' });
    expect(parseCommand('  Issue   R-0042 ')).toEqual({ name: 'issue', args: 'R-0042' });
    expect(parseCommand('my issues')).toEqual({ name: 'my issues', args: '' });
    expect(parseCommand('/whoami')).toEqual({ name: 'whoami', args: '' });
    expect(parseCommand('Setup Triage')).toEqual({ name: 'setup triage', args: '' });
  });

  it('treats other text as a question, not a command', () => {
    expect(parseCommand('helpful tips for sync?')).toBeUndefined();
    expect(parseCommand('issues with login')).toBeUndefined();
    expect(parseCommand('how do I report a bug')).toBeUndefined();
  });
});
