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

  it('sends only what changed', () => {
    const enc = new SnapshotEncoder();
    enc.encode(snap([inst('VI_1')]));
    const w = enc.encode(snap([inst('VI_1', { master_down_remaining: 1.25, stats: { ...inst('x').stats, advert_rcvd: 9 } })]));
    expect(w.wi).toEqual([{ name: 'VI_1', ch: { master_down_remaining: 1.25, stats: { ...inst('x').stats, advert_rcvd: 9 } } }]);
    const same = enc.encode(snap([inst('VI_1', { master_down_remaining: 1.25, stats: { ...inst('x').stats, advert_rcvd: 9 } })]));
    expect(same.wi).toEqual([{ name: 'VI_1', ch: {} }]);
  });

  it('a delta that does not match the worker copy is refused, and a reset starts over with whole instances', () => {
    const enc = new SnapshotEncoder();
    const dec = new SnapshotDecoder();
    dec.decode(wire(enc.encode(snap([inst('VI_1')]))));
    const lost = enc.encode(snap([inst('VI_2')])); // the worker never sees this one
    void lost;
    const next = enc.encode(snap([inst('VI_2', { vrid: 7 })]));
    expect(() => dec.decode(wire(next))).toThrow(/does not match/);
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
