# Talus image for the Helm chart: Node.js LTS with the embedded PostgreSQL binaries.
FROM node:22-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends redis-tools && rm -rf /var/lib/apt/lists/*
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
