/**
 * "The channels agree": one failover story told by every output channel of real
 * daemons, and the numbers must match.
 *
 *   kwtcca 192.0.2.11  a: VI_1 priority 150, tracks vrrp_script chk (test -e DIR/healthy)
 *   kwtccb 192.0.2.12  b: VI_1 priority 100
 *   kwtcccl 192.0.2.100  OTLP/HTTP receiver (:19820)
 *   VI_1: VRRPv3, VRID 51, 100 ms adverts, VIP 192.0.2.50/24
 *
 * Story: a starts (MASTER), b starts (BACKUP); a crashes (kill -9 of its process group);
 * a returns and preempts; a's vrrp_script fails (a → FAULT) and recovers (a preempts
 * again); a is stopped with SIGTERM.
 *
 * Channels, all read from outside the process:
 *   M  /metrics   keepalived_vrrp_transitions_total{from,to,reason}, keepalived_become_master_total,
 *                 keepalived_release_master_total, keepalived_vrrp_last_transition_timestamp_seconds
 *   J  /json      stats.become_master / stats.release_master, data.state, data.last_transition
 *   D  the JSON signal dump ($TMPDIR/keepalived.json after `kill -s $(keepwatch --signum=JSON)`)
 *   L  the pino JSON log lines on stdout (event "vrrp.transition": instance, vrid, from, to, reason, priorities)
 *   S  the `vrrp.transition` spans received over OTLP (resource service.instance.id = one process start)
 *
 * What must be equal, and why:
 *  1. The bag of (from, to, reason) transitions is the same in M, L and S, and it is the
 *     one the story implies: all three are observers of the same journal event
 *     (vrrp.transition), one record / one counter increment / one span per event.
 *  2. become_master is the same in M, J and D and equals the number of transitions
 *     to MASTER: J and D render the same snapshot counters that M's compat family exports,
 *     and the FSM counts become_master exactly when it enters MASTER (keepalived
 *     vrrp_state_become_master).
 *  3. release_master is the same in M, J and D and equals the transitions from MASTER to
 *     BACKUP or FAULT — NOT to STOP: keepalived counts release_master in
 *     vrrp_state_leave_master only; a shutdown (restore_vrrp_interfaces) releases the
 *     VIPs without counting it.
 *  4. L and S carry the same transitions in the same order with the same wall-clock
 *     time (log "time" = span start, to the millisecond: both take the journal event's
 *     wall time) and the same priorities.
 *  5. J's last_transition and M's last-transition timestamp belong to the last
 *     transition of L (set just before that event is journaled, after the one before
 *     it), and J's state is that transition's `to`.
 *
 * Scope, per process start: a restarted daemon is a new process, so its counters (M, J,
 * D) start again at 0, its log is a new stdout and its spans carry a new
 * service.instance.id. The crashed first run of a is compared while it still runs
 * (after kill -9 its /metrics are gone, and log lines or spans still buffered in the
 * process are lost — that is what a crash is). The restarted a is compared from its
 * restart on: before its SIGTERM for all five channels, and after it exited for L and S,
 * which must then hold exactly one more transition, MASTER→STOP (shutdown), flushed on
 * the way out. b runs through the whole story and is compared at the end.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeLab, waitFor, type Lab } from '../helpers/netns';
import { startOtlpReceiver, type OtlpReceiver } from '../helpers/otlp-receiver';
import {
  bagOf,
  metricTransitions,
  parseProm,
  promValue,
  removeDirs,
  sortBag,
  startLive,
  STATE_NAME,
  sumBag,
  type LiveAgent,
  type TransitionBag,
} from './live-lab';

const RX_PORT = 19820;
const PORT_A = 19821;
const PORT_B = 19822;
const I = 'VI_1';

function config(router: string, prio: number, healthFile?: string): string {
  const script = healthFile
    ? `vrrp_script chk {
    script "/usr/bin/test -e ${healthFile}"
    interval 1
    rise 1
    fall 1
}
`
    : '';
  return `global_defs {
    router_id ${router}
    script_user root
    enable_script_security
}
${script}vrrp_instance ${I} {
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority ${prio}
    advert_int 0.1
    version 3
    virtual_ipaddress {
        192.0.2.50/24 dev eth0
    }
${healthFile ? '    track_script {\n        chk\n    }\n' : ''}}
`;
}

let lab: Lab;
let rx: OtlpReceiver;
let aDir: string;
let healthy: string;
const agents: LiveAgent[] = [];

async function start(host: 'a' | 'b', id: string): Promise<LiveAgent> {
  const conf = host === 'a' ? config('a', 150, healthy) : config('b', 100);
  const ag = await startLive(lab.hosts[host]!, conf, {
    port: host === 'a' ? PORT_A : PORT_B,
    tag: `chan-${host}`,
    ...(host === 'a' ? { dir: aDir } : {}),
    env: { OTEL_EXPORTER_OTLP_ENDPOINT: rx.endpoint, OTEL_BSP_SCHEDULE_DELAY: '100', OTEL_RESOURCE_ATTRIBUTES: `service.instance.id=${id}` },
  });
  agents.push(ag);
  return ag;
}

beforeAll(async () => {
  lab = makeLab('cc', [
    { name: 'a', v4: ['192.0.2.11/24'] },
    { name: 'b', v4: ['192.0.2.12/24'] },
    { name: 'cl', v4: ['192.0.2.100/24'] },
  ]);
  rx = await startOtlpReceiver(lab.hosts.cl!, '192.0.2.100', RX_PORT);
  aDir = fs.mkdtempSync(path.join('/tmp', 'kwc-chan-a-'));
  healthy = path.join(aDir, 'healthy');
  fs.writeFileSync(healthy, '');
});

afterAll(async () => {
  await Promise.all(agents.map((a) => a.stop(10_000).catch(() => a.crash())));
  await rx?.stop();
  lab?.destroy();
  removeDirs([aDir, ...agents.map((a) => a.dir)]);
});

// ------------------------------------------------------------------ channel readers

interface Tuple {
  wall: number;
  from: string;
  to: string;
  reason: string;
  priority: number;
  masterPriority: number;
}

/** L: the transition records of one process's stdout, in order */
function logTuples(ag: LiveAgent): Tuple[] {
  return ag
    .records()
    .filter((r) => r.event === 'vrrp.transition' && r.instance === I)
    .map((r) => ({ wall: r.time, from: String(r.from), to: String(r.to), reason: String(r.reason), priority: Number(r.priority), masterPriority: Number(r.masterPriority) }));
}

