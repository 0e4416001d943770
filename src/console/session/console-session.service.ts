import { Injectable } from '@nestjs/common';
import { userActor } from '../../audit/audit-event';
import { AuditService } from '../../audit/audit.service';
import { Clock } from '../../common/clock';
import { constantTimeEqual, deriveKey, hmacSha256, randomToken, sha256Hex } from '../../common/crypto';
import { type ResponseHeaders, serializeCookie } from '../../common/http';
import type { RequestContext } from '../../common/request-context';
import { AppConfig } from '../../config/app-config';
import type { Approver } from '../../tokens/approver';
import { type ConsoleSessionRecord, ConsoleSessionStore } from './console-session.store';

export const CONSOLE_SESSION_COOKIE = 'devicegate_console';
export const CONSOLE_PATH = '/console';
const COOKIE_VALUE = /^([\w-]{43})\.([\w-]{43})$/;

/** Why a console cookie did not open a session: the person signs in again. */
export type ConsoleSessionRefusal = 'missing' | 'invalid' | 'unknown' | 'idle' | 'expired';

export class ConsoleSessionRefused extends Error {
  constructor(readonly reason: ConsoleSessionRefusal) {
    super(`console session refused: ${reason}`);
  }
}

/** A live console session: who signed in, through which connector, and the CSRF token its forms carry. */
export interface ConsoleSession {
  person: Approver;
  connector: string;
  csrfToken: string;
  createdAt: number;
  /** The hash its record is kept under; never the cookie's id. */
  key: string;
  /** The request it was read for: what that request's audit events record. */
  origin: RequestContext;
}

/**
 * The console's own session: a random id in a MAC'd, HttpOnly cookie on
 * /console, the record server-side (idle and absolute lifetimes counted
 * on the clock, so the server decides, not the cookie's Max-Age). It is
 * neither an approval grant nor a bearer token: its cookie lives on
 * another path, with another key purpose, and grants nothing outside the
 * console.
 */
@Injectable()
export class ConsoleSessionService {
  private readonly keys: Buffer[];
  private readonly secureCookie: boolean;

  constructor(
    private readonly config: AppConfig,
    private readonly store: ConsoleSessionStore,
    private readonly audit: AuditService,
    private readonly clock: Clock,
  ) {
    this.keys = config.secretKeys.map((key) => deriveKey(key.secret, 'console-session'));
    this.secureCookie = config.publicUrl.startsWith('https://');
  }

  /** Opens a session for a person whose sign-in was already verified and audited, and sets its cookie. */
  async open(person: Approver, connector: string, headers: ResponseHeaders): Promise<void> {
    const now = this.clock.now();
    const id = randomToken(32);
    const record: ConsoleSessionRecord = {
      subjectId: person.subjectId,
      issuer: person.issuer,
      externalId: person.externalId,
      email: person.email,
      name: person.name,
      ...(person.organizationId ? { organizationId: person.organizationId } : {}),
      connector,
      csrfToken: randomToken(24),
      createdAt: now,
      lastSeenAt: now,
    };
    await this.store.create(sha256Hex(id), record, this.remainingMs(record, now), this.config.consoleSessionAbsoluteSeconds * 1000);
    headers.append('Set-Cookie', this.cookie(`${id}.${hmacSha256(this.keys[0], id)}`, this.config.consoleSessionAbsoluteSeconds));
  }

  /** The session of a cookie whose MAC holds, whose record exists and is within both lifetimes; each use restarts the idle period. */
  async read(cookie: string | undefined, origin: RequestContext): Promise<ConsoleSession> {
    try {
      return await this.verify(cookie, origin);
    } catch (error) {
      if (error instanceof ConsoleSessionRefused && error.reason !== 'missing') await this.refused(error.reason, origin);
      throw error;
    }
  }

