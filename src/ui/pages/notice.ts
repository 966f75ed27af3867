/**
 * The preliminary notice in the UI (/records/incidents/:id/notice): step 1, the § 6 stk. 3 contents
 * prefilled from the record and editable, with the sender's name and title; step 2, the text word
 * for word with the three recipients named, and a confirmation that carries the hash of exactly
 * that text. Nothing is sent before the confirmation, and a confirmation whose text no longer
 * matches (the record or another tab changed it) shows the new text instead of sending it. The
 * record page lists the archived messages, each downloadable as the .eml the server accepted.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { incidentChapter, type Lang } from '../../domain/index.js';
import { ServiceError } from '../../records/errors.js';
import type { KindDescriptor } from '../../records/kinds.js';
import { getRecord, mayseeCpr, type RecordView } from '../../records/service.js';
import { listNoticeArchive, NOTICE_FIELDS, previewPreliminaryNotice, readNoticeMessage, sendPreliminaryNotice, startPreliminaryNotice, type NoticeDraft, type NoticeFieldName, type NoticeIssue } from '../../worker/notice.js';
import { recordHref } from '../data/records.js';
import { KIND_LABELS } from './record.js';
import { fmtDay, fmtInstant } from '../format.js';
import { html, type SafeHtml } from '../html.js';
import { t } from '../i18n.js';
import type { UiContext } from '../index.js';
import type { UiSession } from '../session.js';
import { csrfField, errorPage, errorSummary, formBody, page, requireCsrf, requirePage, requireSession, sendHtml, uiState, type FormBody } from '../web.js';

const FILERS = new Set(['area', 'institution']);

/** The form's values as posted (textareas keep their line breaks); only the notice's own fields. */
function postedFields(b: FormBody): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of Object.keys(NOTICE_FIELDS)) {
    const v = b[name];
    const s = Array.isArray(v) ? v[0] : v;
    out[name] = typeof s === 'string' ? s : '';
  }
  return out;
}

function issueText(lang: Lang, i: { path: string; message: string }): string {
  const n = i as Partial<NoticeIssue>;
  return n.rule ? t(lang).nt.issue(n.rule, n.limit) : i.message;
}

function statusNotes(u: UiContext, d: NoticeDraft, lang: Lang): SafeHtml {
  const x = t(lang);
  const roleName = (p: string): string => x.nt.roles[p.replace('recipients.', '')] ?? p;
  const fr = d.finalReport;
  const finalLine = !fr ? '' : fr.kind === 'due' ? x.nt.finalDue(fmtDay(fr.date, lang)) : fr.kind === 'delayed' ? x.nt.finalDelayed(fmtDay(fr.date, lang)) : fr.kind === 'overdue' ? x.nt.finalOverdue(fmtDay(fr.date, lang)) : x.nt.finalSubmitted(fmtDay(fr.date, lang));
  return html`${d.alreadySentAt ? html`<div class="notice ok" role="status">${x.noticeAlreadySent(fmtInstant(d.alreadySentAt, lang))}</div>` : ''}
${d.missing.length > 0 ? html`<div class="notice error" role="alert"><p>${x.noticeMissing}</p><ul>${d.missing.map((m) => html`<li>${x.fields[m] ?? m} (${m})</li>`)}</ul></div>` : ''}
${d.unset.length > 0 ? html`<div class="notice error" role="alert" id="unset-recipients"><ul>${d.unset.map((p) => html`<li>${x.nt.unset(roleName(p))}</li>`)}</ul></div>` : ''}
${u.deps.mailer ? '' : html`<div class="notice warn" role="status">${x.noticeNoMailer}</div>`}
${d.late && d.noticeDueDate ? html`<div class="notice warn" role="status" id="notice-late">${x.nt.late(fmtDay(d.noticeDueDate, lang))}</div>` : ''}
${finalLine ? html`<p id="final-report-line">${finalLine}</p>` : ''}`;
}

