import { describe, expect, it } from 'vitest';
import { parseCommand } from '../src/commands.js';

describe('parseCommand', () => {
  it('recognises commands with arguments, case and spacing forgiven', () => {
    const read = (text: string) => {
      const c = parseCommand(text);
      return c && { name: c.command.name, args: c.args };
    };
    expect(read('help')).toEqual({ name: 'help', args: '' });
    expect(read('  Issue   R-0042 ')).toEqual({ name: 'issue', args: 'R-0042' });
    expect(read('my issues')).toEqual({ name: 'my issues', args: '' });
    expect(read('/whoami')).toEqual({ name: 'whoami', args: '' });
    expect(read('Setup Triage')).toEqual({ name: 'setup triage', args: '' });
    expect(read('report lost device')).toEqual({ name: 'report lost device', args: '' });
    expect(read('report')).toEqual({ name: 'report', args: '' });
  });

  it('takes a bare command typed as a sentence, or with a zero-width space, as the command with no arguments', () => {
    for (const typed of ['Report!', 'my issues.', 'MY ISSUES?', 'help?!', 'report\u200b', '\u200breport', 'whoami …']) {
      expect(parseCommand(typed)?.args, typed).toBe('');
    }
    expect(parseCommand('Report!')?.command.name).toBe('report');
    expect(parseCommand('my issues.')?.command.name).toBe('my issues');
    // Words after the command keep their punctuation: they start the description.
    expect(parseCommand('report printer jammed!')?.args).toBe('printer jammed!');
  });

  it('takes command words typed in full-width or compatibility characters as the command, keeping the rest as typed', () => {
    expect(parseCommand('ｒｅｐｏｒｔ printer jam')).toMatchObject({ command: { name: 'report' }, args: 'printer jam' });
    expect(parseCommand('ＭＹ　ＩＳＳＵＥＳ')?.command.name).toBe('my issues');
    expect(parseCommand('／ｗｈｏａｍｉ')?.command.name).toBe('whoami');
    // What follows the command words is not folded: it is the user's text, stored as they typed it.
    expect(parseCommand('ｒｅｐｏｒｔ ｐｒｉｎｔｅｒ ｊａｍ')?.args).toBe('ｐｒｉｎｔｅｒ ｊａｍ');
    expect(parseCommand('Ｒｅｐｏｒｔ ﬁle won’t save')?.args).toBe('ﬁle won’t save');
  });

  it('treats other text as a question, not a command', () => {
    expect(parseCommand('helpful tips for sync?')).toBeUndefined();
    expect(parseCommand('issues with login')).toBeUndefined();
    expect(parseCommand('how do I report a bug')).toBeUndefined();
  });

  it('takes a command whose arguments must be an id only when they are one: other words are a question', () => {
    expect(parseCommand('send golive-week-before')?.command.name).toBe('send');
    expect(parseCommand('cancel a-3f9c1e2b')?.args).toBe('a-3f9c1e2b');
    expect(parseCommand('plan 2')?.command.name).toBe('plan');
    expect(parseCommand('send the monthly report late')).toBeUndefined();
    expect(parseCommand('plan my visits for next week')).toBeUndefined();
    expect(parseCommand('cancel my leave request')).toBeUndefined();
  });
});
