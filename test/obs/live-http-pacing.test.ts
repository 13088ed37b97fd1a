/**
 * The HTTP server paces its handlers (src/http/server.ts Pacer): the VRRP FSM shares the
 * event loop, and a due advert is sent from setImmediate after the poll phase, so a crowd
 * of scrapers handled all at once delays adverts (bench/send-lag.mjs measured 50
 * scrapers → send lag p50 48 ms, p99 194 ms and 395 ms between two adverts of a 100 ms
 * instance, more than its Master_Down_Interval, before the pacing).
 *
 * Checked here without any timing assertion, on the real server over loopback:
 *  - no event-loop turn runs more than `requestsPerTurn` handlers, however many clients
 *    send at once (a self-rescheduling setImmediate counts the turns: it runs exactly
 *    once per loop iteration, in the same check phase as the pacer);
 *  - every scrape is answered from a render that started after the request was sent
 *    (never a stale body), and a crowd of scrapes shares renders.
 */
import * as http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHttpServer, type HttpServer } from '../../src/http/server';

const PORT = 19830;
let server: HttpServer;
let turn = 0;
let ticker: NodeJS.Immediate | undefined;
/** loop turn of every /json handler call */
const jsonTurns: number[] = [];
let rendersStarted = 0;

beforeAll(async () => {
  const tick = () => {
    turn++;
    ticker = setImmediate(tick);
  };
  tick();
  server = await startHttpServer({
    listenAddress: `127.0.0.1:${PORT}`,
    metrics: {
      // each render is numbered; the body says which render it is
      render: async () => {
        const n = ++rendersStarted;
        return { contentType: 'text/plain; version=0.0.4; charset=utf-8', body: `# render ${n}\nkeepalived_up 1\n` };
      },
    },
    json: () => {
      jsonTurns.push(turn);
      return '[]';
    },
    healthy: () => true,
  });
});

afterAll(async () => {
  if (ticker) clearImmediate(ticker);
  await server?.close();
});

function get(agent: http.Agent, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port: PORT, path, agent }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

describe('HTTP handler pacing', () => {
  it('at most 2 handlers per event-loop turn, whatever the number of concurrent clients', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 60 });
    // warm the 60 connections, then fire 60 requests per round at once, 5 rounds
    await Promise.all(Array.from({ length: 60 }, () => get(agent, '/healthz')));
    jsonTurns.length = 0;
    for (let round = 0; round < 5; round++) {
      const rs = await Promise.all(Array.from({ length: 60 }, () => get(agent, '/json')));
      expect(rs.every((r) => r.status === 200 && r.body === '[]')).toBe(true);
    }
    agent.destroy();
    expect(jsonTurns).toHaveLength(300);
    const perTurn = new Map<number, number>();
    for (const t of jsonTurns) perTurn.set(t, (perTurn.get(t) ?? 0) + 1);
    expect(Math.max(...perTurn.values())).toBeLessThanOrEqual(2);
  });

  it('every scrape gets a render that started after it was sent; a crowd shares renders', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 50 });
    const before = rendersStarted;
    const results = await Promise.all(
      Array.from({ length: 200 }, async (_, k) => {
        // stagger a little so requests keep arriving while renders happen
        if (k % 50 === 0) await new Promise((r) => setImmediate(r));
        const sentAfter = rendersStarted;
        const r = await get(agent, '/metrics');
        return { sentAfter, r };
      }),
    );
    agent.destroy();
    for (const { sentAfter, r } of results) {
      expect(r.status).toBe(200);
      const n = Number(/^# render (\d+)$/m.exec(r.body)![1]);
      // a render numbered ≤ sentAfter had started before the request was even sent
      expect(n).toBeGreaterThan(sentAfter);
    }
    const renders = rendersStarted - before;
    expect(renders).toBeGreaterThan(0);
    expect(renders).toBeLessThan(200);
  });
});
