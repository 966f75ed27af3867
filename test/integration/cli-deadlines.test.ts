/** The `fristvagt deadlines` contract, exercised through the built command as other tools call it. */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';

interface Out {
  deadlines: Array<Record<string, unknown> & { rule: string; dueDate: string; dueAt: string; status: string }>;
  immediate: unknown[];
}
const due = (out: Out, rule: string): string | undefined => out.deadlines.find((d) => d.rule === rule)?.dueDate;

describe('fristvagt deadlines', () => {
  it('computes the issue examples', async () => {
    const death = await runCli(['deadlines', '--now', '2026-04-02T12:00:00+02:00'], JSON.stringify({ type: 'incident', kind: 'death', occurredAt: '2026-03-27T14:00:00+01:00' }));
    expect(death.code).toBe(0);
    const out = JSON.parse(death.stdout) as Out;
    expect(due(out, 'incident.preliminary-notice')).toBe('2026-04-01');
    expect(due(out, 'incident.final-report')).toBe('2026-04-24');
    for (const d of out.deadlines) {
      for (const field of ['rule', 'dueDate', 'dueAt', 'status', 'basis', 'citation', 'explanation']) expect(d, field).toHaveProperty(field);
    }
    expect(out.deadlines.find((d) => d.rule === 'incident.preliminary-notice')).toMatchObject({ status: 'breached', dueAt: '2026-04-01T23:59:59.999+02:00' });

    const easter = await runCli(['deadlines'], JSON.stringify({ type: 'incident', kind: 'qualified_self_harm', occurredAt: '2025-04-16T10:00:00+02:00' }));
    expect(due(JSON.parse(easter.stdout) as Out, 'incident.preliminary-notice')).toBe('2025-04-24');

    const remand = { type: 'action_plan', clientCategory: 'remand', admittedAt: '2025-05-26' };
    expect(due(JSON.parse((await runCli(['deadlines'], JSON.stringify(remand))).stdout) as Out, 'plan.create')).toBe('2025-06-05');
    expect(due(JSON.parse((await runCli(['deadlines', '--closure-days', '06-05'], JSON.stringify(remand))).stdout) as Out, 'plan.create')).toBe('2025-06-06');
  });

  it('returns an array of results for an array of records, in order', async () => {
    const res = await runCli(['deadlines', '--lang', 'en'], JSON.stringify([
      { type: 'force_use', occurredAt: '2026-06-30' },
      { type: 'security_cell_placement', placedAt: '2026-06-01', endedAt: '2026-06-02' },
    ]));
    expect(res.code).toBe(0);
    const out = JSON.parse(res.stdout) as Out[];
    expect(out).toHaveLength(2);
    expect(out[0]?.deadlines.map((d) => d.rule)).toEqual(['force.report', 'force.complaint-window']);
    expect(out[1]?.deadlines[0]).toMatchObject({ rule: 'cell.follow-up-conversation', dueDate: '2026-06-09' });
    expect(String(out[0]?.deadlines[0]?.explanation)).toMatch(/^Force was used on Tuesday 30\.06\.2026/);
  });

  it.each([
    [['deadlines'], '{"type":"incident","kind":"death"}', /^fristvagt deadlines: occurredAt: is required\n$/],
    [['deadlines'], '[{"type":"force_use","occurredAt":"2026-06-30"},{"type":"force_use","occurredAt":"2026-13-01"}]', /^fristvagt deadlines: \[1\]\.occurredAt: /],
    [['deadlines'], 'not json', /^fristvagt deadlines: stdin: not valid JSON/],
    [['deadlines'], '"a string"', /stdin: expected a JSON object/],
    [['deadlines', '--now', 'yesterday'], '{}', /^fristvagt deadlines: --now: /],
    [['deadlines', '--closure-days', '06-05,13-40'], '{}', /--closure-days\[1\]: "13-40"/],
    [['deadlines', '--lang', 'fr'], '{}', /--lang: "fr" is not supported/],
    [['deadlines', '--bogus'], '{}', /Unknown option '--bogus'/],
  ])('bad input %j → exit 2, one line naming the field', async (args, stdin, pattern) => {
    const res = await runCli(args, stdin);
    expect(res.code).toBe(2);
    expect(res.stdout).toBe('');
    expect(res.stderr).toMatch(pattern);
    expect(res.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('never echoes a CPR number from a bad record', async () => {
    const res = await runCli(['deadlines'], JSON.stringify({ type: 'incident', kind: 'death', occurredAt: '2026-03-27', cpr: '0101011234', name: 'Test Testesen' }));
    expect(res.code).toBe(2);
    expect(res.stderr).not.toContain('0101011234');
    expect(res.stderr).toMatch(/cpr: unknown field/);
  });

  it('prints the rule catalogue', async () => {
    const res = await runCli(['rules', '--lang', 'en']);
    const rules = JSON.parse(res.stdout) as Array<{ id: string; basis: string; citation: string }>;
    expect(rules.map((r) => r.id)).toEqual(expect.arrayContaining(['incident.preliminary-notice', 'cell.follow-up-conversation', 'force.complaint-window', 'plan.municipality-coordination']));
    expect(rules.every((r) => r.citation.length > 0)).toBe(true);
    // Issue 10's new duties are in the catalogue, and the README's rules table names every rule.
    expect(rules.map((r) => r.id)).toEqual(expect.arrayContaining(['cell.case-review', 'incident.closing-letter-copy', 'incident.chapter5-closing', 'incident.delegate-assessment']));
    const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
    const table = readme.slice(readme.indexOf('## The rules'), readme.indexOf('## Records, API and roles'));
    for (const r of rules) expect(table, r.id).toContain(`| \`${r.id}\` |`);
  });

  it('unknown command → exit 2 with usage', async () => {
    const res = await runCli(['frobnicate']);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('unknown command');
  });
});