  /** Records a refused console request; the person, when the session is known, is the actor. */
  async refused(
    reason: ConsoleSessionRefusal | 'csrf_mismatch' | 'login_csrf_mismatch',
    origin: RequestContext,
    session?: ConsoleSession,
  ): Promise<void> {
    await this.audit.record({
      origin,
      type: 'console.refused',
      outcome: 'failure',
      ...(session ? { actor: userActor(session.person), organizationId: session.person.organizationId } : {}),
      details: { reason },
    });
  }

  private async verify(cookie: string | undefined, origin: RequestContext): Promise<ConsoleSession> {
    if (!cookie) throw new ConsoleSessionRefused('missing');
    const match = COOKIE_VALUE.exec(cookie);
    if (!match || !this.keys.some((key) => constantTimeEqual(hmacSha256(key, match[1]), match[2]))) {
      throw new ConsoleSessionRefused('invalid');
    }
    const key = sha256Hex(match[1]);
    const record = await this.store.get(key);
    if (!record) throw new ConsoleSessionRefused('unknown');
    const now = this.clock.now();
    if (now - record.createdAt >= this.config.consoleSessionAbsoluteSeconds * 1000) {
      await this.store.remove(key);
      throw new ConsoleSessionRefused('expired');
    }
    if (now - record.lastSeenAt >= this.config.consoleSessionIdleSeconds * 1000) {
      await this.store.remove(key);
      throw new ConsoleSessionRefused('idle');
    }
    const seen = { ...record, lastSeenAt: now };
    if (!(await this.store.refresh(key, seen, this.remainingMs(seen, now)))) throw new ConsoleSessionRefused('unknown');
    return {
      person: {
        subjectId: record.subjectId,
        issuer: record.issuer,
        externalId: record.externalId,
        email: record.email,
        name: record.name,
        organizationId: record.organizationId,
      },
      connector: record.connector,
      csrfToken: record.csrfToken,
      createdAt: record.createdAt,
      key,
      origin,
    };
  }

  /** Whether a form's CSRF token is the session's; a mismatch is audited. */
  async matchesCsrf(session: ConsoleSession, token: string | undefined): Promise<boolean> {
    if (typeof token === 'string' && constantTimeEqual(token, session.csrfToken)) return true;
    await this.refused('csrf_mismatch', session.origin, session);
    return false;
  }

  /** Sign-out: the record is deleted (the cookie stops working everywhere), the event recorded, the cookie cleared. */
  async close(session: ConsoleSession, headers: ResponseHeaders): Promise<void> {
    await this.store.remove(session.key);
    await this.audit.record({
      origin: session.origin,
      type: 'console.signed_out',
      outcome: 'success',
      actor: userActor(session.person),
      organizationId: session.person.organizationId,
      details: { connector: session.connector },
    });
    this.clear(headers);
  }

  /** Ends every other console session of the person (on every instance: the records are gone), audited; how many there were. */
  async closeOthers(session: ConsoleSession): Promise<number> {
    const ended = await this.store.removeOthers(session.person.subjectId, session.key);
    await this.audit.record({
      origin: session.origin,
      type: 'console.sessions_ended',
      outcome: 'success',
      actor: userActor(session.person),
      organizationId: session.person.organizationId,
      details: { ended },
    });
    return ended;
  }

  clear(headers: ResponseHeaders): void {
    headers.append('Set-Cookie', this.cookie('', 0));
  }

  private remainingMs(record: ConsoleSessionRecord, now: number): number {
    const absoluteEnd = record.createdAt + this.config.consoleSessionAbsoluteSeconds * 1000;
    return Math.max(1000, Math.min(now + this.config.consoleSessionIdleSeconds * 1000, absoluteEnd) - now);
  }

  private cookie(value: string, maxAgeSeconds: number): string {
    return serializeCookie(CONSOLE_SESSION_COOKIE, value, {
      path: CONSOLE_PATH,
      maxAgeSeconds,
      secure: this.secureCookie,
      sameSite: 'Lax',
    });
  }
}
