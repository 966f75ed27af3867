/**
 * The SMTP transport (src/mail/transport.ts) against a real SMTP server: every mail goes as one
 * composed message (quoted-printable, decoded back to the same text), and a mail given `endAfter`
 * sends its envelope and body at once but ends its data (the moment the server stores it) only
 * once that promise has settled — the outbox's bound on mails accepted and not yet recorded.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSmtpMailer, type Mailer, type OutgoingMail } from '../../src/mail/transport.js';
import { startSmtpSink, type SmtpSink } from '../support/smtp.js';

const mail = (n: number): OutgoingMail => ({
  messageId: `<transport-${n}@kriminalforsorgen.test>`,
  from: 'fristvagt@kriminalforsorgen.test',
  to: ['vagt.vestre@kf.test'],
  subject: `Påmindelse ${n}: rapport om magtanvendelse`,
  text: `Hej vagthavende,\n\nRapporten skal udfærdiges senest fredag den 13. november 2026.\n.\nLinjen ovenfor er et punktum alene. Æ ø å.\n`,
  html: '<p>Hej vagthavende,</p><p>Rapporten skal udfærdiges senest <strong>fredag den 13. november 2026</strong>. Æ ø å.</p>',
});

function deferred(): { promise: Promise<void>; resolve: () => void; reject: (err: Error) => void } {
  let resolve!: () => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('SMTP transport', () => {
  let sink: SmtpSink;
  let mailer: Mailer;
  beforeAll(async () => {
    sink = await startSmtpSink();
    // The sink's STARTTLS certificate is self-signed.
    mailer = createSmtpMailer({ url: sink.url, requireTls: false, rejectUnauthorized: false });
  });
  afterAll(async () => {
    mailer?.close();
    await sink?.close();
  });

  it('sends the composed message quoted-printable, and the server decodes the same text, subject and Message-ID', async () => {
    const res = await mailer.send(mail(1));
    expect(res.accepted).toEqual(['vagt.vestre@kf.test']);
    expect(res.response).toMatch(/^250 /);
    const got = await sink.waitFor((all) => all.some((m) => m.messageId === '<transport-1@kriminalforsorgen.test>'));
    const m = got.find((x) => x.messageId === '<transport-1@kriminalforsorgen.test>');
    expect(m?.subject).toBe(mail(1).subject);
    expect(m?.text.trim()).toBe(mail(1).text.trim());
    expect(m?.html).toContain('fredag den 13. november 2026');
    expect(m?.raw.toString('latin1')).toMatch(/Content-Transfer-Encoding: quoted-printable/);
    expect(m?.raw.toString('latin1')).toMatch(/Auto-Submitted: auto-generated/);
  });

  it('sends the body at once but stores nothing until endAfter has settled', async () => {
    const gate = deferred();
    const before = sink.received.length;
    const bytesBefore = sink.dataBytes;
    let settled = false;
    const sending = mailer.send({ ...mail(2), endAfter: gate.promise }).finally(() => (settled = true));
    // The whole body has arrived (its text is over 300 bytes of the message) ...
    await sink.waitForBytes(bytesBefore + 300);
    // ... and still nothing is stored and the send is not answered: the data has not ended.
    expect(sink.received.length).toBe(before);
    expect(settled).toBe(false);
    gate.resolve();
    expect((await sending).accepted).toEqual(['vagt.vestre@kf.test']);
    await sink.waitFor((all) => all.some((m) => m.messageId === '<transport-2@kriminalforsorgen.test>'));
  });

  it('ends the data just the same when endAfter is rejected (a mark that failed is no reason to hold the next mail)', async () => {
    const gate = deferred();
    const sending = mailer.send({ ...mail(3), endAfter: gate.promise });
    gate.reject(new Error('mark failed'));
    expect((await sending).accepted).toEqual(['vagt.vestre@kf.test']);
    await sink.waitFor((all) => all.some((m) => m.messageId === '<transport-3@kriminalforsorgen.test>'));
  });
});
