#!/bin/sh
# Installs the keel command from package tarballs with plain npm, into <prefix>/node_modules/.bin/keel.
# The release test (tools/release) installs through this script, and so does deploy/Dockerfile, so
# the image holds exactly what the test proved works.
# Usage: install.sh <directory of .tgz files> <prefix>
set -eu
if [ "$#" -ne 2 ]; then
  echo "usage: install.sh <directory of .tgz files> <prefix>" >&2
  exit 2
fi
src=$(cd "$1" && pwd)
mkdir -p "$2"
cd "$2"
if [ ! -f package.json ]; then
  printf '{ "name": "keel-install", "private": true }\n' > package.json
fi
set -- "$src"/*.tgz
if [ ! -f "$1" ]; then
  echo "install.sh: no .tgz files in $src (pnpm release:check --cli-packages $src writes them)" >&2
  exit 1
fi
npm install --omit=dev --no-audit --no-fund --loglevel=error "$@"
