#!/usr/bin/env bash
# build_symbols.sh - callbot must not define a global symbol that a linked shared library
# also exports: ours would interpose on it at run time (str_dup once broke every libre call).
. "$(dirname "$0")/lib.sh.inc"

lib="$BUILD_DIR/libcallbot_lib.a"
[ -f "$lib" ] || fail "no $lib"
nm --defined-only -g "$lib" 2>/dev/null | awk 'NF==3 && $2 ~ /[TDBR]/ {print $3}' | sort -u > "$T/ours"
[ -s "$T/ours" ] && ok "read callbot's symbols ($(wc -l < "$T/ours"))" || fail "no symbols read"
for so in $(ldd "$CALLBOT" | awk '/=> \// {print $3}'); do
	nm -D --defined-only "$so" 2>/dev/null | awk '{print $NF}' | sed 's/@.*//'
done | sort -u > "$T/theirs"
[ -s "$T/theirs" ] && ok "read the libraries' symbols" || fail "no library symbols read"
clash=$(comm -12 "$T/ours" "$T/theirs" | grep -v -E '^(main|_init|_fini|__.*)$' || true)
[ -z "$clash" ] && ok "no symbol of ours shadows a library's" || fail "symbols also exported by a library: $clash"
echo "$CHECKS checks passed"
