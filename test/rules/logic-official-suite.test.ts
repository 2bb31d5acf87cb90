import { readFileSync } from 'node:fs';
import { describe, it, expect } from 'vitest';
import { compileLogic } from '../../src/rules/logic/index.js';

// The official JSON Logic test suite, kept outside the repository beside the project.
const suiteUrl = new URL('../../../shared/data/jsonlogic/tests.json', import.meta.url);
const suite = JSON.parse(readFileSync(suiteUrl, 'utf8')) as unknown[];

interface SuiteCase {
  name: string;
  rule: unknown;
  data: unknown;
  expected: unknown;
}

function readCases(entries: readonly unknown[]): SuiteCase[] {
  const cases: SuiteCase[] = [];
  let heading = '(no heading)';
  let index = 0;
  for (const entry of entries) {
    if (typeof entry === 'string') {
      heading = entry;
      index = 0;
      continue;
    }
    const [rule, data, expected] = entry as [unknown, unknown, unknown];
    index += 1;
    cases.push({ name: `${heading} #${index}`, rule, data, expected });
  }
  return cases;
}

const cases = readCases(suite);

describe('official JSON Logic suite', () => {
  it('reads every case of the suite', () => {
    // The suite file has 301 entries: 24 section headings and 277 cases.
    expect(cases).toHaveLength(277);
  });

  for (const { name, rule, data, expected } of cases) {
    it(name, () => {
      expect(compileLogic(rule)(data)).toStrictEqual(expected);
    });
  }
});
