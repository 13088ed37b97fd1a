/**
 * The byte path of the exposition (renderBytes: what the HTTP endpoint sends) against the
 * string path (render): Latin-1 encoding while everything rendered is ASCII, UTF-8 from
 * the first non-ASCII label on (exposition.ts asciiOnly), and the journal-fed families
 * encoded ahead of a scrape (warm(), what the HTTP worker does while its snapshot is taken).
 * One file of its own: the ASCII flag is per module instance and sticky.
 */
import { describe, expect, it } from 'vitest';
import type { JournalEvent } from '../../src/journal/events';
import { Journal } from '../../src/journal/journal';
import { createMetrics } from '../../src/observe/metrics';
import type { AgentSnapshot } from '../../src/state/snapshot';
import { makeInstance, makeSnapshot } from '../obs/fixtures';

const OM = 'application/openmetrics-text; version=1.0.0';

function agent(names: string[]): { journal: Journal; snap: AgentSnapshot; metrics: ReturnType<typeof createMetrics> } {
  const journal = new Journal();
  const snap = makeSnapshot({ instances: names.map((iname, k) => makeInstance({ iname, vrid: k + 1 })) });
  const metrics = createMetrics(journal, () => snap, { defaultMetrics: false });
  return { journal, snap, metrics };
}

function advert(iname: string, vrid: number, mono: number): JournalEvent {
  return { type: 'vrrp.advert.received', instance: iname, vrid, intf: 'eth0', src: '192.0.2.12', priority: 150, advertIntCs: 100, inMaster: false, mono } as JournalEvent;
}

async function sameBytes(m: ReturnType<typeof createMetrics>, accept?: string): Promise<Buffer> {
  const b = await m.renderBytes(accept);
  const r = await m.render(accept);
  expect(b.contentType).toBe(r.contentType);
  expect(b.body.equals(Buffer.from(r.body, 'utf8'))).toBe(true);
  return b.body;
}

describe('renderBytes encoding', () => {
  it('is byte-identical to the UTF-8 of render(), before and after the first non-ASCII label', async () => {
    const a = agent(['VI_1', 'VI_2']);
    a.journal.emit(advert('VI_1', 1, 1000));
    const ascii = await sameBytes(a.metrics);
    expect(ascii.every((x) => x < 0x80)).toBe(true);
    await sameBytes(a.metrics, OM);

    // U+0151 needs two bytes in UTF-8 and is not Latin-1 (as Latin-1 it would become 'Q');
    // U+00E9 is Latin-1 (one byte there, two in UTF-8)
    const b = agent(['VI_ő', 'VI_é']);
    b.journal.emit(advert('VI_ő', 1, 1000));
    for (let k = 0; k < 2; k++) {
      const body = await sameBytes(b.metrics);
      expect(body.includes(Buffer.from('iname="VI_ő"', 'utf8'))).toBe(true);
      expect(body.includes(Buffer.from('iname="VI_é"', 'utf8'))).toBe(true);
      expect(body.includes(Buffer.from('iname="VI_Q"', 'latin1'))).toBe(false);
      await sameBytes(b.metrics, OM);
    }
    // the ASCII agent's cached families stay right, and its new ones are UTF-8 from now on
    a.journal.emit(advert('VI_2', 2, 2000));
    await sameBytes(a.metrics);
  });
});

describe('warm()', () => {
  it('encodes the journal-fed families ahead; events after it still reach the scrape', async () => {
    const a = agent(['VI_1', 'VI_2', 'VI_3']);
    await sameBytes(a.metrics);
    let mono = 1000;
    for (let round = 0; round < 5; round++) {
      a.journal.emit(advert('VI_1', 1, (mono += 1000)));
      a.metrics.warm();
      a.metrics.warm(OM);
      // after the warm-up (the snapshot round trip): more adverts, a transition
      a.journal.emit(advert(`VI_${(round % 3) + 1}`, (round % 3) + 1, (mono += 1000)));
      if (round === 2) a.journal.emit({ type: 'vrrp.transition', instance: 'VI_2', vrid: 2, intf: 'eth0', from: 'BACKUP', to: 'MASTER', reason: 'master_timeout', priority: 100, masterPriority: 0 } as JournalEvent);
      const body = (await sameBytes(a.metrics)).toString('utf8');
      const count = /keepalived_vrrp_advert_receive_interval_seconds_count\{[^}]*iname="VI_1"[^}]*\} (\d+)/.exec(body);
      expect(count, body).not.toBeNull();
      await sameBytes(a.metrics, OM);
    }
    const body = (await a.metrics.renderBytes()).body.toString('utf8');
    expect(body).toMatch(/keepalived_vrrp_transitions_total\{[^}]*iname="VI_2"[^}]*\} 1/);
  });

  it('does nothing before the first scrape', () => {
    const a = agent(['VI_1']);
    a.journal.emit(advert('VI_1', 1, 1000));
    expect(() => a.metrics.warm()).not.toThrow();
  });
});
