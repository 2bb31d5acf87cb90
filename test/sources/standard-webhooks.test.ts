/** Standard Webhooks signature checks, against the spec's published test vector and signatures computed here. */
import { createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeSecret, signatureFor, verifySignature } from '../../src/sources/standard-webhooks.js';

// The test vector published with the Standard Webhooks reference libraries.
const vector = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};
const vectorNow = vector.timestamp * 1000;
const vectorKey = decodeSecret(vector.secret);

function headers(overrides: Record<string, string | undefined> = {}): Record<string, string> {
  const all: Record<string, string | undefined> = {
    'webhook-id': vector.id,
    'webhook-timestamp': String(vector.timestamp),
    'webhook-signature': vector.signature,
    ...overrides,
  };
  return Object.fromEntries(Object.entries(all).filter((entry): entry is [string, string] => entry[1] !== undefined));
}

function check(overrides: Record<string, string | undefined> = {}, body = vector.body, nowMs = vectorNow) {
  return verifySignature(headers(overrides), Buffer.from(body), [vectorKey], 300, nowMs);
}

describe('signatures', () => {
  it('signatureFor reproduces the test vector', () => {
    expect(signatureFor(vector.secret, vector.id, vector.timestamp, vector.body)).toBe(vector.signature);
  });

  it('test vector verifies', () => {
    expect(check()).toEqual({ ok: true, webhookId: vector.id, timestamp: vector.timestamp });
  });

  it('one valid signature among several verifies', () => {
    expect(check({ 'webhook-signature': `v1,bm90IHRoaXMgb25lIGF0IGFsbCBzb3JyeSBub3Bl ${vector.signature} v1a,c29tZXRoaW5n` }).ok).toBe(true);
  });

  it('signature computed independently verifies', () => {
    const key = randomBytes(32);
    const secret = `whsec_${key.toString('base64')}`;
    const body = Buffer.from(JSON.stringify({ type: 'contact.updated', data: { id: 'é:1' } }));
    const mac = createHmac('sha256', key).update(Buffer.concat([Buffer.from('msg_1.1700000000.'), body])).digest('base64');
    const result = verifySignature(
      { 'webhook-id': 'msg_1', 'webhook-timestamp': '1700000000', 'webhook-signature': `v1,${mac}` },
      body,
      [decodeSecret(secret)],
      300,
      1_700_000_000_000,
    );
    expect(result.ok).toBe(true);
  });

  it('any of several secrets verifies', () => {
    const other = decodeSecret(`whsec_${randomBytes(24).toString('base64')}`);
    const result = verifySignature(headers(), Buffer.from(vector.body), [other, vectorKey], 300, vectorNow);
    expect(result.ok).toBe(true);
  });

  const failures: { name: string; overrides?: Record<string, string | undefined>; body?: string; nowMs?: number; reason: string }[] = [
    { name: 'tampered body', body: '{"test": 2432232315}', reason: 'no_matching_signature' },
    { name: 'other id', overrides: { 'webhook-id': 'msg_other' }, reason: 'no_matching_signature' },
    { name: 'other timestamp', overrides: { 'webhook-timestamp': String(vector.timestamp + 1) }, reason: 'no_matching_signature' },
    { name: 'unknown version only', overrides: { 'webhook-signature': vector.signature.replace('v1,', 'v2,') }, reason: 'no_matching_signature' },
    { name: 'truncated signature', overrides: { 'webhook-signature': vector.signature.slice(0, -4) }, reason: 'no_matching_signature' },
    { name: 'missing id', overrides: { 'webhook-id': undefined }, reason: 'missing_signature_headers' },
    { name: 'missing timestamp', overrides: { 'webhook-timestamp': undefined }, reason: 'missing_signature_headers' },
    { name: 'missing signature', overrides: { 'webhook-signature': undefined }, reason: 'missing_signature_headers' },
    { name: 'id sent twice', overrides: { 'webhook-id': `${vector.id}, ${vector.id}` }, reason: 'invalid_webhook_id' },
    { name: 'non-numeric timestamp', overrides: { 'webhook-timestamp': '1614265330.5' }, reason: 'invalid_timestamp' },
    { name: 'old timestamp', nowMs: vectorNow + 301_000, reason: 'timestamp_out_of_tolerance' },
    { name: 'future timestamp', nowMs: vectorNow - 301_000, reason: 'timestamp_out_of_tolerance' },
  ];
  for (const failure of failures) {
    it(`${failure.name} fails`, () => {
      expect(check(failure.overrides, failure.body, failure.nowMs)).toEqual({ ok: false, reason: failure.reason });
    });
  }

  it('timestamp at the tolerance edge verifies', () => {
    expect(check({}, vector.body, vectorNow + 300_000).ok).toBe(true);
  });
});

describe('secrets', () => {
  const invalid = [
    ['no prefix', 'MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', /must start with "whsec_"/],
    ['not base64', 'whsec_not*base64', /standard base64/],
    ['too short', `whsec_${Buffer.alloc(8).toString('base64')}`, /16 to 128 bytes; this one has 8/],
  ] as const;
  for (const [name, secret, message] of invalid) {
    it(`${name} is rejected`, () => {
      expect(() => decodeSecret(secret)).toThrow(message);
    });
  }
});
