/**
 * The record types' field tables (src/records/kinds.ts): each field's column, conversion and new-row
 * value are derived from its schema, so a field added to a table needs no second list — and must
 * name a column of the type's table.
 */
import { getTableColumns } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
import { describe, expect, it } from 'vitest';
import { KINDS } from '../../src/records/kinds.js';

const NOW = new Date('2026-11-22T11:00:00Z');

describe('record field tables', () => {
  for (const kind of Object.values(KINDS)) {
    it(`${kind.type}: every field of a request is a column of the table, converted by its schema`, () => {
      const columns = new Set(Object.keys(getTableColumns(kind.table as PgTable)));
      const shape = (kind.create as unknown as { shape: Record<string, { safeParse(v: unknown): { success: boolean } }> }).shape;
      const body: Record<string, unknown> = {};
      for (const [field, schema] of Object.entries(shape)) {
        // Lists are child rows, not columns.
        if (schema.safeParse([]).success) continue;
        const value = ['plain text', '2026-01-05T10:00:00+01:00', '2026-01-05', true].find((v) => schema.safeParse(v).success);
        if (value !== undefined) body[field] = value;
      }
      const stored = kind.columns(body);
      expect(Object.keys(stored).length).toBe(Object.keys(body).length);
      for (const column of Object.keys(stored)) expect(columns, column).toContain(column);
      // Instants become Dates, dates stay YYYY-MM-DD, text and flags are stored as given.
      for (const [column, value] of Object.entries(stored)) {
        if (value instanceof Date) expect(value.toISOString(), column).toBe('2026-01-05T09:00:00.000Z');
        else if (typeof value === 'string') expect(value, column).toMatch(/^(plain text|2026-01-05)$/);
        else expect(value, column).toBe(true);
      }
      // A new row's value of every field a request may leave out: null, or false for a flag.
      for (const [column, value] of Object.entries(kind.defaults(NOW))) {
        if (Array.isArray(value) || value instanceof Date) continue;
        expect(columns, column).toContain(column);
        expect([null, false], column).toContain(value);
      }
    });
  }

  it('keeps the renamed column of a use of force and the defaults the database would give', () => {
    expect(KINDS.force_use.columns({ complaintInfoNoted: true })).toEqual({ reportComplaintInfoNoted: true });
    expect(KINDS.incident.defaults(NOW)).toMatchObject({ registeredAt: NOW, mediaAttention: false, description: null, delayNotices: [], reclassifications: [] });
    // registeredAt, on every record type, defaults to the creation instant (README "Go-live").
    expect(KINDS.security_cell_placement.defaults(NOW)).toMatchObject({ registeredAt: NOW, mechanicalRestraint: false, endedAt: null, caseReviewer: null });
    expect(KINDS.action_plan.defaults(NOW)).toMatchObject({ registeredAt: NOW, expelled: false, ownerId: null, sentenceStartDate: null, evaluations: [] });
    expect(KINDS.force_use.defaults(NOW)).toEqual({ registeredAt: NOW, description: null, reportFiledAt: null, reportComplaintInfoNoted: null, complaintReceivedAt: null, closedAt: null });
  });
});
