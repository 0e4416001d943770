import { createHash } from 'node:crypto';
import { canonicalEvent, eventDigest, GENESIS_DIGEST, type SealableEvent, sealDigest } from './audit-canonical';

const event: SealableEvent = {
  id: '42',
  eventId: '0b6f1f3e-5c1a-4d0e-9a57-2f0d9c1b7e11',
  occurredAt: '2025-11-23T10:15:30.123456Z',
  type: 'token.minted',
  outcome: 'success',
  actorType: 'user',
  actorIssuer: 'local',
  actorEmail: 'alice@example.com',
  actorSubjectId: '6c1d1d8e-0f3a-4c55-8d4e-1c9f3a3b2a10',
  actorExternalId: 'alice',
  organizationId: null,
  clientId: 'test-cli',
  deviceLabel: 'laptop',
  tokenId: '9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a',
  ip: '127.0.0.1',
  userAgent: 'curl/8.5.0',
  requestId: 'req-1',
  details: { scopes: ['profile', 'read'], rotated: false, grant: { kind: 'device_code', at: 3 } },
};

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('the canonical form of an audit event', () => {
  it('is a JSON array of every field in a fixed order, details with sorted keys, no whitespace', () => {
    expect(canonicalEvent(event)).toBe(
      '["42","0b6f1f3e-5c1a-4d0e-9a57-2f0d9c1b7e11","2025-11-23T10:15:30.123456Z","token.minted","success",' +
        '"user","local","alice@example.com","6c1d1d8e-0f3a-4c55-8d4e-1c9f3a3b2a10","alice",null,"test-cli","laptop",' +
        '"9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a","127.0.0.1","curl/8.5.0","req-1",' +
        '{"grant":{"at":3,"kind":"device_code"},"rotated":false,"scopes":["profile","read"]}]',
    );
    expect(eventDigest(event)).toBe(sha256(canonicalEvent(event)));
  });

  it('does not depend on the order of the keys in details, at any depth', () => {
    const reordered: SealableEvent = {
      ...event,
      details: { grant: { at: 3, kind: 'device_code' }, rotated: false, scopes: ['profile', 'read'] },
    };
    expect(canonicalEvent(reordered)).toBe(canonicalEvent(event));
    expect(eventDigest(reordered)).toBe(eventDigest(event));
  });

  it('sorts integer-like keys as text too, as other languages do', () => {
    expect(canonicalEvent({ ...event, details: { b: [{ '9': 1, '10': 2 }], a: null } })).toMatch(/,\{"a":null,"b":\[\{"10":2,"9":1\}\]\}\]$/);
  });

  it('keeps the order of arrays, which is meaning', () => {
    const swapped = { ...event, details: { ...event.details, scopes: ['read', 'profile'] } };
    expect(eventDigest(swapped)).not.toBe(eventDigest(event));
  });

  it('changes with every field', () => {
    const changes: Partial<SealableEvent>[] = [
      { id: '43' },
      { eventId: '0b6f1f3e-5c1a-4d0e-9a57-2f0d9c1b7e12' },
      { occurredAt: '2025-11-23T10:15:30.123457Z' },
      { type: 'token.revoked' },
      { outcome: 'failure' },
      { actorType: 'client' },
      { actorIssuer: 'https://idp.example.com' },
      { actorEmail: 'mallory@example.com' },
      { actorSubjectId: null },
      { actorExternalId: 'mallory' },
      { organizationId: 'acme' },
      { clientId: 'other-cli' },
      { deviceLabel: 'server' },
      { tokenId: null },
      { ip: '203.0.113.7' },
      { userAgent: 'curl/8.5.1' },
      { requestId: 'req-2' },
      { details: { ...event.details, rotated: true } },
    ];
    const digests = new Set([eventDigest(event), ...changes.map((change) => eventDigest({ ...event, ...change }))]);
    expect(digests.size).toBe(changes.length + 1);
  });

  it('tells a null field from an empty one and from the text "null"', () => {
    const digests = [null, '', 'null'].map((ip) => eventDigest({ ...event, ip }));
    expect(new Set(digests).size).toBe(3);
  });
});

describe('the seal digest', () => {
  const a = sha256('a');
  const b = sha256('b');

  it('is SHA-256 of the previous digest and the event digests, as hex text, in order', () => {
    expect(sealDigest(GENESIS_DIGEST, [a, b])).toBe(sha256(`${'0'.repeat(64)}${a}${b}`));
    expect(sealDigest(GENESIS_DIGEST, [b, a])).not.toBe(sealDigest(GENESIS_DIGEST, [a, b]));
  });

  it('covers the previous digest', () => {
    expect(sealDigest(a, [b])).not.toBe(sealDigest(GENESIS_DIGEST, [b]));
  });
});
