// How long a client may take to send a request. Node's defaults leave a slow client's
// connection open for a minute (headers) or forever (a body, since fastify turns
// requestTimeout off). These cover senders on slow links with room to spare; the answer's
// own time (a sync webhook waiting for its turn) is not counted. Node checks them every 30 s
// (connectionsCheckingInterval), so a slow client is cut within the limit plus that.

/** To receive the complete headers of a request. */
export const HEADERS_TIMEOUT_MS = 10_000;
/** To receive the whole request, body included. */
export const REQUEST_TIMEOUT_MS = 30_000;

/** The limits a server is built with; tests shorten them (Node's check interval included). */
export interface HttpLimits {
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  /** How often Node looks for connections past a limit (its default is 30 s). */
  checkIntervalMs: number;
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = {
  headersTimeoutMs: HEADERS_TIMEOUT_MS,
  requestTimeoutMs: REQUEST_TIMEOUT_MS,
  checkIntervalMs: 30_000,
};
