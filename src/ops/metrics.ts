/**
 * /metrics in the Prometheus text format. Everything about deadlines, notifications and workers is
 * computed from Postgres at scrape time: several worker processes write the outbox, and counting
 * in one process's memory would show only that process's share. Each app has its own Registry,
 * so several apps in one process (tests) never clash.
 */
import { sql } from 'drizzle-orm';
import { collectDefaultMetrics, Gauge, Registry, type Metric } from 'prom-client';
import { rowsOf, type Db } from '../db/client.js';
import { withTimeout, type OpsRedis } from './redis.js';

/** Upper bounds (seconds) of the lateness buckets: from "on time" to "two days late". */
export const LATENESS_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14400, 43200, 86400, 172800] as const;
export const QUEUE_STATES = ['waiting', 'delayed', 'active', 'failed'] as const;

type Row = Record<string, unknown>;

/** postgres.js answers with an array, PGlite with `{ rows }`. */
async function query(db: Db, q: ReturnType<typeof sql>): Promise<Row[]> {
  return rowsOf<Row>(await db.execute(q));
}

interface Sample {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
}

/**
 * A series family whose samples are computed elsewhere (a histogram or summary from a SQL
 * aggregate). prom-client's own Histogram can only observe values one by one.
 */
class Precomputed {
  samples: Sample[] = [];
  readonly aggregator = 'sum' as const;
  constructor(readonly name: string, readonly help: string, readonly type: 'histogram' | 'summary') {}
  async get() {
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values: this.samples };
  }
  reset(): void {
    this.samples = [];
  }
}

export interface MetricsDeps {
  db: Db;
  clock: () => Date;
  redis?: OpsRedis | undefined;
  /** Redis may hang; the scrape answers anyway after this. */
  redisTimeoutMs?: number;
}

export interface Metrics {
  registry: Registry;
  contentType: string;
  render(): Promise<string>;
}

