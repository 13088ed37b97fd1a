/**
 * track_file (keepalived 2.2.7 trackers/track_file.c): a file holding a number,
 * watched with inotify (fs.watch on its directory, so a file that is replaced by
 * rename or created later is still seen) and re-read on every change. A missing or
 * unparsable file reads as 0, as keepalived's strtol on an empty buffer does.
 * `init_file [VALUE] [overwrite]` creates the file with VALUE at start-up.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export function readTrackFile(file: string): number {
  try {
    const text = fs.readFileSync(file, 'utf8').trim();
    const m = /^[-+]?\d+/.exec(text);
    return m ? parseInt(m[0], 10) : 0;
  } catch {
    return 0;
  }
}

export interface FileTrackerOptions {
  name: string;
  file: string;
  init?: { value: number; overwrite: boolean };
}

export class FileTracker {
  value: number;
  private watcher: fs.FSWatcher | null = null;

  constructor(
    readonly opts: FileTrackerOptions,
    private readonly onChange: (name: string, value: number) => void,
  ) {
    if (opts.init && (opts.init.overwrite || !fs.existsSync(opts.file))) {
      try {
        fs.mkdirSync(path.dirname(opts.file), { recursive: true });
        fs.writeFileSync(opts.file, `${opts.init.value}\n`);
      } catch {
        /* reported as value 0 below */
      }
    }
    this.value = readTrackFile(opts.file);
  }

  start(): void {
    try {
      this.watcher = fs.watch(path.dirname(this.opts.file), { persistent: false }, (_ev, fname) => {
        if (fname && fname.toString() !== path.basename(this.opts.file)) return;
        this.refresh();
      });
      this.watcher.on('error', () => {
        /* directory removed: value stays; a later start() re-watches */
      });
    } catch {
      /* directory missing: the value stays 0 until reload */
    }
  }

  refresh(): void {
    const v = readTrackFile(this.opts.file);
    if (v !== this.value) {
      this.value = v;
      this.onChange(this.opts.name, v);
    }
  }

  stop(): void {
    this.watcher?.close();
    this.watcher = null;
  }
}
