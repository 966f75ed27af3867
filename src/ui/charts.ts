/**
 * Charts that survive printing in black and white and a 360 px wide phone: every segment has its
 * own fill pattern as well as colour, every figure is written out as text (HTML, so it wraps and
 * stays readable at any width), and every bar, figure and month leads to the deadlines behind it.
 * The trend chart states its target in text as well as drawing it as a dashed line.
 */
import { formatPercent, formatShare, type Lang } from '../domain/index.js';
import { OUTCOME_OF, SEGMENTS, type CaseChoice, type Counts, type Outcome, type Segment, type TrendSeries } from './data/compliance.js';
import { fmtMonth } from './format.js';
import { html, type SafeHtml } from './html.js';
import { t } from './i18n.js';

export interface Bar extends Counts {
  key: string;
  label: string;
}

const COLOURS: Record<Segment, string> = { met: '#1b6e3a', metLate: '#b86e00', breached: '#a4161a', open: '#ffffff' };

export function segmentLabel(s: Segment, lang: Lang): string {
  const d = t(lang);
  return s === 'met' ? d.metOnTime : s === 'metLate' ? d.metLate : s === 'breached' ? d.breached : d.open;
}

/** Pattern definitions; ids are prefixed per chart so several charts can share a page. */
function defs(prefix: string): SafeHtml {
  return html`<defs>
<pattern id="${prefix}-met" width="6" height="6" patternUnits="userSpaceOnUse"><rect width="6" height="6" fill="${COLOURS.met}"/></pattern>
<pattern id="${prefix}-metLate" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#fbe3bd"/><rect width="2.5" height="6" fill="${COLOURS.metLate}"/></pattern>
<pattern id="${prefix}-breached" width="6" height="6" patternUnits="userSpaceOnUse"><rect width="6" height="6" fill="${COLOURS.breached}"/><path d="M0 0L6 6M6 0L0 6" stroke="#ffffff" stroke-width="1"/></pattern>
<pattern id="${prefix}-open" width="6" height="6" patternUnits="userSpaceOnUse"><rect width="6" height="6" fill="#ffffff"/><circle cx="3" cy="3" r="0.9" fill="#4a4a4a"/></pattern>
</defs>`;
}

export function legend(lang: Lang, prefix: string): SafeHtml {
  return html`<ul class="legend" aria-hidden="true">${SEGMENTS.map((s) => html`<li><svg width="18" height="14" focusable="false">${defs(`${prefix}-lg-${s}`)}<rect x="0.5" y="0.5" width="17" height="13" fill="url(#${prefix}-lg-${s}-${s})" stroke="#1a1a1a"/></svg>${segmentLabel(s, lang)}</li>`)}</ul>`;
}

/**
 * Horizontal 100 % stacked bars, one per row. The label and the figures under each bar are links
 * (the keyboard's and the screen reader's way in); the segments are links for the mouse too.
 */
export function stackedBars(id: string, caption: string, bars: Bar[], lang: Lang, href: (bar: Bar, outcome?: Outcome) => string): SafeHtml {
  const d = t(lang);
  if (bars.length === 0) return html``;
  const rows = bars.map((b) => {
    const total = b.met + b.metLate + b.breached + b.open;
    let x = 0;
    const rects = SEGMENTS.map((s) => {
      const w = total === 0 ? 0 : (100 * b[s]) / total;
      const r = w > 0 ? html`<a href="${href(b, OUTCOME_OF[s])}" tabindex="-1"><rect x="${x.toFixed(2)}%" y="1" width="${w.toFixed(2)}%" height="20" fill="url(#${id}-${s})"><title>${segmentLabel(s, lang)}: ${b[s]} (${formatShare(b[s], total, lang)})</title></rect></a>` : html``;
      x += w;
      return r;
    });
    // A figure of 0 leads nowhere: it is text, not a link to an empty list.
    const figures = SEGMENTS.map((s) => {
      const text = `${segmentLabel(s, lang)} ${b[s]} (${formatShare(b[s], total, lang)})`;
      return b[s] === 0 ? html`<span>${text}</span>` : html`<a href="${href(b, OUTCOME_OF[s])}" data-count="${b[s]}" data-outcome="${OUTCOME_OF[s]}">${text}</a>`;
    });
    return html`<li data-key="${b.key}">
<p class="bar-head"><a href="${href(b)}" data-count="${total}" aria-label="${d.cp.barAll(b.label, total)}">${b.label}</a> <span class="muted">n = ${total}</span></p>
<svg class="bar" width="100%" height="22" aria-hidden="true" focusable="false">${rects}<rect x="0" y="1" width="100%" height="20" fill="none" stroke="#1a1a1a" stroke-width="1" pointer-events="none"/></svg>
<p class="bar-figures small">${figures.map((f, i) => html`${i > 0 ? html` <span aria-hidden="true">·</span> ` : ''}${f}`)}</p>
</li>`;
  });
  return html`<figure class="chart" id="${id}" aria-labelledby="${id}-cap">
<figcaption id="${id}-cap">${caption}</figcaption>
${legend(lang, id)}
<svg class="defs" width="0" height="0" aria-hidden="true" focusable="false">${defs(id)}</svg>
<ul class="bars">${rows}</ul>
</figure>`;
}

