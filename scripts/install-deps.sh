#!/usr/bin/env bash
# Installs the Debian 12 packages callbot needs; skips what is present.
# Usage: scripts/install-deps.sh [build|run|test]...   (default: build)
set -euo pipefail

build_pkgs=(
  build-essential cmake pkg-config
  libre-dev librem-dev libsrtp2-dev
  libmicrohttpd-dev libcurl4-openssl-dev libjansson-dev
  libsqlite3-dev libpq-dev libsodium-dev libssl-dev
  libpocketsphinx-dev libsphinxbase-dev pocketsphinx-en-us libespeak-ng-dev libspeexdsp-dev flite1-dev
)
run_pkgs=( espeak-ng-data ca-certificates )
test_pkgs=( libcmocka-dev python3 python3-cryptography sqlite3 curl openssl
  sip-tester sox espeak-ng )

# Further test packages, one file per area (a package per line, # comments).
list_pkgs() {
  local f
  for f in "$(dirname "$0")"/packages/"$1"-*.list; do
    [ -f "$f" ] && sed -e 's/#.*//' -e 's/[[:space:]]*$//' -e '/^[[:space:]]*$/d' "$f"
  done
  return 0
}

want=()
for group in "${@:-build}"; do
  case "$group" in
    build) want+=("${build_pkgs[@]}") ;;
    run)   want+=("${build_pkgs[@]}" "${run_pkgs[@]}") ;;
    test)  want+=("${build_pkgs[@]}" "${run_pkgs[@]}" "${test_pkgs[@]}")
           mapfile -t extra < <(list_pkgs test); want+=("${extra[@]}") ;;
    *) echo "install-deps: unknown group '$group' (build, run, test)" >&2; exit 2 ;;
  esac
done

# Packages whose command may come from elsewhere (e.g. a Node.js build that conflicts with
# Debian's npm): present on PATH is good enough.
provided_by_command() {
  case "$1" in
    nodejs) command -v node >/dev/null ;;
    npm) command -v npm >/dev/null ;;
    *) return 1 ;;
  esac
}

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" && continue
  provided_by_command "$p" && continue
  missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages: ${missing[*]} (run as root or install them)" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# A stale or absent package list makes apt fail to find packages: refresh once.
apt-get update -qq || true
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
