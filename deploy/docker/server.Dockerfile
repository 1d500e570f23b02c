# Any Gatehouse server as a container: Streamable HTTP on :8080, non-root, read-only root
# filesystem (the only writable path is the /var/lib/gatehouse volume). Built with no network:
# deploy/docker/build.sh stages the build context on the host (app/: `pnpm deploy --prod` of the
# server named by SERVER, with its servers/<SERVER>/deploy/image.env; node: Node from the npm `node`
# package) and BASE_IMAGE is a Debian made locally with debootstrap and `docker import`ed. Nothing is
# downloaded or installed during the build:
#   deploy/docker/build.sh platform-ops        # → gatehouse/platform-ops:<version>
# Run (credentials come from files, never from the image or the command line):
#   docker run --read-only --tmpfs /tmp -v platform-ops-data:/var/lib/gatehouse -p 127.0.0.1:8080:8080 \
#     -v ./secrets:/run/secrets/gatehouse:ro --env-file platform-ops.env gatehouse/platform-ops:0.1.0
ARG BASE_IMAGE=gatehouse/debian:bookworm-minbase
FROM ${BASE_IMAGE}
ARG SERVER
LABEL org.opencontainers.image.title="gatehouse-${SERVER}"
# The audit trail's generated keys, signed checkpoints and shipping spool go under the volume.
# Two malloc arenas instead of one per core and thread: what a server keeps after a burst is mostly
# native memory in glibc's per-thread arenas (README, Performance), not the V8 heap.
ENV NODE_ENV=production XDG_STATE_HOME=/var/lib/gatehouse/state MALLOC_ARENA_MAX=2
COPY node /usr/local/bin/node
COPY app /app
RUN test -f /app/image.env && install -d -o 1000 -g 1000 -m 0750 /var/lib/gatehouse
WORKDIR /app
VOLUME ["/var/lib/gatehouse"]
USER 1000:1000
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "--env-file=/app/image.env", "-e", "const name = /^(\\w+_HTTP_PORT)=/m.exec(require('node:fs').readFileSync('/app/image.env', 'utf8'))[1]; fetch('http://127.0.0.1:' + (process.env[name] || 8080) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "--env-file=/app/image.env", "/app/dist/bin.js"]
CMD ["--transport", "http"]
