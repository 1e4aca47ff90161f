// The API's view of agent concurrency: the workers' reports of executing turns, and the
// turns in flight it derives from events. Computed when /metrics is scraped.
import type { GatewayMetrics } from './metrics.js';
import type { TurnMetrics } from './turn-metrics.js';
import { REPORT_EXPIRES_MS, type WorkerStatsReport } from './worker-stats.js';

export class ConcurrencyView {
  private readonly reports = new Map<string, { report: WorkerStatsReport; at: number }>();

  constructor(
    private readonly metrics: GatewayMetrics,
    private readonly turns: TurnMetrics,
    private readonly now: () => number = Date.now,
  ) {
    metrics.onCollect(() => this.update());
  }

  report(report: WorkerStatsReport): void {
    if (report.gone) this.reports.delete(report.workerId);
    else this.reports.set(report.workerId, { report, at: this.now() });
  }

  private update(): void {
    const now = this.now();
    let slots = 0;
    const inUse = new Map<string, number>();
    for (const [workerId, { report, at }] of this.reports) {
      if (now - at > REPORT_EXPIRES_MS) {
        this.reports.delete(workerId);
        continue;
      }
      slots += report.slots;
      for (const [agent, count] of Object.entries(report.inUse)) inUse.set(agent, (inUse.get(agent) ?? 0) + count);
    }
    const inFlight = this.turns.inFlightByAgent();
    const { turnsInFlight, turnsInUse, turnsWaiting } = this.metrics;
    for (const gauge of [turnsInFlight, turnsInUse, turnsWaiting]) gauge.reset();
    for (const agent of new Set([...inFlight.keys(), ...inUse.keys()])) {
      const flying = inFlight.get(agent) ?? 0;
      const using = inUse.get(agent) ?? 0;
      turnsInFlight.set({ agent }, flying);
      turnsInUse.set({ agent }, using);
      turnsWaiting.set({ agent }, Math.max(0, flying - using));
    }
    this.metrics.agentSlots.set(slots);
    this.metrics.workersReporting.set(this.reports.size);
  }
}
