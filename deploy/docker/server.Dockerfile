# syntax=docker/dockerfile:1.7
# Any Gatehouse server as a container: Streamable HTTP on :8080, non-root, read-only root
# filesystem friendly (the only writable path is the /var/lib/gatehouse volume). One template for
# every server: SERVER names its folder under servers/, and the server's own defaults come from
# servers/<SERVER>/deploy/image.env (loaded with node --env-file; a variable set at run time wins).
# Build from the repository root:
#   docker build -f deploy/docker/server.Dockerfile --build-arg SERVER=platform-ops \
#     -t gatehouse/platform-ops:0.1.0 .
# Run (credentials come from files, never from the image or the command line):
#   docker run --read-only --tmpfs /tmp -v platform-ops-data:/var/lib/gatehouse -p 8080:8080 \
#     -v ./secrets:/run/secrets/gatehouse:ro --env-file platform-ops.env gatehouse/platform-ops:0.1.0

# ── build: install only this server and its workspace dependencies, bundle, then
#    `pnpm deploy --prod` this one package (dist + its production node_modules) to /out.
FROM node:24.21.0-bookworm-slim AS build
ARG SERVER
ENV CI=true TURBO_TELEMETRY_DISABLED=1
WORKDIR /repo
RUN npm install -g --no-audit --no-fund --loglevel=error pnpm@10.34.9
COPY . .
RUN test -f "servers/${SERVER}/deploy/image.env" || { echo "--build-arg SERVER=<a folder under servers/ with deploy/image.env> is required (got '${SERVER}')" >&2; exit 1; }
RUN pnpm install --frozen-lockfile --filter "{servers/${SERVER}}..."
RUN pnpm --filter "{servers/${SERVER}}" build
RUN pnpm --filter "{servers/${SERVER}}" deploy --legacy --prod /out && cp "servers/${SERVER}/deploy/image.env" /out/image.env

# ── runtime: Node only, the deployed package owned by root and read-only to the app user.
FROM node:24.21.0-bookworm-slim AS runtime
# The audit trail's generated keys and signed checkpoints go under the volume (the root is read-only).
ENV NODE_ENV=production XDG_STATE_HOME=/var/lib/gatehouse/state
WORKDIR /app
COPY --from=build --chown=root:root --chmod=a=rX /out /app
RUN install -d -o 1000 -g 1000 -m 0750 /var/lib/gatehouse
VOLUME ["/var/lib/gatehouse"]
USER 1000:1000
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "--env-file=/app/image.env", "-e", "const name = /^(\\w+_HTTP_PORT)=/m.exec(require('node:fs').readFileSync('/app/image.env', 'utf8'))[1]; fetch('http://127.0.0.1:' + (process.env[name] || 8080) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "--env-file=/app/image.env", "/app/dist/bin.js"]
CMD ["--transport", "http"]
