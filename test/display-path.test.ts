/** How paths are printed for users to copy: relative under the current folder, absolute elsewhere. */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { displayPath } from '../src/paths.js';

const cwd = process.cwd();

describe('displayPath', () => {
  const cases: { name: string; input: string; expected: string }[] = [
    { name: 'relative input under cwd', input: path.join('data', 'outbox'), expected: path.join('data', 'outbox') },
    { name: 'absolute input under cwd', input: path.join(cwd, 'data', 'outbox'), expected: path.join('data', 'outbox') },
    { name: 'the current folder itself', input: cwd, expected: '.' },
    { name: 'a name starting with two dots', input: path.join(cwd, '..cache'), expected: '..cache' },
    { name: 'the parent folder', input: path.dirname(cwd), expected: path.dirname(cwd) },
    { name: 'a sibling folder', input: path.join('..', 'elsewhere'), expected: path.resolve('..', 'elsewhere') },
  ];

  for (const testCase of cases) {
    it(`prints ${testCase.name}`, () => {
      expect(displayPath(testCase.input)).toBe(testCase.expected);
    });
  }
});
