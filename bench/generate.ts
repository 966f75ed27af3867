/**
 * Deterministic synthetic records for the benchmark: every record type, every incident kind and
 * client category, completions, delays, postponements, transfers and parole decisions, with dates
 * written the ways importers really send them (bare local dates, `Z` instants, local and foreign
 * offsets). Every record is valid for `parseRecord(raw, now)`: events are generated on one
 * increasing timeline per record, so any mix of date and instant spellings keeps their order.
 */
import { copenhagenOffsetMinutes, INCIDENT_KINDS, CLIENT_CATEGORIES, type ClientCategory, type IncidentKind } from '../src/domain/index.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;
const MONTH = 30.44 * DAY;
const YEAR = 365.25 * DAY;

/** mulberry32: tiny, fast, and good enough for test data; the seed makes every run identical. */
/** The engine bench's records (bench/run.ts), also the CLI bench's incidents (bench/cli.ts): seed and dates. */
export const SEED = 20_261_122;
export const FROM = Date.parse('2016-01-01T00:00:00+01:00');
/** Late in 2026, so that most deadlines are history and the recent ones are still open. */
export const NOW_TEXT = '2026-12-15T12:00:00+01:00';
export const NOW = Date.parse(NOW_TEXT);

export class Prng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  int(min: number, maxInclusive: number): number {
    return min + Math.floor(this.next() * (maxInclusive - min + 1));
  }

  between(min: number, max: number): number {
    return min + this.next() * (max - min);
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)] as T;
  }

  weighted<T>(items: ReadonlyArray<readonly [T, number]>): T {
    const total = items.reduce((s, [, w]) => s + w, 0);
    let x = this.next() * total;
    for (const [item, w] of items) {
      x -= w;
      if (x < 0) return item;
    }
    return (items[items.length - 1] as readonly [T, number])[0];
  }
}

export type RawRecord = Record<string, unknown>;

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