export function createMetrics(deps: MetricsDeps): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'fristvagt_' });
  const registers = [registry];

  const up = new Gauge({ name: 'fristvagt_up', help: 'Whether the source could be read at this scrape (1) or not (0): postgres, redis (only when configured).', labelNames: ['source'] as const, registers });
  const deadlineGauge = new Gauge({ name: 'fristvagt_deadlines', help: 'Active deadlines by status as of the scrape (open, met, met_late, breached), rule and basis (law, policy).', labelNames: ['status', 'rule', 'basis'] as const, registers });
  const notificationGauge = new Gauge({ name: 'fristvagt_notifications', help: 'Rows of the notification outbox (and the annual overviews) by rule and status (scheduled, sending, sent, failed, cancelled, superseded). Counted from Postgres, so every worker process is included.', labelNames: ['rule', 'status'] as const, registers });
  const lateness = new Precomputed('fristvagt_notification_lateness_seconds', 'How late notifications went out: sent_at - planned_at of every sent notification, in seconds (negative values count as 0).', 'histogram');
  const queueGauge = new Gauge({ name: 'fristvagt_queue_jobs', help: 'Jobs in the BullMQ queue by state (only when Redis is configured).', labelNames: ['state'] as const, registers });
  const sweepSummary = new Precomputed('fristvagt_worker_sweep_duration_seconds', 'Sweeps led by each running worker: total time (_sum) and number (_count), from worker_heartbeats.', 'summary');
  const lastSweep = new Gauge({ name: 'fristvagt_worker_last_sweep_duration_seconds', help: 'Duration of the last sweep each worker led.', labelNames: ['worker', 'hostname'] as const, registers });
  const lastSweepAt = new Gauge({ name: 'fristvagt_worker_last_sweep_timestamp_seconds', help: 'When each worker last led a sweep (Unix time).', labelNames: ['worker', 'hostname'] as const, registers });
  const lastSeen = new Gauge({ name: 'fristvagt_worker_last_seen_timestamp_seconds', help: 'Last heartbeat of each worker (Unix time); a crashed worker stops updating it.', labelNames: ['worker', 'hostname'] as const, registers });
  for (const m of [lateness, sweepSummary]) registry.registerMetric(m as unknown as Metric);

  async function refreshDatabase(): Promise<void> {
    const now = deps.clock().toISOString();
    // The same judgement as GET /api/deadlines: a stored `open` whose day is over counts as breached.
    const deadlineRows = await query(deps.db, sql`
      SELECT status, rule_id AS rule, basis::text AS basis, count(*)::int AS n FROM (
        SELECT rule_id, basis, CASE
          WHEN completed_at IS NOT NULL THEN status::text
          WHEN suspended THEN 'open'
          WHEN due_at < ${now}::timestamptz AND obligation = 'right' THEN 'met'
          WHEN due_at < ${now}::timestamptz THEN 'breached'
          ELSE 'open' END AS status
        FROM deadlines WHERE active) d
      GROUP BY 1, 2, 3`);
    // Alerts, notices and failure reports have no deadline row: their rule follows from the stage name.
    const notificationRows = await query(deps.db, sql`
      SELECT rule, status, count(*)::int AS n FROM (
        SELECT COALESCE(d.rule_id, CASE
            WHEN n.stage = 'alert:area-director' THEN 'incident.area-director-alert'
            WHEN n.stage = 'alert:directorate-phone' THEN 'incident.directorate-phone'
            WHEN n.stage LIKE 'notice:preliminary%' THEN 'incident.preliminary-notice'
            WHEN n.stage LIKE 'failure:%' THEN 'failure-report'
            ELSE regexp_replace(split_part(n.stage, ':', 1), '#[0-9]+$', '') END) AS rule,
          n.status::text AS status
        FROM notifications n LEFT JOIN deadlines d ON d.id = n.deadline_id
        UNION ALL
        SELECT 'incident.annual-overview', status::text FROM annual_overviews) x
      GROUP BY 1, 2`);
    const buckets = LATENESS_BUCKETS.map((le, i) => `count(*) FILTER (WHERE s <= ${le})::int AS b${i}`).join(', ');
    const [late] = await query(deps.db, sql`
      WITH l AS (
        SELECT GREATEST(0, EXTRACT(EPOCH FROM (sent_at - planned_at)))::float8 AS s FROM notifications WHERE status = 'sent' AND sent_at IS NOT NULL
        UNION ALL
        SELECT GREATEST(0, EXTRACT(EPOCH FROM (sent_at - planned_at)))::float8 FROM annual_overviews WHERE status = 'sent' AND sent_at IS NOT NULL)
      SELECT count(*)::int AS n, COALESCE(sum(s), 0)::float8 AS total, ${sql.raw(buckets)} FROM l`);
    const workers = await query(deps.db, sql`
      SELECT worker_id, hostname, last_seen_at, last_sweep_at, last_sweep_ms, sweeps_total::float8 AS sweeps_total, sweep_ms_total::float8 AS sweep_ms_total
      FROM worker_heartbeats ORDER BY worker_id`);

    deadlineGauge.reset();
    for (const r of deadlineRows) deadlineGauge.set({ status: String(r['status']), rule: String(r['rule']), basis: String(r['basis']) }, Number(r['n']));
    notificationGauge.reset();
    for (const r of notificationRows) notificationGauge.set({ rule: String(r['rule']), status: String(r['status']) }, Number(r['n']));
    lateness.samples = [
      ...LATENESS_BUCKETS.map((le, i) => ({ metricName: `${lateness.name}_bucket`, labels: { le }, value: Number(late?.[`b${i}`] ?? 0) })),
      { metricName: `${lateness.name}_bucket`, labels: { le: '+Inf' }, value: Number(late?.['n'] ?? 0) },
      { metricName: `${lateness.name}_sum`, labels: {}, value: Number(late?.['total'] ?? 0) },
      { metricName: `${lateness.name}_count`, labels: {}, value: Number(late?.['n'] ?? 0) },
    ];
    sweepSummary.reset();
    lastSweep.reset();
    lastSweepAt.reset();
    lastSeen.reset();
    for (const w of workers) {
      const labels = { worker: String(w['worker_id']), hostname: String(w['hostname']) };
      sweepSummary.samples.push({ metricName: `${sweepSummary.name}_sum`, labels, value: Number(w['sweep_ms_total']) / 1000 });
      sweepSummary.samples.push({ metricName: `${sweepSummary.name}_count`, labels, value: Number(w['sweeps_total']) });
      lastSeen.set(labels, toDate(w['last_seen_at']).getTime() / 1000);
      if (w['last_sweep_ms'] !== null) lastSweep.set(labels, Number(w['last_sweep_ms']) / 1000);
      if (w['last_sweep_at'] !== null) lastSweepAt.set(labels, toDate(w['last_sweep_at']).getTime() / 1000);
    }
  }

  function clearDatabase(): void {
    for (const g of [deadlineGauge, notificationGauge, lastSweep, lastSweepAt, lastSeen]) g.reset();
    lateness.reset();
    sweepSummary.reset();
  }

  async function refreshQueue(r: OpsRedis): Promise<void> {
    // While the connection is down BullMQ would wait for it; say "down" at once instead of after the timeout.
    if (r.redis.status !== 'ready') throw new Error(`redis connection is ${r.redis.status}`);
    const counts = await withTimeout(r.queue.getJobCounts(...QUEUE_STATES), deps.redisTimeoutMs ?? 2_000, 'queue job counts');
    queueGauge.reset();
    for (const s of QUEUE_STATES) queueGauge.set({ state: s }, counts[s] ?? 0);
  }

  async function renderOnce(): Promise<string> {
    const [pg, rd] = await Promise.allSettled([refreshDatabase(), deps.redis ? refreshQueue(deps.redis) : Promise.resolve()]);
    // Stale numbers that look current are worse than none: a failed source drops its series.
    if (pg.status === 'rejected') clearDatabase();
    up.set({ source: 'postgres' }, pg.status === 'fulfilled' ? 1 : 0);
    if (deps.redis) {
      if (rd.status === 'rejected') queueGauge.reset();
      up.set({ source: 'redis' }, rd.status === 'fulfilled' ? 1 : 0);
    }
    return registry.metrics();
  }

  // Two scrapes at once would reset and fill the same gauges in turn; the second waits for the first's answer.
  let inflight: Promise<string> | undefined;
  return {
    registry,
    contentType: registry.contentType,
    render() {
      inflight ??= renderOnce().finally(() => {
        inflight = undefined;
      });
      return inflight;
    },
  };
}

function toDate(v: unknown): Date {
  return v instanceof Date ? v : new Date(String(v));
}
