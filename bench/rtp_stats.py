#!/usr/bin/env python3
"""rtp_stats.py PCAP EXPECTED - the server's outgoing RTP in a capture (classic pcap, made
by bench/media.sh), per stream (UDP source port, destination port).

Prints one line: "streams held packets loss_pct late jit_p50_ms jit_p99_ms" where
  held     streams with at least 90 % of EXPECTED packets (the call was carried all along),
  loss     RTP sequence numbers missing inside each stream,
  late     packets sent more than one frame (20 ms) behind the stream's own 20 ms clock,
  jit_*    |interval between consecutive packets - 20 ms|, p50 and p99 over all streams.
Stdlib only: parsing here is far cheaper than tshark's dissectors for a million packets.
"""
import struct
import sys


def packets(path):
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    end = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    nano = magic in (0xA1B23C4D, 0x4D3CB2A1)
    link = struct.unpack(end + "I", data[20:24])[0]
    l2 = {1: 14, 113: 16, 0: 4, 276: 20}.get(link, 14)
    off = 24
    while off + 16 <= len(data):
        sec, frac, incl, _ = struct.unpack(end + "IIII", data[off:off + 16])
        off += 16
        pkt = data[off:off + incl]
        off += incl
        ip = pkt[l2:]
        if len(ip) < 20 or ip[0] >> 4 != 4 or ip[9] != 17:
            continue
        ihl = (ip[0] & 15) * 4
        udp = ip[ihl:]
        if len(udp) < 8 + 12 or udp[8] >> 6 != 2:
            continue
        sport, dport = struct.unpack(">HH", udp[:4])
        seq = struct.unpack(">H", udp[10:12])[0]
        t = sec + frac / (1e9 if nano else 1e6)
        yield (sport, dport), t, seq


def pct(v, p):
    return v[min(len(v) - 1, int(len(v) * p))] if v else 0.0


def main():
    streams = {}
    for key, t, seq in packets(sys.argv[1]):
        streams.setdefault(key, []).append((t, seq))
    expected = int(sys.argv[2])
    held = total = lost = late = 0
    jit = []
    for pk in streams.values():
        # Unwrap sequence numbers in arrival order, then order by them.
        ext, last, base = [], None, 0
        for t, s in pk:
            if last is not None and s < last and last - s > 32768:
                base += 65536
            last = s
            ext.append((base + s, t))
        ext.sort()
        span = ext[-1][0] - ext[0][0] + 1
        seen = len({s for s, _ in ext})
        total += span
        lost += span - seen
        held += seen >= 0.9 * expected
        s0, t0 = ext[0]
        lag = [t - t0 - 0.020 * (s - s0) for s, t in ext]
        lo = min(lag)
        late += sum(1 for x in lag if x - lo > 0.020)
        bytime = sorted(t for _, t in ext)
        jit += [abs((b - a) * 1000 - 20.0) for a, b in zip(bytime, bytime[1:])]
    jit.sort()
    print("%d %d %d %.3f %d %.2f %.2f" % (len(streams), held, total,
          100.0 * lost / max(1, total), late, pct(jit, 0.5), pct(jit, 0.99)))


if __name__ == "__main__":
    main()
