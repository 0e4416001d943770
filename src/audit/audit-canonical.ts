import { sha256Hex } from '../common/crypto';
import type { AuditRecord } from './audit-event';

/**
 * A stored event as the digest chain sees it. `occurredAt` is Postgres's own
 * rendering (ISO 8601, UTC, microseconds), not a JS Date: a Date keeps
 * milliseconds only, so a change in the microseconds would go unnoticed.
 */
export type SealableEvent = Omit<AuditRecord, 'occurredAt'> & { occurredAt: string };

/** The previous_digest of the first seal ever written. */
export const GENESIS_DIGEST = '0'.repeat(64);

/**
 * The one canonical form of an event, used both when sealing and when
 * verifying: a JSON array of every field in a fixed order, with the keys of
 * `details` sorted recursively, no whitespace.
 */
export function canonicalEvent(event: SealableEvent): string {
  return canonicalJson([
    event.id,
    event.eventId,
    event.occurredAt,
    event.type,
    event.outcome,
    event.actorType,
    event.actorIssuer,
    event.actorEmail,
    event.actorSubjectId,
    event.actorExternalId,
    event.organizationId,
    event.clientId,
    event.deviceLabel,
    event.tokenId,
    event.ip,
    event.userAgent,
    event.requestId,
    event.details,
  ]);
}

/** Hex SHA-256 of the canonical form. */
export function eventDigest(event: SealableEvent): string {
  return sha256Hex(canonicalEvent(event));
}

/** Hex SHA-256 of the previous seal's hex digest followed by the hex event digests, in order, as ASCII text. */
export function sealDigest(previousDigest: string, eventDigests: readonly string[]): string {
  return sha256Hex(previousDigest + eventDigests.join(''));
}

// Written out rather than JSON.stringify on a rebuilt object: JS puts integer-like keys ("10", "9") first in numeric order.
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    const members = Object.keys(record)
      .sort()
      .filter((key) => record[key] !== undefined)
      .map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key])}`);
    return `{${members.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
