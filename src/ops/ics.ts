/**
 * A minimal iCalendar (RFC 5545) writer: just what a subscribed feed of all-day deadlines needs.
 * Calendar clients are strict in different ways (Outlook about folding, Google about CRLF), so
 * every line goes through `contentLine`, which escapes, folds at 75 octets and ends with CRLF.
 */

const CRLF = '\r\n';
const MAX_OCTETS = 75;

/** TEXT values (RFC 5545 § 3.3.11): backslash first, so that the escapes added after it stay single. */
export function escapeText(value: string): string {
  return value
    .replace(/\\/g, '\\\\')
    .replace(/;/g, '\\;')
    .replace(/,/g, '\\,')
    .replace(/\r\n|\r|\n/g, '\\n')
    // Other control characters are not allowed in TEXT at all.
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, ''); // eslint-disable-line no-control-regex
}

/**
 * Folds one unfolded line into physical lines of at most 75 octets (§ 3.1). A continuation line
 * starts with a space, which counts towards its 75. A UTF-8 sequence is never split: clients that
 * decode each physical line on its own would otherwise show broken characters (æ, ø, å, –).
 */
export function foldLine(line: string): string {
  const parts: string[] = [];
  let current = '';
  let octets = 0;
  let limit = MAX_OCTETS;
  for (const ch of line) {
    const size = Buffer.byteLength(ch, 'utf8');
    if (octets + size > limit) {
      parts.push(current);
      current = ' ';
      octets = 1;
      limit = MAX_OCTETS;
    }
    current += ch;
    octets += size;
  }
  parts.push(current);
  return parts.join(CRLF) + CRLF;
}

export type Params = Record<string, string>;

/** `NAME;PARAM=VALUE:value` — the value must already be in its property's format (use escapeText for TEXT). */
export function contentLine(name: string, value: string, params: Params = {}): string {
  const p = Object.entries(params).map(([k, v]) => `;${k}=${v}`).join('');
  return foldLine(`${name}${p}:${value}`);
}

/** `YYYYMMDD` from a local `YYYY-MM-DD` date. */
export function icsDate(isoDate: string): string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(isoDate)) throw new RangeError(`not a YYYY-MM-DD date: ${isoDate}`);
  return isoDate.replace(/-/g, '');
}

/** The day after a local `YYYY-MM-DD` date: DTEND of an all-day event is exclusive. */
export function nextDay(isoDate: string): string {
  const [y, m, d] = isoDate.split('-').map(Number) as [number, number, number];
  const next = new Date(Date.UTC(y, m - 1, d + 1));
  return next.toISOString().slice(0, 10);
}

/** `YYYYMMDDTHHMMSSZ` (UTC date-time form, § 3.3.5). */
export function icsUtc(at: Date): string {
  return at.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
}

export interface AllDayEvent {
  uid: string;
  /** Local date `YYYY-MM-DD`. */
  date: string;
  summary: string;
  description: string;
  url?: string;
  lastModified?: Date;
  categories?: string[];
}

export interface CalendarInput {
  prodId: string;
  name: string;
  description?: string;
  /** DTSTAMP of every event: when this copy of the feed was produced. */
  stamp: Date;
  /** How often clients should fetch again (an ISO 8601 duration, e.g. PT1H). */
  refresh?: string;
  events: AllDayEvent[];
}

export function renderCalendar(c: CalendarInput): string {
  const out: string[] = [
    contentLine('BEGIN', 'VCALENDAR'),
    contentLine('VERSION', '2.0'),
    contentLine('PRODID', escapeText(c.prodId)),
    contentLine('CALSCALE', 'GREGORIAN'),
    contentLine('METHOD', 'PUBLISH'),
    contentLine('X-WR-CALNAME', escapeText(c.name)),
  ];
  if (c.description) out.push(contentLine('X-WR-CALDESC', escapeText(c.description)));
  if (c.refresh) {
    out.push(contentLine('REFRESH-INTERVAL', c.refresh, { VALUE: 'DURATION' }));
    out.push(contentLine('X-PUBLISHED-TTL', c.refresh));
  }
  const stamp = icsUtc(c.stamp);
  for (const e of c.events) {
    out.push(contentLine('BEGIN', 'VEVENT'));
    out.push(contentLine('UID', escapeText(e.uid)));
    out.push(contentLine('DTSTAMP', stamp));
    out.push(contentLine('DTSTART', icsDate(e.date), { VALUE: 'DATE' }));
    out.push(contentLine('DTEND', icsDate(nextDay(e.date)), { VALUE: 'DATE' }));
    out.push(contentLine('SUMMARY', escapeText(e.summary)));
    out.push(contentLine('DESCRIPTION', escapeText(e.description)));
    if (e.url) out.push(contentLine('URL', e.url));
    if (e.categories && e.categories.length > 0) out.push(contentLine('CATEGORIES', e.categories.map(escapeText).join(',')));
    if (e.lastModified) out.push(contentLine('LAST-MODIFIED', icsUtc(e.lastModified)));
    // A deadline is a day to remember, not time taken: it must not make its owner look busy.
    out.push(contentLine('TRANSP', 'TRANSPARENT'));
    out.push(contentLine('CLASS', 'PRIVATE'));
    out.push(contentLine('END', 'VEVENT'));
  }
  out.push(contentLine('END', 'VCALENDAR'));
  return out.join('');
}
