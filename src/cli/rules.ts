import { parseArgs } from 'node:util';
import { DOCUMENTS, RULES, citationOf, type Lang } from '../domain/index.js';
import { UsageError } from './io.js';

/** `fristvagt rules`: the catalogue as data, so that other tools never hard-code rule ids. */
export function rulesCommand(argv: string[]): string {
  const { values } = parseArgs({ args: argv, options: { lang: { type: 'string', default: 'da' } }, strict: true });
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
      defaults: r.defaults ?? {},
    })),
    null,
    2,
  );
}
