/**
 * bfd_instance (keepalived 2.2.7 bfd/bfd_parser.c init_bfd_keywords). Each
 * process installs different handlers for the same block: the BFD process
 * reads the session parameters, the VRRP process only the name and `weight`
 * (for track_bfd), the checker process only the name (for BFD_CHECK).
 */
import { ConfErr } from './diag';
import { kw, root, type Kw, type StrVec } from './engine';
import { readDecimal, readInt, readUnsigned } from './cnum';
import { inetStosockaddr, ipEqual } from './inet';
import type { BfdDraft, Ctx, Prog } from './ctx';

export function bfdKeywords(ctx: Ctx, prog: Prog, active: boolean): Kw[] {
  const { rep } = ctx;
  const err = (m: string): void => rep.error(ConfErr.GENERAL_ERROR, m);
  let events: Set<'vrrp' | 'checker'> = new Set();
  const full = prog === 'bfd' || !active;
  let neighborWord = 'neighbor';

  let cur: BfdDraft | null = null;
  const ignore = (): void => {};
  const onlyFull = (h: (sv: StrVec) => void) => (sv: StrVec | null): void => (full ? h(sv!) : ignore());

  const decimal = (sv: StrVec, min: number, max: number, what: string, set: (v: number) => void): void => {
    const v = readDecimal(rep, sv.slot(1), min * 1000, max * 1000, 3, false);
    if (v === null) return err(`Configuration error: BFD instance ${cur!.name} ${what} value ${sv.slot(1)} is not valid (must be in range [${min}-${max}]), ignoring`);
    set(v);
    if (v > 10000 * 1000) rep.log(`Configuration warning: BFD instance ${cur!.name} ${what} value ${sv.slot(1)} is larger than max sensible (10000)`);
  };
  const MAXMS = Math.floor(4294967295 / 1000);

  const subs: Kw[] = [
    kw(
      'source_ip',
      onlyFull((sv) => {
        const a = inetStosockaddr(rep, sv.slot(1), null);
        if (!a) return err(`Configuration error: BFD instance ${cur!.name} has malformed source address ${sv.slot(1)}, ignoring`);
        cur!.src = a.ip;
      }),
    ),
    ...['neighbor_ip', 'neighbour_ip'].map((k) =>
      kw(
        k,
        onlyFull((sv) => {
          // keepalived compares word 1 (not 0) with "neighbour_ip" here
          if (sv.t[1] === 'neighbour_ip') neighborWord = 'neighbour';
          const a = inetStosockaddr(rep, sv.slot(1), '3784');
          if (!a) {
            err(`Configuration error: BFD instance ${cur!.name} has malformed ${neighborWord} address ${sv.slot(1)}, ignoring instance`);
            cur!.removed = true;
            ctx.d.skipBlock(false);
            return;
          }
          cur!.nbr = a.ip;
        }),
      ),
    ),
    kw('min_rx', onlyFull((sv) => decimal(sv, 1, MAXMS, 'min_rx', (v) => (cur!.minRxMs = v / 1000)))),
    kw('min_tx', onlyFull((sv) => decimal(sv, 1, MAXMS, 'min_tx', (v) => (cur!.minTxMs = v / 1000)))),
    kw('idle_tx', onlyFull((sv) => decimal(sv, 1000, MAXMS, 'idle_tx', (v) => (cur!.idleTxMs = v / 1000)))),
    kw(
      'multiplier',
      onlyFull((sv) => {
        const v = readUnsigned(rep, sv.slot(1), 1, 255);
        if (v === null) return err(`Configuration error: BFD instance ${cur!.name} multiplier value ${sv.slot(1)} not valid (must be in range [1-255]), ignoring`);
        cur!.multiplier = v;
      }),
    ),
    kw('passive', onlyFull(() => (cur!.passive = true))),
    ...['ttl', 'hoplimit'].map((k) =>
      kw(
        k,
        onlyFull((sv) => {
          const v = readUnsigned(rep, sv.slot(1), 1, 255);
          if (v === null) return err(`Configuration error: BFD instance ${cur!.name} ttl/hoplimit value ${sv.slot(1)} not valid (must be in range [1-255]), ignoring`);
          cur!.ttl = v;
          cur!.ttlSet = true;
        }),
      ),
    ),
    kw(
      'max_hops',
      onlyFull((sv) => {
        const v = readInt(rep, sv.slot(1), -1, 255);
        if (v === null) return err(`Configuration error: BFD instance ${cur!.name} max_hops value ${sv.slot(1)} not valid (must be in range [-1-255]), ignoring`);
        cur!.maxHops = v;
      }),
    ),
    kw('weight', (sv) => {
      if (prog !== 'vrrp') return;
      const t = ctx.vrrp.trackBfds[ctx.vrrp.trackBfds.length - 1];
      const v = readInt(rep, sv!.slot(1), -253, 253);
      if (v === null) err(`Configuration error: BFD instance ${t.name} weight value ${sv!.slot(1)} not valid (must be in range [-253-253]), ignoring`);
      else t.weight = v;
      if (sv!.size >= 3) {
        if (sv!.slot(2) !== 'reverse') err(`Configuration error: BFD instance ${t.name} unknown weight option ${sv!.slot(2)}`);
        else t.reverse = true;
      }
    }),
    kw('vrrp', () => void events.add('vrrp')),
    kw('checker', () => void events.add('checker')),
  ];

  if (full) {
    return [
      root(
        'bfd_instance',
        active,
        (sv) => {
          ctx.haveBfdConfig = true;
          if (!sv) return;
          const name = sv.raw(1) ?? '';
          if (name.length >= 32) {
            err(`Configuration error: BFD instance ${name} name too long (maximum length is 31 characters) - ignoring`);
            ctx.d.skipBlock(true);
            cur = null;
            return;
          }
          if (ctx.bfd.instances.some((b) => b.name === name && !b.removed)) {
            err(`Configuration error: BFD instance ${name} already configured - ignoring`);
            ctx.d.skipBlock(true);
            cur = null;
            return;
          }
          cur = {
            name,
            file: rep.pos.file,
            line: rep.pos.line,
            neighborIp: '',
            family: 'inet',
            minRxMs: 10,
            minTxMs: 10,
            idleTxMs: 1000,
            multiplier: 5,
            passive: false,
            ttl: 0,
            maxHops: 0,
            weight: 0,
            weightReverse: false,
            sendToVrrp: true,
            sendToChecker: true,
            ttlSet: false,
          };
          ctx.bfd.instances.push(cur);
          events = new Set();
        },
        subs,
        () => {
          const b = cur!;
          if (!b.nbr) {
            err(`Configuration error: BFD instance ${b.name} has no ${neighborWord} address set, disabling instance`);
            b.removed = true;
            return;
          }
          if (b.src && b.src.family !== b.nbr.family) {
            err(`Configuration error: BFD instance ${b.name} source address ${b.src.text} and ${neighborWord} address ${b.nbr.text} are not of the same family, disabling instance`);
            b.removed = true;
            return;
          }
          const dup = ctx.bfd.instances.find((o) => o !== b && !o.removed && o.nbr && ipEqual(o.nbr, b.nbr!) && (!o.src || !b.src || ipEqual(o.src, b.src)));
          if (dup) {
            if (b.src) err(`Configuration error: BFD instance ${b.name} has duplicate source/${neighborWord} address ${b.src.text}/${b.nbr.text}, ignoring instance`);
            else err(`Configuration error: BFD instance ${b.name} has duplicate ${neighborWord} address ${b.nbr.text}, ignoring instance`);
            b.removed = true;
            return;
          }
          b.neighborIp = b.nbr.text;
          b.sourceIp = b.src?.text;
          b.family = b.nbr.family;
          if (!b.ttl) b.ttl = b.family === 'inet' ? 255 : 64;
          if (b.maxHops > b.ttl) {
            err(`BFD instance ${b.name}: max_hops exceeds ttl/hoplimit - setting to ttl/hoplimit`);
            b.maxHops = b.ttl;
          }
          b.sendToVrrp = !events.size || events.has('vrrp');
          b.sendToChecker = !events.size || events.has('checker');
        },
      ),
    ];
  }
  if (prog === 'vrrp') {
    return [
      root(
        'bfd_instance',
        active,
        (sv) => {
          if (!sv) return;
          const name = sv.slot(1);
          if (name.length >= 32) {
            err(`BFD name ${name} too long`);
            ctx.d.skipBlock(true);
            return;
          }
          if (ctx.vrrp.trackBfds.some((t) => t.name === name)) {
            err(`BFD ${name} already specified`);
            ctx.d.skipBlock(true);
            return;
          }
          ctx.vrrp.trackBfds.push({ name, weight: 0, reverse: false });
          events = new Set();
        },
        subs,
        () => {
          if (events.size && !events.has('vrrp')) ctx.vrrp.trackBfds.pop();
        },
      ),
    ];
  }
  return [
    root(
      'bfd_instance',
      active,
      (sv) => {
        if (!sv) return;
        const name = sv.raw(1) ?? '';
        if (ctx.check.trackBfds.includes(name)) {
          err(`BFD ${name} already specified`);
          ctx.d.skipBlock(true);
          return;
        }
        ctx.check.trackBfds.push(name);
        events = new Set();
      },
      subs,
      () => {
        if (events.size && !events.has('checker')) ctx.check.trackBfds.pop();
      },
    ),
  ];
}
