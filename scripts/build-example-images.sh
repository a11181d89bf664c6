#!/usr/bin/env bash
# Builds the example images (examples/images/) into an image store, once:
#   debian:bookworm   pilote image bootstrap (debootstrap minbase, from this machine's Debian mirror)
#   busybox:latest    the tutorial's FROM scratch / ADD busybox.tar.xz / CMD ["sh"]
#   alpine:latest     busybox standing in for alpine (see examples/images/alpine/Dockerfile)
#   nginx:latest nginx:alpine nginx:1.19                 Debian's nginx, served like the official image
#   redis:latest redis:alpine redis:5.0.12-alpine redis:6-alpine   Debian's redis-server
#   tutorial-nginx:latest  the tutorial's FROM nginx:alpine + MAINTAINER + COPY index.html
# Idempotent: an image whose names are all present is skipped (and `pilote build`
# reuses its layer cache anyway). CI runs it once before the tests.
# Usage: scripts/build-example-images.sh STORE_DIR
set -euo pipefail
store=${1:?usage: scripts/build-example-images.sh STORE_DIR}
root=$(cd "$(dirname "$0")/.." && pwd)
examples=$root/examples/images
cli=$root/dist/src/cmd/build.js
[ -f "$cli" ] || bash "$root/scripts/ensure-built.sh"
mkdir -p "$store"
store=$(cd "$store" && pwd)

log() { printf '\n==> %s\n' "$*" >&2; }

# Every name present in the store's index.json?
have() {
  local name
  for name in "$@"; do
    case $name in */*) ;; *) name=library/$name ;; esac
    grep -q "\"docker.io/$name\"" "$store/index.json" 2>/dev/null || return 1
  done
}

pilote_build() { # DIR TAG...
  local dir=$1
  shift
  local tags=()
  local t
  for t in "$@"; do tags+=(-t "$t"); done
  node "$root/dist/src/cmd/pilote.js" build --image-store "$store" "${tags[@]}" "$dir"
}

# The Debian mirror this machine's apt uses (deb822 `URIs:` or one-line `deb URL`).
mirror() {
  local files=(/etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources)
  local url
  url=$(cat "${files[@]}" 2>/dev/null | sed -n -e 's/^[[:space:]]*URIs:[[:space:]]*\([^[:space:]]*\/debian\/\{0,1\}\)[[:space:]]*$/\1/p' \
    -e 's/^[[:space:]]*deb[[:space:]]\{1,\}\(\[[^]]*\][[:space:]]\{1,\}\)\{0,1\}\([^[:space:]]*\/debian\/\{0,1\}\)[[:space:]].*/\2/p' | head -n1)
  echo "${url:-http://deb.debian.org/debian}"
}

if have debian:bookworm; then
  log "debian:bookworm: present"
else
  m=$(mirror)
  log "debian:bookworm: bootstrapping from $m"
  node --input-type=module -e "const m = await import(process.argv[1]); await m.bootstrapCommand(process.argv.slice(2));" \
    "$cli" debian:bookworm --mirror "$m" --image-store "$store"
fi

if have busybox:latest; then
  log "busybox:latest: present"
else
  log "busybox:latest: building"
  [ -f "$examples/busybox/busybox.tar.xz" ] || sh "$examples/busybox/make-rootfs.sh"
  pilote_build "$examples/busybox" busybox:latest
fi

build_if_missing() { # DIR TAG...
  if have "${@:2}"; then
    log "${*:2}: present"
  else
    log "${*:2}: building"
    pilote_build "$@"
  fi
}

build_if_missing "$examples/alpine" alpine:latest
build_if_missing "$examples/nginx" nginx:latest nginx:alpine nginx:1.19
build_if_missing "$examples/redis" redis:latest redis:alpine redis:5.0.12-alpine redis:6-alpine
build_if_missing "$examples/tutorial-nginx" tutorial-nginx:latest

log "example images ready in $store"
