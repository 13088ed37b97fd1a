/**
 * TCP_CHECK reconnects one socket per checker (one AbortSignal per checker lifetime):
 * outcomes must stay exactly those of fresh sockets, whatever the previous probe of the
 * same checker did (success, refusal, a probe started before the previous one closed, an
 * abort). Real sockets on 127.0.0.1, this suite's ports 19380-19381.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:net';
import { probeTcp, tcpProbeSocket } from '../../src/check/probe-tcp';
import { tcpCheck } from '../../src/lvs/spec';
import { waitFor } from '../helpers/netns';

const H = '127.0.0.1';
const P = { open: 19380, closed: 19381 };

describe('TCP_CHECK socket reuse', () => {
  let srv: Server;
  const peers: number[] = [];
  beforeAll(async () => {
    srv = createServer((s) => {
      if (s.remotePort) peers.push(s.remotePort);
      s.on('error', () => undefined);
      s.end();
    });
    await new Promise<void>((r, j) => {
      srv.once('error', j);
      srv.listen(P.open, H, () => r());
    });
  });
  afterAll(() => new Promise<void>((r) => srv.close(() => r())));

  const open = tcpCheck({ address: H, port: P.open }, { connectTimeoutMs: 5_000 });
  const closed = tcpCheck({ address: H, port: P.closed }, { connectTimeoutMs: 5_000 });

  it('successes and refusals alternate correctly on one reconnected socket', async () => {
    const ac = new AbortController();
    peers.length = 0;
    const seq = [open, closed, open, closed, open, open];
    const got = [];
    const sockets = new Set<unknown>();
    for (const spec of seq) {
      got.push(await probeTcp(spec, ac.signal));
      // the next probe reconnects this socket once it has closed
      await waitFor(() => tcpProbeSocket(ac.signal)?.idle === true, 'the probe socket to close');
      sockets.add(tcpProbeSocket(ac.signal)?.socket);
    }
    expect(got).toEqual([{ ok: true }, { ok: false, detail: 'ECONNREFUSED' }, { ok: true }, { ok: false, detail: 'ECONNREFUSED' }, { ok: true }, { ok: true }]);
    expect(sockets.size).toBe(1);
    // four real connections, each its own connect (source port)
    await waitFor(() => peers.length >= 4, 'the server to accept four connections');
    expect(peers).toHaveLength(4);
    expect(new Set(peers).size).toBe(4);
  });

  it('a probe that starts before the previous connection closed is not confused by it', async () => {
    const ac = new AbortController();
    const a = await probeTcp(open, ac.signal);
    // no wait: the first socket has not emitted 'close' yet
    const b = await probeTcp(closed, ac.signal);
    const c = await probeTcp(open, ac.signal);
    expect([a, b, c]).toEqual([{ ok: true }, { ok: false, detail: 'ECONNREFUSED' }, { ok: true }]);
  });

  it('an aborted checker settles as aborted, also when already aborted before the probe', async () => {
    const ac = new AbortController();
    expect(await probeTcp(open, ac.signal)).toEqual({ ok: true });
    ac.abort();
    expect(await probeTcp(open, ac.signal)).toEqual({ ok: false, detail: 'aborted' });
    // another checker is unaffected
    expect(await probeTcp(open, new AbortController().signal)).toEqual({ ok: true });
  });
});
