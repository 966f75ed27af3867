/**
 * The UI's stylesheet and its one small script, served from /ui/ so that the Content-Security-Policy
 * can forbid inline script and style altogether. Colours meet WCAG 2.1 AA contrast (4.5:1 for text);
 * status is always written out, colour only repeats it.
 */

export const CSS = `
:root { --fg: #1a1a1a; --muted: #4a4a4a; --bg: #ffffff; --line: #c8c8c8; --link: #0b4f8a; --focus: #b34700; --head: #f2f4f7; }
* { box-sizing: border-box; }
html { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; font-size: 100%; color: var(--fg); background: var(--bg); line-height: 1.45; }
body { margin: 0; }
a { color: var(--link); }
a:hover { text-decoration-thickness: 2px; }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
.skip { position: absolute; left: -10000px; top: 0; background: #fff; padding: .5rem 1rem; z-index: 10; }
.skip:focus { left: .5rem; top: .5rem; }
header.top { display: flex; flex-wrap: wrap; gap: .5rem 1.5rem; align-items: center; padding: .6rem 1rem; border-bottom: 2px solid #0b3d6b; background: var(--head); }
header.top .brand { font-weight: 700; font-size: 1.15rem; color: #0b3d6b; text-decoration: none; }
header.top nav ul { list-style: none; display: flex; flex-wrap: wrap; gap: .25rem 1rem; margin: 0; padding: 0; }
header.top nav a { padding: .25rem .1rem; }
header.top nav a[aria-current="page"] { font-weight: 700; text-decoration-thickness: 3px; }
header.top .user { margin-left: auto; display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: center; font-size: .95rem; }
header.top .user form { display: inline; margin: 0; }
main { padding: 1rem; max-width: 90rem; }
h1 { font-size: 1.6rem; margin: .3rem 0 1rem; }
h2 { font-size: 1.25rem; margin: 1.6rem 0 .6rem; }
h3 { font-size: 1.05rem; margin: 1.2rem 0 .4rem; }
table { border-collapse: collapse; margin: .5rem 0 1rem; }
caption { text-align: left; font-weight: 600; padding: .3rem 0; }
th, td { border: 1px solid var(--line); padding: .3rem .5rem; text-align: left; vertical-align: top; }
thead th { background: var(--head); }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.subtotal th, tr.subtotal td { background: #f7f7f7; font-weight: 600; }
.table-wrap { overflow-x: auto; }
.muted { color: var(--muted); }
.small { font-size: .9rem; }
.badge { display: inline-block; padding: .05rem .45rem; border-radius: .25rem; border: 1px solid currentColor; font-size: .9rem; white-space: nowrap; }
.badge-breached { background: #a4161a; color: #ffffff; border-color: #a4161a; }
.badge-open { background: #e8f1fb; color: #0b3d6b; }
.badge-met { background: #e4f4e7; color: #14532d; }
.badge-met_late { background: #fff1d6; color: #5c3900; }
.badge-suspended { background: #efefef; color: #333333; }
.badge-immediate { background: #f3e8fd; color: #4a1a7a; }
.badge-ended { background: #efefef; color: #333333; }
.late { color: #a4161a; }
.delay-notices ul { margin: .2rem 0 0; padding-left: 1.1rem; }
.notice h2, .notice h3 { margin: .1rem 0 .3rem; }
.badge-n-scheduled { background: #e8f1fb; color: #0b3d6b; }
.badge-n-sending { background: #fff1d6; color: #5c3900; }
.badge-n-sent { background: #e4f4e7; color: #14532d; }
.badge-n-failed { background: #a4161a; color: #ffffff; border-color: #a4161a; }
.badge-n-cancelled, .badge-n-superseded { background: #efefef; color: #333333; }
.notice { border: 2px solid #0b3d6b; background: #eef4fb; padding: .6rem .9rem; margin: .8rem 0; }
.notice.ok { border-color: #14532d; background: #e9f6ec; }
.notice.error { border-color: #a4161a; background: #fdeeee; }
.notice.warn { border-color: #7a4d00; background: #fff6e0; }
.notice ul { margin: .3rem 0 0; }
form.inline { display: inline; }
fieldset { border: 1px solid var(--line); padding: .6rem .9rem; margin: .6rem 0; }
legend { font-weight: 600; padding: 0 .3rem; }
.fields { display: flex; flex-wrap: wrap; gap: .6rem 1rem; align-items: flex-end; }
.field { display: flex; flex-direction: column; gap: .15rem; }
.stack { display: flex; flex-direction: column; align-items: flex-start; gap: .8rem; max-width: 46rem; }
.hash { word-break: break-all; }
.field-error { color: #a4161a; font-weight: 600; }
label { font-weight: 600; font-size: .95rem; }
.check label { font-weight: 400; }
input, select, textarea, button { font: inherit; }
input[type="text"], input[type="password"], input[type="date"], input[type="datetime-local"], input[type="time"], input[type="number"], input[type="month"], input[type="search"], input[type="email"], select, textarea {
  border: 1px solid #6b6b6b; border-radius: .2rem; padding: .3rem .4rem; background: #fff; color: var(--fg); }
input[type="number"] { width: 6rem; }
textarea { min-width: 20rem; }
input[aria-invalid="true"], select[aria-invalid="true"], textarea[aria-invalid="true"] { border: 2px solid #a4161a; }
button, .button { display: inline-block; border: 2px solid #0b3d6b; background: #0b3d6b; color: #fff; padding: .3rem .9rem; border-radius: .25rem; cursor: pointer; text-decoration: none; }
button.secondary, .button.secondary { background: #fff; color: #0b3d6b; }
button:hover, .button:hover { background: #072a4a; color: #fff; }
button.secondary:hover, .button.secondary:hover { background: #e8f1fb; color: #072a4a; }
button[disabled] { background: #6b6b6b; border-color: #6b6b6b; cursor: not-allowed; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; }
dl.facts dt { font-weight: 600; }
dl.facts dd { margin: 0; }
ol.timeline { list-style: none; padding: 0; border-left: 3px solid var(--line); margin-left: .4rem; }
ol.timeline > li { margin: 0 0 .8rem; padding-left: .9rem; }
ol.timeline .tl-kind { font-weight: 600; }
details > summary { cursor: pointer; }
pre.mail { white-space: pre-wrap; border: 1px solid var(--line); padding: .6rem; background: #fafafa; max-width: 60rem; }
iframe.mail { width: 100%; max-width: 60rem; height: 28rem; border: 1px solid var(--line); }
figure.chart { margin: 1rem 0; }
figure.chart svg { max-width: 100%; height: auto; }
figcaption { font-weight: 600; }
.legend { display: flex; flex-wrap: wrap; gap: .3rem 1.2rem; list-style: none; padding: 0; margin: .3rem 0; font-size: .9rem; }
.legend svg { vertical-align: middle; margin-right: .3rem; }
.cols { display: flex; flex-wrap: wrap; gap: 0 2rem; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
th a { color: inherit; }
/* Compliance: bars that lead to their cases, monthly trend with target, drill-through (src/ui/pages/compliance.ts, src/ui/charts.ts). */
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 26rem), 1fr)); gap: 0 2.5rem; }
ul.bars { list-style: none; padding: 0; margin: .4rem 0 0; }
ul.bars > li { margin: 0 0 .9rem; }
ul.bars .bar-head { margin: 0 0 .15rem; font-weight: 600; overflow-wrap: anywhere; }
ul.bars svg.bar { display: block; width: 100%; height: 22px; }
ul.bars .bar-figures { margin: .15rem 0 0; line-height: 1.6; }
svg.defs { position: absolute; width: 0; height: 0; overflow: hidden; }
.trend-grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(100%, 22rem), 1fr)); gap: .5rem 2rem; }
figure.trend { margin: .8rem 0; }
figure.trend svg { display: block; width: 100%; height: auto; max-width: 36rem; }
figure.trend .target-text { margin: .2rem 0; }
nav.outcomes ul { list-style: none; display: flex; flex-wrap: wrap; gap: .3rem 1.2rem; padding: 0; margin: .6rem 0; }
nav.outcomes a[aria-current="page"] { font-weight: 700; text-decoration-thickness: 3px; }
.exports { display: flex; flex-wrap: wrap; gap: .5rem; }
#targets { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(100%, 17rem), 1fr)); align-items: end; }
#targets input { width: 6rem; }
/* A filter form (here and on the overview) shrinks to a 360 px screen: a long rule title in a select no longer widens the page. */
fieldset { min-width: 0; }
.field { min-width: 0; max-width: 100%; }
select { max-width: 100%; }
/* --- master data pages (src/ui/pages/masterdata.ts) and form fields (src/ui/form.ts) --- */
nav.subnav ul { list-style: none; display: flex; flex-wrap: wrap; gap: .25rem 1.2rem; margin: 0 0 1rem; padding: 0 0 .4rem; border-bottom: 1px solid var(--line); }
nav.subnav a[aria-current="page"] { font-weight: 700; text-decoration-thickness: 3px; }
.md-form input, .md-form select { max-width: 100%; }
.md-form .field { max-width: 100%; align-items: flex-start; }
.md-form .fields { align-items: flex-start; }
.md-form fieldset { max-width: 100%; min-width: 0; }
.md-form .field.check > span { display: flex; gap: .4rem; align-items: baseline; }
fieldset.absence { margin: .4rem 0; }
dl.md-facts dd { overflow-wrap: anywhere; }
/* On a phone the lists stack: one block per row, each cell under its column's name (data-label). */
@media (max-width: 40rem) {
  table.md-list, table.md-list tbody, table.md-list tr, table.md-list th, table.md-list td { display: block; }
  table.md-list thead { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
  table.md-list tr { border: 1px solid var(--line); margin: 0 0 .6rem; }
  table.md-list th, table.md-list td { border: 0; overflow-wrap: anywhere; }
  table.md-list td[data-label]::before { content: attr(data-label); display: block; font-weight: 600; font-size: .9rem; }
  table.md-list td:empty { display: none; }
}
/* --- work queue and escalation handling (issue 13, parts 3–4) --- */
.badge-esc-unhandled { background: #a4161a; color: #ffffff; border-color: #a4161a; }
.badge-esc-acknowledged { background: #fff1d6; color: #5c3900; }
.badge-esc-under_handling { background: #e8f1fb; color: #0b3d6b; }
a.badge { text-decoration: none; }
.pagination ul, .tabs ul, ul.saved { list-style: none; display: flex; flex-wrap: wrap; gap: .3rem .8rem; margin: .3rem 0; padding: 0; align-items: center; }
.pagination a[aria-current="page"], .tabs a[aria-current="page"] { font-weight: 700; text-decoration-thickness: 3px; }
.pagination p { margin: .3rem 0 0; }
ul.saved li { display: flex; gap: .4rem; align-items: center; }
.small-button { padding: .05rem .5rem; font-size: .9rem; }
td.pick input { width: 1.3rem; height: 1.3rem; margin: 0; }
td.days { white-space: nowrap; }
table.cards tbody th { font-weight: 400; }
table.cards tbody th a { font-weight: 600; white-space: nowrap; }
.esc-assign, .esc-comment { margin: .8rem 0 0; }
#person-search p { margin: .4rem 0 0; }
.tools { align-items: flex-start; }
.tools > * { flex: 1 1 20rem; }
#saved-filters h2 { font-size: 1.05rem; margin: .9rem 0 .3rem; }
tr.row-breached > th:first-of-type { border-left: 4px solid #a4161a; }
article.esc { border: 1px solid var(--line); border-left: 4px solid #0b3d6b; padding: .4rem .9rem .8rem; margin: .8rem 0; max-width: 60rem; }
article.esc h2, article.esc h3 { margin-top: .4rem; }
.esc-actions { display: flex; flex-wrap: wrap; gap: .5rem; margin: .6rem 0; }
.esc-comment textarea { min-width: 0; width: 100%; max-width: 40rem; }
ol.esc-comments { padding-left: 1.2rem; }
ol.esc-comments li { margin-bottom: .4rem; }
.esc-text { white-space: pre-wrap; overflow-wrap: anywhere; }
/* Long unbroken words (addresses, token names, stage ids) wrap instead of widening the page. */
main { overflow-wrap: break-word; }
ol.timeline code, code { overflow-wrap: anywhere; }
/* A fieldset is as wide as its widest control by default, and a select as its longest option: neither may push the page sideways. */
fieldset { min-width: 0; }
select, input, textarea { max-width: 100%; }
.field { max-width: 100%; }
/* Visually hidden text in a scrolled table is positioned absolutely: contained here, it cannot widen the page. */
.table-wrap { position: relative; }
@media (max-width: 40rem) {
  main { padding: .6rem; }
  h1 { font-size: 1.3rem; }
  dl.facts { grid-template-columns: 1fr; }
  dl.facts dd { margin-bottom: .3rem; }
  textarea { min-width: 0; width: 100%; }
  table.cards, table.cards tbody, table.cards tr, table.cards td, table.cards th { display: block; width: 100%; }
  table.cards caption { display: block; }
  table.cards thead { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
  table.cards tr { border: 1px solid var(--line); margin: 0 0 .6rem; }
  /* A card per row: the column's name to the left of each value, so that a row is a few lines, not a screen. */
  table.cards td, table.cards tbody th { border: 0; padding: .15rem .5rem .15rem 6.6rem; position: relative; min-height: 1.6rem; }
  table.cards td::before, table.cards tbody th::before { content: attr(data-label); position: absolute; left: .5rem; top: .25rem; width: 5.8rem; font-size: .8rem; font-weight: 600; color: var(--muted); overflow-wrap: anywhere; }
  table.cards tr { padding: .2rem 0; }
  table.cards td:empty { display: none; }
  tr.row-breached > th:first-of-type { border-left: 0; }
  table.cards tr.row-breached { border-left: 4px solid #a4161a; }
}
/* --- end of work queue and escalation handling --- */
/* --- record forms (issue 13: src/ui/pages/record-form.ts, src/ui/form-fields.ts) --- */
fieldset { min-width: 0; }
.field { min-width: 0; max-width: 100%; }
.field select, .field input[type="text"], .field textarea { max-width: 100%; }
form.rf fieldset, details.rf-fold { max-width: 48rem; }
.rf-fields { display: flex; flex-direction: column; gap: .9rem; }
.rf-field { max-width: 100%; align-items: flex-start; }
.rf-field.rf-wide { align-items: stretch; }
.rf-field input[type="text"], .rf-field select { max-width: 100%; }
.rf-field textarea { min-width: 0; width: 100%; max-width: 40rem; }
.rf-req { font-weight: 400; color: var(--muted); }
.rf-hint { max-width: 40rem; }
.rf-actions { display: flex; flex-wrap: wrap; gap: .6rem; }
details.rf-fold { margin: .6rem 0; }
details.rf-fold > summary, details.rf-more > summary { font-weight: 600; padding: .3rem 0; color: var(--link); }
.rf-preview { border: 2px solid #0b3d6b; padding: .2rem .9rem .6rem; margin: 1rem 0; }
.rf-preview h2 { margin-top: .6rem; }
.rf-links { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: .4rem 1rem; }
.rf-events, .rf-history { padding-left: 1.2rem; }
.rf-events > li { margin: 0 0 .7rem; }
button.danger { background: #a4161a; border-color: #a4161a; }
button.danger:hover { background: #7a1013; border-color: #7a1013; }
.badge-ev-recorded { background: #e4f4e7; color: #14532d; }
.badge-ev-corrected { background: #fff1d6; color: #5c3900; }
.badge-ev-undone { background: #efefef; color: #333333; }
@media (max-width: 40rem) {
  main { padding: .6rem; }
  dl.facts { grid-template-columns: minmax(0, 1fr); gap: 0; }
  dl.facts dd { margin-bottom: .45rem; overflow-wrap: anywhere; }
  fieldset { padding: .5rem .6rem; }
}
/* ── Shell (issue 13, parts 6–7): shared form fields (src/ui/form-fields.ts) ── */
input.date, input.datetime, input.time, input.month { font-variant-numeric: tabular-nums; align-self: flex-start; }
input.time { width: 5.5em; }
input.month { width: 7em; }
input.date { width: 8.5em; }
input.datetime { width: 12em; }
.field-hint { font-weight: 400; }
.field.has-error label { color: #a4161a; }
ul.diff { margin: .3rem 0; padding-left: 1.2rem; }
ul.diff del { color: var(--muted); }
ul.diff ins { text-decoration: none; font-weight: 600; }
#settings-audit ul.diff { margin-bottom: 0; }
/* ── Shell: the layout down to 360 px (a phone on the floor); nothing is wider than the window ── */
fieldset { min-width: 0; }
/* Hidden labels are positioned: inside a scrolling table they must be held by its box, not stick out of the page. */
.table-wrap { position: relative; }
img, svg, iframe { max-width: 100%; }
input, select, textarea { max-width: 100%; }
textarea { min-width: min(20rem, 100%); }
.field { min-width: 0; max-width: 100%; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; }
td, th, dd, li, p { overflow-wrap: break-word; }
@media (max-width: 40rem) {
  main { padding: .75rem .6rem; }
  header.top { padding: .5rem .6rem; gap: .4rem 1rem; }
  header.top .user { margin-left: 0; }
  h1 { font-size: 1.35rem; }
  fieldset { padding: .5rem .6rem; }
  .fields { flex-direction: column; align-items: stretch; }
  .fields .field > input:not([type="checkbox"]), .fields .field > select, .fields .field > textarea { width: 100%; }
  dl.facts { grid-template-columns: minmax(0, 1fr); gap: 0; }
  dl.facts dd { margin-bottom: .5rem; overflow-wrap: anywhere; }
  /* Lists (table.stack-narrow, labelled by app.js) become one card per row: nothing to scroll sideways for. */
  table.stack-narrow[data-stacked] { display: block; border: 0; margin-top: 0; }
  table.stack-narrow[data-stacked] caption { display: block; }
  table.stack-narrow[data-stacked] thead tr { display: flex; flex-wrap: wrap; gap: .1rem .9rem; }
  table.stack-narrow[data-stacked] thead th { border: 0; background: none; padding: .1rem 0; font-weight: 400; }
  table.stack-narrow[data-stacked]:not([data-sortable]) thead { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
  table.stack-narrow[data-stacked] tbody { display: block; }
  table.stack-narrow[data-stacked] tbody tr { display: block; border: 1px solid var(--line); margin: 0 0 .6rem; }
  table.stack-narrow[data-stacked] tbody td, table.stack-narrow[data-stacked] tbody th { display: block; border: 0; padding: .25rem .5rem; }
  table.stack-narrow[data-stacked] tbody th[scope="row"] { background: var(--head); }
  table.stack-narrow[data-stacked] tbody td:empty { display: none; }
  table.stack-narrow[data-stacked] tbody td[data-label]::before { content: attr(data-label) ": "; font-weight: 600; color: var(--muted); }
}
@media print {
  header.top, .skip, form, .no-print, .pagination { display: none !important; }
  main { max-width: none; padding: 0; }
  a { color: inherit; text-decoration: none; }
  .badge { border: 1px solid #000; background: #fff !important; color: #000 !important; }
}
`;

