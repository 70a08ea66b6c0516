#!/bin/sh
# make-fixtures.sh - regenerates the speech fixtures from pocketsphinx-testdata's human
# recordings: 16 kHz -> 8 kHz G.711 mu-law -> 16-bit PCM (what the media layer delivers).
# Needs: sox, pocketsphinx-testdata (scripts/packages/test-speech.list).
set -eu
src=/usr/share/pocketsphinx/test/data
out=$(dirname "$0")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tel() { # in.(raw|wav) out.wav
	case $1 in
	*.raw) sox -t raw -r 16000 -e signed -b 16 -c 1 "$1" -r 8000 -e u-law "$tmp/u.wav" ;;
	*) sox "$1" -r 8000 -e u-law "$tmp/u.wav" ;;
	esac
	sox "$tmp/u.wav" -e signed -b 16 "$2"
}
tel "$src/goforward.raw" "$out/goforward.wav"
tel "$src/something.raw" "$out/something.wav"
tel "$src/numbers.raw" "$out/numbers.wav"
for f in "$src"/librivox/*.wav; do
	id=$(basename "$f" .wav)
	tel "$f" "$out/librivox-${id##*-}.wav"
done
sed -n 's/^<s> \(.*\) <\/s> (.*-\([0-9]*\))$/librivox-\2 \1/p' "$src/librivox/transcription" \
	>"$out/librivox.txt"
