#!/usr/bin/env node
/**
 * Writes src/domain/holidays-dk.ts, the Danish public holidays of 1900–2199 taken from date-holidays
 * (the engine's table; see src/holidays.ts). Run after upgrading date-holidays:
 *
 *   npm run build && node scripts/generate-holidays.mjs && npm run build
 *
 * then review the diff: a moved or renamed holiday moves deadlines. test/unit/holidays.table.test.ts
 * fails until the committed table is what this script writes and what date-holidays says.
 */
import { writeFileSync } from 'node:fs';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

const FIRST_YEAR = 1900;
const LAST_YEAR = 2199;

const { renderDkHolidayTable } = await import('../dist/src/holidays.js');
const target = fileURLToPath(import.meta.resolve('../src/domain/holidays-dk.ts'));
writeFileSync(target, renderDkHolidayTable(FIRST_YEAR, LAST_YEAR));
process.stdout.write(`wrote ${target} (${FIRST_YEAR}–${LAST_YEAR})\n`);
