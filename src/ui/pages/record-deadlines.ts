/**
 * The record page's deadline part: the findings above the table (rules not yet in force, missing
 * data, missing notes), the deadlines with what the engine says about each (immediate duties,
 * deadlines ended by a reclassification, every delay notice judged, a late postponement, a
 * declined offer) and the immediate duties.
 */
import type { Deadline, DelayNoticeView, ImmediateDuty, Lang, NotInForce, RecordFinding } from '../../domain/index.js';
import { dayEl, fmtDay, fmtInstant, fmtShortDay, ruleTitle, statusBadge } from '../format.js';
import { html, type SafeHtml } from '../html.js';
import { t } from '../i18n.js';

export interface Findings {
  notInForce: NotInForce[];
  incomplete: RecordFinding[];
  warnings: RecordFinding[];
}

function list<T>(v: unknown): T[] {
  return Array.isArray(v) ? (v as T[]) : [];
}

export function findingsOf(view: Record<string, unknown>): Findings {
  return { notInForce: list<NotInForce>(view['notInForce']), incomplete: list<RecordFinding>(view['incomplete']), warnings: list<RecordFinding>(view['warnings']) };
}

/** A field's label inside a sentence ("Mangler: mulig prøveløsladelsesdato"): lower case unless it is an abbreviation. */
export function fieldInSentence(field: string, lang: Lang, apiName: (f: string) => string = (f) => f): string {
  const label = t(lang).fields[apiName(field)] ?? t(lang).fields[field] ?? field;
  return /^\p{Lu}\p{Ll}/u.test(label) ? label.charAt(0).toLowerCase() + label.slice(1) : label;
}

/** Why nothing (or less) is watched, and what a person must complete; before the table, where it is read first. */
export function findingsSection(f: Findings, lang: Lang, apiName?: (field: string) => string): SafeHtml {
  const d = t(lang);
  return html`${f.notInForce.length > 0 ? html`<div class="notice info" id="not-in-force"><h3>${d.notInForceTitle}</h3><ul>${f.notInForce.map((n) => html`<li data-rule="${n.rule}">${d.notInForceItem(n.title, n.citation, fmtShortDay(n.inForceFrom))}${n.explanation ? html`<br><span class="small">${n.explanation}</span>` : ''}</li>`)}</ul></div>` : ''}
${f.incomplete.length > 0 ? html`<div class="notice warn" id="incomplete"><h3>${d.incompleteTitle}</h3><ul>${f.incomplete.map((i) => html`<li data-rule="${i.rule}" data-field="${i.field}"><strong>${d.incompleteItem(fieldInSentence(i.field, lang, apiName))}</strong> – ${ruleTitle(i.rule, lang)}<br><span class="small">${i.message}</span></li>`)}</ul></div>` : ''}
${f.warnings.length > 0 ? html`<div class="notice warn" id="warnings"><h3>${d.warningsTitle}</h3><ul>${f.warnings.map((w) => html`<li data-rule="${w.rule}" data-field="${w.field}"><strong>${ruleTitle(w.rule, lang)}:</strong> ${w.message}</li>`)}</ul></div>` : ''}`;
}

function delayNotices(list: DelayNoticeView[], lang: Lang): SafeHtml {
  const d = t(lang);
  if (list.length === 0) return html``;
  return html`<div class="small delay-notices"><span>${d.delayNoticesTitle}:</span><ul>${list.map((n) => html`<li>${d.delayNoticeItem(fmtInstant(n.notifiedAt, lang), fmtDay(n.expectedDate, lang))}: ${n.inTime ? html`<strong>${d.delayInTime}</strong>` : html`<strong class="late">${d.delayTooLate(fmtDay(n.dueBefore, lang))}</strong>`}</li>`)}</ul></div>`;
}

function statusCell(x: Deadline, lang: Lang): SafeHtml {
  const d = t(lang);
  return html`${statusBadge(x.status, lang, x.suspended === true)}${x.endedBy === 'reclassification' ? html` <span class="badge badge-ended">${d.endedByReclassification}</span>${x.endedAt ? html`<br><span class="small">${fmtInstant(x.endedAt, lang)}</span>` : ''}` : ''}
${x.completedAt ? html`<br><span class="small">${d.completedAt}: ${fmtInstant(x.completedAt, lang)}</span>` : ''}
${x.completion === 'declined' ? html`<br><span class="small declined">${d.completionDeclined}</span>` : ''}
${x.postponedLate ? html`<br><strong class="small late">${d.postponedLate}</strong>${x.postponementDecidedAt ? html`<br><span class="small">${d.postponementDecided(fmtInstant(x.postponementDecidedAt, lang))}</span>` : ''}` : ''}`;
}

export function deadlinesTable(list: Deadline[], lang: Lang): SafeHtml {
  const d = t(lang);
  if (list.length === 0) return html`<p>${d.noDeadlines}</p>`;
  // Focusable: on a narrow screen the table scrolls inside its frame, and a keyboard must reach it.
  return html`<div class="table-wrap" tabindex="0" role="region" aria-label="${d.deadlines}"><table id="record-deadlines" class="stack-narrow">
<caption class="visually-hidden">${d.deadlines}</caption>
<thead><tr><th scope="col">${d.rule}</th><th scope="col">${d.due}</th><th scope="col">${d.status}</th><th scope="col">${d.basis}</th><th scope="col">${d.explanation}</th></tr></thead>
<tbody>${list.map((x) => html`<tr data-rule="${x.rule}" data-key="${x.key}"${x.endedBy ? html` data-ended-by="${x.endedBy}"` : ''}>
<th scope="row">${x.title}<br><span class="small muted">${x.responsible}</span></th>
<td>${x.immediate ? html`<span class="badge badge-immediate">${d.immediateBadge}</span><br>` : ''}${dayEl(x.dueDate, lang)}${x.immediate ? html`<br><span class="small muted">${d.immediateNote}</span>` : ''}${x.originalDueDate ? html`<br><span class="small">${d.originalDue}: ${fmtDay(x.originalDueDate, lang)}</span>` : ''}${delayNotices(x.delayNotices ?? [], lang)}</td>
<td>${statusCell(x, lang)}</td>
<td>${d.basisLabels[x.basis] ?? x.basis}<br><span class="small">${x.citation}</span></td>
<td class="small">${x.explanation}</td>
</tr>`)}</tbody></table></div>`;
}

export function immediateList(list: ImmediateDuty[], lang: Lang): SafeHtml {
  const d = t(lang);
  if (list.length === 0) return html``;
  return html`<h2>${d.immediate}</h2><ul>${list.map((i) => html`<li><strong>${i.title}</strong> (${fmtInstant(i.triggeredAt, lang)}) – ${i.citation}<br><span class="small">${i.explanation}</span></li>`)}</ul>`;
}