function recipientList(d: NoticeDraft, lang: Lang): SafeHtml {
  const x = t(lang);
  return html`<ul id="notice-recipients">${d.recipients.map((r) => html`<li><strong>${x.nt.roles[r.role] ?? r.role}:</strong> ${r.address ?? html`<span class="field-error">${x.nt.unsetAddress}</span>`}</li>`)}</ul>`;
}

function editForm(u: UiContext, session: UiSession, view: RecordView, d: NoticeDraft, lang: Lang, showErrors: boolean): SafeHtml {
  const x = t(lang);
  const id = d.recordId;
  const errs = new Map<string, string>();
  if (showErrors) for (const i of d.issues) if (!errs.has(i.path)) errs.set(i.path, issueText(lang, i));
  // A person signs with the name and title of their account (src/worker/notice.ts, signedBy).
  const person = session.actor.kind === 'user' ? session.actor.person : undefined;
  const fixed = new Set<NoticeFieldName>(person ? (person.title ? ['senderName', 'senderTitle'] : ['senderName']) : []);
  const one = (name: NoticeFieldName, kind: 'input' | 'textarea', required: boolean): SafeHtml => {
    const spec = NOTICE_FIELDS[name];
    const err = errs.get(name);
    const hint = fixed.has(name) ? x.nt.signedByAccount : x.nt.hints[name];
    const described = [hint ? `hint-${name}` : '', err ? `err-${name}` : ''].filter(Boolean).join(' ');
    const attrs = html`id="nf-${name}" name="${name}" maxlength="${String(spec.max)}"${required ? html` required` : ''}${err ? html` aria-invalid="true"` : ''}${fixed.has(name) ? html` readonly` : ''}${described ? html` aria-describedby="${described}"` : ''}`;
    return html`<div class="field notice-field"><label for="nf-${name}">${x.nt.fields[name] ?? name}</label>
${kind === 'textarea' ? html`<textarea ${attrs} rows="${name === 'description' ? '6' : '3'}" cols="70">${d.fields[name]}</textarea>` : html`<input type="text" ${attrs} size="60" value="${d.fields[name]}">`}
${hint ? html`<span class="small muted" id="hint-${name}">${hint} ${x.nt.maxChars(spec.max)}</span>` : html`<span class="small muted">${x.nt.maxChars(spec.max)}</span>`}
${err ? html`<span class="field-error" id="err-${name}">${err}</span>` : ''}</div>`;
  };
  const fieldLabel = (p: string): string => x.nt.fields[p] ?? x.fields[p] ?? p;
  const shownIssues = showErrors ? d.issues.map((i) => ({ path: i.path, message: issueText(lang, i) })) : [];
  return html`${errorSummary(lang, shownIssues, fieldLabel)}
<h2>${x.nt.stepEdit}</h2>
<p>${x.nt.editIntro}</p>
<h3>${x.nt.fromRecord}</h3>
<dl class="facts" id="notice-record-facts">
<dt>${x.fields['inmateName']}</dt><dd>${(view['inmateName'] as string | null) ?? '—'}</dd>
<dt>${x.fields['cpr']}</dt><dd>${(view['cpr'] as string | null) ?? '—'}</dd>
<dt>${x.fields['kind']}</dt><dd>${KIND_LABELS[lang][view['kind'] as string] ?? (view['kind'] as string)}</dd>
<dt>${x.fields['journalNumber']}</dt><dd>${view['journalNumber'] as string}</dd>
</dl>
<form method="post" action="/records/incidents/${id}/notice" id="notice-edit" novalidate>${csrfField(session)}<input type="hidden" name="step" value="preview">
<div class="stack">
${one('occurredAt', 'input', true)}
${one('description', 'textarea', true)}
${one('remarks', 'textarea', false)}
${d.late ? one('lateReason', 'textarea', false) : html`<input type="hidden" name="lateReason" value="">`}
${one('senderName', 'input', true)}
${one('senderTitle', 'input', true)}
<div class="field"><button type="submit">${x.nt.toPreview}</button></div>
</div></form>`;
}

