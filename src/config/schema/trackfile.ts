/**
 * track_file / vrrp_track_file blocks (keepalived/trackers/track_file.c
 * add_track_file_keywords): active in the checker and VRRP processes, each
 * keeping its own list, so references are resolved in file order.
 */
import type { TrackFile } from '../model';
import { ConfErr } from './diag';
import { kw, root, type Kw, type StrVec } from './engine';
import { readInt } from './cnum';
import type { Ctx, TrackRefDraft } from './ctx';

export function trackFileKeywords(ctx: Ctx, active: boolean, list: () => TrackFile[]): Kw[] {
  const { rep } = ctx;
  const err = (m: string): void => rep.error(ConfErr.GENERAL_ERROR, m);
  let cur: TrackFile | null = null;
  /**
   * keepalived keeps file_path as a pointer: `file ""` sets it (to an empty
   * string) and the block is accepted (verified: -t exits 0), so "set" is
   * not the same as "non-empty" here.
   */
  const pathSet = new WeakSet<TrackFile>();

  const start = (sv: StrVec | null, deprecated: boolean): void => {
    if (!sv) return;
    if (deprecated) rep.log('"vrrp_track_file" is deprecated, please use "track_file"');
    cur = { name: sv.slot(1), path: '', weight: 1, weightReverse: false, file: rep.pos.file, line: rep.pos.line };
  };
  const subs = (): Kw[] => [
    kw('file', (sv) => {
      if (sv!.size < 2) return err('track file file name missing');
      if (!cur) return;
      if (pathSet.has(cur)) return err(`File already set for track file ${cur.name} - ignoring ${sv!.slot(1)}`);
      cur.path = sv!.slot(1);
      pathSet.add(cur);
    }),
    kw('weight', (sv) => {
      if (sv!.size < 2) return err(`No weight specified for track file ${cur?.name} - ignoring`);
      if (!cur) return;
      if (cur.weight !== 1) return err(`Weight already set for track file ${cur.name} - ignoring ${sv!.slot(1)}`);
      let w = readInt(rep, sv!.slot(1), -254, 254);
      if (w === null) {
        err(`Weight (${sv!.slot(1)}) for track_file ${cur.name} must be between [-254..254] inclusive. Ignoring...`);
        w = 1;
      }
      cur.weight = w;
      if (sv!.size >= 3) {
        if (sv!.slot(2) === 'reverse') cur.weightReverse = true;
        else err(`track_file ${cur.name} unknown weight option ${sv!.slot(2)}`);
      }
    }),
    kw('init_file', (sv) => {
      if (!cur) return;
      cur.initFile = { value: 0, overwrite: false };
      for (let i = 1; i < sv!.size; i++) {
        const word = sv!.slot(i).replace(/^[ \t\f\n\r\v]+/, '');
        if (/^[0-9-]/.test(word)) {
          let v = readInt(rep, sv!.slot(i), -2147483648, 2147483647);
          if (v === null) {
            err(`Track file ${cur.name} init value ${word} is invalid`);
            v = 0;
          } else if (v < -254 || v > 254) err(`Track file ${cur.name} init value ${v} is outside sensible range [-254, 254]`);
          cur.initFile.value = v;
        } else if (word === 'overwrite') cur.initFile.overwrite = true;
        else err(`Unknown track file init option ${word}`);
      }
    }),
  ];
  const end = (): void => {
    if (!cur) return;
    const tf = cur;
    cur = null;
    if (!pathSet.has(tf)) {
      err(`No file set for track_file ${tf.name} - ignoring`);
      return;
    }
    list().push(tf);
    if (tf.initFile && !tf.initFile.overwrite) return;
    if (tf.initFile) {
      const st = ctx.host.stat(tf.path);
      if (st && !st.isFile) err(`Cannot initialise track file ${tf.name} - it is not a regular file`);
    }
  };
  return [root('track_file', active, (sv) => start(sv, false), subs(), end), root('vrrp_track_file', active, (sv) => start(sv, true), subs(), end)];
}

/**
 * vrrp_alloc_track_file(): `NAME [weight W [reverse|noreverse]]` inside a
 * track_file block of an instance or sync group.
 */
export function allocTrackFileRef(ctx: Ctx, owner: string, files: TrackFile[], refs: TrackRefDraft[], sv: StrVec): void {
  const { rep } = ctx;
  const err = (m: string): void => rep.error(ConfErr.GENERAL_ERROR, m);
  const name = sv.slot(0);
  const f = files.find((x) => x.name === name);
  if (!f) return err(`(${owner}) track file ${name} not found, ignoring...`);
  if (refs.some((r) => r.name === name)) return err(`(${owner}) duplicate track_file ${name} - ignoring`);
  let weight = f.weight;
  let reverse = f.weightReverse;
  if (sv.size >= 2) {
    if (sv.slot(1) !== 'weight') return err(`(${owner}) unknown track file option ${sv.slot(1)} - ignoring`);
    if (sv.size === 2) return err(`(${owner}) weight without value specified for track file ${name} - ignoring`);
    const w = readInt(rep, sv.slot(2), -254, 254);
    if (w === null) err(`(${owner}) weight for track file ${name} must be in [-254..254] inclusive. Ignoring...`);
    else weight = w;
    if (sv.size >= 4) {
      if (sv.slot(3) === 'reverse') reverse = true;
      else if (sv.slot(3) === 'noreverse') reverse = false;
      else return err(`(${owner}) unknown track file ${name} weight option ${sv.slot(3)} - ignoring`);
    }
  }
  refs.push({ name, weight, reverse });
}
