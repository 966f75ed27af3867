/** The pack's ZIP: written with yazl, read with yauzl (both small, no dependencies of note). */
import yauzl from 'yauzl';
import yazl from 'yazl';

export class PackFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PackFormatError';
  }
}

/** A ZIP of the given files, in the given order, every entry dated `mtime`. */
export function writeZip(files: ReadonlyArray<{ path: string; data: Buffer }>, mtime: Date): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const f of files) zip.addBuffer(f.data, f.path, { mtime, compress: true });
  zip.end();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    zip.outputStream.on('data', (c: Buffer) => chunks.push(c));
    zip.outputStream.on('error', reject);
    zip.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
  });
}

/** Far above any record's pack; a ZIP claiming more is refused before it is inflated. */
const MAX_TOTAL_BYTES = 256 * 1024 * 1024;

/**
 * Every file of a ZIP by name. Refused, naming the entry: a name used twice, a path that leaves the
 * pack (`..`, absolute), an entry that does not inflate or whose size is not what the directory says.
 */
export function readZip(buf: Buffer): Promise<Map<string, Buffer>> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(buf, { lazyEntries: true, validateEntrySizes: true, strictFileNames: true }, (err, zip) => {
      if (err || !zip) return reject(new PackFormatError(`not a readable ZIP file (${err?.message ?? 'unknown error'})`));
      const files = new Map<string, Buffer>();
      let total = 0;
      const fail = (e: Error): void => {
        zip.close();
        reject(e);
      };
      zip.on('error', (e: Error) => fail(new PackFormatError(`the ZIP is damaged: ${e.message}`)));
      zip.on('end', () => resolve(files));
      zip.on('entry', (entry: yauzl.Entry) => {
        const name = entry.fileName;
        if (name.endsWith('/')) return zip.readEntry();
        if (files.has(name)) return fail(new PackFormatError(`the ZIP holds ${name} twice`));
        if (name.startsWith('/') || name.split('/').includes('..')) return fail(new PackFormatError(`the ZIP holds a path outside the pack: ${name}`));
        total += entry.uncompressedSize;
        if (total > MAX_TOTAL_BYTES) return fail(new PackFormatError(`the ZIP unpacks to more than ${MAX_TOTAL_BYTES} bytes`));
        zip.openReadStream(entry, (e, stream) => {
          if (e || !stream) return fail(new PackFormatError(`the ZIP is damaged at ${name}: ${e?.message ?? 'no data'}`));
          const chunks: Buffer[] = [];
          stream.on('data', (c: Buffer) => chunks.push(c));
          stream.on('error', (se: Error) => fail(new PackFormatError(`the ZIP is damaged at ${name}: ${se.message}`)));
          stream.on('end', () => {
            files.set(name, Buffer.concat(chunks));
            zip.readEntry();
          });
        });
        return undefined;
      });
      zip.readEntry();
      return undefined;
    });
  });
}
