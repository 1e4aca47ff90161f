// Every Prometheus metric Switchyard defines, in one table (docs/observability.md is
// generated from it), and the object that holds them for one process.
//
// One Registry per GatewayMetrics, never prom-client's global default: tests run several
// gateways (API and workers) in one process, and each must count only its own facts. The
// process metrics prom-client collects (process_*, nodejs_*) keep their standard names.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export type MetricType = 'counter' | 'gauge' | 'histogram';

export interface MetricSpec<L extends string = string> {
  name: string;
  type: MetricType;
  help: string;
  labelNames: readonly L[];
  /** Histograms only: upper bounds of the buckets, in seconds. */
  buckets?: readonly number[];
  /** Where the fact comes from, for the docs. */
  source: string;
}

const spec = <L extends string>(definition: MetricSpec<L>): MetricSpec<L> => definition;

/** Turn lengths run from about a second (a trivial `claude -p`) to the 10 min default timeout and beyond. */
const TURN_BUCKETS = [0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600];
/** What the gateway adds to a turn: tens of milliseconds when all is well, seconds when Temporal or a worker is slow. */
const OVERHEAD_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const REQUEST_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120];

export const METRICS = {
  httpRequests: spec({
    name: 'switchyard_http_requests_total',
    type: 'counter',
    help: 'HTTP requests answered by the API, by method, route template (e.g. /hooks/:source; "unmatched" for 404s without a route) and status code.',
    labelNames: ['method', 'route', 'status'],
    source: 'api: every HTTP answer',
  }),
  httpRequestDuration: spec({
    name: 'switchyard_http_request_duration_seconds',
    type: 'histogram',
    help: 'Time from receiving an HTTP request to sending its answer, by method and route template. A sync webhook includes the wait for its turn.',
    labelNames: ['method', 'route'],
    buckets: REQUEST_BUCKETS,
    source: 'api: every HTTP answer',
  }),
  webhookDeliveries: spec({
    name: 'switchyard_webhook_deliveries_total',
    type: 'counter',
    help: 'Webhook deliveries answered, by source ("agent" for POST /hooks/agent, the configured name for POST /hooks/<source>, "unknown" for a source that is not configured) and status code (202 accepted, 204 ignored, 401 signature, 429 rate limited, ...).',
    labelNames: ['source', 'status'],
    source: 'api: POST /hooks/*',
  }),
  rpcCalls: spec({
    name: 'switchyard_rpc_calls_total',
    type: 'counter',
    help: 'JSON-RPC requests and notifications handled on /rpc, by method ("(unknown)" for a method that does not exist, "(invalid)" for a frame that is not a request) and code ("ok", else the JSON-RPC error code, e.g. -32602).',
    labelNames: ['method', 'code'],
    source: 'api: the JSON-RPC dispatcher',
  }),
  rpcCallDuration: spec({
    name: 'switchyard_rpc_call_duration_seconds',
    type: 'histogram',
    help: 'Time a JSON-RPC method took to answer, by method.',
    labelNames: ['method'],
    buckets: REQUEST_BUCKETS,
    source: 'api: the JSON-RPC dispatcher',
  }),
  websocketConnections: spec({
    name: 'switchyard_websocket_connections',
    type: 'gauge',
    help: 'Open WebSocket connections on /rpc.',
    labelNames: [],
    source: 'api: the JSON-RPC server',
  }),
  rpcSubscriptions: spec({
    name: 'switchyard_rpc_subscriptions',
    type: 'gauge',
    help: 'Active sessions.subscribe subscriptions, over all connections.',
    labelNames: [],
    source: 'api: the JSON-RPC server',
  }),
  messagesAccepted: spec({
    name: 'switchyard_messages_accepted_total',
    type: 'counter',
    help: 'Messages a session workflow accepted (turn.queued), by agent and source (hook:agent, hook:<source>, rpc, cron:<name>, channel:<name>). Duplicates of a recent idempotency key are not counted.',
    labelNames: ['agent', 'source'],
    source: 'worker → api: turn.queued events',
  }),
  turnsStarted: spec({
    name: 'switchyard_turns_started_total',
    type: 'counter',
    help: 'Agent turns started (turn.started), by agent.',
    labelNames: ['agent'],
    source: 'worker → api: turn.started events',
  }),
  turnsFinished: spec({
    name: 'switchyard_turns_finished_total',
    type: 'counter',
    help: 'Agent turns that ended, by agent and outcome (completed, failed, cancelled). Messages cancelled while still queued are not turns and are not counted.',
    labelNames: ['agent', 'outcome'],
    source: 'worker → api: turn.completed, turn.failed, turn.cancelled events',
  }),
  turnDuration: spec({
    name: 'switchyard_turn_duration_seconds',
    type: 'histogram',
    help: 'Wall time of a turn, from turn.started to its outcome event as the worker stamped them, retries and their backoff included, by agent and outcome.',
    labelNames: ['agent', 'outcome'],
    buckets: TURN_BUCKETS,
    source: 'worker → api: turn events',
  }),
  turnOverhead: spec({
    name: 'switchyard_turn_overhead_seconds',
    type: 'histogram',
    help: "The gateway's own time in a completed turn: from when the API accepted the turn's first message (or, if later, when the session's previous turn ended) to turn.completed, minus the wall time of the claude process that produced the result (spawn to exit, measured by the activity). It covers Temporal round trips, workflow and activity scheduling, waiting for a free agent slot, and earlier failed attempts with their backoff. Clocks of the API and the worker are compared: keep them in sync.",
    labelNames: ['agent'],
    buckets: OVERHEAD_BUCKETS,
    source: 'worker → api: turn events (turn.completed carries processMs)',
  }),
  turnsInFlight: spec({
    name: 'switchyard_agent_turns_in_flight',
    type: 'gauge',
    help: 'Turns started and not yet ended, by agent: running a claude process, waiting for a free agent slot, or between retry attempts. Counts only turns that started while this API process was up.',
    labelNames: ['agent'],
    source: 'worker → api: turn events',
  }),
  turnsInUse: spec({
    name: 'switchyard_agent_turns_in_use',
    type: 'gauge',
    help: 'Agent slots in use: turns whose runAgentTurn activity is executing on a worker, summed over the workers that reported in the last 30 s, by agent.',
    labelNames: ['agent'],
    source: 'worker → api: POST /internal/worker-stats',
  }),
  turnsWaiting: spec({
    name: 'switchyard_agent_turns_waiting',
    type: 'gauge',
    help: 'Turns in flight whose activity is not executing (in flight minus in use, at least 0), by agent: waiting for a free agent slot, or between retry attempts.',
    labelNames: ['agent'],
    source: 'api: switchyard_agent_turns_in_flight - switchyard_agent_turns_in_use',
  }),
  agentSlots: spec({
    name: 'switchyard_agent_slots',
    type: 'gauge',
    help: 'Agent slots (worker.maxConcurrentTurns) summed over the workers that reported in the last 30 s.',
    labelNames: [],
    source: 'worker → api: POST /internal/worker-stats',
  }),
  workersReporting: spec({
    name: 'switchyard_workers_reporting',
    type: 'gauge',
    help: 'Workers whose concurrency report arrived in the last 30 s.',
    labelNames: [],
    source: 'worker → api: POST /internal/worker-stats',
  }),
  channelRestarts: spec({
    name: 'switchyard_channel_restarts_total',
    type: 'counter',
    help: 'Restarts of a channel adapter process by the channel manager, by channel.',
    labelNames: ['channel'],
    source: 'api: the channel manager',
  }),
  channelState: spec({
    name: 'switchyard_channel_state',
    type: 'gauge',
    help: 'State of each channel adapter: 1 for its current state, 0 for the states it was in before, by channel and state.',
    labelNames: ['channel', 'state'],
    source: 'api: the channel manager',
  }),
  scheduleRuns: spec({
    name: 'switchyard_schedule_runs_total',
    type: 'counter',
    help: "Scheduled (cron) runs whose turn ended, by schedule (the cron job's name) and outcome (completed, failed, cancelled). Runs the Temporal Schedule skipped (overlap policy) never reach a session and are not counted.",
    labelNames: ['schedule', 'outcome'],
    source: 'worker → api: turn events of messages from cron:<name>',
  }),
} as const;

