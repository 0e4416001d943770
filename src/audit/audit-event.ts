import type { RequestContext } from '../common/request-context';

/**
 * The audit event catalog: every security event devicegate records, with
 * when it is written. The README's table is generated from the same words.
 */
export const AUDIT_EVENT_TYPES = {
  'device_code.issued': 'A device asked for a code (RFC 8628 §3.1) and got one',
  'user_code.lookup_failed': 'Someone entered a user code that is unknown, expired or used (lookup, sign-in or approval)',
  'device_code.replayed':
    'A device code was presented again after its token was delivered; what it delivered was revoked (details.revoked: how many)',
  'device_code.poll_ip_mismatch': 'The device collected its token from another IP than the one that asked for the code',
  'sso.initiated': 'A browser was sent to an identity provider to sign in for a code',
  'sso.assertion_accepted': 'A connector (local, SAML, OIDC) accepted a sign-in; the approval-grant cookie was set',
  'sso.assertion_rejected': 'A connector refused a sign-in (details.reason)',
  'console.signed_in': 'A person signed in to the console through a connector (details.connector); a console session was opened',
  'console.signed_out': 'A person signed out of the console; the session was revoked server-side',
  'console.refused':
    'A console request was refused: a forged, unknown (signed out, revoked), idle or expired session cookie, or a form without its CSRF token (details.reason)',
  'console.sessions_ended': "A person ended their other console sessions from the console (details.ended: how many)",
  'subject.offboarded': 'An admin off-boarded a person from the console: every authorization revoked (details.reason, details.revoked)',
  'approval_grant.refused': 'An approve or deny was refused: missing or forged grant, CSRF mismatch, replay, expired, other code',
  'device.approved': 'A signed-in person approved a device',
  'device.denied': 'A signed-in person denied a device',
  'token.minted': 'An access token was delivered to a device',
  'token.rotated': 'An approval of the same subject, client and device replaced the live token in place',
  'token.revoked': 'A token was revoked (details.reason: self, user, admin, rfc7009, refresh_reuse, device_code_replay)',
  'token.refreshed': 'A refresh token was used: the authorization got a new access token and refresh token',
  'token.hard_expired': 'The RetentionPruner cleared the hash of a token past its lifetime',
  'rate_limit.tripped': 'A rate limit started refusing a caller (one event per caller and block)',
  'client.created': 'A client was registered in the database',
  'client.changed': 'A client of the database was changed',
  'retention.run': 'The RetentionPruner ran (details: what it hard-expired and deleted)',
  'organization.changed': 'An organization of the config file was created or changed in the database at boot',
  'connector.changed': 'A sign-in connector of the config file was created, changed or disabled in the database at boot',
} as const;

export type AuditEventType = keyof typeof AUDIT_EVENT_TYPES;

export interface AuditActor {
  type: 'user' | 'client' | 'system';
  issuer?: string;
  email?: string;
  /** devicegate's subject id (subjects.id). */
  subjectId?: string;
  /** The identity provider's subject identifier. */
  externalId?: string;
}

/** The person behind an approval, a sign-in or a token, as an audit actor. */
export function userActor(subject: { issuer: string; email: string; subjectId: string; externalId: string }): AuditActor {
  return { type: 'user', issuer: subject.issuer, email: subject.email, subjectId: subject.subjectId, externalId: subject.externalId };
}

/** What a module records; IP, user agent and request id come from `origin` unless given. */
export interface AuditEvent {
  /** The request the event is recorded for; null for the app's own work (retention, sealing, directory sync). */
  origin: RequestContext | null;
  type: AuditEventType;
  outcome: 'success' | 'failure';
  actor?: AuditActor;
  organizationId?: string;
  clientId?: string;
  deviceLabel?: string;
  tokenId?: string;
  ip?: string;
  userAgent?: string;
  requestId?: string;
  details?: Record<string, unknown>;
}

/** A stored event, as the query API and the digest chain see it. */
export interface AuditRecord {
  id: string;
  eventId: string;
  occurredAt: Date;
  type: AuditEventType;
  outcome: 'success' | 'failure';
  actorType: string | null;
  actorIssuer: string | null;
  actorEmail: string | null;
  actorSubjectId: string | null;
  actorExternalId: string | null;
  organizationId: string | null;
  clientId: string | null;
  deviceLabel: string | null;
  tokenId: string | null;
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
  details: Record<string, unknown>;
}

/** One event as the query API, the NDJSON export and the JSON log mirror write it. */
export interface AuditEventView {
  id: string;
  sequence: string;
  occurred_at: string;
  type: string;
  outcome: string;
  actor: {
    type: string | null;
    issuer: string | null;
    email: string | null;
    subject_id: string | null;
    external_id: string | null;
  };
  organization: string | null;
  client_id: string | null;
  device_label: string | null;
  token_id: string | null;
  ip: string | null;
  user_agent: string | null;
  request_id: string | null;
  details: Record<string, unknown>;
}

export function toView(record: AuditRecord): AuditEventView {
  const { id, ...fields } = toPendingView(record.eventId, record);
  return { id, sequence: record.id, ...fields };
}

/** An event as it waits in the audit outbox: its view, but for the sequence that audit_events gives it. */
export type PendingEventView = Omit<AuditEventView, 'sequence'>;

export function toPendingView(eventId: string, record: Omit<AuditRecord, 'id' | 'eventId'>): PendingEventView {
  return {
    id: eventId,
    occurred_at: new Date(record.occurredAt).toISOString(),
    type: record.type,
    outcome: record.outcome,
    actor: {
      type: record.actorType,
      issuer: record.actorIssuer,
      email: record.actorEmail,
      subject_id: record.actorSubjectId,
      external_id: record.actorExternalId,
    },
    organization: record.organizationId,
    client_id: record.clientId,
    device_label: record.deviceLabel,
    token_id: record.tokenId,
    ip: record.ip,
    user_agent: record.userAgent,
    request_id: record.requestId,
    details: record.details,
  };
}
