/** LAESMIG.txt: how to check a pack by hand, with sha256sum and a text editor. Danish first, English second. */
export function readmeText(): string {
  return `BEVISMAPPE FRA FRISTVAGT
========================

Indhold
  bevismappe.pdf       læsbar rapport: sagens oplysninger, frister, mails, ændringer og hashværdier
  data/*.json          de samme oplysninger som data
  audit/<nr>.txt       hver revisionslog-post præcis som den er hashet: første linje er den forrige
                       posts hash, resten er posten som kanonisk JSON
  SHA256SUMS           sha256 af alle filer ovenfor
  export/<nr>.txt      revisionslog-posten "bevismappe udleveret": den indeholder sha256 af SHA256SUMS

Sådan kontrolleres mappen i hånden (Linux/macOS: sha256sum eller "shasum -a 256")
  1. sha256sum -c SHA256SUMS
     Alle linjer skal sige OK: ingen fil er ændret siden udleveringen.
  2. sha256sum SHA256SUMS
     Værdien skal stå som "manifestSha256" i export/<nr>.txt.
  3. sha256sum export/<nr>.txt
     Det er revisionslogens hoved (chain head) lige efter udleveringen. Områdekontoret kan bekræfte,
     at post <nr> har denne hash i dets revisionslog ("fristvagt audit verify").
  4. For hver post: sha256sum audit/<nr>.txt
     Værdien skal være postens "hash" i data/audit.json, og filens første linje dens "prevHash".
Eller samlet: fristvagt evidence verify <mappe.zip>  (exit 0 = ok, 1 = brudt, med post og forskel).

Personoplysninger vises som modtagerens rolle må se dem; CPR-numre er maskeret for andre end
område- og institutionsroller. Personværdier er i revisionsloggen erstattet af
sha256(salt + linjeskift + værdi som JSON); hvor værdien vises uændret, står saltet i data/audit.json.


EVIDENCE PACK FROM FRISTVAGT (English)
======================================

Contents: the PDF report; the same data as JSON (data/); each audit entry's hash input (audit/<id>.txt:
first line the previous entry's hash, then the entry as canonical JSON); SHA256SUMS over all of these;
export/<id>.txt, the "evidence exported" audit entry, which holds the sha256 of SHA256SUMS.

Checking by hand:
  1. sha256sum -c SHA256SUMS                 every line must say OK
  2. sha256sum SHA256SUMS                    must equal "manifestSha256" in export/<id>.txt
  3. sha256sum export/<id>.txt               the audit chain's head right after the export; the office
                                             confirms entry <id> has this hash in its log
  4. sha256sum audit/<id>.txt                must equal that entry's "hash" in data/audit.json; the
                                             file's first line is its "prevHash"
Or at once: fristvagt evidence verify <pack.zip>  (exit 0 ok, 1 broken, naming the entry and what differs).
`;
}
