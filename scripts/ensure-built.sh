#!/usr/bin/env bash
# Installs npm dependencies when package-lock.json changed (or none are installed)
# and compiles the TypeScript when a source is newer than the build. Cheap when
# nothing changed, so `npm start` and `npm test` can always call it.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ] || [ package.json -nt node_modules/.package-lock.json ]; then
  echo "pilote: installing npm dependencies…" >&2
  npm install --no-audit --no-fund >&2
  touch node_modules/.package-lock.json
fi
stamp=dist/.build-stamp
if [ ! -f "$stamp" ] || [ -n "$(find src test bench tsconfig.json package.json -newer "$stamp" -print -quit 2>/dev/null)" ]; then
  echo "pilote: compiling TypeScript…" >&2
  npx tsc -p tsconfig.json
  touch "$stamp"
fi
