import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ROLLOUT_MAX_BYTES } from '../../src/rollout/file.js';
import { parseRollout, RolloutFileError } from '../../src/rollout/model.js';

describe('the rollout file', () => {
  it('reads the sample rollout: three waves with go-live dates and zones, four user groups, members placed', () => {
    const r = parseRollout(readFileSync('sample/rollout.yaml', 'utf8'), 'rollout.yaml');
    expect(r.problems).toEqual([]);
    expect(r.cohorts.map((c) => [c.id, c.goLive, c.zone])).toEqual([
      ['pilot', '2026-09-07', 'Africa/Lusaka'],
      ['wave-a', '2026-11-02', 'Africa/Lusaka'],
      ['wave-b', '2027-02-01', 'Africa/Lusaka'],
    ]);
    expect(r.groups.map((g) => g.id)).toEqual(['field-officers', 'data-officers', 'supervisors', 'champions']);
    expect(r.members.find((m) => m.name === 'Mercy Phiri')).toMatchObject({ groups: ['field-officers'], cohort: 'wave-b' });
  });

  it('names each bad entry and its field, and keeps the rest', () => {
    const r = parseRollout(
      [
        'cohorts:',
        '  - { id: wave-1, name: Wave 1, goLive: 2027-01-18, zone: Africa/Nairobi }',
        '  - { id: wave-2, name: Wave 2, goLive: 2027-02-30, zone: Africa/Nairobi }',
        '  - { id: wave-3, name: Wave 3, goLive: 2027-03-01, zone: Africa/Nairobbi }',
        'groups:',
        '  - { id: enumerators, name: Enumerators }',
        '  - { id: Bad Id, name: Oops }',
        'members:',
        '  - { id: p1, name: Ann, groups: [enumerators, cooks], cohort: wave-3 }',
      ].join('\n'),
      'rollout.yaml',
    );
    expect(r.cohorts.map((c) => c.id)).toEqual(['wave-1']);
    expect(r.groups.map((g) => g.id)).toEqual(['enumerators']);
    expect(r.members).toEqual([{ id: 'p1', name: 'Ann', groups: ['enumerators'] }]);
    expect(r.problems).toEqual([
      expect.stringMatching(/^rollout\.yaml: cohorts\[1\] \(wave-2\)\.goLive: "2027-02-30" is not a date/),
      expect.stringMatching(/^rollout\.yaml: cohorts\[2\] \(wave-3\)\.zone: "Africa\/Nairobbi" is not a time zone/),
      expect.stringMatching(/^rollout\.yaml: groups\[1\] \(Bad Id\)\.id: must be/),
      'rollout.yaml: members[0] (Ann).groups: no user group "cooks"',
      'rollout.yaml: members[0] (Ann).cohort: no cohort "wave-3"',
    ]);
  });

  it('refuses a file listing more people than fit in its size limit, saying how many it lists and how many it may', { timeout: 60_000 }, () => {
    // Short lines, so the file is well under the size limit and only the count refuses it.
    const people = (n: number) => `members:\n${Array.from({ length: n }, (_, i) => `  - { id: p${i}, name: P${i} }\n`).join('')}`;
    expect(Buffer.byteLength(people(25_001))).toBeLessThan(ROLLOUT_MAX_BYTES);
    expect(() => parseRollout(people(25_001), 'rollout.yaml')).toThrow(
      new RolloutFileError('rollout.yaml: members: lists 25,001 people; a rollout file may list at most 25,000 (what fits in its 3 MB)'),
    );
    // 25,000 people written one line each as the sample does (about 125 bytes a person) fit under the size limit.
    const asTheSample = (i: number) =>
      `  - { id: 4b6d2e90-8a1c-4f7e-9d3b-${String(i).padStart(12, '0')}, name: Field Officer ${i}, groups: [field-officers], cohort: wave-b }\n`;
    expect(Buffer.byteLength(`members:\n${Array.from({ length: 25_000 }, (_, i) => asTheSample(i)).join('')}`)).toBeLessThanOrEqual(ROLLOUT_MAX_BYTES);
  });

  it('refuses a file that is not YAML, naming the file', () => {
    expect(() => parseRollout('cohorts: [unclosed', 'rollout.yaml')).toThrow(RolloutFileError);
    expect(() => parseRollout('cohorts: [unclosed', 'rollout.yaml')).toThrow(/rollout\.yaml: not valid YAML/);
    expect(() => parseRollout('cohort: []', 'rollout.yaml')).toThrow(/rollout\.yaml/);
  });
});
