// Outbound delivery of turn results: POST the outcome to the target the message named,
// signed with Standard Webhooks headers. The workflow passes only a reference to the
// target; URL and secret come from this worker's config, so no secret ever enters a
// Temporal payload or history. Temporal retries the activity (exponential backoff, up to
// 24 h) until the receiver answers 2xx; the webhook-id stays the same on every attempt.
import { ApplicationFailure } from '@temporalio/activity';
import { signStandardWebhook } from '../api/webhooks/signatures.js';
import type { Config } from '../config/schema.js';
import { DELIVERY_FAILURE, type DeliveryRef, type DeliveryRequest } from '../contracts/session.js';

/** How long one attempt may take before it counts as failed and is retried. */
export const DELIVERY_ATTEMPT_TIMEOUT_MS = 15_000;

export interface DeliveryActivityDeps {
  config: () => Config;
  /** For tests; default the global fetch. */
  fetch?: typeof fetch;
  userAgent?: string;
}

export interface DeliveryReceipt {
  status: number;
  url: string;
}

/** The URL and secret of a target in `config`, or undefined when it is not configured. */
export function resolveDeliveryTarget(config: Config, target: DeliveryRef): { url: string; secret: string } | undefined {
  if (target.source !== undefined) {
    const deliver = Object.hasOwn(config.webhooks, target.source) ? config.webhooks[target.source]?.deliver : undefined;
    return deliver ? { url: deliver.url, secret: deliver.secret } : undefined;
  }
  const secret = config.gateway.deliverSecret;
  return secret && target.url ? { url: target.url, secret } : undefined;
}

export function createDeliveryActivities({ config, fetch: fetchImpl = fetch, userAgent = 'switchyard-webhooks/1' }: DeliveryActivityDeps) {
  return {
    async deliverResult(request: DeliveryRequest): Promise<DeliveryReceipt> {
      const target = resolveDeliveryTarget(config(), request.target);
      if (!target) {
        const what = request.target.source !== undefined ? `webhooks.${request.target.source}.deliver` : 'gateway.deliverSecret';
        throw ApplicationFailure.nonRetryable(`cannot deliver ${request.deliveryId}: ${what} is not configured on this worker`, DELIVERY_FAILURE.target);
      }
      const body = JSON.stringify(request.payload);
      const timestamp = Math.floor(Date.now() / 1000);
      let response: Response;
      try {
        response = await fetchImpl(target.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'user-agent': userAgent,
            'webhook-id': request.deliveryId,
            'webhook-timestamp': String(timestamp),
            'webhook-signature': signStandardWebhook(target.secret, request.deliveryId, timestamp, body),
          },
          body,
          redirect: 'manual',
          signal: AbortSignal.timeout(DELIVERY_ATTEMPT_TIMEOUT_MS),
        });
        await response.arrayBuffer().catch(() => undefined);
      } catch (error) {
        // Connection refused, DNS, timeout: the receiver may come back; Temporal retries.
        throw ApplicationFailure.retryable(`cannot reach ${redactUrl(target.url)}: ${describe(error)}`, 'DeliveryUnreachable');
      }
      if (response.status >= 200 && response.status < 300) return { status: response.status, url: redactUrl(target.url) };
      if (response.status === 410) {
        throw ApplicationFailure.nonRetryable(`${redactUrl(target.url)} answered 410 Gone; not retrying`, DELIVERY_FAILURE.gone);
      }
      throw ApplicationFailure.retryable(`${redactUrl(target.url)} answered ${response.status}`, 'DeliveryRejected');
    },
  };
}

/** URLs may carry credentials (user:pass@, ?token=): keep only origin and path in messages. */
function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}

function describe(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
  return cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
}

export type DeliveryActivities = ReturnType<typeof createDeliveryActivities>;
