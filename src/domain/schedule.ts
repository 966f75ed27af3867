/**
 * When reminders and escalations fire for a deadline: a pure function of the deadline, the stage
 * configuration (tunable per rule by an administrator), the calendar and the send window.
 */
import type { Calendar } from './calendar.js';
import { parseIsoDate, type EpochDay } from './dates.js';
import { instantOfLocal, localDayOfInstant, copenhagenOffsetMinutes } from './zone.js';

export type StageKind = 'reminder' | 'escalation';
/** Who gets it: the person who must act, the area office, or the next level (directorate / area leadership). */
export type Audience = 'responsible' | 'area_office' | 'second_level';

export interface StageConfig {
  id: string;
  kind: StageKind;
  audience: Audience;
  /** Reminders count working days back from the due day; escalations count working days on from the breach day. */
  workingDays: number;
  /** Local time of day, HH:MM. */
  at: string;
}

export interface SendWindow {
  /** HH:MM, local. */
  from: string;
  to: string;
}

export interface ScheduleConfig {
  stages: StageConfig[];
  window: SendWindow;
  /** Rules whose escalations go out at once, day or night (the incident notices). */
  noWaitRules: string[];
}

export const DEFAULT_STAGES: StageConfig[] = [
  { id: 'reminder-2', kind: 'reminder', audience: 'responsible', workingDays: 2, at: '08:00' },
  { id: 'reminder-1', kind: 'reminder', audience: 'responsible', workingDays: 1, at: '08:00' },
  { id: 'reminder-0', kind: 'reminder', audience: 'responsible', workingDays: 0, at: '08:00' },
  { id: 'escalation-1', kind: 'escalation', audience: 'area_office', workingDays: 0, at: '00:00' },
  { id: 'escalation-2', kind: 'escalation', audience: 'second_level', workingDays: 1, at: '08:00' },
];

export const DEFAULT_SCHEDULE: ScheduleConfig = {
  stages: DEFAULT_STAGES,
  window: { from: '07:00', to: '18:00' },
  noWaitRules: ['incident.preliminary-notice', 'incident.final-report'],
};

const HHMM = /^([01]\d|2[0-3]):([0-5]\d)$/;

export function minutesOf(hhmm: string): number {
  const m = HHMM.exec(hhmm);
  if (!m) throw new RangeError(`"${hhmm}" is not a time of day (HH:MM)`);
  return Number(m[1]) * 60 + Number(m[2]);
}

export interface PlannedStage {
  stage: string;
  kind: StageKind;
  audience: Audience;
  /** Epoch ms. */
  plannedAt: number;
}

function localMinutes(ms: number): number {
  const local = ms + copenhagenOffsetMinutes(ms) * 60_000;
  return Math.floor((((local % 86_400_000) + 86_400_000) % 86_400_000) / 60_000);
}

/** Moves an instant forward into the send window: working days, from–to. */
export function nextInWindow(ms: number, calendar: Calendar, window: SendWindow): number {
  const from = minutesOf(window.from);
  const to = minutesOf(window.to);
  let day = localDayOfInstant(ms);
  const minute = localMinutes(ms);
  if (calendar.isWorkingDayEpoch(day) && minute >= from && minute < to) return ms;
  if (!calendar.isWorkingDayEpoch(day) || minute >= to) day = calendar.nextWorkingDayOnOrAfter(day + 1);
  return instantOfLocal(day, from * 60_000);
}

/**
 * Moves a reminder that falls outside the window back to the last slot before it, so that it still
 * arrives before the deadline (a due day on a Saturday is reminded on Friday).
 */
function previousInWindow(ms: number, calendar: Calendar, window: SendWindow): number {
  const from = minutesOf(window.from);
  const to = minutesOf(window.to);
  let day = localDayOfInstant(ms);
  const minute = localMinutes(ms);
  if (calendar.isWorkingDayEpoch(day)) {
    if (minute < from) return instantOfLocal(day, from * 60_000);
    if (minute >= to) return instantOfLocal(day, (to - 1) * 60_000);
    return ms;
  }
  do day--;
  while (!calendar.isWorkingDayEpoch(day));
  return instantOfLocal(day, Math.min(Math.max(minute, from), to - 1) * 60_000);
}

export interface ScheduleInput {
  rule: string;
  dueDate: string;
  obligation: 'duty' | 'right';
  status: 'open' | 'met' | 'met_late' | 'breached';
  suspended?: boolean;
}

/**
 * The stages a deadline needs. Met deadlines, rights (the inmate's complaint window) and
 * suspended deadlines need none. Two stages landing on the same instant collapse into the first.
 */
