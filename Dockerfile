# syntax=docker/dockerfile:1
#
# The service as a container: `docker build -t newsletter .`, then one image for every role:
#   docker run ... newsletter                                      the API and the workers in one process (all)
#   docker run ... newsletter node dist/src/main.js api            the API alone (port 3000)
#   docker run ... newsletter node dist/src/main.js worker         the workers alone (/healthz, /metrics on 3001)
#   docker run ... newsletter node dist/src/cli/main.js --help     the operator CLI
# compose.yaml runs Redis, the API and a scalable worker service from it. Settings come from the environment
# (README, Configuration); NODE_ENV=production makes the service refuse to start without REDIS_URL, SMTP_URL,
# PUBLIC_URL, ADMIN_TOKEN and APP_SECRET.
#
# Node 22 (LTS): Node 20 is out of support, and some of the dependencies already declare engines >= 22. The tests run
# on Node 20 and later; NODE_VERSION picks another line (docker build --build-arg NODE_VERSION=24 .).
ARG NODE_VERSION=22

# Build: every dependency (TypeScript among them), then `npm run build` into dist/.
FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
# patches/ before npm ci: its postinstall (patch-package) applies them to the installed dependencies
COPY package.json package-lock.json ./
COPY patches ./patches
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY src ./src
COPY workers ./workers
COPY templates ./templates
RUN npm run build

# The production dependencies alone, installed apart so no build tool reaches the image.
FROM node:${NODE_VERSION}-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY patches ./patches
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# Runtime: node, the production node_modules and the compiled service. dist/ holds the templates and the pages'
# assets beside the compiled modules (scripts/build.cjs). Files stay root-owned: the service runs as the image's
# unprivileged "node" user and can read its code but not change it; var/ (DATA_DIR: the outbox, development secrets)
# is the one folder it may write.
FROM node:${NODE_VERSION}-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
RUN mkdir var && chown node:node var
USER node
EXPOSE 3000 3001
# The slim image has no curl: node itself asks /healthz. PORT is the API's port (roles all and api); the worker role
# answers on WORKER_PORT instead, which compose.yaml's worker service checks with its own healthcheck.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# node is PID 1 and the service handles SIGTERM itself (finishes the work in hand, 30 s at most): no npm or shell in
# between to swallow the signal. Give `docker stop` more than those 30 s (compose.yaml: stop_grace_period).
CMD ["node", "dist/src/main.js", "all"]
