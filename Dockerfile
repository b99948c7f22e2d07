# Talus image for the Helm chart: Node.js LTS with the embedded PostgreSQL binaries
# (and pg_dump/pg_restore 15 for backups, docs/backup.md).
FROM node:22-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends redis-tools postgresql-client-15 && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/talus
COPY package.json package-lock.json tsconfig.json ./
COPY src ./src
COPY migrations ./migrations
COPY bin ./bin
COPY test ./test
COPY bench ./bench
RUN npm ci && npx tsc -b && npm prune --omit=dev
EXPOSE 9221
ENTRYPOINT ["bin/talus"]