function confirmForm(u: UiContext, session: UiSession, d: NoticeDraft, lang: Lang): SafeHtml {
  const x = t(lang);
  const canSend = !!u.deps.mailer && !d.alreadySentAt && d.missing.length === 0 && d.unset.length === 0 && d.mail !== null && d.hash !== null;
  const hidden = html`${Object.keys(NOTICE_FIELDS).map((n) => html`<input type="hidden" name="${n}" value="${d.fields[n as NoticeFieldName]}">`)}`;
  return html`<h2>${x.nt.stepConfirm}</h2>
<p>${x.nt.confirmIntro}</p>
${recipientList(d, lang)}
${d.mail ? html`<p><strong>${x.subject}:</strong> <span id="notice-subject">${d.mail.subject}</span></p><pre class="mail" id="notice-text">${d.mail.text}</pre>` : ''}
<form method="post" action="/records/incidents/${d.recordId}/notice" id="notice-confirm">${csrfField(session)}${hidden}
<input type="hidden" name="previewHash" value="${d.hash ?? ''}">
<p class="actions"><button type="submit" name="step" value="edit" class="secondary">${x.nt.edit}</button>
<button type="submit" name="step" value="send" id="notice-send"${canSend ? '' : html` disabled aria-disabled="true"`}>${x.nt.confirm}</button></p></form>`;
}

async function render(u: UiContext, req: FastifyRequest, reply: FastifyReply, session: UiSession, d: NoticeDraft, step: 'edit' | 'confirm', status: number, opts: { showErrors?: boolean; changed?: boolean } = {}): Promise<FastifyReply> {
  const { lang } = uiState(req);
  const x = t(lang);
  const view = await getRecord(u.ctx, 'incident', d.recordId, session.actor, lang);
  const body = html`<p><a href="${recordHref('incident', d.recordId)}">← ${x.recordTitle(x.recordTypes['incident'] ?? '', d.journalNumber)}</a></p>
${opts.changed ? html`<div class="notice error" role="alert" id="notice-changed">${x.nt.changed}</div>` : ''}
${statusNotes(u, d, lang)}
${step === 'edit' ? html`<h2>${x.noticeRecipients}</h2>${recipientList(d, lang)}${editForm(u, session, view, d, lang, opts.showErrors ?? false)}` : confirmForm(u, session, d, lang)}`;
  return sendHtml(reply, status, page(req, { title: x.noticeTitle, body }));
}

/** The notice block of the record page: the link to the notice, and the archive of what was sent. */
export async function noticeSection(u: UiContext, session: UiSession, kind: KindDescriptor, view: RecordView, lang: Lang): Promise<SafeHtml> {
  if (kind.type !== 'incident' || incidentChapter(view['kind'] as never) === 5) return html``;
  const x = t(lang);
  const id = view['id'] as string;
  const filer = FILERS.has(session.actor.role);
  const archived = await listNoticeArchive(u.ctx, id, session.actor);
  const cpr = mayseeCpr(session.actor);
  return html`<h3>${x.noticeTitle}</h3>
${view['preliminaryNoticeSentAt'] ? html`<p>${x.noticeAlreadySent(fmtInstant(view['preliminaryNoticeSentAt'] as string, lang))}</p>` : ''}
${filer ? html`<p><a class="button secondary" href="/records/incidents/${id}/notice">${x.noticePreview}</a></p>` : html`<p class="muted">${x.noticeOnlyFilers}</p>`}
${archived.length > 0 ? html`<h4>${x.nt.archiveTitle}</h4><p class="small">${x.nt.archiveIntro}</p>
<table id="notice-archive"><thead><tr><th scope="col">${x.nt.recipient}</th><th scope="col">${x.nt.sentAt}</th><th scope="col">${x.nt.messageId}</th><th scope="col">SHA-256</th><th scope="col">${x.nt.serverReply}</th><th scope="col"><span class="visually-hidden">.eml</span></th></tr></thead><tbody>
${archived.map((m) => html`<tr><td>${m.recipient}</td><td>${fmtInstant(m.sentAt, lang)}</td><td class="small hash">${m.messageId}</td><td class="small hash"><code>${m.sha256}</code></td><td class="small">${m.smtpResponse}</td><td>${m.erasedAt ? x.nt.archiveErased(fmtInstant(m.erasedAt, lang)) : cpr ? html`<a href="/records/incidents/${id}/notice/messages/${m.id}">${x.nt.download}</a>` : ''}</td></tr>`)}
</tbody></table>` : ''}`;
}

