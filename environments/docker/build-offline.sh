#!/usr/bin/env bash
# Build every image of `hubchaos up --env docker --offline` without a container
# registry: a minimal Debian bookworm root made with debootstrap and imported
# as hubchaos/debian:bookworm, then the runtime and services images on top of
# it (through hubchaos.stack.docker.prepare, which skips unchanged images).
#
# Needs root, debootstrap, a running Docker engine and Debian's package mirror.
# Usage: environments/docker/build-offline.sh [--rebuild-base]
set -euo pipefail
cd "$(dirname "$0")/../.."

BASE_IMAGE=hubchaos/debian:bookworm
SUITE=bookworm
# The host's own Debian mirror, so the base sees what apt-get on the host sees.
MIRROR=${HUBCHAOS_DEBIAN_MIRROR:-$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)}
MIRROR=${MIRROR:-http://deb.debian.org/debian}

if [ "${1:-}" = "--rebuild-base" ]; then
    docker image rm -f "$BASE_IMAGE" >/dev/null 2>&1 || true
fi

if docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
    echo "build-offline: $BASE_IMAGE is there"
else
    command -v debootstrap >/dev/null || {
        echo "build-offline: debootstrap is missing (apt-get install -y debootstrap)" >&2
        exit 2
    }
    [ "$(id -u)" -eq 0 ] || { echo "build-offline: debootstrap needs root" >&2; exit 2; }
    root=$(mktemp -d /tmp/hubchaos-rootfs.XXXXXX)
    trap 'rm -rf "$root"' EXIT
    echo "build-offline: debootstrap --variant=minbase $SUITE from $MIRROR ..."
    started=$(date +%s)
    debootstrap --variant=minbase "$SUITE" "$root" "$MIRROR" > "$root.log" 2>&1 || {
        echo "build-offline: debootstrap failed, last lines of $root.log:" >&2
        tail -5 "$root.log" >&2
        exit 1
    }
    rm -f "$root.log"
    # Leaner images: no apt caches or docs in the base layer.
    rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* \
        "$root"/usr/share/doc/* "$root"/usr/share/man/*
    tar -C "$root" -c . | docker import \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'CMD ["/bin/bash"]' - "$BASE_IMAGE" >/dev/null
    echo "build-offline: $BASE_IMAGE imported in $(( $(date +%s) - started ))s"
fi

python3 -m hubchaos.stack.docker.prepare --offline
