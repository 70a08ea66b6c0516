#!/usr/bin/env bash
# sip_demo.sh - `callbot demo`: a serve child on loopback with a temporary config, dialled
# with three turns; every turn gets a reply with a latency line, the stored conversation is
# printed, the child stops cleanly (exit 0 after SIGTERM) and nothing is left in TMPDIR.
source "$(dirname "$0")/sip/lib.sh"

mkdir "$WORK/tmp"
demo_dirs() { find "$WORK/tmp" -mindepth 1 2>/dev/null | wc -l; }
(cd "$WORK" && TMPDIR="$WORK/tmp" timeout 120 "$CALLBOT" demo >"$WORK/demo.out" 2>&1) ||
	die "demo failed: $(cat "$WORK/demo.out")"
cat "$WORK/demo.out" >&2
[ "$(grep -Ec '^turn [123]: said ".*" \| heard ".*" \| latency [0-9]+ ms$' "$WORK/demo.out")" = 3 ] ||
	die "expected three answered turns"
grep -q "^demo: the conversation as the bot stored it:" "$WORK/demo.out" || die "no stored conversation"
[ "$(grep -c '^  caller ' "$WORK/demo.out")" = 3 ] || die "expected three stored caller turns"
[ "$(grep -c '^  bot ' "$WORK/demo.out")" = 4 ] || die "expected the greeting and three answers"
grep -q "serve ended with status" "$WORK/demo.out" && die "the serve child did not exit 0"
grep -q "ERROR: \(Address\|Leak\)Sanitizer\|runtime error:" "$WORK/demo.out" && die "sanitizer report"
[ "$(demo_dirs)" = 0 ] || die "temporary directory left behind: $(ls "$WORK/tmp")"
log "ok: sip_demo"
