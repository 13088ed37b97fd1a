/**
 * The snapshot delta between the VRRP thread and the HTTP worker (src/http/snapshot-wire.ts):
 * whatever happens between two snapshots, the worker must rebuild exactly what the VRRP
 * thread had, and a delta that does not fit must be refused, never mis-applied.
 */
import * as v8 from 'node:v8';
import { describe, expect, it } from 'vitest';
import { SnapshotDecoder, SnapshotEncoder, sameData, type WireSnapshot } from '../../src/http/snapshot-wire';
import type { AgentSnapshot, InstanceSnapshot } from '../../src/state/snapshot';
import { makeInstance, makeSnapshot } from '../obs/fixtures';

const inst = (name: string, over: Partial<InstanceSnapshot> = {}): InstanceSnapshot => makeInstance({ iname: name, ...over });
const snap = (instances: InstanceSnapshot[], takenAt = 1): AgentSnapshot => makeSnapshot({ takenAt, instances });
/** through a real structured clone, as between threads */
const wire = (w: WireSnapshot): WireSnapshot => v8.deserialize(v8.serialize(w)) as WireSnapshot;
const plain = (x: unknown) => JSON.parse(JSON.stringify(x));

describe('snapshot delta (VRRP thread → HTTP worker)', () => {
  it('rebuilds every snapshot of a changing sequence exactly, sending whole instances only when new', () => {
    const enc = new SnapshotEncoder();
    const dec = new SnapshotDecoder();
    const seq: AgentSnapshot[] = [
      snap([inst('VI_1'), inst('VI_2')]),
      // counters and clocks move, a nested object changes
      snap([inst('VI_1', { stats: { ...inst('x').stats, advert_rcvd: 5 }, master_down_remaining: 1.5 }), inst('VI_2', { time_in_state: { INIT: 0, BACKUP: 2, MASTER: 0, FAULT: 0, STOP: 0 } })], 2),
      // a transition: state, VIP installed, value to null and back
      snap([inst('VI_1', { state: 'MASTER', wantstate: 'MASTER', vipset: true, master_down_remaining: null, vips: [{ ...inst('x').vips[0], installed: true, text: '192.0.2.50/24 dev eth0 scope global set' }] }), inst('VI_2')], 3),
      // an optional field appears on one instance, another instance is added at the end
      snap([inst('VI_1', { total_priority: 120 }), inst('VI_2'), inst('VI_3')], 4),
      // the optional field goes away again, an array grows
      snap([inst('VI_1', { unicast_peers: ['192.0.2.12'] }), inst('VI_2'), inst('VI_3')], 5),
      // reload: an instance removed from the middle, the rest move up
      snap([inst('VI_1'), inst('VI_3', { vrid: 53 })], 6),
      // nothing changed at all
      snap([inst('VI_1'), inst('VI_3', { vrid: 53 })], 7),
      snap([], 8),
      snap([inst('VI_9')], 9),
    ];
    let fulls = 0;
    for (const s of seq) {
      const w = enc.encode(s);
      fulls += w.wi.filter((x) => 'full' in x).length;
      const back = dec.decode(wire(w));
      expect(plain(back)).toEqual(plain(s));
      // no key the source lacks (an optional field that went away must go away here too)
      back.instances.forEach((b, i) => expect(Object.keys(b).sort()).toEqual(Object.keys(s.instances[i]).sort()));
    }
    // VI_1, VI_2 at first, VI_3 added, VI_3 moved into VI_2's place, VI_9
    expect(fulls).toBe(5);
  });

  it('sends only what changed: numbers in typed arrays, other changes per instance', () => {
    const enc = new SnapshotEncoder();
    // the decoder's path table: each message adds the paths that are new
    const table: [string, string | null][] = [];
    const paths = (w: WireSnapshot): string[] => {
      table.push(...w.paths);
      return [...w.numPath].map((i) => table[i].filter((x) => x !== null).join('.'));
    };
    paths(enc.encode(snap([inst('VI_1', { master_down_remaining: 0.5 }), inst('VI_2')])));
    const w = enc.encode(snap([inst('VI_1', { master_down_remaining: 1.25, stats: { ...inst('x').stats, advert_rcvd: 9 } }), inst('VI_2')]));
    expect(w.wi).toEqual([]);
    expect(paths(w)).toEqual(['master_down_remaining', 'stats.advert_rcvd']);
    expect([...w.numAt]).toEqual([0, 0]);
    expect([...w.numVal]).toEqual([1.25, 9]);
    const same = enc.encode(snap([inst('VI_1', { master_down_remaining: 1.25, stats: { ...inst('x').stats, advert_rcvd: 9 } }), inst('VI_2')]));
    expect(same.wi).toEqual([]);
    expect(paths(same)).toEqual([]);
    // a string, a number becoming null, a nested object gaining a field: per-instance changes
    const other = enc.encode(
      snap([inst('VI_1', { master_down_remaining: null, stats: { ...inst('x').stats, advert_rcvd: 9 } }), inst('VI_2', { state: 'FAULT', time_in_state: { INIT: 0, BACKUP: 0, MASTER: 1, FAULT: 0, STOP: 0, EXTRA: 1 } as never })]),
    );
    expect(other.wi).toEqual([
      { at: 0, name: 'VI_1', ch: { master_down_remaining: null } },
      { at: 1, name: 'VI_2', ch: { state: 'FAULT', time_in_state: { INIT: 0, BACKUP: 0, MASTER: 1, FAULT: 0, STOP: 0, EXTRA: 1 } } },
    ]);
    expect(other.numAt.length).toBe(0);
  });

  it('numbers keep their exact value (NaN, ±Infinity, fractions) and decoding never modifies an earlier snapshot', () => {
    const enc = new SnapshotEncoder();
    const dec = new SnapshotDecoder();
    const values = [0.1 + 0.2, NaN, Infinity, -Infinity, 1795515063.893748, 2 ** 53 + 2, 7];
    const kept: { got: AgentSnapshot; copy: unknown }[] = [];
    let prev = dec.decode(wire(enc.encode(snap([inst('VI_1', { master_down_remaining: 0.5 }), inst('VI_2')]))));
    kept.push({ got: prev, copy: v8.deserialize(v8.serialize(prev)) });
    for (const v of values) {
      const s = snap([inst('VI_1', { master_down_remaining: v, stats: { ...inst('x').stats, advert_rcvd: v, pri_zero_rcvd: 3 } }), inst('VI_2', { time_in_state: { INIT: 0, BACKUP: v, MASTER: 0, FAULT: 0, STOP: 0 } })]);
      const w = enc.encode(s);
      expect(w.wi).toEqual([]); // numbers only
      prev = dec.decode(wire(w));
      expect(Object.is(prev.instances[0].master_down_remaining, v)).toBe(true);
      expect(Object.is(prev.instances[0].stats.advert_rcvd, v)).toBe(true);
      expect(Object.is(prev.instances[1].time_in_state.BACKUP, v)).toBe(true);
      expect(prev.instances[0].stats.pri_zero_rcvd).toBe(3);
      kept.push({ got: prev, copy: v8.deserialize(v8.serialize(prev)) });
    }
    // every snapshot handed out still reads as it did (a render may still be using it)
    for (const k of kept) expect(JSON.stringify(k.got, (_k, x) => (typeof x === 'number' && !Number.isFinite(x) ? String(x) : x))).toBe(JSON.stringify(k.copy, (_k, x) => (typeof x === 'number' && !Number.isFinite(x) ? String(x) : x)));
  });

  it('a delta that does not match the worker copy is refused, and a reset starts over with whole instances', () => {
    const enc = new SnapshotEncoder();
    const dec = new SnapshotDecoder();
    dec.decode(wire(enc.encode(snap([inst('VI_1')]))));
    const lost = enc.encode(snap([inst('VI_2')])); // the worker never sees this one
    void lost;
    const next = enc.encode(snap([inst('VI_2', { vrid: 7 })]));
    expect(() => dec.decode(wire(next))).toThrow(/does not (match|follow)/);
    dec.reset();
    enc.reset();
    const full = enc.encode(snap([inst('VI_2', { vrid: 8 })]));
    expect(full.wi.every((x) => 'full' in x)).toBe(true);
    expect(dec.decode(wire(full)).instances[0].vrid).toBe(8);
  });

  it('sameData is deep equality of plain data', () => {
    expect(sameData({ a: [1, { b: 'x' }] }, { a: [1, { b: 'x' }] })).toBe(true);
    expect(sameData({ a: [1, { b: 'x' }] }, { a: [1, { b: 'y' }] })).toBe(false);
    expect(sameData([1, 2], [1, 2, 3])).toBe(false);
    expect(sameData({ a: 1 }, { b: 1 })).toBe(false);
    expect(sameData({ a: undefined }, {})).toBe(false);
    expect(sameData([], {})).toBe(false);
    expect(sameData(null, {})).toBe(false);
    expect(sameData(0, -0)).toBe(true);
  });
});