/** Refreshes the overview without a reload; the page works without it (a normal link reloads). */
export const JS = `(function () {
  'use strict';
  var live = document.querySelector('[data-refresh]');
  if (!live || !window.fetch) return;
  var url = live.getAttribute('data-refresh');
  var every = Number(live.getAttribute('data-refresh-every') || '30000');
  function refresh() {
    // Never pull the content out from under a keyboard user.
    if (document.hidden || live.contains(document.activeElement)) return;
    fetch(url, { credentials: 'same-origin', headers: { Accept: 'text/html' } }).then(function (r) {
      if (r.status === 401) { window.location.reload(); return null; }
      return r.ok ? r.text() : null;
    }).then(function (text) {
      if (typeof text === 'string') live.innerHTML = text;
    }).catch(function () { /* the next round tries again */ });
  }
  window.setInterval(refresh, every);
})();
/* Shell (issue 13, part 7): a wide table scrolls inside its box on a narrow screen; the box is then a
   named region a keyboard can reach and scroll (WCAG 2.1.1). */
(function () {
  'use strict';
  function mark() {
    var boxes = document.querySelectorAll('.table-wrap, figure.chart');
    for (var i = 0; i < boxes.length; i++) {
      var box = boxes[i];
      if (box.scrollWidth > box.clientWidth + 1) {
        if (!box.hasAttribute('tabindex')) {
          var caption = box.querySelector('caption, figcaption');
          var section = box.closest('section, fieldset');
          var heading = section && section.querySelector('h2, h3, legend');
          var label = box.getAttribute('data-label') || (caption && caption.textContent) || (heading && heading.textContent) || document.title;
          box.setAttribute('tabindex', '0');
          box.setAttribute('role', 'region');
          if (label) box.setAttribute('aria-label', label.trim());
          box.setAttribute('data-scrolls', '1');
        }
      } else if (box.getAttribute('data-scrolls') === '1') {
        box.removeAttribute('tabindex');
        box.removeAttribute('role');
        box.removeAttribute('aria-label');
        box.removeAttribute('data-scrolls');
      }
    }
  }
  /* Lists that become cards on a narrow screen: each cell is labelled with its column's heading. */
  function label() {
    var tables = document.querySelectorAll('table.stack-narrow:not([data-stacked])');
    for (var i = 0; i < tables.length; i++) {
      var table = tables[i];
      var heads = table.querySelectorAll('thead th');
      var names = [];
      for (var h = 0; h < heads.length; h++) {
        // A column whose heading is for screen readers only (a link column) gets no visible label.
        var hidden = heads[h].querySelector('.visually-hidden');
        var text = (heads[h].textContent || '').replace(/[\u25b2\u25bc]/g, '').trim();
        names.push(hidden && (hidden.textContent || '').trim() === text ? '' : text);
      }
      var rows = table.querySelectorAll('tbody tr');
      for (var r = 0; r < rows.length; r++) {
        for (var c = 0; c < rows[r].cells.length; c++) {
          var cell = rows[r].cells[c];
          if (cell.tagName === 'TD' && names[c]) cell.setAttribute('data-label', names[c]);
        }
      }
      if (table.querySelector('thead a')) table.setAttribute('data-sortable', '1');
      table.setAttribute('data-stacked', '1');
    }
  }
  function both() {
    label();
    mark();
  }
  both();
  window.addEventListener('resize', mark);
  // The overview's live region is replaced in place; its tables are new boxes.
  if (window.MutationObserver) new MutationObserver(both).observe(document.body, { childList: true, subtree: true });
})();
`;
