import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { eventDigest, GENESIS_DIGEST, sealDigest } from './audit-canonical';
import { AuditSealRepository, type Seal } from './audit-seal.repository';

const SEALS_PER_READ = 20;
const EVENTS_PER_READ = 1000;

export type AuditBreakReason =
  /** The event's recomputed digest differs from the one its seal holds. */
  | 'event_altered'
  /** A sealed event id no longer exists. */
  | 'event_missing'
  /** An event inside or before the sealed ranges is in no seal: something was inserted behind the chain. */
  | 'event_unsealed'
  /** A seal does not follow the seal before it, or its own digest does not recompute. */
  | 'chain_broken';

export interface AuditChainBreak {
  seal_seq: number;
  event_id?: string;
  reason: AuditBreakReason;
}

export type AuditVerifyReport =
  | {
      ok: true;
      seals: number;
      events: number;
      /** The newest sealed event; null before the first seal. */
      last_event_id: string | null;
      /** The newest seal's digest: keep it elsewhere to detect a rewrite of the whole chain. */
      digest: string | null;
    }
  | { ok: false; break: AuditChainBreak };

/**
 * Recomputes the digest chain from the oldest kept seal (whose
 * previous_digest is the anchor: older seals may have been pruned) and
 * reports the first break. Reads seals and events in bounded pages inside one
 * read-only snapshot, so a seal or a prune committing meanwhile is not
 * mistaken for tampering.
 */
@Injectable()
export class AuditVerifierService {
  constructor(private readonly seals: AuditSealRepository) {}

  verify(): Promise<AuditVerifyReport> {
    return this.seals.readSnapshot(async (manager) => {
      let previous: Seal | undefined;
      let seals = 0;
      let events = 0;
      for (;;) {
        const page = await this.seals.sealsAfter(manager, previous?.seq ?? 0, SEALS_PER_READ);
        for (const seal of page) {
          const broken = this.checkLink(seal, previous) ?? (await this.checkEvents(manager, seal, previous));
          if (broken) return { ok: false, break: broken };
          seals += 1;
          events += seal.eventIds.length;
          previous = seal;
        }
        if (page.length < SEALS_PER_READ) break;
      }
      return { ok: true, seals, events, last_event_id: previous?.lastEventId ?? null, digest: previous?.digest ?? null };
    });
  }

  private checkLink(seal: Seal, previous: Seal | undefined): AuditChainBreak | undefined {
    const broken: AuditChainBreak = { seal_seq: seal.seq, reason: 'chain_broken' };
    if (previous && (seal.seq !== previous.seq + 1 || seal.previousDigest !== previous.digest)) return broken;
    if (!previous && seal.seq === 1 && seal.previousDigest !== GENESIS_DIGEST) return broken;
    const ids = seal.eventIds.map(BigInt);
    const ordered = ids.every((id, index) => index === 0 || id > ids[index - 1]);
    if (
      ids.length === 0 ||
      !ordered ||
      ids.length !== seal.eventDigests.length ||
      ids[0] !== BigInt(seal.firstEventId) ||
      ids[ids.length - 1] !== BigInt(seal.lastEventId) ||
      (previous && ids[0] <= BigInt(previous.lastEventId))
    ) {
      return broken;
    }
    if (sealDigest(seal.previousDigest, seal.eventDigests) !== seal.digest) return broken;
    return undefined;
  }

  /**
   * Walks the events from just after the previous seal's range up to this
   * seal's last event beside the seal's own list; every id must be in both,
   * with the same digest.
   */
  private async checkEvents(manager: EntityManager, seal: Seal, previous: Seal | undefined): Promise<AuditChainBreak | undefined> {
    const at = (reason: AuditBreakReason, eventId: string): AuditChainBreak => ({ seal_seq: seal.seq, event_id: eventId, reason });
    let index = 0;
    let after = previous?.lastEventId ?? '0';
    for (;;) {
      const page = await this.seals.eventsBetween(manager, after, seal.lastEventId, EVENTS_PER_READ);
      for (const event of page) {
        const sealedId = seal.eventIds[index];
        if (sealedId !== undefined && BigInt(sealedId) < BigInt(event.id)) return at('event_missing', sealedId);
        if (sealedId !== event.id) return at('event_unsealed', event.id);
        if (eventDigest(event) !== seal.eventDigests[index]) return at('event_altered', event.id);
        index += 1;
      }
      if (page.length < EVENTS_PER_READ) break;
      after = page[page.length - 1].id;
    }
    return index < seal.eventIds.length ? at('event_missing', seal.eventIds[index]) : undefined;
  }
}
