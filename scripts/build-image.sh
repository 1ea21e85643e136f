#!/usr/bin/env bash
# Builds the Sluice container image without any container registry:
#
#   1. the base image: a Debian root filesystem made by debootstrap (minbase, plus ca-certificates
#      and busybox-static), imported as $BASE_IMAGE — once; later builds reuse it;
#   2. the build context .image/: the Node 24 binary of the `node` npm package (stripped), Sluice
#      compiled to dist/, and the production dependencies from package-lock.json
#      (npm ci --omit=dev in .image/app, never in the repository's node_modules), trimmed of type
#      declarations, source maps and docs;
#   3. the image from Dockerfile, with podman (or buildah).
#
# Needs: debootstrap and podman or buildah (Debian: apt-get install debootstrap podman), npm, and
# root or a rootless podman set-up. Environment:
#   IMAGE          the image to build            (default localhost/sluice:<package version>)
#   BASE_IMAGE     the Debian base image         (default localhost/sluice-base:bookworm)
#   DEBIAN_SUITE   the Debian release             (default bookworm)
#   DEBIAN_MIRROR  where debootstrap downloads    (default http://deb.debian.org/debian)
#   STORAGE_DRIVER podman/buildah storage driver (e.g. vfs where overlay mounts are not allowed)
#   ISOLATION      how RUN steps run: oci (default) or chroot, for hosts where the OCI runtime
#                  cannot create containers (e.g. "cgroups in hybrid mode not supported")
#
# Usage: scripts/build-image.sh            then: podman run --rm -p 8083:8083 localhost/sluice:0.1.0
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
VERSION=$(sed -n 's/^  "version": "\(.*\)",$/\1/p' package.json | head -1)
IMAGE=${IMAGE:-localhost/sluice:$VERSION}
BASE_IMAGE=${BASE_IMAGE:-localhost/sluice-base:bookworm}
DEBIAN_SUITE=${DEBIAN_SUITE:-bookworm}
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
CONTEXT=$ROOT/.image

if command -v podman > /dev/null; then
  ENGINE=podman
elif command -v buildah > /dev/null; then
  ENGINE=buildah
else
  echo "build-image: neither podman nor buildah is installed (Debian: apt-get install podman)" >&2
  exit 1
fi
ENGINE_ARGS=()
if [ -n "${STORAGE_DRIVER:-}" ]; then ENGINE_ARGS+=(--storage-driver "$STORAGE_DRIVER"); fi
engine() { "$ENGINE" "${ENGINE_ARGS[@]}" "$@"; }

step() { printf '\n== %s\n' "$*"; }

# 1. The base image, from a Debian root filesystem.
if engine image exists "$BASE_IMAGE" 2> /dev/null || engine inspect "$BASE_IMAGE" > /dev/null 2>&1; then
  step "base image $BASE_IMAGE exists"
else
  command -v debootstrap > /dev/null || {
    echo "build-image: debootstrap is not installed (Debian: apt-get install debootstrap)" >&2
    exit 1
  }
  ROOTFS=$(mktemp -d /var/tmp/sluice-rootfs.XXXXXX)
  trap 'rm -rf "$ROOTFS"' EXIT
  step "debootstrap $DEBIAN_SUITE into $ROOTFS"
  debootstrap --variant=minbase --include=ca-certificates,busybox-static "$DEBIAN_SUITE" "$ROOTFS" "$DEBIAN_MIRROR"
  rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/lib/apt/lists/*
  step "importing it as $BASE_IMAGE"
  tar -C "$ROOTFS" -c . | engine import - "$BASE_IMAGE"
fi

# 2. The build context.
step "preparing the build context in $CONTEXT"
rm -rf "$CONTEXT"
mkdir -p "$CONTEXT/app"
NODE_BIN=$(readlink -f node_modules/node/bin/node)
NODE_VERSION=$("$NODE_BIN" --version)
case "$NODE_VERSION" in
  v24.*) ;;
  *) echo "build-image: node_modules/node is $NODE_VERSION, not Node 24: run npm ci first" >&2; exit 1 ;;
esac
if command -v strip > /dev/null; then strip -o "$CONTEXT/node" "$NODE_BIN"; else cp "$NODE_BIN" "$CONTEXT/node"; fi
cp deploy/image/sluice "$CONTEXT/sluice"
cp deploy/image/healthcheck.mjs "$CONTEXT/app/healthcheck.mjs"
mkdir -p "$CONTEXT/app/bin" && cp bin/sluice.js "$CONTEXT/app/bin/sluice.js"
node_modules/.bin/tsc -p tsconfig.build.json --outDir "$CONTEXT/app/dist" --declaration false --sourceMap false
cp package.json package-lock.json README.md "$CONTEXT/app/"
(cd "$CONTEXT/app" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --prefer-offline --loglevel=error)
# Nothing of these runs: types, maps, TypeScript sources (Node never strips types under node_modules), docs.
find "$CONTEXT/app/node_modules" \
  \( -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' -o -name '*.map' -o -name '*.ts' -o -name '*.mts' \
     -o -name '*.cts' -o -iname '*.md' -o -iname 'CHANGELOG*' \) -type f -delete
find "$CONTEXT/app/node_modules" -type d \( -name 'dist-types' -o -name '@types' -o -name 'docs' \) -prune -exec rm -rf {} +
rm -f "$CONTEXT/app/package-lock.json"

# 3. The image (docker format: OCI images have no HEALTHCHECK).
step "building $IMAGE with $ENGINE"
BUILD=(--format docker --build-arg "BASE_IMAGE=$BASE_IMAGE" -f Dockerfile -t "$IMAGE")
if [ -n "${ISOLATION:-}" ]; then BUILD+=(--isolation "$ISOLATION"); fi
if [ "$ENGINE" = podman ]; then
  engine build "${BUILD[@]}" "$CONTEXT"
else
  engine bud "${BUILD[@]}" "$CONTEXT"
fi
SIZE=$(engine image inspect "$IMAGE" --format '{{.Size}}')
step "built $IMAGE: $((SIZE / 1000000)) MB ($SIZE bytes, uncompressed)"
