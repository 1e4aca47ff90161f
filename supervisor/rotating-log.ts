// An append-only log file that rotates by size: once `file` would pass `maxBytes`, it becomes
// `file.1` (`file.1` becomes `file.2`, ... up to `file.<keep>`, the oldest is dropped) and a
// fresh `file` is started. Writes are buffered by a WriteStream; a rename does not disturb
// writes still in flight, which land at the end of the file they were meant for.
import { createWriteStream, mkdirSync, renameSync, rmSync, statSync, type WriteStream } from 'node:fs';
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
    const bytes = Buffer.byteLength(text);
    if (this.size > 0 && this.size + bytes > this.maxBytes) this.rotate();
    this.stream.write(text);
    this.size += bytes;
  }

  end(): void {
    const stream = this.stream;
    this.stream = undefined;
    stream?.end();
  }

  private open(): void {
    try {
      this.size = statSync(this.file).size;
    } catch {
      this.size = 0;
    }
    this.stream = createWriteStream(this.file, { flags: 'a' });
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
