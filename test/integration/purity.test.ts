/** src/domain is pure: it must not import I/O libraries or read the environment or the clock. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const DOMAIN = join(import.meta.dirname, '../../src/domain');
const FORBIDDEN = /from ['"](bullmq|ioredis|drizzle-orm[^'"]*|nodemailer|fastify[^'"]*|pino[^'"]*|postgres|@electric-sql\/[^'"]*|node:[^'"]+)['"]/;

describe('src/domain purity', () => {
  const files = readdirSync(DOMAIN).filter((f) => f.endsWith('.ts'));
  it.each(files)('%s imports no I/O and reads no environment or clock', (file) => {
    const text = readFileSync(join(DOMAIN, file), 'utf8');
    expect(text).not.toMatch(FORBIDDEN);
    expect(text).not.toMatch(/process\.env|Date\.now\(|new Date\(\)/);
  });
});
