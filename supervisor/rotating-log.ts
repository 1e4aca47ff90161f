// An append-only log file that rotates by size: once `file` would pass `maxBytes`, it becomes
// `file.1` (`file.1` becomes `file.2`, ... up to `file.<keep>`, the oldest is dropped) and a
// fresh `file` is started. Writes are buffered by a WriteStream; a rename does not disturb
// writes still in flight, which land at the end of the file they were meant for.
import { createWriteStream, fstatSync, mkdirSync, openSync, renameSync, rmSync, type WriteStream } from 'node:fs';
import path from 'node:path';

export type RotationOptions = {
  /** Rotate before the file would pass this size (default: never). */
  maxBytes?: number;
  /** Rotated files kept: file.1 … file.<keep> (default 5). */
  keep?: number;
};

export class RotatingLog {
  private stream: WriteStream | undefined;
  private size = 0;
  private readonly maxBytes: number;
  private readonly keep: number;

  constructor(
    readonly file: string,
    options: RotationOptions = {},
  ) {
    this.maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY;
    this.keep = Math.max(1, options.keep ?? 5);
    mkdirSync(path.dirname(file), { recursive: true });
    this.open();
  }

  /** The rotated files, newest first (whether or not each exists). */
  rotatedFiles(): string[] {
    return Array.from({ length: this.keep }, (_, index) => `${this.file}.${index + 1}`);
  }

  write(text: string): void {
    if (!this.stream) return;
    let rest = Buffer.from(text);
    while (rest.length > 0) {
      if (this.size > 0 && this.size + rest.length > this.maxBytes) {
        // Fill this file up to its last whole line that fits, then rotate.
        const room = this.maxBytes - this.size;
        const cut = room > 0 ? rest.lastIndexOf(0x0a, room - 1) + 1 : 0;
        if (cut > 0) {
          this.append(rest.subarray(0, cut));
          rest = rest.subarray(cut);
        }
        this.rotate();
        continue;
      }
      // A fresh file takes at most maxBytes, cut at a line end when there is one.
      let take = rest.length;
      if (take > this.maxBytes) {
        const cut = rest.lastIndexOf(0x0a, this.maxBytes - 1) + 1;
        take = cut > 0 ? cut : this.maxBytes;
      }
      this.append(rest.subarray(0, take));
      rest = rest.subarray(take);
    }
  }

  private append(bytes: Buffer): void {
    this.stream?.write(bytes);
    this.size += bytes.length;
  }

  end(): void {
    const stream = this.stream;
    this.stream = undefined;
    stream?.end();
  }

  private open(): void {
    // Opened now, not when the stream gets to it: a rotation right after must find the file.
    let fd: number;
    try {
      fd = openSync(this.file, 'a');
    } catch {
      this.stream = undefined;
      return;
    }
    this.size = fstatSync(fd).size;
    this.stream = createWriteStream(this.file, { fd });
    this.stream.on('error', () => undefined);
  }

  private rotate(): void {
    this.stream?.end();
    try {
      rmSync(`${this.file}.${this.keep}`, { force: true });
      for (let index = this.keep - 1; index >= 1; index -= 1) {
        try {
          renameSync(`${this.file}.${index}`, `${this.file}.${index + 1}`);
        } catch {
          // that generation does not exist yet
        }
      }
      renameSync(this.file, `${this.file}.1`);
    } catch {
      // Cannot rotate (permissions, the file vanished): keep appending to the same name.
    }
    this.open();
  }
}
