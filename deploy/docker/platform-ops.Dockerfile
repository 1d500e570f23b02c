# syntax=docker/dockerfile:1.7
# platform-ops-mcp (platform-ops) as a container: Streamable HTTP on :8080, non-root, read-only root
# filesystem friendly (the only writable path is the /var/lib/gatehouse volume).
# Build from the repository root:
#   docker build -f deploy/docker/platform-ops.Dockerfile -t gatehouse/platform-ops:0.1.0 .
# Run (credentials come from files, never from the image or the command line):
#   docker run --read-only --tmpfs /tmp -v platform-ops-data:/var/lib/gatehouse -p 8080:8080 \
#     -v ./secrets:/run/secrets/gatehouse:ro --env-file platform-ops.env gatehouse/platform-ops:0.1.0

# ── build: install only this server and its workspace dependencies, bundle, then
#    `pnpm deploy --prod` this one package (dist + its production node_modules) to /out.
FROM node:24.21.0-bookworm-slim AS build
ENV CI=true TURBO_TELEMETRY_DISABLED=1
WORKDIR /repo
RUN npm install -g --no-audit --no-fund --loglevel=error pnpm@10.34.9
COPY . .
RUN pnpm install --frozen-lockfile --filter "@gatehouse/platform-ops..."
RUN pnpm --filter @gatehouse/platform-ops build
RUN pnpm --filter @gatehouse/platform-ops deploy --legacy --prod /out

# ── runtime: Node only, the deployed package owned by root and read-only to the app user.
FROM node:24.21.0-bookworm-slim AS runtime
ENV NODE_ENV=production \
    PLATFORM_OPS_HTTP_HOST=0.0.0.0 \
    PLATFORM_OPS_HTTP_PORT=8080 \
    PLATFORM_OPS_AUDIT_FILE=/var/lib/gatehouse/audit.jsonl
WORKDIR /app
COPY --from=build --chown=root:root --chmod=a=rX /out /app
RUN install -d -o 1000 -g 1000 -m 0750 /var/lib/gatehouse
VOLUME ["/var/lib/gatehouse"]
USER 1000:1000
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PLATFORM_OPS_HTTP_PORT || 8080) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "/app/dist/bin.js"]
CMD ["--transport", "http"]