/** S: the transition spans of one process start, in start order */
function spanTuples(id: string): Tuple[] {
  return rx.spans
    .filter((s) => s.name === 'vrrp.transition' && s.resource['service.instance.id'] === id && s.attributes['vrrp.instance'] === I)
    .sort((x, y) => (x.startNs < y.startNs ? -1 : x.startNs > y.startNs ? 1 : 0))
    .map((s) => ({
      wall: Number(s.startNs / 1_000_000n),
      from: String(s.attributes['vrrp.state.from']),
      to: String(s.attributes['vrrp.state.to']),
      reason: String(s.attributes['vrrp.reason']),
      priority: Number(s.attributes['vrrp.priority.effective']),
      masterPriority: Number(s.attributes['vrrp.priority.master']),
    }));
}

const same = (x: unknown, y: unknown) => JSON.stringify(x) === JSON.stringify(y);

/** L and S are asynchronous (pino's async destination, the span processor's batch timer): wait until they hold `expected`. */
async function waitLogsAndSpans(ag: LiveAgent, id: string, expected: TransitionBag): Promise<{ logs: Tuple[]; spans: Tuple[] }> {
  const want = sortBag(expected);
  try {
    await waitFor(() => same(sortBag(bagOf(logTuples(ag))), want) && same(sortBag(bagOf(spanTuples(id))), want), `${id}: log lines and spans holding ${JSON.stringify(want)}`, 30_000, 50);
  } catch {
    /* the assertions below show the difference */
  }
  const logs = logTuples(ag);
  const spans = spanTuples(id);
  expect(sortBag(bagOf(logs)), `${id} log transitions`).toEqual(want);
  expect(sortBag(bagOf(spans)), `${id} span transitions`).toEqual(want);
  // 4. same transitions, same order, same wall-clock millisecond, same priorities
  expect(spans, `${id} spans vs log lines`).toEqual(logs);
  return { logs, spans };
}

const toMaster = (b: TransitionBag) => sumBag(b, (_f, to) => to === 'MASTER');
const released = (b: TransitionBag) => sumBag(b, (from, to) => from === 'MASTER' && (to === 'BACKUP' || to === 'FAULT'));