export function planStages(d: ScheduleInput, calendar: Calendar, config: ScheduleConfig = DEFAULT_SCHEDULE): PlannedStage[] {
  if (d.obligation !== 'duty' || d.suspended || d.status === 'met' || d.status === 'met_late') return [];
  const due = parseIsoDate(d.dueDate);
  if (due === undefined) throw new RangeError(`dueDate "${d.dueDate}" is not a date`);
  const breachDay: EpochDay = due + 1;
  const noWait = config.noWaitRules.includes(d.rule);
  const out: PlannedStage[] = [];
  const seen = new Set<number>();
  for (const s of config.stages) {
    const minute = minutesOf(s.at);
    let plannedAt: number;
    if (s.kind === 'reminder') {
      const day = s.workingDays === 0 ? due : calendar.subtractWorkingDaysEpoch(due, s.workingDays);
      plannedAt = previousInWindow(instantOfLocal(day, minute * 60_000), calendar, config.window);
    } else {
      const day = s.workingDays === 0 ? breachDay : calendar.addWorkingDaysEpoch(breachDay, s.workingDays);
      plannedAt = instantOfLocal(day, minute * 60_000);
      if (!noWait) plannedAt = nextInWindow(plannedAt, calendar, config.window);
    }
    if (seen.has(plannedAt)) continue;
    seen.add(plannedAt);
    out.push({ stage: s.id, kind: s.kind, audience: s.audience, plannedAt });
  }
  return out.sort((a, b) => a.plannedAt - b.plannedAt);
}


/**
 * Stages in plain words, for every place a stage is shown (settings, impact preview, mail log,
 * record timeline): "2 arbejdsdage før" rather than "reminder-2". Named from what the stage does
 * (its kind and working days), not from its id: an administrator may move reminder-2 to three days.
 */
type StageLang = 'da' | 'en';

const plural = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`;

/** When the stage fires, relative to the deadline: "2 arbejdsdage før", "dagen efter fristen". */
export function stageWhen(s: Pick<StageConfig, 'kind' | 'workingDays'>, lang: StageLang): string {
  const n = s.workingDays;
  if (s.kind === 'reminder') {
    if (n === 0) return lang === 'da' ? 'på fristdagen' : 'on the due day';
    return lang === 'da' ? `${plural(n, 'arbejdsdag', 'arbejdsdage')} før` : `${plural(n, 'working day', 'working days')} before`;
  }
  // An escalation counts from the breach day, the day after the due day (planStages).
  if (n === 0) return lang === 'da' ? 'dagen efter fristen' : 'the day after the due day';
  return lang === 'da' ? `${plural(n, 'arbejdsdag', 'arbejdsdage')} efter overskridelsen` : `${plural(n, 'working day', 'working days')} after the breach`;
}

const KIND_WORD: Record<StageLang, Record<string, string>> = {
  da: { reminder: 'Påmindelse', escalation: 'Rykker', alert: 'Varsel' },
  en: { reminder: 'Reminder', escalation: 'Escalation', alert: 'Alert' },
};

/** "Påmindelse 2 arbejdsdage før", "Rykker dagen efter fristen". */
export function stageName(s: Pick<StageConfig, 'kind' | 'workingDays'>, lang: StageLang): string {
  return `${KIND_WORD[lang][s.kind] ?? s.kind} ${stageWhen(s, lang)}`;
}

const SPECIAL_STAGES: Record<string, Record<StageLang, string>> = {
  'alert:area-director': { da: 'Varsel til områdedirektøren', en: 'Alert to the area director' },
  'alert:directorate-phone': { da: 'Varsel: direktoratet skal ringes op', en: 'Alert: phone the directorate' },
  'notice:preliminary': { da: 'Foreløbig underretning', en: 'Preliminary notice' },
  'no-owner': { da: 'Påmindelse (handleplanen har ingen ansvarlig)', en: 'Reminder (the plan has no owner)' },
  failure: { da: 'Fejlrapport (en mail kunne ikke sendes)', en: 'Failure report (a mail could not be sent)' },
};

/**
 * An outbox stage (`<deadline key>:<stage id>`, `alert:…`, `notice:preliminary`, `failure:<id>`)
 * in plain words. `stagesOf(rule)` gives the stages in force for the rule (its own or the default
 * ones); a stage id no longer among them is named after the default stage of that id, else by its kind.
 */
export function notificationStageName(stage: string, lang: StageLang, stagesOf: (rule: string) => readonly StageConfig[] = () => DEFAULT_STAGES): string {
  const special = SPECIAL_STAGES[stage.startsWith('notice:preliminary') ? 'notice:preliminary' : stage];
  if (special) return special[lang];
  if (stage.startsWith('failure:')) return (SPECIAL_STAGES['failure'] as Record<StageLang, string>)[lang];
  const sep = stage.lastIndexOf(':');
  const key = sep < 0 ? '' : stage.slice(0, sep);
  const id = sep < 0 ? stage : stage.slice(sep + 1);
  if (id === 'no-owner') return (SPECIAL_STAGES['no-owner'] as Record<StageLang, string>)[lang];
  const rule = key.split('#')[0] ?? '';
  const found = stagesOf(rule).find((s) => s.id === id) ?? DEFAULT_STAGES.find((s) => s.id === id);
  if (found) return stageName(found, lang);
  const kind = /^(reminder|escalation)-/.exec(id)?.[1];
  return kind ? `${KIND_WORD[lang][kind]} (${id})` : stage;
}
