// How long a client may take to send a request. Node's defaults leave a slow client's
// connection open for a minute (headers) or forever (a body, since fastify turns
// requestTimeout off). These cover senders on slow links with room to spare; the answer's
// own time (a sync webhook waiting for its turn) is not counted. Node checks them every 30 s
// (connectionsCheckingInterval), so a slow client is cut within the limit plus that.

/** To receive the complete headers of a request. */
export const HEADERS_TIMEOUT_MS = 10_000;
/** To receive the whole request, body included. */
export const REQUEST_TIMEOUT_MS = 30_000;
