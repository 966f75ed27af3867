/**
 * bench/RESULTS.md is shared by several benchmarks: each owns one marked section and rewrites only
 * that, so running one bench never erases another's figures.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';

const HEADER = '# Benchmark results\n\nEach section is written by its benchmark (`npm run bench`); edit outside the markers only.\n';

export function machineDescription(): string {
  const cpus = os.cpus();
  const model = cpus[0]?.model.trim() ?? 'unknown CPU';
  const memGiB = (os.totalmem() / 1024 ** 3).toFixed(1);
  return `${model}, ${cpus.length} cores, ${memGiB} GiB RAM, Node ${process.version}, ${os.platform()} ${os.release()}`;
}

export function markdownTable(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
  // Numeric columns read better right-aligned; the first column is a label.
  const align = header.map((_, i) => (i === 0 ? '---' : '---:'));
  return [line(header), line(align), ...rows.map(line)].join('\n');
}

export function writeSection(file: string, name: string, body: string): void {
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const section = `${start}\n${body.trimEnd()}\n${end}`;
  const current = existsSync(file) ? readFileSync(file, 'utf8') : HEADER;
  const from = current.indexOf(start);
  const to = current.indexOf(end);
  const next = from >= 0 && to > from
    ? `${current.slice(0, from)}${section}${current.slice(to + end.length)}`
    : `${current.trimEnd()}\n\n${section}\n`;
  writeFileSync(file, next);
}
