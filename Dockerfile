# syntax=docker/dockerfile:1
# Talus image: Node.js LTS (slim), the embedded PostgreSQL 15 binaries (npm package),
# pg_dump/pg_restore 15 for backups, tini as PID 1, running as uid 1001.
#
#   docker build -t talus:0.1.0 .
#   docker run -d -p 9221:9221 -v talus-data:/data talus:0.1.0 --requirepass s3cret
#
# See docs/operations.md.

ARG NODE_IMAGE=node:22-bookworm-slim

# --- build: compile TypeScript, then keep production dependencies only ---------
FROM ${NODE_IMAGE} AS build
WORKDIR /build
COPY package.json package-lock.json tsconfig.json ./
COPY src ./src
COPY migrations ./migrations
COPY bin ./bin
# npm ci runs the `prepare` script (tsc -b) and the embedded PostgreSQL's postinstall
RUN npm ci --no-audit --no-fund \
 && npm prune --omit=dev --no-audit --no-fund \
 && npm cache clean --force

# --- runtime: only what Talus runs -----------------------------------------------
FROM ${NODE_IMAGE}
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=unknown
LABEL org.opencontainers.image.title="Talus" \
      org.opencontainers.image.description="Redis-compatible server for data sets larger than memory, on PostgreSQL" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="https://github.com/talus-db/talus" \
      org.opencontainers.image.documentation="https://github.com/talus-db/talus/blob/main/docs/operations.md"

# postgresql-client-15: pg_dump/pg_restore of the embedded server's major version (15);
# tini: PID 1 that forwards signals to Talus and reaps exited children;
# redis-tools: redis-cli for the Helm chart's start and preStop scripts (Sentinel queries);
# libjemalloc2: the malloc bin/talus preloads (RSS closer to maxmemory with big values).
RUN apt-get update \
 && apt-get install -y --no-install-recommends postgresql-client-15 tini redis-tools libjemalloc2 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 1001 talus \
 && useradd --uid 1001 --gid 1001 --home-dir /opt/talus --no-create-home --shell /usr/sbin/nologin talus \
 && mkdir -p /data \
 && chown 1001:1001 /data

WORKDIR /opt/talus
ENV NODE_ENV=production
COPY --from=build /build/package.json ./package.json
COPY --from=build /build/node_modules ./node_modules
COPY --from=build /build/dist/src ./dist/src
COPY --from=build /build/migrations ./migrations
COPY --from=build /build/bin ./bin
# the command table's Redis interface data, read at start-up (src/commands/spec.ts)
COPY --from=build /build/src/commands/spec ./src/commands/spec

USER 1001:1001
VOLUME ["/data"]
# 9221: RESP; 9420: /metrics, /healthz, /readyz (when --metrics-port 9420 is given)
EXPOSE 9221 9420
ENTRYPOINT ["/usr/bin/tini", "--", "/opt/talus/bin/talus"]
CMD ["--dir", "/data", "--bind", "0.0.0.0", "--metrics-port", "9420"]