type Labels<S> = S extends MetricSpec<infer L> ? L : never;

/** The metrics of one process, on a registry of their own. */
export class GatewayMetrics {
  readonly registry: Registry;
  readonly httpRequests: Counter<Labels<typeof METRICS.httpRequests>>;
  readonly httpRequestDuration: Histogram<Labels<typeof METRICS.httpRequestDuration>>;
  readonly webhookDeliveries: Counter<Labels<typeof METRICS.webhookDeliveries>>;
  readonly rpcCalls: Counter<Labels<typeof METRICS.rpcCalls>>;
  readonly rpcCallDuration: Histogram<Labels<typeof METRICS.rpcCallDuration>>;
  readonly websocketConnections: Gauge;
  readonly rpcSubscriptions: Gauge;
  readonly messagesAccepted: Counter<Labels<typeof METRICS.messagesAccepted>>;
  readonly turnsStarted: Counter<Labels<typeof METRICS.turnsStarted>>;
  readonly turnsFinished: Counter<Labels<typeof METRICS.turnsFinished>>;
  readonly turnDuration: Histogram<Labels<typeof METRICS.turnDuration>>;
  readonly turnOverhead: Histogram<Labels<typeof METRICS.turnOverhead>>;
  readonly turnsInFlight: Gauge<Labels<typeof METRICS.turnsInFlight>>;
  readonly turnsInUse: Gauge<Labels<typeof METRICS.turnsInUse>>;
  readonly turnsWaiting: Gauge<Labels<typeof METRICS.turnsWaiting>>;
  readonly agentSlots: Gauge;
  readonly workersReporting: Gauge;
  readonly channelRestarts: Counter<Labels<typeof METRICS.channelRestarts>>;
  readonly channelState: Gauge<Labels<typeof METRICS.channelState>>;
  readonly scheduleRuns: Counter<Labels<typeof METRICS.scheduleRuns>>;

