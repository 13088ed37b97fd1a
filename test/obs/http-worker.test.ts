/**
 * The HTTP endpoint as the daemon runs it: in a worker thread (src/http/worker-host.ts),
 * fed from this thread's journal and snapshot provider. Real worker thread, real sockets on
 * loopback; no timing assertions — every wait is on a condition with a generous deadline.
 *
 *  - every scrape answers from a snapshot taken after the request was sent, and counts
 *    every journal event emitted before it (events reach the worker ahead of the snapshot);
 *  - a crowd of concurrent scrapes costs this thread far fewer snapshots than scrapes;
 *  - /json and /healthz answer from this thread's state;
 *  - a worker that dies is restarted and serves again; a listen failure is an error at start.
 */
import * as http from 'node:http';
import * as net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { startHttpWorker } from '../../src/http/worker-host';
import { Journal } from '../../src/journal/journal';
import { waitFor as until } from '../../src/lab/netns';
import { addDefaultMetrics } from '../../src/observe/metrics';
import type { AgentSnapshot } from '../../src/state/snapshot';
import { makeInstance, makeSnapshot } from './fixtures';

const PORT = 19831; // and 19832 for the listen-failure case
const journal = new Journal();
let snapshots = 0;
let healthy = true;
let state: 'BACKUP' | 'MASTER' = 'BACKUP';
const errors: Error[] = [];

/** each snapshot is numbered in reload.successes, so a body says which snapshot it came from */
function snapshot(): AgentSnapshot {
  snapshots++;
  return makeSnapshot({
    routerId: 'test',
    instances: [makeInstance({ iname: 'VI_1', vrid: 51, state, wantstate: state })],
    reload: { lastSuccessful: true, lastSuccessWall: 0, successes: snapshots, failures: 0 },
  });
}

let server: Awaited<ReturnType<typeof startHttpWorker>>;

beforeAll(async () => {
  server = await startHttpWorker({
    listenAddress: `127.0.0.1:${PORT}`,
    journal,
    snapshot,
    healthy: () => healthy,
    defaultMetrics: addDefaultMetrics(new Registry()),
    version: '0.1.0',
    onError: (e) => errors.push(e),
    restartDelayMs: 50,
  });
});

afterAll(async () => {
  await server?.close();
});

function get(path: string, agent?: http.Agent): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port: PORT, path, agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.setTimeout(20_000, () => req.destroy(new Error('timeout')));
  });
}
const sample = (body: string, prefix: string): number | undefined => {
  const line = body.split('\n').find((l) => l.startsWith(prefix));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
};
const transitions = (body: string) =>
  body
    .split('\n')
    .filter((l) => l.startsWith('keepalived_vrrp_transitions_total{'))
    .reduce((a, l) => a + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);

describe('HTTP worker thread', () => {
  it('every scrape counts every event emitted before it and comes from a snapshot taken after it was sent', async () => {
    for (let k = 1; k <= 15; k++) {
      journal.emit({ type: 'vrrp.transition', instance: 'VI_1', vrid: 51, intf: 'eth0', from: k % 2 ? 'BACKUP' : 'MASTER', to: k % 2 ? 'MASTER' : 'BACKUP', reason: 'master_timeout', priority: 100, masterPriority: 0 });
      const before = snapshots;
      const r = await get('/metrics');
      expect(r.status).toBe(200);
      expect(transitions(r.body)).toBe(k);
      expect(sample(r.body, 'keepalived_config_reloads_total{result="success"}')).toBeGreaterThan(before);
      // the main thread's own runtime metrics come along (event-loop lag of THIS thread)
      expect(r.body).toContain('nodejs_eventloop_lag_seconds');
    }
  });

  it('/json and /healthz answer from this thread', async () => {
    state = 'MASTER';
    expect(JSON.parse((await get('/json')).body)[0].data.state).toBe(2);
    state = 'BACKUP';
    expect(JSON.parse((await get('/json')).body)[0].data.state).toBe(1);
    healthy = false;
    expect((await get('/healthz')).status).toBe(503);
    healthy = true;
    expect((await get('/healthz')).status).toBe(200);
  });

  it('a crowd of concurrent scrapes shares snapshots; each body is from after its request', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 40 });
    await Promise.all(Array.from({ length: 40 }, () => get('/healthz', agent)));
    let scrapes = 0;
    const s0 = snapshots;
    for (let round = 0; round < 5; round++) {
      const sentAfter = snapshots;
      const rs = await Promise.all(Array.from({ length: 40 }, () => get('/metrics', agent)));
      for (const r of rs) {
        expect(r.status).toBe(200);
        expect(sample(r.body, 'keepalived_config_reloads_total{result="success"}')).toBeGreaterThan(sentAfter);
      }
      scrapes += rs.length;
    }
    agent.destroy();
    expect(scrapes).toBe(200);
    // at most one request outstanding, shared by all waiting scrapes
    expect(snapshots - s0).toBeLessThan(scrapes / 4);
  });

  it('a worker that dies is restarted and serves again', async () => {
    const w = server.worker;
    expect(w).toBeDefined();
    await w!.terminate();
    await until(async () => server.restarts >= 1 && server.worker !== undefined && server.worker !== w, 'worker restarted', 30_000);
    const r = await until(async () => {
      const x = await get('/metrics');
      return x.status === 200 ? x : undefined;
    }, 'scrape after restart', 30_000);
    expect(r.body).toContain('keepalived_up 1');
    expect(errors.some((e) => (e as { crash?: boolean }).crash && /HTTP worker exited/.test(e.message))).toBe(true);
    // events after the restart are counted by the new worker
    journal.emit({ type: 'vrrp.transition', instance: 'VI_1', vrid: 51, intf: 'eth0', from: 'BACKUP', to: 'MASTER', reason: 'master_timeout', priority: 100, masterPriority: 0 });
    expect(transitions((await get('/metrics')).body)).toBe(1);
  });

  it('a listen failure is an error at start, and nothing is left running', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(PORT + 1, '127.0.0.1', r));
    try {
      await expect(startHttpWorker({ listenAddress: `127.0.0.1:${PORT + 1}`, journal, snapshot, healthy: () => true })).rejects.toThrow(/EADDRINUSE|address already in use/);
    } finally {
      blocker.close();
    }
  });
});
