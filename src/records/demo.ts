/**
 * The demo data set behind `fristvagt seed --demo`: a few areas, institutions and staff and a few
 * hundred records of all four kinds, spread over the last months so that some deadlines are met,
 * some met late, some open and some breached.
 *
 * Everything is invented and looks it: e-mail addresses end in `.invalid` (RFC 2606: never
 * deliverable), names come from a short list of obviously made-up ones, and CPR numbers carry the
 * serial 0000, which the CPR office never issues. Records go through the API's own write path
 * (createRecords: validation, deadlines, audit) in batches, so the demo exercises the real thing.
 *
 * Re-running is safe: master data and records are looked up by their natural keys (area and
 * institution ids, staff e-mail, journal number) before they are created.
 */
import { eq } from 'drizzle-orm';
import { areas, institutions, staff } from '../db/schema.js';
import { daysFromCivil, formatIsoDate, formatLocalInstant, instantOfLocal, localDayOfInstant } from '../domain/index.js';
import { settings } from '../db/schema.js';
import { createArea, createInstitution, createStaff } from './masterdata.js';
import { putSetting } from './settings.js';
import { createRecords, type Actor, type ServiceContext } from './service.js';
import type { RecordTypeName } from './kinds.js';

const DEMO_ACTOR: Actor = { id: 'demo-seed', name: 'demo-seed', role: 'admin' };
const DOMAIN = 'demo.fristvagt.invalid';

export interface DemoOptions {
  /** PRNG seed: the same seed over the same (empty) database gives the same data. */
  seed?: number;
  records?: number;
}

export interface DemoSummary {
  seed: number;
  areas: number;
  institutions: number;
  staff: number;
  records: Record<RecordTypeName, number>;
  created: number;
  alreadyPresent: number;
}

/** mulberry32: small, fast and good enough for demo data; Math.random would make runs differ. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const AREAS = [
  { id: 'demo-oest', name: 'Demo Område Øst' },
  { id: 'demo-vest', name: 'Demo Område Vest' },
  { id: 'demo-nord', name: 'Demo Område Nord' },
] as const;

const INSTITUTIONS = [
  { id: 'demo-fengsel-oest', areaId: 'demo-oest', name: 'Demo Fængsel Øst', kind: 'prison' },
  { id: 'demo-arrest-oest', areaId: 'demo-oest', name: 'Demo Arrest Øst', kind: 'local_jail' },
  { id: 'demo-fengsel-vest', areaId: 'demo-vest', name: 'Demo Fængsel Vest', kind: 'prison' },
  { id: 'demo-kif-vest', areaId: 'demo-vest', name: 'Demo KiF Vest', kind: 'probation_office' },
  { id: 'demo-arrest-nord', areaId: 'demo-nord', name: 'Demo Arrest Nord', kind: 'local_jail' },
  { id: 'demo-pension-nord', areaId: 'demo-nord', name: 'Demo Pension Nord', kind: 'halfway_house' },
] as const;

const FIRST = ['Demo', 'Testa', 'Prøve', 'Eksempel', 'Fiktiv', 'Opdigtet'];
const LAST = ['Jensen-Demo', 'Testesen', 'Prøvesen', 'Eksempelsen', 'Fiktivsen', 'Opdigtsen'];

/** Incident kinds weighted toward the common ones; death is rare but must appear in a demo. */
const INCIDENT_KINDS = ['death', 'suicide', 'qualified_suicide_attempt', 'qualified_self_harm', 'qualified_self_harm', 'other_self_harm_behaviour', 'other_self_harm_behaviour'] as const;
const CLIENT_CATEGORIES = ['convicted_from_liberty', 'convicted_from_liberty', 'remand', 'supervision', 'measure_68_69', 'youth_home_detention'] as const;