  /** Read when /metrics is scraped; set by whoever owns the fact (the RPC server, the concurrency view). */
  private rpcStats: () => { connections: number; subscriptions: number } = () => ({ connections: 0, subscriptions: 0 });
  private readonly beforeCollect: (() => void)[] = [];

  constructor(options: { processMetrics?: boolean } = {}) {
    const registry = (this.registry = new Registry());
    const counter = <L extends string>(s: MetricSpec<L>) => new Counter<L>({ name: s.name, help: s.help, labelNames: s.labelNames, registers: [registry] });
    const histogram = <L extends string>(s: MetricSpec<L>) =>
      new Histogram<L>({ name: s.name, help: s.help, labelNames: s.labelNames, buckets: [...(s.buckets ?? [])], registers: [registry] });
    const gauge = <L extends string>(s: MetricSpec<L>, collect?: (this: Gauge<L>) => void) =>
      new Gauge<L>({ name: s.name, help: s.help, labelNames: s.labelNames, registers: [registry], ...(collect ? { collect } : {}) });

    const self = this;
    this.httpRequests = counter(METRICS.httpRequests);
    this.httpRequestDuration = histogram(METRICS.httpRequestDuration);
    this.webhookDeliveries = counter(METRICS.webhookDeliveries);
    this.rpcCalls = counter(METRICS.rpcCalls);
    this.rpcCallDuration = histogram(METRICS.rpcCallDuration);
    this.websocketConnections = gauge(METRICS.websocketConnections, function () {
      this.set(self.rpcStats().connections);
    });
    this.rpcSubscriptions = gauge(METRICS.rpcSubscriptions, function () {
      this.set(self.rpcStats().subscriptions);
    });
    this.messagesAccepted = counter(METRICS.messagesAccepted);
    this.turnsStarted = counter(METRICS.turnsStarted);
    this.turnsFinished = counter(METRICS.turnsFinished);
    this.turnDuration = histogram(METRICS.turnDuration);
    this.turnOverhead = histogram(METRICS.turnOverhead);
    // The concurrency gauges are computed together from several sources (see onCollect);
    // each recomputes them all, so the order prom-client reads them in does not matter.
    const concurrency = () => {
      for (const hook of self.beforeCollect) hook();
    };
    this.turnsInFlight = gauge(METRICS.turnsInFlight, concurrency);
    this.turnsInUse = gauge(METRICS.turnsInUse, concurrency);
    this.turnsWaiting = gauge(METRICS.turnsWaiting, concurrency);
    this.agentSlots = gauge(METRICS.agentSlots, concurrency);
    this.workersReporting = gauge(METRICS.workersReporting, concurrency);
    this.channelRestarts = counter(METRICS.channelRestarts);
    this.channelState = gauge(METRICS.channelState);
    this.scheduleRuns = counter(METRICS.scheduleRuns);
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry });
  }

  /** The WebSocket server's live counts, read at scrape time. */
  observeRpcServer(stats: () => { connections: number; subscriptions: number }): void {
    this.rpcStats = stats;
  }

  /** Runs before the concurrency gauges are read (they are computed from several sources at once). */
  onCollect(hook: () => void): void {
    this.beforeCollect.push(hook);
  }

  /** Prometheus text exposition format. */
  async text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

/** States each channel has been in, per metrics object: the ones whose gauge must read 0. */
const channelStates = new WeakMap<GatewayMetrics, Map<string, Set<string>>>();

/** For the channel manager: a supervised adapter was restarted. */
export function recordChannelRestart(metrics: GatewayMetrics, channel: string): void {
  metrics.channelRestarts.inc({ channel });
}

/**
 * For the channel manager: `channel` is now in `state` (e.g. starting, running, backoff,
 * stopped, failed). The gauge is 1 for that state and 0 for every state the channel was in
 * before, so a dashboard can graph `switchyard_channel_state == 1`.
 */
export function recordChannelState(metrics: GatewayMetrics, channel: string, state: string): void {
  let byChannel = channelStates.get(metrics);
  if (!byChannel) channelStates.set(metrics, (byChannel = new Map()));
  let seen = byChannel.get(channel);
  if (!seen) byChannel.set(channel, (seen = new Set()));
  seen.add(state);
  for (const known of seen) metrics.channelState.set({ channel, state: known }, known === state ? 1 : 0);
}

/** Forgets a removed channel, so that its series disappear from /metrics. */
export function forgetChannel(metrics: GatewayMetrics, channel: string): void {
  const byChannel = channelStates.get(metrics);
  for (const state of byChannel?.get(channel) ?? []) metrics.channelState.remove({ channel, state });
  byChannel?.delete(channel);
  metrics.channelRestarts.remove({ channel });
}
