/**
 * Inline SVG charts that survive printing in black and white: every segment has its own fill
 * pattern as well as colour, and every bar has its figures written out beside it, so nothing is
 * told by colour alone.
 */
import type { Lang } from '../domain/index.js';
import type { Counts } from './data/compliance.js';
import { html, type SafeHtml } from './html.js';
import { t } from './i18n.js';

export interface Bar extends Counts {
  label: string;
}

type Segment = 'met' | 'metLate' | 'breached' | 'open';
const SEGMENTS: Segment[] = ['met', 'metLate', 'breached', 'open'];
const COLOURS: Record<Segment, string> = { met: '#1b6e3a', metLate: '#b86e00', breached: '#a4161a', open: '#ffffff' };

function segmentLabel(s: Segment, lang: Lang): string {
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

function pctText(n: number, total: number): string {
  if (total === 0) return '0 %';
  return `${Math.round((100 * n) / total)} %`;
}

function truncate(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

export function legend(lang: Lang, prefix: string): SafeHtml {
  return html`<ul class="legend" aria-hidden="true">${SEGMENTS.map((s) => html`<li><svg width="18" height="14" focusable="false">${defs(`${prefix}-lg-${s}`)}<rect x="0.5" y="0.5" width="17" height="13" fill="url(#${prefix}-lg-${s}-${s})" stroke="#1a1a1a"/></svg>${segmentLabel(s, lang)}</li>`)}</ul>`;
}

/** Horizontal 100 % stacked bars, one per row, with the shares written out under each bar. */
export function stackedBars(id: string, caption: string, bars: Bar[], lang: Lang): SafeHtml {
  const d = t(lang);
  if (bars.length === 0) return html``;
  const labelW = 250;
  const barW = 420;
  const rightW = 90;
  const rowH = 46;
  const width = labelW + barW + rightW;
  const height = bars.length * rowH + 8;
  const rows = bars.map((b, i) => {
    const total = b.met + b.metLate + b.breached + b.open;
    const y = 4 + i * rowH;
    let x = labelW;
    const rects = SEGMENTS.map((s) => {
      const w = total === 0 ? 0 : (barW * b[s]) / total;
      const r = w > 0 ? html`<rect x="${x.toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="20" fill="url(#${id}-${s})" stroke="#1a1a1a" stroke-width="0.75"><title>${segmentLabel(s, lang)}: ${b[s]} (${pctText(b[s], total)})</title></rect>` : html``;
      x += w;
      return r;
    });
    const figures = SEGMENTS.map((s) => `${segmentLabel(s, lang)} ${pctText(b[s], total)}`).join(' · ');
    return html`<g>
<text x="0" y="${y + 15}" font-size="13" fill="#1a1a1a"><title>${b.label}</title>${truncate(b.label, 36)}</text>
${rects}
<text x="${labelW + barW + 8}" y="${y + 15}" font-size="13" fill="#1a1a1a">n = ${total}</text>
<text x="${labelW}" y="${y + 36}" font-size="11.5" fill="#1a1a1a">${figures}</text>
</g>`;
  });
  return html`<figure class="chart" id="${id}">
<figcaption id="${id}-cap">${caption}</figcaption>
${legend(lang, id)}
<svg role="img" aria-labelledby="${id}-title ${id}-desc" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" focusable="false">
<title id="${id}-title">${caption}</title>
<desc id="${id}-desc">${d.chartDesc(caption.toLowerCase())} ${bars.map((b) => `${b.label}: ${SEGMENTS.map((s) => `${segmentLabel(s, lang)} ${b[s]}`).join(', ')}.`).join(' ')}</desc>
${defs(id)}
${rows}
</svg>
</figure>`;
}
