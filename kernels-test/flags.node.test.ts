// `vqgpu <command> --help`: one column for the help texts, wide enough for the longest flag; a
// flag name too long for it puts its help on the next line, never glued to the name.

import { describe, expect, it } from 'vitest';
import { helpText, parseFlags, UsageError, type FlagSpec } from '../src/io/flags.js';

describe('helpText', () => {
  it('aligns the help texts in one column after the longest name, with a space before each', () => {
    const specs: Record<string, FlagSpec> = {
      n: { type: 'int', help: 'samples', default: 9 },
      'temperature-end': { type: 'number', help: 'last temperature' },
      'no-final-argmax': { type: 'boolean', help: 'no argmax' },
    };
    const lines = helpText('sample', 'draws', specs).split('\n').slice(2);
    expect(lines).toHaveLength(3);
    const col = lines[0].indexOf('samples');
    for (const [i, help] of ['samples (default 9)', 'last temperature', 'no argmax'].entries()) {
      expect(lines[i].indexOf(help), lines[i]).toBe(col);
      expect(lines[i].endsWith(help)).toBe(true);
    }
    // '  --temperature-end <number>' is 28 characters: the column is past it
    expect(lines[1].slice(0, col)).toMatch(/^ {2}--temperature-end <number> +$/);
  });

  it('puts the help of a very long flag name on the next line, in the column', () => {
    const long = 'a-flag-name-that-is-far-too-long-for-any-column';
    const lines = helpText('x', 'y', { [long]: { type: 'string', help: 'what it does' }, k: { type: 'int', help: 'count' } }).split('\n').slice(2);
    expect(lines[0]).toBe(`  --${long} <string>`);
    expect(lines[1]).toMatch(/^ {36}what it does$/);
    expect(lines[2]).toMatch(/^ {2}--k <int> +count$/);
    expect(lines[2].indexOf('count')).toBe(36);
  });
});

describe('parseFlags: bounds', () => {
  const specs: Record<string, FlagSpec> = {
    temperature: { type: 'number', help: 't', default: 1, above: 0 },
    'top-p': { type: 'number', help: 'p', default: 1, above: 0, max: 1 },
    n: { type: 'int', help: 'n', default: 9, min: 1, max: 256 },
  };
  it('takes values inside the bounds, and the defaults', () => {
    expect(parseFlags(['--temperature', '0.01', '--top-p', '1', '--n', '256'], specs, 'sample')).toEqual({ temperature: 0.01, 'top-p': 1, n: 256 });
    expect(parseFlags([], specs, 'sample')).toEqual({ temperature: 1, 'top-p': 1, n: 9 });
  });
  it('refuses the exclusive bound itself and values past either bound, in one sentence', () => {
    const refuse = (argv: string[], message: RegExp) => {
      let err: unknown = null;
      try { parseFlags(argv, specs, 'sample'); } catch (e) { err = e; }
      expect(err).toBeInstanceOf(UsageError);
      expect((err as Error).message).toMatch(message);
    };
    refuse(['--temperature', '0'], /^sample: --temperature must be greater than 0; got 0\.$/);
    refuse(['--temperature', '-2'], /--temperature must be greater than 0; got -2\./);
    refuse(['--top-p', '0'], /--top-p must be greater than 0 and at most 1; got 0\./);
    refuse(['--top-p', '1.5'], /--top-p must be greater than 0 and at most 1; got 1\.5\./);
    refuse(['--n', '0'], /--n must be between 1 and 256; got 0\./);
  });
});
