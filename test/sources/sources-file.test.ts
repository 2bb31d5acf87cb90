/** Validation of SOURCES_FILE, with messages that name the source and the field at fault. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSources, readSources, SourcesFileError } from '../../src/sources/sources-file.js';

const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'hub-sources-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('readSources', () => {
  it('reads a source with defaults', () => {
    const sources = readSources({ sources: [{ id: 'crm', secrets: [secret] }] });
    const crm = sources.get('crm');
    expect(crm).toMatchObject({ id: 'crm', event: null, eventField: ['type'], toleranceSeconds: 300 });
    expect(crm?.keys).toHaveLength(1);
  });

  it('reads every field', () => {
    const sources = readSources({
      sources: [{ id: 'erp', secrets: [secret, secret], event: 'erp.order', eventField: 'meta.kind', toleranceSeconds: 60, description: 'orders' }],
    });
    expect(sources.get('erp')).toMatchObject({ event: 'erp.order', eventField: ['meta', 'kind'], toleranceSeconds: 60 });
    expect(sources.get('erp')?.keys).toHaveLength(2);
  });

  it('reads secrets from the environment', () => {
    const sources = readSources({ sources: [{ id: 'crm', secretEnv: 'CRM_SECRET' }] }, { CRM_SECRET: `${secret} ${secret}` });
    expect(sources.get('crm')?.keys).toHaveLength(2);
  });

  const invalid: [string, unknown, RegExp][] = [
    ['not an object', [], /JSON object with a "sources" list/],
    ['source not an object', { sources: ['crm'] }, /sources\[0\] must be an object/],
    ['bad id', { sources: [{ id: 'CRM!', secrets: [secret] }] }, /"id" must be 1 to 63 lower-case/],
    ['reserved id', { sources: [{ id: 'repliers', secrets: [secret] }] }, /taken by the Repliers webhooks/],
    ['repeated id', { sources: [{ id: 'crm', secrets: [secret] }, { id: 'crm', secrets: [secret] }] }, /source "crm" is listed twice/],
    ['no secrets', { sources: [{ id: 'crm' }] }, /source "crm": give exactly one of "secrets"/],
    ['both secret kinds', { sources: [{ id: 'crm', secrets: [secret], secretEnv: 'X' }] }, /exactly one of/],
    ['empty secrets', { sources: [{ id: 'crm', secrets: [] }] }, /non-empty list/],
    ['bad secret', { sources: [{ id: 'crm', secrets: ['hunter2'] }] }, /source "crm": secret 1 is invalid: a secret must start with "whsec_"/],
    ['unset variable', { sources: [{ id: 'crm', secretEnv: 'NOT_SET_ANYWHERE' }] }, /NOT_SET_ANYWHERE named by "secretEnv" is not set/],
    ['bad event', { sources: [{ id: 'crm', secrets: [secret], event: 'a b' }] }, /"event" must be 1 to 128/],
    ['bad event field', { sources: [{ id: 'crm', secrets: [secret], eventField: 'a..b' }] }, /"eventField" must be a dot-separated path/],
    ['bad tolerance', { sources: [{ id: 'crm', secrets: [secret], toleranceSeconds: 0 }] }, /"toleranceSeconds" must be an integer from 1 to 86400/],
    ['unknown field', { sources: [{ id: 'crm', secrets: [secret], secert: 'x' }] }, /unknown field "secert"/],
  ];
  for (const [name, content, message] of invalid) {
    it(`${name} is rejected`, () => {
      expect(() => readSources(content, {})).toThrow(SourcesFileError);
      expect(() => readSources(content, {})).toThrow(message);
    });
  }

  it('secret never appears in a message', () => {
    const leaked = 'whsec_c2hvcnQ=';
    expect(() => readSources({ sources: [{ id: 'crm', secrets: [leaked] }] })).toThrow(/decode to 16 to 128 bytes/);
    try {
      readSources({ sources: [{ id: 'crm', secrets: [leaked] }] });
    } catch (error) {
      expect((error as Error).message).not.toContain('c2hvcnQ');
    }
  });
});

describe('loadSources', () => {
  it('no file means no sources', async () => {
    expect((await loadSources(null)).size).toBe(0);
  });

  it('reads a file', async () => {
    const file = path.join(dir, 'sources.json');
    await writeFile(file, JSON.stringify({ sources: [{ id: 'crm', secrets: [secret] }] }));
    expect([...(await loadSources(file)).keys()]).toEqual(['crm']);
  });

  it('names a missing file', async () => {
    await expect(loadSources(path.join(dir, 'missing.json'))).rejects.toThrow(/cannot read SOURCES_FILE .*missing\.json/);
  });

  it('names invalid JSON', async () => {
    const file = path.join(dir, 'broken.json');
    await writeFile(file, '{ "sources": [');
    await expect(loadSources(file)).rejects.toThrow(/SOURCES_FILE .*broken\.json is not valid JSON/);
  });

  it('names the file of an invalid source', async () => {
    const file = path.join(dir, 'invalid.json');
    await writeFile(file, JSON.stringify({ sources: [{ id: 'crm' }] }));
    await expect(loadSources(file)).rejects.toThrow(/SOURCES_FILE .*invalid\.json: source "crm"/);
  });
});