export async function seedDemo(ctx: ServiceContext, options: DemoOptions = {}): Promise<DemoSummary> {
  const seed = options.seed ?? 2015;
  const total = options.records ?? 300;
  const rnd = prng(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rnd() * list.length)] as T;
  const int = (lo: number, hi: number): number => lo + Math.floor(rnd() * (hi - lo + 1));
  const now = ctx.clock();
  const nowMs = now.getTime();
  const today = localDayOfInstant(nowMs);

  for (const a of AREAS) {
    const exists = await ctx.db.select({ id: areas.id }).from(areas).where(eq(areas.id, a.id));
    if (exists.length > 0) continue;
    await createArea(ctx, { id: a.id, name: a.name, officeEmail: `${a.id}.omraadekontor@${DOMAIN}`, directorName: `Områdedirektør ${a.name.split(' ').at(-1) ?? ''}`, directorEmail: `${a.id}.direktoer@${DOMAIN}`, leadershipEmail: `${a.id}.ledelse@${DOMAIN}` }, DEMO_ACTOR);
  }
  for (const i of INSTITUTIONS) {
    const exists = await ctx.db.select({ id: institutions.id }).from(institutions).where(eq(institutions.id, i.id));
    if (exists.length > 0) continue;
    await createInstitution(ctx, { ...i, dutyManagerEmail: `${i.id}.vagthavende@${DOMAIN}` }, DEMO_ACTOR);
  }
  // The external recipients are settings an administrator must set; the demo sets invented ones
  // (never a real authority's address), unless an administrator already did.
  const [recipients] = await ctx.db.select({ key: settings.key }).from(settings).where(eq(settings.key, 'recipients'));
  if (!recipients) await putSetting(ctx, 'recipients', { value: { ombudsman: `ombudsmand@${DOMAIN}`, directorate: `direktorat@${DOMAIN}`, admins: [`drift@${DOMAIN}`] } }, DEMO_ACTOR);
  const staffByInstitution = new Map<string, string[]>();
  for (const i of INSTITUTIONS) {
    const ids: string[] = [];
    for (let n = 1; n <= 3; n++) {
      const email = `${i.id}.medarbejder${n}@${DOMAIN}`;
      const [row] = await ctx.db.select({ id: staff.id }).from(staff).where(eq(staff.email, email));
      if (row) {
        ids.push(row.id);
        continue;
      }
      const created = await createStaff(ctx, { areaId: i.areaId, institutionId: i.id, name: `${FIRST[n % FIRST.length] ?? 'Demo'} ${LAST[(n + i.id.length) % LAST.length] ?? 'Demo'}`, email, title: n === 1 ? 'Afdelingsleder' : 'Fængselsbetjent' }, DEMO_ACTOR);
      if (created) ids.push(created.id);
    }
    staffByInstitution.set(i.id, ids);
  }

  /** A past instant `daysAgo` days before now at a plausible working hour (local time). */
  const past = (daysAgo: number): number => Math.min(nowMs - 60_000, instantOfLocal(today - daysAgo, (int(7, 21) * 60 + int(0, 59)) * 60_000));
  /** An instant `days` after `from`, or undefined when that is still in the future. */
  const after = (from: number, days: number): string | undefined => {
    const t = from + days * 86_400_000 + int(1, 8) * 3_600_000;
    return t < nowMs ? formatLocalInstant(t) : undefined;
  };
  /** When the record was registered at its source: minutes to hours after the event, never in the future. */
  const registered = (event: number): string => formatLocalInstant(Math.min(event + int(5, 240) * 60_000, nowMs - 60_000));
  const person = (n: number) => {
    const birth = daysFromCivil(1960, 1, 1) + int(0, 365 * 40);
    const [y, m, d] = formatIsoDate(birth).split('-') as [string, string, string];
    return { inmateName: `${pick(FIRST)} ${pick(LAST)} ${n}`, cpr: `${d}${m}${y.slice(2)}-0000` };
  };

  const counts: Record<RecordTypeName, number> = { incident: 0, security_cell_placement: 0, force_use: 0, action_plan: 0 };
  let created = 0;
  let alreadyPresent = 0;
  // Created per type in batches through the API's write path (createRecords), in the order composed.
  const pending: Record<RecordTypeName, Array<Record<string, unknown>>> = { incident: [], security_cell_placement: [], force_use: [], action_plan: [] };
  for (let n = 0; n < total; n++) {
    const inst = pick(INSTITUTIONS);
    const base = { institutionId: inst.id, journalNumber: `DEMO-${seed}-${String(n + 1).padStart(5, '0')}`, ...person(n + 1) };
    // Roughly one in five leaves its next step undone, so a share of the deadlines end up breached.
    const diligent = rnd() > 0.2;
    const roll = rnd();
    let type: RecordTypeName;
    let body: Record<string, unknown>;
    if (roll < 0.3) {
      type = 'incident';
      const occurred = past(int(1, 150));
      const kind = pick(INCIDENT_KINDS);
      body = { ...base, kind, occurredAt: formatLocalInstant(occurred), registeredAt: registered(occurred), description: 'Demohændelse (opdigtet).', mediaAttention: rnd() < 0.1 };
      if (diligent) {
        const notice = after(occurred, rnd() < 0.8 ? 0 : 2);
        if (notice && kind !== 'other_self_harm_behaviour') body['preliminaryNoticeSentAt'] = notice;
        const report = after(occurred, int(10, 40));
        if (report && kind !== 'other_self_harm_behaviour') body['finalReportSubmittedAt'] = report;
        const talk = after(occurred, int(1, 20));
        if (talk && kind !== 'death' && kind !== 'suicide') body['inmateConversationHeldAt'] = talk;
      }
    } else if (roll < 0.5) {
      type = 'security_cell_placement';
      const placed = past(int(0, 90));
      // 000: staff at halfway houses do not use security means; such a placement goes to the area's local jail.
      const at = inst.kind === 'halfway_house' ? (INSTITUTIONS.find((i) => i.areaId === inst.areaId && i.kind === 'local_jail') ?? inst).id : inst.id;
      body = { ...base, institutionId: at, placedAt: formatLocalInstant(placed), registeredAt: registered(placed), mechanicalRestraint: rnd() < 0.3 };
      const ended = after(placed, rnd() < 0.5 ? 0 : int(1, 3));
      if (ended) {
        body['endedAt'] = ended;
        const held = diligent ? after(Date.parse(ended), int(0, 6)) : undefined;
        if (held) body['followUpHeldAt'] = held;
      }
    } else if (roll < 0.7) {
      type = 'force_use';
      const occurred = past(int(0, 90));
      body = { ...base, occurredAt: formatLocalInstant(occurred), registeredAt: registered(occurred), description: 'Demomagtanvendelse (opdigtet).' };
      const report = diligent ? after(occurred, rnd() < 0.8 ? 0 : int(1, 4)) : undefined;
      if (report) body['reportFiledAt'] = report;
      if (rnd() < 0.15) {
        const complaint = after(occurred, int(1, 10));
        if (complaint) body['complaintReceivedAt'] = complaint;
      }
    } else {
      type = 'action_plan';
      const category = pick(CLIENT_CATEGORIES);
      const start = past(int(5, 200));
      const owners = staffByInstitution.get(inst.id) ?? [];
      body = { ...base, clientCategory: category, registeredAt: registered(start) };
      if (category === 'supervision') body['supervisionEstablishedAt'] = formatLocalInstant(start);
      else body['admittedAt'] = formatLocalInstant(start);
      if (category === 'convicted_from_liberty') {
        const startDay = localDayOfInstant(start);
        body['sentenceStartDate'] = formatIsoDate(startDay);
        body['possibleParoleDate'] = formatIsoDate(startDay + int(120, 700));
        body['expectedReleaseDate'] = formatIsoDate(startDay + int(720, 1400));
      }
      // Most plans have an owner; a few do not, which is what the no-owner escalation is for.
      if (owners.length > 0 && rnd() < 0.9) {
        body['ownerId'] = pick(owners);
        body['ownerAssignedAt'] = formatLocalInstant(start + 3_600_000 < nowMs ? start + 3_600_000 : start);
      }
      if (diligent) {
        const planned = after(start, int(2, 20));
        if (planned) {
          body['planCreatedAt'] = planned;
          const elaborated = after(Date.parse(planned), int(10, 40));
          if (elaborated) {
            body['elaboratedAt'] = elaborated;
            const evaluations: string[] = [];
            let last = Date.parse(elaborated);
            for (;;) {
              const next = after(last, int(80, 170));
              if (!next) break;
              evaluations.push(next);
              last = Date.parse(next);
            }
            if (evaluations.length > 0) body['evaluations'] = evaluations;
          }
        }
      }
    }
    counts[type]++;
    pending[type].push(body);
  }
  // The journal number is the natural key: the dates are relative to today, so a later run would
  // compose a different body for the same record; it must find it (`skip`), not add another.
  for (const type of Object.keys(pending) as RecordTypeName[]) {
    for (let i = 0; i < pending[type].length; i += 500) {
      const outcomes = await createRecords(ctx, type, pending[type].slice(i, i + 500), DEMO_ACTOR, { existing: 'skip' });
      for (const o of outcomes) {
        if (o.status === 'created') created++;
        else alreadyPresent++;
      }
    }
  }

  return { seed, areas: AREAS.length, institutions: INSTITUTIONS.length, staff: [...staffByInstitution.values()].reduce((s, l) => s + l.length, 0), records: counts, created, alreadyPresent };
}