export function registerNotice(app: FastifyInstance, u: UiContext): void {
  const filerOnly = (req: FastifyRequest, reply: FastifyReply, session: UiSession): boolean => {
    if (FILERS.has(session.actor.role)) return true;
    errorPage(req, reply, 403, t(uiState(req).lang).noticeOnlyFilers);
    return false;
  };

  app.get<{ Params: { id: string } }>('/records/incidents/:id/notice', async (req, reply) => {
    const session = requirePage(req, reply);
    if (!session || !filerOnly(req, reply, session)) return reply;
    return render(u, req, reply, session, await startPreliminaryNotice(u.ctx, req.params.id, session.actor), 'edit', 200);
  });

  // One address, three steps: `preview` (nothing is sent), `edit` (back to the form), `send` (with the previewed hash).
  app.post<{ Params: { id: string } }>('/records/incidents/:id/notice', async (req, reply) => {
    const session = requireSession(req, reply);
    if (!session) return reply;
    if (!requireCsrf(req, reply, session)) return reply;
    if (!filerOnly(req, reply, session)) return reply;
    const b = formBody(req);
    const step = typeof b['step'] === 'string' ? b['step'] : 'preview';
    const fields = postedFields(b);
    const draft = await previewPreliminaryNotice(u.ctx, req.params.id, session.actor, fields);
    if (step === 'edit') return render(u, req, reply, session, draft, 'edit', 200);
    if (draft.issues.length > 0) return render(u, req, reply, session, draft, 'edit', 400, { showErrors: true });
    if (step !== 'send') return render(u, req, reply, session, draft, 'confirm', 200);
    if (!u.deps.mailer) return errorPage(req, reply, 409, t(uiState(req).lang).noticeNoMailer);
    const previewHash = typeof b['previewHash'] === 'string' ? b['previewHash'] : '';
    try {
      await sendPreliminaryNotice({ ctx: u.ctx, db: u.deps.database.db, mailer: u.deps.mailer, from: u.deps.mailFrom ?? 'fristvagt@kriminalforsorgen.invalid' }, req.params.id, session.actor, { ...fields, previewHash });
    } catch (err) {
      // Not what was previewed: show what would go now, with the hash of that, and send nothing.
      if (err instanceof ServiceError && err.issues.some((i) => i.path === 'previewHash')) return render(u, req, reply, session, draft, 'confirm', 409, { changed: true });
      // Unset addresses or missing record data: the confirmation page says which (its button is disabled).
      if (err instanceof ServiceError && err.code === 'VALIDATION') return render(u, req, reply, session, draft, 'confirm', 400);
      throw err;
    }
    return reply.redirect(`${recordHref('incident', req.params.id)}?done=notice`, 303);
  });

  app.get<{ Params: { id: string; messageId: string } }>('/records/incidents/:id/notice/messages/:messageId', async (req, reply) => {
    const session = requireSession(req, reply);
    if (!session) return reply;
    const m = await readNoticeMessage(u.ctx, req.params.id, req.params.messageId, session.actor);
    return reply.header('content-type', 'message/rfc822').header('content-disposition', `attachment; filename="${m.filename}"`).header('cache-control', 'no-store').send(m.mime);
  });
}
