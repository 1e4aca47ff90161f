// One error shape for every HTTP answer: { error: { code, message, details? } }.
import type { FastifyError, FastifyInstance } from 'fastify';
import type { z } from 'zod';
import { isTemporalUnavailable, TemporalUnavailableError } from './temporal-errors.js';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export function invalidInput(error: z.ZodError, where = 'body'): ApiError {
  const issues = error.issues.map((issue) => ({ path: [where, ...issue.path.map(String)].join('.'), message: issue.message }));
  return new ApiError(400, 'invalid_input', `${issues[0]?.path ?? where}: ${issues[0]?.message ?? 'invalid'}`, { issues });
}

export function temporalUnavailable(idempotencyKey?: string): ApiError {
  return new ApiError(
    503,
    'temporal_unavailable',
    'Temporal is unreachable; nothing was accepted. Retry later with the same idempotencyKey.',
    idempotencyKey === undefined ? undefined : { idempotencyKey },
    { 'retry-after': '5' },
  );
}

export function registerErrorHandling(app: FastifyInstance): void {
  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).send({ error: { code: 'not_found', message: `no route ${request.method} ${request.url.split('?')[0]}` } });
  });
  app.setErrorHandler((error: FastifyError | ApiError | Error, request, reply) => {
    if (error instanceof ApiError) {
      void reply
        .code(error.status)
        .headers(error.headers)
        .send({ error: { code: error.code, message: error.message, ...(error.details === undefined ? {} : { details: error.details }) } });
      return;
    }
    if (isTemporalUnavailable(error)) {
      const mapped = temporalUnavailable(error instanceof TemporalUnavailableError ? error.idempotencyKey : undefined);
      void reply
        .code(503)
        .headers(mapped.headers)
        .send({ error: { code: mapped.code, message: mapped.message, ...(mapped.details === undefined ? {} : { details: mapped.details }) } });
      return;
    }
    const fastifyError = error as FastifyError;
    const status = fastifyError.statusCode ?? 500;
    if (status >= 500) {
      request.log.error({ err: error }, 'request failed');
      void reply.code(500).send({ error: { code: 'internal', message: 'internal error' } });
      return;
    }
    void reply.code(status).send({ error: { code: codeFor(fastifyError), message: fastifyError.message } });
  });
}

function codeFor(error: FastifyError): string {
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return 'body_too_large';
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return 'unsupported_media_type';
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return 'invalid_json';
    default:
      return error.statusCode === 400 && error instanceof SyntaxError ? 'invalid_json' : 'bad_request';
  }
}
