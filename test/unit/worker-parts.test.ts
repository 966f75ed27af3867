/** The worker's pure parts (issue 11): the change feed's coalescing and the re-plan scope of a stamp change. No I/O. */
import { describe, expect, it } from 'vitest';
import { CATALOGUE_VERSION } from '../../src/domain/index.js';
import { coalesce } from '../../src/worker/change-feed.js';
import { replanScope, settingsStamp } from '../../src/worker/worker-state.js';

const id = (n: number): string => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

describe('coalesce', () => {
  it('hands over a record changed several times once, at its latest change', () => {
    const batches: Array<Array<{ id: string; seq: number }>> = [];
    const c = coalesce(60_000, 500, (b) => batches.push(b));
    c.push({ type: 'force_use', id: id(1), seq: 3 });
    c.push({ type: 'force_use', id: id(2), seq: 4 });
    c.push({ type: 'force_use', id: id(1), seq: 7 });
    c.push({ type: 'force_use', id: id(1), seq: 5 });
    expect(batches).toEqual([]);
    c.drain();
    expect(batches).toEqual([[{ type: 'force_use', id: id(1), seq: 7 }, { type: 'force_use', id: id(2), seq: 4 }]]);
    c.drain();
    expect(batches).toHaveLength(1);
  });

  it('hands over a full batch at once, without waiting for the window', () => {
    const sizes: number[] = [];
    const c = coalesce(60_000, 3, (b) => sizes.push(b.length));
    for (let i = 0; i < 7; i++) c.push({ type: 'incident', id: id(i), seq: i });
    expect(sizes).toEqual([3, 3]);
    c.drain();
    expect(sizes).toEqual([3, 3, 1]);
  });
});

describe('replanScope', () => {
  const at = new Date('2026-03-02T10:00:00Z');
  const later = new Date('2026-03-03T10:00:00Z');
  const stamp = settingsStamp([{ key: 'recipients', updatedAt: at }, { key: 'schedule', updatedAt: at }]);

  it('stamps the rule catalogue first, then every setting by its change time', () => {
    expect(stamp).toBe(`catalogue@${CATALOGUE_VERSION}|recipients@2026-03-02T10:00:00.000Z|schedule@2026-03-02T10:00:00.000Z`);
  });

  it.each([
    ['the same stamp', stamp, 'none'],
    ['a setting changed', settingsStamp([{ key: 'recipients', updatedAt: later }, { key: 'schedule', updatedAt: at }]), 'open'],
    ['a setting added', settingsStamp([{ key: 'recipients', updatedAt: at }, { key: 'schedule', updatedAt: at }, { key: 'policy', updatedAt: later }]), 'open'],
  ])('%s re-plans %s records', (_what, current, scope) => {
    expect(replanScope(stamp, current)).toBe(scope);
  });

  it('re-plans every record when the catalogue changed or nothing was stamped yet', () => {
    expect(replanScope(stamp.replace(`catalogue@${CATALOGUE_VERSION}`, 'catalogue@2026.1.1'), stamp)).toBe('all');
    // A stamp of a release before the catalogue was stamped.
    expect(replanScope(stamp.split('|').slice(1).join('|'), stamp)).toBe('all');
    expect(replanScope(null, stamp)).toBe('all');
  });
});
