#!/usr/bin/env bash
# web_browser.sh - runs tests/browser/dashboard.test.js (playwright-core + Debian's chromium)
# against a seeded serve. Screenshots: $BUILD_DIR/web-browser-artifacts/.
. "$(dirname "$0")/lib.sh.inc"
. "$TESTS_DIR/data/web/lib.sh"
[ -x /usr/bin/chromium ] || fail "chromium missing (apt-get install chromium)"
command -v npm > /dev/null || fail "npm missing"

# npm ci into the build tree (never the source tree), once per lock file.
NODE_DIR=${BUILD_DIR:-$T}/web-browser-node
if ! cmp -s "$TESTS_DIR/browser/package-lock.json" "$NODE_DIR/package-lock.json" 2>/dev/null \
	|| [ ! -d "$NODE_DIR/node_modules/playwright-core" ]; then
	rm -rf "$NODE_DIR"; mkdir -p "$NODE_DIR"
	cp "$TESTS_DIR/browser/package.json" "$TESTS_DIR/browser/package-lock.json" "$NODE_DIR/"
	(cd "$NODE_DIR" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 timeout 240 npm ci --no-audit --no-fund \
		> npm.log 2>&1) || { cat "$NODE_DIR/npm.log"; fail "npm ci"; }
fi
ok "playwright-core installed"

web_instance "$T/site"
set_key "$D/.env" RATE_LIMITS "100000 per hour"
add_user alice admin 'alice-password-123'
add_user victor viewer 'victor-password-123'
seed_calls 30
mkdir -p "$D/audio_output"
$PY - "$D/audio_output/call1.wav" <<'PY'
import math, struct, sys, wave
w = wave.open(sys.argv[1], 'wb'); w.setnchannels(1); w.setsampwidth(2); w.setframerate(8000)
w.writeframes(b''.join(struct.pack('<h', int(8000 * math.sin(2 * math.pi * 440 * i / 8000))) for i in range(16000)))
w.close()
PY
db "UPDATE calls SET recording_path='call1.wav' WHERE sip_call_id='seed-1';
    INSERT INTO calls(caller, callee, started_at, status) VALUES
    ('<img src=x onerror=alert(1)>', '<script>alert(2)</script>', '2026-03-02T10:00:00.000Z', 'completed');"
RTP_BASE=$(free_port)
set_key "$D/.env" BOT_MODE echo
set_key "$D/.env" RTP_PORTS "$RTP_BASE-$((RTP_BASE + 39))"
web_serve
# A real caller for the "active call appears live" step (BOT_MODE=echo: no speech engines).
CALL_CMD=
if command -v sipp > /dev/null; then
	head -c 24000 /dev/zero | tr '\0' '\377' > "$T/caller.ulaw"   # 3 s of mu-law silence for the scenario
	CALL_CMD="cd '$T' && timeout 40 sipp -i 127.0.0.1 -nostdin -timeout 30 -timeout_error \
		-sf '$TESTS_DIR/integration/sip/uac_call.xml' -p $(free_port) -mp $(free_port) -m 1 -d 5000 \
		127.0.0.1:$SIP_PORT > '$T/sipp.out' 2>&1"
else
	echo "# sipp missing: the live SIP call step is skipped"
fi

ART=${BUILD_DIR:-$T}/web-browser-artifacts
rm -rf "$ART"
URL=$URL DB=$D/callbot.db ARTIFACTS=$ART ADMIN_USER=alice ADMIN_PASS=alice-password-123 \
VIEWER_USER=victor VIEWER_PASS=victor-password-123 CALL_CMD=$CALL_CMD \
AUDIO_CALL_ID=$(db "SELECT id FROM calls WHERE sip_call_id='seed-1'") \
NODE_PATH=$NODE_DIR/node_modules timeout 180 node "$TESTS_DIR/browser/dashboard.test.js" \
	|| { tail -5 "$T/sipp.out" 2>/dev/null; fail "browser test failed (screenshots in $ART)"; }
ok "browser test passed (screenshots in $ART)"
web_stop
echo "$CHECKS checks passed"
