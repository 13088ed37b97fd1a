import { describe, expect, it } from 'vitest';
import { Journal } from '../../src/journal/journal';

describe('journal', () => {
  it('stamps events with the injected clock and delivers them in order', () => {
    let t = 1000;
    const j = new Journal({ mono: () => t, wall: () => 1_700_000_000_000 + t }, 4);
    const seen: string[] = [];
    j.subscribe((e) => seen.push(`${e.type}@${e.mono}`));
    j.emit({ type: 'config.loaded', file: 'a.conf', instances: 1, virtualServers: 0, warnings: 0 });
    t = 1005;
    j.emit({ type: 'config.error', file: 'b.conf', diagnostics: [] });
    expect(seen).toEqual(['config.loaded@1000', 'config.error@1005']);
  });
  it('isolates a throwing observer and keeps a bounded ring of recent events', () => {
    const j = new Journal(undefined, 3);
    j.subscribe(() => {
      throw new Error('boom');
    });
    const got: number[] = [];
    j.subscribe((e) => got.push(e.type === 'config.loaded' ? e.instances : -1));
    for (let i = 0; i < 5; i++) j.emit({ type: 'config.loaded', file: 'x', instances: i, virtualServers: 0, warnings: 0 });
    expect(got).toEqual([0, 1, 2, 3, 4]);
    expect(j.observerErrors).toBe(5);
    expect(j.recent().map((e) => (e.type === 'config.loaded' ? e.instances : -1))).toEqual([2, 3, 4]);
  });
});