/** Compare all five channels of a running process against the transitions the story implies. */
async function expectChannelsAgree(ag: LiveAgent, id: string, expected: TransitionBag): Promise<void> {
  const want = sortBag(expected);
  const { logs } = await waitLogsAndSpans(ag, id, expected);

  const m = parseProm(await ag.metrics());
  const json = (await ag.json()).find((x) => x.data.iname === I)!;
  const dump = (await ag.jsonDump()).find((x) => x.data.iname === I)!;

  // 1. M = L = S = the story
  expect(sortBag(metricTransitions(m, I)), `${id} keepalived_vrrp_transitions_total`).toEqual(want);
  // 2. become_master: M = J = D = transitions to MASTER
  const become = toMaster(want);
  expect(promValue(m, 'keepalived_become_master_total', { iname: I }), `${id} M become_master`).toBe(become);
  expect(json.stats.become_master, `${id} J become_master`).toBe(become);
  expect(dump.stats.become_master, `${id} D become_master`).toBe(become);
  // 3. release_master: M = J = D = MASTER → BACKUP/FAULT transitions (shutdown is not counted)
  const release = released(want);
  expect(promValue(m, 'keepalived_release_master_total', { iname: I }), `${id} M release_master`).toBe(release);
  expect(json.stats.release_master, `${id} J release_master`).toBe(release);
  expect(dump.stats.release_master, `${id} D release_master`).toBe(release);
  // 5. the current state and the last-transition time belong to the last logged transition
  const last = logs[logs.length - 1]!;
  const prev = logs[logs.length - 2];
  expect(STATE_NAME[json.data.state]).toBe(last.to);
  expect(STATE_NAME[dump.data.state]).toBe(last.to);
  expect(promValue(m, 'keepalived_vrrp_status', { iname: I, state: last.to })).toBe(1);
  for (const [what, sec] of [
    ['J last_transition', json.data.last_transition],
    ['D last_transition', dump.data.last_transition],
    ['M keepalived_vrrp_last_transition_timestamp_seconds', promValue(m, 'keepalived_vrrp_last_transition_timestamp_seconds', { iname: I })!],
  ] as const) {
    const ms = Math.round(sec * 1000);
    expect(ms, `${id} ${what} ≤ last transition`).toBeLessThanOrEqual(last.wall);
    if (prev) expect(ms, `${id} ${what} ≥ the transition before`).toBeGreaterThanOrEqual(prev.wall);
  }
}

// ------------------------------------------------------------------ the story

const bag = (entries: [string, number][]): TransitionBag => Object.fromEntries(entries);

describe('the channels agree (metrics, /json, JSON dump, pino log, OTLP spans)', () => {
  let a1: LiveAgent;
  let a2: LiveAgent;
  let b: LiveAgent;
  /** a's first run: a vrrp_script in its first run holds the instance in FAULT (init) until it reports */
  const aStart = bag([
    ['INIT>FAULT:startup', 1],
    ['FAULT>BACKUP:track_script', 1],
  ]);

  it('a starts and becomes MASTER; b starts as BACKUP; a (first run) agrees with itself', async () => {
    a1 = await start('a', 'a-1');
    await a1.waitState('MASTER');
    b = await start('b', 'b-1');
    await b.waitState('BACKUP');
    await expectChannelsAgree(a1, 'a-1', { ...aStart, 'BACKUP>MASTER:master_timeout': 1 });
  });

  it('a crashes (kill -9): b takes over on the master down timer', async () => {
    await a1.crash();
    await b.waitState('MASTER');
    await expectChannelsAgree(
      b,
      'b-1',
      bag([
        ['INIT>BACKUP:startup', 1],
        ['BACKUP>MASTER:master_timeout', 1],
      ]),
    );
  });

  it('a returns and preempts b; a restarted process counts from 0', async () => {
    a2 = await start('a', 'a-2');
    await a2.waitState('MASTER');
    await b.waitState('BACKUP');
    // a's second run, from its restart on: nothing of the first run is in its counters
    await expectChannelsAgree(a2, 'a-2', { ...aStart, 'BACKUP>MASTER:preempt': 1 });
  });

  it("a's vrrp_script fails (a → FAULT, b MASTER) and recovers (a preempts again)", async () => {
    fs.rmSync(healthy);
    await a2.waitState('FAULT');
    await b.waitState('MASTER');
    fs.writeFileSync(healthy, '');
    await a2.waitState('MASTER');
    await b.waitState('BACKUP');
    await expectChannelsAgree(
      a2,
      'a-2',
      bag([
        ['INIT>FAULT:startup', 1],
        ['FAULT>BACKUP:track_script', 2],
        ['BACKUP>MASTER:preempt', 2],
        ['MASTER>FAULT:track_script', 1],
      ]),
    );
  });

  it('a stops (SIGTERM): b takes over on the priority-0 advert; the log and spans of a end with MASTER→STOP', async () => {
    // the last scrape of a before it stops: its counters at the end of its life
    const before = parseProm(await a2.metrics());
    const bagBefore = metricTransitions(before, I);
    expect((await a2.stop()).code).toBe(0);
    await b.waitState('MASTER');

    // a (exited): L and S = the last M + exactly one MASTER→STOP (shutdown)
    const final = { ...bagBefore, 'MASTER>STOP:shutdown': 1 };
    const { logs } = await waitLogsAndSpans(a2, 'a-2', final);
    expect(logs[logs.length - 1]).toMatchObject({ from: 'MASTER', to: 'STOP', reason: 'shutdown' });
    // release_master did not move with the shutdown (keepalived counts it in leave_master only)
    expect(promValue(before, 'keepalived_release_master_total', { iname: I })).toBe(released(final));

    // b ran through the whole story
    await expectChannelsAgree(
      b,
      'b-1',
      bag([
        ['INIT>BACKUP:startup', 1],
        ['BACKUP>MASTER:master_timeout', 1],
        ['MASTER>BACKUP:higher_priority_master', 2],
        ['BACKUP>MASTER:priority_zero_received', 2],
      ]),
    );
  });
});
