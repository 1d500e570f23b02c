#!/usr/bin/env bash
# Builds the server images with no network inside the build (docker build --network none):
#  1. the base: Debian bookworm made locally with `debootstrap --variant=minbase` (needs root and the
#     Debian mirror once; the tarball is cached under ~/.cache/gatehouse) and `docker import`ed;
#  2. per server, a build context staged on the host: `pnpm deploy --prod` of that server (app/, with
#     its deploy/image.env) and Node from the npm `node` package the workspace installs (node);
#  3. `docker build --network none -f deploy/docker/server.Dockerfile` over that context.
# Usage: deploy/docker/build.sh [server…]   (default: every servers/<name> with deploy/image.env)
# Env: DOCKER (the CLI, default docker), BASE_IMAGE (default gatehouse/debian:bookworm-minbase),
#      IMAGE_PREFIX (default gatehouse/), IMAGE_TAG (default: the server's package version),
#      DEBIAN_MIRROR, STAGE (scratch folder, default a temporary one).
set -euo pipefail
cd "$(dirname "$0")/../.."
DOCKER=${DOCKER:-docker}
BASE_IMAGE=${BASE_IMAGE:-gatehouse/debian:bookworm-minbase}
IMAGE_PREFIX=${IMAGE_PREFIX:-gatehouse/}
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/gatehouse"
BASE_TAR="$CACHE/debian-bookworm-minbase.tar"
STAGE=${STAGE:-$(mktemp -d)}
export DOCKER_BUILDKIT=0 # the classic builder: BuildKit would fetch its Dockerfile frontend from a registry

# ── 1. the base image ─────────────────────────────────────────────────────
if ! $DOCKER image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
  if [ ! -s "$BASE_TAR" ]; then
    command -v debootstrap >/dev/null || { echo "debootstrap is not installed (apt-get install debootstrap)" >&2; exit 2; }
    mkdir -p "$CACHE"
    root=$(mktemp -d)
    debootstrap --variant=minbase bookworm "$root" "${DEBIAN_MIRROR:-http://deb.debian.org/debian}" >&2
    rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
    tar --numeric-owner -C "$root" -cf "$BASE_TAR.tmp" .
    mv "$BASE_TAR.tmp" "$BASE_TAR"
    rm -rf "$root"
  fi
  $DOCKER import "$BASE_TAR" "$BASE_IMAGE" >/dev/null
fi

# ── 2 and 3. each server ──────────────────────────────────────────────────
NODE_BIN=$(readlink -f node_modules/node/bin/node 2>/dev/null || true)
[ -x "$NODE_BIN" ] || { echo "node_modules/node/bin/node is missing: run pnpm install first" >&2; exit 2; }
if [ $# -gt 0 ]; then names=("$@"); else
  names=()
  for env in servers/*/deploy/image.env; do names+=("$(basename "$(dirname "$(dirname "$env")")")"); done
fi
for name in "${names[@]}"; do
  [ -f "servers/$name/deploy/image.env" ] || { echo "servers/$name/deploy/image.env is missing" >&2; exit 2; }
  ctx="$STAGE/$name"
  rm -rf "$ctx" && mkdir -p "$ctx"
  pnpm --filter "./servers/$name" deploy --prod --legacy --offline "$ctx/app" >/dev/null
  cp "servers/$name/deploy/image.env" "$ctx/app/image.env"
  cp "$NODE_BIN" "$ctx/node"
  # Owned by root in the image and read-only to the app user.
  chmod -R a+rX,go-w "$ctx"
  version=${IMAGE_TAG:-$(node -p "require('./servers/$name/package.json').version")}
  $DOCKER build --network none --build-arg "SERVER=$name" --build-arg "BASE_IMAGE=$BASE_IMAGE" \
    -f deploy/docker/server.Dockerfile -t "$IMAGE_PREFIX$name:$version" "$ctx" >&2
  echo "$IMAGE_PREFIX$name:$version"
done
