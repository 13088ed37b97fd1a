/**
 * The AgentX session against a scripted master on loopback (unix sockets in a private temp
 * dir, TCP on 127.0.0.1:19250-19259): sequential registration, stream re-framing, request
 * timeouts, ping, reconnect + re-registration, notification queueing, set transactions,
 * and a fuzz of malformed PDUs that must never crash the subagent.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Journal } from '../../src/journal/journal';
import type { JournalEvent } from '../../src/journal/events';
import { AgentxSession, type AgentxStateEvent } from '../../src/snmp/agentx';
import { AxError, CloseReason, Flag, PduType, VT, encodePdu, type Pdu } from '../../src/snmp/agentx-pdu';
import { snmpModules, startSnmp } from '../../src/snmp';
import { formatOid, parseOid } from '../../src/snmp/oid';
import { waitFor } from '../helpers/netns';
import { FakeMaster } from '../snmp/fake-master';
import { referenceSnapshot } from '../snmp/fixtures';

const O = (s: string) => parseOid(s)!;
const ALL = { vrrp: true, checker: true, rfcv2: true, rfcv3: true };
const FAST = { requestTimeoutMs: 400, pingIntervalMs: 0, backoffMinMs: 10, backoffMaxMs: 100 };
const VERSION_OID = O('1.3.6.1.4.1.9586.100.5.1.1.0');

let dir: string;
let n = 0;
const cleanups: (() => Promise<void> | void)[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kw-snmp-ax-'));
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function setup(opts: { master?: ConstructorParameters<typeof FakeMaster>[0] extends infer O ? Partial<O> : never; session?: Partial<ConstructorParameters<typeof AgentxSession>[0]> } = {}) {
  const path = join(dir, `m${++n}.sock`);
  const master = new FakeMaster({ listen: { path }, ...opts.master });
  await master.start();
  const states: AgentxStateEvent[] = [];
  const session = new AgentxSession({
    ...FAST,
    address: { kind: 'unix', path },
    description: 'test',
    modules: snmpModules(ALL, false),
    snapshot: () => referenceSnapshot(2),
    onState: (s) => states.push(s),
    ...opts.session,
  });
  cleanups.push(() => master.stop(), () => session.stop());
  session.start();
  return { master, session, states, path };
}

const get = (m: FakeMaster, oid = VERSION_OID) => m.request({ type: PduType.Get, sessionId: 0, transactionId: 1, packetId: 0, ranges: [{ start: oid, include: false, end: [] }] });

describe('AgentX session', () => {
  it('opens, then registers every subtree strictly one at a time, each with a sysORTable entry', async () => {
    const { master, session } = await setup({ master: { registerDelayMs: 30 } });
    await waitFor(() => session.status().connected, 'connected');
    expect(master.maxOutstandingRegisters).toBe(1);
    const order = master.received.map((r) => r.pdu.type);
    expect(order[0]).toBe(PduType.Open);
    const regs = master.of(PduType.Register) as Extract<Pdu, { type: 3 }>[];
    expect(regs.map((r) => formatOid(r.subtree))).toEqual([
      '1.3.6.1.4.1.9586.100.5.1',
      '1.3.6.1.4.1.9586.100.5.2',
      '1.3.6.1.4.1.9586.100.5.3',
      '1.3.6.1.2.1.68',
      '1.3.6.1.2.1.207',
    ]);
    expect(regs.every((r) => r.sessionId === master.sessionId() && r.priority === 127)).toBe(true);
    // Register, AddAgentCaps, Register, AddAgentCaps, …
    expect(order.slice(1)).toEqual(Array.from({ length: 5 }, () => [PduType.Register, PduType.AddAgentCaps]).flat());
    const caps = master.of(PduType.AddAgentCaps) as Extract<Pdu, { type: 16 }>[];
    expect(caps.map((c) => c.descr.toString())).toEqual([
      'The MIB module for Keepalived',
      'The MIB module for KEEPALIVED-VRRP',
      'The MIB module for Healthchecker',
      'The MIB module for VRRP',
      'The MIB module for VRRPV3',
    ]);
    const r = await get(master);
    expect(r.varbinds[0].value).toEqual({ type: VT.OctetString, value: Buffer.from('Keepalived v2.2.7 (01/16,2022)') });
  });

  it('re-frames requests coalesced in one write and split across many writes', async () => {
    const { master, session } = await setup();
    await waitFor(() => session.status().connected, 'connected');
    const sid = master.sessionId();
    const reqs: Pdu[] = [
      { type: PduType.Get, sessionId: sid, transactionId: 1, packetId: 901, ranges: [{ start: VERSION_OID, include: false, end: [] }] },
      { type: PduType.GetNext, sessionId: sid, transactionId: 2, packetId: 902, ranges: [{ start: O('1.3.6.1.2.1.68'), include: false, end: O('1.3.6.1.2.1.69') }] },
      { type: PduType.GetBulk, sessionId: sid, transactionId: 3, packetId: 903, nonRepeaters: 0, maxRepetitions: 5, ranges: [{ start: O('1.3.6.1.2.1.207'), include: false, end: O('1.3.6.1.2.1.208') }] },
    ];
    // little-endian on one of them: the byte order is per PDU (RFC 2741 §6.1)
    const bytes = Buffer.concat(reqs.map((p, i) => encodePdu(p, i !== 1)));
    const waits = reqs.map((p) => master.expectResponse(p.packetId));
    master.write(bytes);
    const [a, b, c] = await Promise.all(waits);
    expect(a.varbinds[0].value.type).toBe(VT.OctetString);
    expect(formatOid(b.varbinds[0].oid)).toBe('1.3.6.1.2.1.68.1.1.0');
    expect(c.varbinds.length).toBe(5);
    expect(c.varbinds.map((v) => formatOid(v.oid))[0]).toBe('1.3.6.1.2.1.207.1.1.1.1.3.2.51.1');
    // now one octet per write
    const split = reqs.map((p, i) => ({ ...p, packetId: 910 + i }));
    const waits2 = split.map((p) => master.expectResponse(p.packetId));
    const buf = Buffer.concat(split.map((p) => encodePdu(p)));
    for (let i = 0; i < buf.length; i++) {
      master.write(buf.subarray(i, i + 1));
      if (i % 7 === 0) await new Promise((r) => setImmediate(r));
    }
    const got = await Promise.all(waits2);
    expect(got.map((g) => g.packetId)).toEqual([910, 911, 912]);
    expect(got[2].varbinds.length).toBe(5);
  });

  it('survives a fuzz of malformed PDUs: answers parseError where it can, reconnects when framing is lost, never throws', async () => {
    const { master, session } = await setup();
    await waitFor(() => session.status().connected, 'connected');
    let seed = 4242;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const sid = master.sessionId();
    const valid: Pdu[] = [
      { type: PduType.Get, sessionId: sid, transactionId: 1, packetId: 1, ranges: [{ start: VERSION_OID, include: false, end: [] }] },
      { type: PduType.GetBulk, sessionId: sid, transactionId: 1, packetId: 1, nonRepeaters: 1, maxRepetitions: 3, ranges: [{ start: O('1.3.6.1.4.1.9586.100.5'), include: true, end: O('1.3.6.1.4.1.9586.100.6') }] },
      { type: PduType.TestSet, sessionId: sid, transactionId: 1, packetId: 1, varbinds: [{ oid: O('1.3.6.1.4.1.9586.100.5.2.3.1.7.1'), value: { type: VT.Integer, value: 1 } }] },
    ];
    let sent = 0;
    for (let round = 0; round < 600; round++) {
      let b: Buffer;
      if (round % 3 === 0) {
        // random payload behind a well-framed header of a random type
        const len = 4 * Math.floor(rnd() * 16);
        b = Buffer.alloc(20 + len);
        for (let i = 0; i < b.length; i++) b[i] = Math.floor(rnd() * 256);
        b[0] = rnd() < 0.9 ? 1 : b[0];
        if (b[1] === PduType.Close) b[1] = PduType.Get; // a genuine Close would (rightly) end the session
        b[2] = b[2] & ~Flag.NonDefaultContext;
        if (b[2] & Flag.NetworkByteOrder) b.writeUInt32BE(len, 16);
        else b.writeUInt32LE(len, 16);
      } else {
        // a valid request with a few octets of its payload flipped
        b = Buffer.from(encodePdu({ ...valid[round % valid.length], packetId: 20000 + round }));
        for (let k = 0; k < 3; k++) {
          const at = 20 + Math.floor(rnd() * (b.length - 20));
          b[at] = Math.floor(rnd() * 256);
        }
      }
      master.write(b);
      sent++;
      if (round % 50 === 0) await new Promise((r) => setImmediate(r));
    }
    expect(sent).toBe(600);
    // still the same session, still answering
    const r = await get(master);
    expect(r.varbinds[0].value.type).toBe(VT.OctetString);
    expect(master.connections).toBe(1);
    expect(session.status().requestErrors).toBeGreaterThan(0);
    // parseError answers carry the bad request's packetID
    const pe = master.received.filter((x) => x.pdu.type === PduType.Response && (x.pdu as { error: number }).error === AxError.ParseError);
    expect(pe.length).toBeGreaterThan(0);

    // A header whose payload_length is not a multiple of 4: framing is lost → Close(parseError) and reconnect
    const broken = Buffer.from(encodePdu(valid[0]));
    broken.writeUInt32BE(7, 16);
    master.write(broken);
    await waitFor(() => master.connections === 2 && session.status().connected, 'reconnected after lost framing');
    const close = master.of(PduType.Close, 1) as Extract<Pdu, { type: 2 }>[];
    expect(close.map((c) => c.reason)).toEqual([CloseReason.ParseError]);
    expect((master.of(PduType.Register, 2)).length).toBe(5);
    const r2 = await get(master);
    expect(r2.varbinds[0].value.type).toBe(VT.OctetString);
  });

  it('times out an unanswered Open and retries until the master answers', async () => {
    const { master, session } = await setup({ master: { policy: (p, conn) => (p.type === PduType.Open && conn <= 2 ? 'ignore' : undefined) } });
    await waitFor(() => session.status().connected, 'connected after retries', 20_000);
    expect(master.connections).toBe(3);
    expect(master.of(PduType.Open).length).toBe(3);
  });

  it('pings the master and reconnects when a ping goes unanswered', async () => {
    let mute = false;
    const { master, session, states } = await setup({
      master: { policy: (p) => (p.type === PduType.Ping && mute ? 'ignore' : undefined) },
      session: { pingIntervalMs: 100 },
    });
    await waitFor(() => master.of(PduType.Ping).length >= 2, 'pings');
    expect(session.status().connected).toBe(true);
    mute = true;
    await waitFor(() => master.connections >= 2, 'reconnect after ping timeout');
    mute = false;
    await waitFor(() => session.status().connected && session.status().reconnects >= 1, 're-registered');
    expect(states.some((s) => !s.connected && /Ping/.test(s.error ?? ''))).toBe(true);
  });

  it('re-registers after the master restarts, and after the master closes the session', async () => {
    const { master, session, states, path } = await setup();
    await waitFor(() => session.status().connected, 'connected');
    await master.stop();
    await waitFor(() => !session.status().connected, 'noticed the master is gone');
    const again = new FakeMaster({ listen: { path } });
    cleanups.push(() => again.stop());
    await new Promise((r) => setTimeout(r, 150)); // the master is down for a while
    await again.start();
    await waitFor(() => session.status().connected, 're-registered with the new master');
    expect(again.of(PduType.Register).length).toBe(5);
    const up = states.filter((s) => s.connected);
    expect(up.length).toBe(2);
    expect(up[1].reconnects).toBe(1);
    expect(up[1].recoveryMs).toBeGreaterThanOrEqual(100);
    // RFC 2741 §7.1.3: the master may close our session at any time
    again.write(encodePdu({ type: PduType.Close, sessionId: again.sessionId(), transactionId: 0, packetId: 77, reason: CloseReason.ByManager }));
    await waitFor(() => again.connections === 2 && session.status().connected && session.status().reconnects === 2, 're-opened after Close');
    expect(session.status().reconnects).toBe(2);
  });

  it('keeps going when the master refuses one registration (duplicateRegistration)', async () => {
    const { master, session } = await setup({
      master: { policy: (p) => (p.type === PduType.Register && formatOid(p.subtree) === '1.3.6.1.2.1.68' ? AxError.DuplicateRegistration : undefined) },
    });
    await waitFor(() => session.status().connected, 'connected');
    expect(session.status().refused).toEqual(['VRRP-MIB: DuplicateRegistration']);
    expect(master.of(PduType.AddAgentCaps).length).toBe(4);
  });

  it('queues notifications while disconnected and delivers them once registered', async () => {
    const path = join(dir, `late${++n}.sock`);
    const session = new AgentxSession({ ...FAST, address: { kind: 'unix', path }, description: 't', modules: snmpModules(ALL, true), snapshot: () => referenceSnapshot(2) });
    cleanups.push(() => session.stop());
    session.start();
    const trap = O('1.3.6.1.4.1.9586.100.5.2.10.0.2');
    const p = session.notify(trap, [{ oid: O('1.3.6.1.4.1.9586.100.5.2.3.1.2'), value: { type: VT.OctetString, value: Buffer.from('VI_1') } }]);
    await new Promise((r) => setTimeout(r, 100));
    expect(session.status().queuedNotifications).toBe(1);
    const master = new FakeMaster({ listen: { path } });
    cleanups.push(() => master.stop());
    await master.start();
    expect(await p).toEqual({ ok: true });
    const notify = master.of(PduType.Notify) as Extract<Pdu, { varbinds: unknown; type: 8 | 12 | 14 | 15 }>[];
    expect(notify.length).toBe(1);
    expect(formatOid(notify[0].varbinds[0].oid)).toBe('1.3.6.1.6.3.1.1.4.1.0');
    expect(notify[0].varbinds[0].value).toEqual({ type: VT.ObjectIdentifier, value: trap });
    // Notify is sent only after the registrations
    const types = master.received.map((r) => r.pdu.type);
    expect(types.indexOf(PduType.Notify)).toBeGreaterThan(types.lastIndexOf(PduType.AddAgentCaps));
  });

  it('runs set transactions TestSet → CommitSet → CleanupSet (no response to Cleanup) and UndoSet', async () => {
    const calls: string[] = [];
    const { master, session } = await setup({
      session: { modules: snmpModules(ALL, false, { setBasePriority: (i, p) => (calls.push(`${i}=${p}`), { ok: true }) }) },
    });
    await waitFor(() => session.status().connected, 'connected');
    const sid = master.sessionId();
    const vb = [{ oid: O('1.3.6.1.4.1.9586.100.5.2.3.1.7.1'), value: { type: VT.Integer, value: 77 } as const }];
    const t1 = await master.request({ type: PduType.TestSet, sessionId: sid, transactionId: 5, packetId: 0, varbinds: vb });
    expect(t1.error).toBe(0);
    expect(calls).toEqual([]);
    const c1 = await master.request({ type: PduType.CommitSet, sessionId: sid, transactionId: 5, packetId: 0 });
    expect(c1.error).toBe(0);
    expect(calls).toEqual(['VI_1=77']);
    const u1 = await master.request({ type: PduType.UndoSet, sessionId: sid, transactionId: 5, packetId: 0 });
    expect(u1.error).toBe(0);
    expect(calls).toEqual(['VI_1=77', 'VI_1=150']);
    await expect(master.request({ type: PduType.CleanupSet, sessionId: sid, transactionId: 5, packetId: 0 }, 300)).rejects.toThrow(/no response/);
    const bad = await master.request({ type: PduType.TestSet, sessionId: sid, transactionId: 6, packetId: 0, varbinds: [{ oid: O('1.3.6.1.4.1.9586.100.5.2.3.1.2.1'), value: { type: VT.OctetString, value: Buffer.from('x') } }] });
    expect([bad.error, bad.index]).toEqual([AxError.NotWritable, 1]);
  });

  it('stop() closes the session with reasonShutdown', async () => {
    const { master, session } = await setup();
    await waitFor(() => session.status().connected, 'connected');
    await session.stop();
    const close = master.of(PduType.Close) as Extract<Pdu, { type: 2 }>[];
    expect(close.map((c) => c.reason)).toEqual([CloseReason.Shutdown]);
    expect(session.status().connected).toBe(false);
    expect(await session.notify([1, 3], [])).toEqual({ ok: false, error: 'SNMP stopped' });
  });

  it('works over TCP too (tcp:127.0.0.1:PORT)', async () => {
    const master = new FakeMaster({ listen: { port: 19250 } });
    await master.start();
    const journal = new Journal();
    const events: JournalEvent[] = [];
    journal.subscribe((e) => events.push(e));
    const h = startSnmp({ socket: 'tcp:127.0.0.1:19250', journal, snapshot: () => referenceSnapshot(3), enable: { rfcv3: true }, traps: true, timing: FAST });
    cleanups.push(() => master.stop(), () => h.stop());
    await waitFor(() => h.status().connected, 'connected over tcp');
    expect(h.status().socket).toBe('tcp:127.0.0.1:19250');
    expect(master.of(PduType.Register).map((r) => formatOid((r as Extract<Pdu, { type: 3 }>).subtree))).toEqual(['1.3.6.1.2.1.207']);
    // a journal transition becomes a vrrpv3NewMaster Notify and an snmp.notification event
    journal.emit({ type: 'vrrp.transition', instance: 'VI_1', vrid: 51, intf: 'eth0', from: 'BACKUP', to: 'MASTER', reason: 'preempt', priority: 150, masterPriority: 100 });
    await waitFor(() => events.some((e) => e.type === 'snmp.notification'), 'notification event');
    expect(events.find((e) => e.type === 'snmp.notification')).toMatchObject({ notification: 'vrrpv3NewMaster', ok: true });
    const nt = master.of(PduType.Notify) as Extract<Pdu, { varbinds: unknown; type: 8 | 12 | 14 | 15 }>[];
    expect(nt[0].varbinds.map((v) => formatOid(v.oid))).toEqual(['1.3.6.1.6.3.1.1.4.1.0', '1.3.6.1.2.1.207.1.1.1.1.3.2.51.1', '1.3.6.1.2.1.207.1.2.5.1.2.2.51.1']);
    expect(events.find((e) => e.type === 'snmp.agentx')).toMatchObject({ connected: true, reconnects: 0, socket: 'tcp:127.0.0.1:19250' });
    // TCP has no socket file to watch: recovery comes from the backoff alone
    await master.stop();
    await waitFor(() => !h.status().connected, 'noticed the master is gone');
    await new Promise((r) => setTimeout(r, 300));
    const again = new FakeMaster({ listen: { port: 19250 } });
    await again.start();
    cleanups.push(() => again.stop());
    await waitFor(() => h.status().connected && h.status().reconnects === 1, 're-registered over tcp');
    expect(again.of(PduType.Register).length).toBe(1);
  });

  it('reports a bad snmp_socket as a journal error instead of throwing', () => {
    const journal = new Journal();
    const events: JournalEvent[] = [];
    journal.subscribe((e) => events.push(e));
    const h = startSnmp({ socket: 'udp:localhost:705', journal, snapshot: () => referenceSnapshot(2), enable: ALL, traps: false });
    expect(h.status().connected).toBe(false);
    expect(events[0]).toMatchObject({ type: 'snmp.agentx', connected: false });
    expect((events[0] as { error?: string }).error).toMatch(/stream transport/);
  });
});