/**
 * Geometry of the trend chart, in viewBox units. It scales to its column, which is about 320 px
 * wide on a 360 px phone and wider on a desk: a unit is never much below a pixel, so 11–12 unit
 * labels stay legible.
 */
const W = 320;
const H = 196;
const X0 = 40;
const X1 = 312;
const Y0 = 16;
const Y1 = 156;

function yOf(v: number): number {
  return Y1 - ((Y1 - Y0) * v) / 100;
}

/**
 * One series' monthly on-time share as a line with a dot per month (hollow when below target),
 * the target as a dashed line labelled with its value, and the figures in text and in a table
 * whose cells lead to the deadlines behind them.
 */
export function trendChart(id: string, s: TrendSeries, lang: Lang, href: (month: string, outcome?: CaseChoice) => string, targetHint: string | undefined): SafeHtml {
  const d = t(lang);
  const n = s.points.length;
  const step = (X1 - X0) / Math.max(1, n);
  const xOf = (i: number) => X0 + step * (i + 0.5);
  // Every month has a dot; at most six month names fit under the axis at a legible size.
  const every = Math.max(1, Math.ceil(n / 6));
  const below = (v: number | undefined) => v !== undefined && s.target !== undefined && v < s.target;

  const grid = [0, 25, 50, 75, 100].map((v) => html`<line x1="${X0}" x2="${X1}" y1="${yOf(v)}" y2="${yOf(v)}" stroke="${v === 0 ? '#1a1a1a' : '#d0d0d0'}" stroke-width="1"/><text x="${X0 - 4}" y="${yOf(v) + 4}" font-size="11" text-anchor="end" fill="#1a1a1a">${formatPercent(v, lang)}</text>`);
  const ticks = s.points.map((_p, i) => html`<line x1="${xOf(i).toFixed(1)}" x2="${xOf(i).toFixed(1)}" y1="${Y1}" y2="${Y1 + 4}" stroke="#1a1a1a" stroke-width="1"/>`);
  // A year is written under the first labelled month and wherever the labelled year changes.
  let lastYear = '';
  const labels = s.points.map((p, i) => {
    if (i % every !== 0) return html``;
    const year = p.month.slice(0, 4);
    const showYear = year !== lastYear;
    lastYear = year;
    return html`<text x="${xOf(i).toFixed(1)}" y="${Y1 + 17}" font-size="12" text-anchor="middle" fill="#1a1a1a">${fmtMonth(p.month, lang, true)}</text>${showYear ? html`<text x="${xOf(i).toFixed(1)}" y="${Y1 + 32}" font-size="11" text-anchor="middle" fill="#1a1a1a">${year}</text>` : ''}`;
  });
  // The line breaks at months without a decided deadline.
  let path = '';
  let pen = false;
  s.points.forEach((p, i) => {
    if (p.share === undefined) {
      pen = false;
      return;
    }
    path += `${pen ? 'L' : 'M'}${xOf(i).toFixed(1)} ${yOf(p.share).toFixed(1)}`;
    pen = true;
  });
  const dots = s.points.map((p, i) => (p.share === undefined ? html`` : html`<circle cx="${xOf(i).toFixed(1)}" cy="${yOf(p.share).toFixed(1)}" r="3.5" fill="${below(p.share) ? '#ffffff' : '#0b4f8a'}" stroke="#0b4f8a" stroke-width="1.5"><title>${fmtMonth(p.month, lang)}: ${formatPercent(p.share, lang)} (${p.met}/${p.decided})</title></circle>`));
  const target = s.target === undefined
    ? html``
    : html`<g class="target"><line x1="${X0}" x2="${X1}" y1="${yOf(s.target).toFixed(1)}" y2="${yOf(s.target).toFixed(1)}" stroke="#a4161a" stroke-width="1.5" stroke-dasharray="6 4"/><text x="${X0 + 4}" y="${(s.target > 94 ? yOf(s.target) + 14 : yOf(s.target) - 4).toFixed(1)}" font-size="12" font-weight="700" text-anchor="start" fill="#1a1a1a" stroke="#ffffff" stroke-width="3" paint-order="stroke">${d.cp.targetLabel(formatPercent(s.target, lang))}</text></g>`;

  const decidedMonths = s.points.filter((p) => p.share !== undefined);
  const reached = decidedMonths.filter((p) => !below(p.share)).length;
  const targetText = s.target !== undefined ? d.cp.targetText(formatPercent(s.target, lang), reached, decidedMonths.length) : (targetHint ?? d.cp.noTarget);
  const pointsText = s.points.map((p) => `${fmtMonth(p.month, lang)}: ${p.share === undefined ? d.cp.noDecided : `${formatPercent(p.share, lang)} (${p.met}/${p.decided})`}`).join('; ');
  const caption = d.cp.trendCaption(s.label);
  const cell = (p: (typeof s.points)[number], v: number, outcome: CaseChoice) => (v === 0 ? html`0` : html`<a href="${href(p.month, outcome)}" data-count="${v}">${v}</a>`);
  const table = html`<details class="small"><summary>${d.cp.showNumbers(s.label)}</summary><div class="table-wrap"><table class="trend-table">
<thead><tr><th scope="col">${d.month}</th><th scope="col" class="num">${d.cp.decided}</th><th scope="col" class="num">${d.metOnTime}</th><th scope="col" class="num">${d.cp.onTimeOfDecided}</th>${s.target !== undefined ? html`<th scope="col">${d.cp.vsTarget}</th>` : ''}</tr></thead>
<tbody>${s.points.map((p) => html`<tr><th scope="row">${fmtMonth(p.month, lang)}</th><td class="num">${cell(p, p.decided, 'decided')}</td><td class="num">${cell(p, p.met, 'met')}</td><td class="num">${p.share === undefined ? '—' : formatPercent(p.share, lang)}</td>${s.target !== undefined ? html`<td>${p.share === undefined ? '—' : below(p.share) ? d.cp.notReached : d.cp.reached}</td>` : ''}</tr>`)}</tbody>
</table></div></details>`;
  return html`<figure class="chart trend" id="${id}" data-key="${s.key}"${s.target !== undefined ? html` data-target="${s.target}"` : ''} aria-labelledby="${id}-cap">
<figcaption id="${id}-cap">${s.label}</figcaption>
<svg role="img" aria-labelledby="${id}-title ${id}-desc" viewBox="0 0 ${W} ${H}" preserveAspectRatio="xMinYMin meet" focusable="false">
<title id="${id}-title">${caption}</title>
<desc id="${id}-desc">${d.cp.trendDesc(s.label, pointsText, s.target !== undefined ? `. ${targetText}` : '')}</desc>
${grid}
${target}
${path ? html`<path d="${path}" fill="none" stroke="#0b4f8a" stroke-width="2"/>` : ''}
${dots}
${ticks}
${labels}
</svg>
<p class="target-text small">${targetText}</p>
${table}
</figure>`;
}
