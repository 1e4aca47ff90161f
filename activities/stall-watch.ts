// Notices a Claude CLI that has gone silent. The turn activity heartbeats on a timer, so a
// CLI hung on a dead API connection would otherwise only be caught by the turn timeout.
//
// The CLI writes nothing while a tool runs (a Bash command of several minutes is one long
// silence, measured with CLI 2.1.197: only a `task_started` line a few seconds in), so the
// watch is paused while a tool call has no result yet: a tool is bounded by its own timeout
// (Bash: 2 min by default, 10 min at most) and by the turn timeout, not by this one.

export interface StallWatchOptions {
  /** Longest silence allowed while no tool is running. */
  timeoutMs: number;
  onStall: () => void;
}

export class StallWatch {
  private timer: NodeJS.Timeout | undefined;
  private readonly runningTools = new Set<string>();
  private wentSilent = false;

  constructor(private readonly options: StallWatchOptions) {}

  /** True once the silence went past the limit (and onStall was called). */
  get stalled(): boolean {
    return this.wentSilent;
  }

  start(): void {
    this.arm();
  }

  /** Output was seen: the silence starts again from now. */
  touch(): void {
    if (!this.wentSilent && this.runningTools.size === 0) this.arm();
  }

  toolStarted(toolUseId: string): void {
    this.runningTools.add(toolUseId);
    this.disarm();
  }

  toolFinished(toolUseId: string): void {
    this.runningTools.delete(toolUseId);
    this.touch();
  }

  stop(): void {
    this.disarm();
  }

  private arm(): void {
    this.disarm();
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.wentSilent = true;
      this.options.onStall();
    }, this.options.timeoutMs);
    this.timer.unref();
  }

  private disarm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