function offsetText(minutes: number): string {
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  return `${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/** Last Sunday of a month at 01:00 UTC: the instant Copenhagen changes clocks. */
function dstSwitchMs(year: number, month: 3 | 10): number {
  const lastDay = new Date(Date.UTC(year, month, 0));
  const back = lastDay.getUTCDay();
  return Date.UTC(year, month - 1, lastDay.getUTCDate() - back, 1);
}

export class RecordGenerator {
  private readonly rng: Prng;
  private readonly from: number;
  private readonly now: number;

  constructor(seed: number, from: number, now: number) {
    this.rng = new Prng(seed);
    this.from = from;
    this.now = now;
  }

  /**
   * An event instant in [from, now]. Evenings just before midnight UTC and the nights of the DST
   * switches are over-represented: they are where a local-date bug would show.
   */
  private eventMs(): number {
    const r = this.rng;
    const base = r.between(this.from, this.now - 2 * DAY);
    const dayStart = Math.floor(base / DAY) * DAY;
    const kind = r.next();
    let ms: number;
    if (kind < 0.2) ms = dayStart + r.between(21 * HOUR, 24 * HOUR);
    else if (kind < 0.25) {
      const year = new Date(base).getUTCFullYear();
      ms = dstSwitchMs(year, r.chance(0.5) ? 3 : 10) + r.between(-3 * HOUR, 3 * HOUR);
    } else if (kind < 0.75) ms = dayStart + r.between(6 * HOUR, 17 * HOUR);
    else ms = base;
    return Math.min(Math.floor(ms / 1000) * 1000, this.now - DAY);
  }

  /** How a date is written. Any spelling is a faithful rendering of the same instant or local day. */
  private when(ms: number): string {
    const r = this.rng;
    const style = r.next();
    const localOffset = copenhagenOffsetMinutes(ms);
    if (style < 0.45) {
      const d = new Date(ms + localOffset * MINUTE);
      return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
    }
    const offset = style < 0.72 ? 0 : style < 0.93 ? localOffset : r.pick([0, -300, -180, 330, 540]);
    const d = new Date(ms + offset * MINUTE);
    const date = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
    let time = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
    const precision = r.next();
    if (d.getUTCSeconds() !== 0 || precision < 0.6) time += `:${pad(d.getUTCSeconds())}`;
    if (precision < 0.15) time += `.${pad(r.int(0, 999), 3)}`;
    const zone = offset === 0 && style < 0.72 ? 'Z' : offsetText(offset);
    return `${date}T${time}${zone}`;
  }

  /** A later instant; at least a minute later so that sub-second fractions cannot reorder events. */
  private after(ms: number, minGap: number, maxGap: number): number {
    return ms + Math.max(MINUTE, Math.floor(this.rng.between(minGap, maxGap) / 1000) * 1000);
  }

  /** Completions are only known up to now; a later one is simply not recorded yet. */
  private done(ms: number): number | null {
    return ms <= this.now - MINUTE ? ms : null;
  }

  /** Absent fields are sometimes sent as explicit nulls, as JSON exports do. */
  private setOptional(rec: RawRecord, field: string, ms: number | null): void {
    if (ms !== null) rec[field] = this.when(ms);
    else if (this.rng.chance(0.2)) rec[field] = null;
  }

  private common(i: number): RawRecord {
    const r = this.rng;
    const rec: RawRecord = { id: r.chance(0.5) ? `rec-${i}` : i };
    if (r.chance(0.8)) rec['journalNumber'] = `${r.int(2016, 2026)}-${pad(r.int(1, 99))}-${pad(r.int(0, 9999), 4)}`;
    if (r.chance(0.7)) rec['areaId'] = r.pick(['hovedstaden', 'sjaelland', 'syddanmark', 'midt', 'nord']);
    if (r.chance(0.7)) rec['institutionId'] = r.int(1, 60);
    if (r.chance(0.1)) rec['notes'] = 'Sagen er oprettet ved import fra Klientsystemet.';
    return rec;
  }

  record(i: number): RawRecord {
    const type = this.rng.weighted([
      ['incident', 25],
      ['security_cell_placement', 20],
      ['force_use', 25],
      ['action_plan', 29],
      ['annual_overview', 1],
    ] as const);
    switch (type) {
      case 'incident':
        return this.incident(i);
      case 'security_cell_placement':
        return this.securityCell(i);
      case 'force_use':
        return this.forceUse(i);
      case 'action_plan':
        return this.actionPlan(i);
      case 'annual_overview':
        return this.annualOverview(i);
    }
  }

  private incident(i: number): RawRecord {
    const r = this.rng;
    const kind: IncidentKind = r.weighted(INCIDENT_KINDS.map((k) => [k, k === 'other_self_harm_behaviour' ? 3 : k === 'death' ? 1 : 2] as const));
    const occurred = this.eventMs();
    const rec: RawRecord = { type: 'incident', ...this.common(i), kind, occurredAt: this.when(occurred) };
    this.setOptional(rec, 'registeredAt', r.chance(0.7) ? this.done(this.after(occurred, 5 * MINUTE, 6 * HOUR)) : null);
    if (r.chance(0.1)) rec['mediaAttention'] = true;
    else if (r.chance(0.3)) rec['mediaAttention'] = false;
    this.setOptional(rec, 'preliminaryNoticeSentAt', r.chance(0.6) ? this.done(this.after(occurred, 2 * HOUR, 8 * DAY)) : null);
    this.setOptional(rec, 'inmateConversationHeldAt', r.chance(0.5) ? this.done(this.after(occurred, HOUR, 4 * DAY)) : null);
    const finalReport = r.chance(0.5) ? this.done(this.after(occurred, WEEK, 7 * WEEK)) : null;
    this.setOptional(rec, 'finalReportSubmittedAt', finalReport);
    if (r.chance(0.15)) {
      // Some delays are told after the four weeks have run out: the breach must stand.
      const notified = this.done(this.after(occurred, WEEK, 5 * WEEK));
      if (notified !== null) {
        rec['delayNotifiedAt'] = this.when(notified);
        rec['finalReportExpectedAt'] = this.when(this.after(notified, 3 * DAY, 6 * WEEK));
        if (r.chance(0.7)) rec['delayReason'] = r.pick(['Afventer obduktionserklæring', 'Afventer politirapport', 'Retskemisk undersøgelse ikke modtaget']);
      }
    }
    if (finalReport !== null) this.setOptional(rec, 'closingLetterSentAt', r.chance(0.5) ? this.done(this.after(finalReport, DAY, 8 * WEEK)) : null);
    return rec;
  }

  private securityCell(i: number): RawRecord {
    const r = this.rng;
    const placed = this.eventMs();
    const rec: RawRecord = { type: 'security_cell_placement', ...this.common(i), placedAt: this.when(placed) };
    const ended = r.chance(0.9) ? this.done(this.after(placed, 30 * MINUTE, 3 * DAY)) : null;
    this.setOptional(rec, 'endedAt', ended);
    if (ended === null) return rec;
    const postponed = r.chance(0.08);
    this.setOptional(rec, 'followUpHeldAt', r.chance(postponed ? 0.3 : 0.6) ? this.done(this.after(ended, HOUR, 12 * DAY)) : null);
    // Some postponements are decided after the seven days: they must not undo the breach.
    const decided = postponed ? this.done(this.after(ended, HOUR, 10 * DAY)) : null;
    if (decided !== null) {
      rec['followUpPostponedReason'] = r.pick(['Indsatte psykisk ude af stand til samtale', 'Indsatte indlagt på hospital', 'Indsatte ønsker ikke samtale nu']);
      rec['followUpPostponedAt'] = this.when(decided);
      if (r.chance(0.6)) rec['followUpRescheduledTo'] = this.when(this.after(ended, 5 * DAY, 30 * DAY));
    }
    return rec;
  }

  private forceUse(i: number): RawRecord {
    const r = this.rng;
    const occurred = this.eventMs();
    const rec: RawRecord = { type: 'force_use', ...this.common(i), occurredAt: this.when(occurred) };
    this.setOptional(rec, 'reportFiledAt', r.chance(0.8) ? this.done(this.after(occurred, 10 * MINUTE, 4 * DAY)) : null);
    this.setOptional(rec, 'complaintReceivedAt', r.chance(0.1) ? this.done(this.after(occurred, DAY, 75 * DAY)) : null);
    return rec;
  }

  private followUps(start: number, count: number): RawRecord[] {
    const list: RawRecord[] = [];
    let at = start;
    for (let k = 0; k < count; k++) {
      at = this.after(at, 2 * WEEK, 9 * MONTH);
      if (at > this.now - DAY) break;
      const item: RawRecord = { at: this.when(at) };
      this.setOptional(item, 'planUpdatedAt', this.rng.chance(0.7) ? this.done(this.after(at, DAY, 15 * DAY)) : null);
      list.push(item);
    }
    return list;
  }

  private actionPlan(i: number): RawRecord {
    const r = this.rng;
    const category: ClientCategory = r.pick(CLIENT_CATEGORIES);
    const start = this.eventMs();
    const rec: RawRecord = { type: 'action_plan', ...this.common(i), clientCategory: category };
    // §§ 68–69 clients are supervision clients (pkt. 2); some are placed in an institution instead.
    const supervised = category === 'supervision' || (category === 'measure_68_69' && r.chance(0.6));
    rec[supervised ? 'supervisionEstablishedAt' : 'admittedAt'] = this.when(start);

    const serving = category === 'convicted_from_liberty';
    if (serving) {
      // The sentence may formally start the day before or after admission.
      const sentenceStart = r.chance(0.7) ? start + Math.round(r.between(-DAY, DAY) / 1000) * 1000 : null;
      if (sentenceStart !== null) rec['sentenceStartDate'] = this.when(sentenceStart);
      if (r.chance(0.85)) {
        // Both sides of the one-year branch of pkt. 32: short and long sentences.
        const parole = this.after(sentenceStart ?? start, 2 * MONTH, r.chance(0.35) ? YEAR : 6 * YEAR);
        rec['possibleParoleDate'] = this.when(parole);
        if (r.chance(0.8)) rec['expectedReleaseDate'] = this.when(this.after(parole, DAY, 2 * YEAR));
      }
    } else if (r.chance(0.5)) {
      rec['expectedReleaseDate'] = this.when(this.after(start, MONTH, 4 * YEAR));
    }
    if (r.chance(0.08)) rec['expelled'] = true;

    this.setOptional(rec, 'ownerAssignedAt', r.chance(0.85) ? this.done(this.after(start - 3 * DAY, 0, 10 * DAY)) : null);
    const created = r.chance(0.85) ? this.done(this.after(start, DAY, 20 * DAY)) : null;
    this.setOptional(rec, 'createdAt', created);
    const hasElaboration = category === 'convicted_from_liberty' || category === 'supervision' || category === 'measure_68_69';
    const elaborated = created !== null && r.chance(hasElaboration ? 0.65 : 0.15) ? this.done(this.after(created, DAY, 6 * WEEK)) : null;
    this.setOptional(rec, 'elaboratedAt', elaborated);

    // Evaluations continue from the plan they evaluate, the way case workers record them.
    const base = elaborated ?? (hasElaboration ? null : created);
    if (base !== null && r.chance(0.7)) {
      const evaluations: string[] = [];
      let at = base;
      for (let k = r.int(1, 8); k > 0; k--) {
        at = this.after(at, 1.5 * MONTH, 7 * MONTH);
        if (at > this.now - DAY) break;
        evaluations.push(this.when(at));
      }
      rec['evaluations'] = evaluations;
    }
    if (r.chance(0.3)) rec['transfers'] = this.followUps(start, r.int(1, 2));
    if (r.chance(0.2)) rec['paroleDecisions'] = this.followUps(start, 1);
    this.setOptional(rec, 'municipalityContactedAt', r.chance(0.5) ? this.done(this.after(start, DAY, 10 * WEEK)) : null);
    return rec;
  }

  private annualOverview(i: number): RawRecord {
    const r = this.rng;
    const year = r.int(2016, 2025);
    const rec: RawRecord = { type: 'annual_overview', ...this.common(i), year };
    this.setOptional(rec, 'submittedAt', r.chance(0.8) ? this.done(Date.UTC(year + 1, 0, 1) + Math.round(r.between(4 * DAY, 60 * DAY) / 1000) * 1000) : null);
    return rec;
  }
}

export function generateRecords(count: number, seed: number, from: number, now: number): RawRecord[] {
  const gen = new RecordGenerator(seed, from, now);
  const records: RawRecord[] = [];
  for (let i = 0; i < count; i++) records.push(gen.record(i));
  return records;
}
