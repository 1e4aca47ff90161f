# syntax=docker/dockerfile:1
# Switchyard's image: the API and the worker (one image, two containers; see docker-compose.yml
# and docs/deploy.md). Debian bookworm slim, Node 20, runs as an unprivileged user.
#
#   docker build -t switchyard .
#   docker run --rm switchyard node /app/dist/api/main.js --help
#
# Versions are build arguments: NODE_VERSION (engines: >=20.11) and CLAUDE_CODE_VERSION, which
# must stay the @anthropic-ai/claude-code devDependency pinned in package.json (the CLI the
# test suite runs; test/deploy-files.test.ts checks the two agree).
ARG NODE_VERSION=20.20.2
ARG CLAUDE_CODE_VERSION=2.1.197

# ---- build: compile TypeScript, prebuild the workflow bundle, drop dev dependencies ---------
FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
# Same fallback as .ci/run: a registry without some optional platform builds makes `npm ci`
# call the lockfile out of sync; `npm install` from the same lockfile skips them.
RUN npm ci --no-audit --no-fund || npm install --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY activities ./activities
COPY adapters ./adapters
COPY api ./api
COPY bin ./bin
COPY channels ./channels
COPY claude-hooks ./claude-hooks
COPY cli ./cli
COPY client ./client
COPY config ./config
COPY contracts ./contracts
COPY cron ./cron
COPY mcp ./mcp
COPY observability ./observability
COPY service ./service
COPY supervisor ./supervisor
COPY worker ./worker
COPY workflows ./workflows
# tsc into dist/, then dist/workflow-bundle.js so workers start without webpack.
RUN npm run build && npm prune --omit=dev && npm cache clean --force

# ---- runtime --------------------------------------------------------------------------------
FROM node:${NODE_VERSION}-bookworm-slim AS runtime
ARG CLAUDE_CODE_VERSION
# tini: PID 1 that forwards SIGTERM and reaps the `claude` processes the worker spawns.
# git: what agents most often run. ca-certificates: TLS to Temporal Cloud and the Anthropic API.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini ca-certificates git \
 && rm -rf /var/lib/apt/lists/*
# The Claude CLI the worker spawns (agentDefaults.command: claude, found on PATH), at the
# version the suite is tested with. Its postinstall links the native binary.
RUN npm install -g --no-audit --no-fund "@anthropic-ai/claude-code@${CLAUDE_CODE_VERSION}" \
 && npm cache clean --force \
 && claude --version

RUN groupadd --system --gid 10001 switchyard \
 && useradd --system --uid 10001 --gid switchyard --create-home --home-dir /home/switchyard --shell /usr/sbin/nologin switchyard \
 && mkdir -p /var/lib/switchyard /workspace \
 && chown switchyard:switchyard /var/lib/switchyard /workspace

WORKDIR /app
COPY --from=build --chown=root:root /app/package.json ./package.json
COPY --from=build --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/dist ./dist
COPY --from=build --chown=root:root /app/bin ./bin
RUN ln -s /app/bin/switchyard.js /usr/local/bin/switchyard

# State (SWITCHYARD_HOME) and the agents' working directory are volumes; the code is read-only
# to the user it runs as. The CLI must not update itself or phone home from a server.
ENV NODE_ENV=production \
    SWITCHYARD_HOME=/var/lib/switchyard \
    SWITCHYARD_ROLE=api \
    DISABLE_AUTOUPDATER=1 \
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1
USER switchyard:switchyard
WORKDIR /workspace
VOLUME ["/var/lib/switchyard", "/workspace"]
EXPOSE 8420

# SWITCHYARD_ROLE=api: GET /healthz; worker: this container's worker polls both task queues.
HEALTHCHECK --interval=15s --timeout=10s --start-period=60s --retries=3 \
  CMD ["node", "/app/dist/observability/container-healthcheck.js"]

ENTRYPOINT ["/usr/bin/tini", "--"]
# The API by default; the worker container runs `node /app/dist/worker/main.js`.
CMD ["node", "/app/dist/api/main.js"]
