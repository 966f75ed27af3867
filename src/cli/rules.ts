import { parseArgs } from 'node:util';
import { DOCUMENTS, formatIsoDate, RULES, citationOf, type Lang, type SourceDocument } from '../domain/index.js';
import { UsageError } from './io.js';

function inForceFrom(doc: SourceDocument): string | null {
  return doc.inForce ? formatIsoDate(doc.inForce.day) : null;
}

/** `fristvagt rules`: the catalogue as data, so that other tools never hard-code rule ids. */
export function rulesCommand(argv: string[]): string {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, options: { lang: { type: 'string', default: 'da' } }, strict: true }));
  } catch (err) {
    // Bad usage is exit 2, as for every other command (it was exit 1 here).
    throw new UsageError((err as Error).message, { cause: err });
  }
  const lang = values.lang;
  if (lang !== 'da' && lang !== 'en') throw new UsageError(`--lang: "${lang}" is not supported (use da or en)`);
  return JSON.stringify(
    RULES.map((r) => ({
      id: r.id,
      recordType: r.recordType,
      timing: r.timing,
      title: r.title[lang as Lang],
      basis: r.basis,
      obligation: r.obligation,
      responsible: r.responsible[lang as Lang],
      citation: citationOf(r, undefined, lang as Lang),
      source: { seed: DOCUMENTS[r.document].seed, document: DOCUMENTS[r.document].title },
      // The day the text took effect: records from before are not judged under it (`notInForce`).
      inForceFrom: inForceFrom(DOCUMENTS[r.document]),
      defaults: r.defaults ?? {},
    })),
    null,
    2,
  );
}
