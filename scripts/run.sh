#!/usr/bin/env bash
# README command 1: install what is missing, build, create a configuration with fresh
# secrets on the first run (printing the admin password once), and run callbot here.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh run
scripts/build.sh release
if [ ! -f .env ]; then
  build/callbot init
fi
exec build/callbot serve
