/** Fragments several pages share. */
import type { Lang } from '../domain/index.js';
import type { ShownMail } from './data/mails.js';
import { html, type SafeHtml } from './html.js';
import { t } from './i18n.js';

/** A mail as text (always readable, also printed) with a link to its HTML rendering when there is one. */
export function mailView(m: ShownMail, lang: Lang, htmlHref?: string): SafeHtml {
  const d = t(lang);
  if (m.source === 'hidden') return html`<p class="muted">${d.mailHiddenCpr}</p>`;
  if (m.source === 'unavailable') {
    const why = m.reason === 'notice' ? (lang === 'da' ? 'den foreløbige underretning vises ikke her: sagen har den arkiverede meddelelse, præcis som mailserveren modtog den (.eml)' : 'the preliminary notice is not shown here: the record has the archived message exactly as the mail server accepted it (.eml)') : (m.reason ?? '?');
    return html`<p class="muted">${d.mailNotRenderable(why)}</p>`;
  }
  return html`<p class="small muted">${m.source === 'caught' ? d.mailCaught : d.mailRenderedNow}</p>
<p><strong>${d.subject}:</strong> ${m.subject ?? ''}</p>
<pre class="mail">${m.text ?? ''}</pre>
${htmlHref && m.html ? html`<p><a href="${htmlHref}">${d.htmlVersion}</a></p>` : ''}`;
}

export function yesNo(v: boolean, lang: Lang): string {
  return v ? t(lang).yes : t(lang).no;
}
