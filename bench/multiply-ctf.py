#!/usr/bin/env python3
"""multiply-ctf.py SRC_DIR DST_DIR K: a CTF 1.8 trace holding SRC's events K times in SRC's streams: each stream
file is its packets repeated K times, copy j's timestamps (every event header's, the packet contexts'
timestamp_begin and timestamp_end) moved j x SHIFT later, so every stream's events keep increasing in time and
the readers merge as many streams as in SRC. SHIFT is the span of SRC's timestamps rounded up to whole seconds
plus 1 s: copies do not overlap. The metadata is SRC's, unchanged.

The layout walked is the one perf's CTF writer (perf data convert --to-ctf) emits, and the script checks it:
packet header magic/uuid/stream_id, packet context timestamp_begin, timestamp_end, content_size, packet_size
(bits), events_discarded, cpu_id; event header id (32 bits) and timestamp (64 bits), byte-aligned (CTF aligns in
bits); payload fields byte-packed integers and null-terminated strings; each packet's events end exactly at its
content_size. Anything else stops the script with a message.
A large input for whole-process benchmarks that decodes like the original (bench/whole-process.sh --large)."""
import os
import re
import struct
import sys

src, dst, k = sys.argv[1], sys.argv[2], int(sys.argv[3])
meta = open(os.path.join(src, 'metadata'), encoding='utf-8').read()
if not meta.startswith('/* CTF 1.8'):
    sys.exit(f'{src}/metadata: not a plain-text CTF 1.8 metadata')
if 'timestamp_begin' not in meta or 'map = clock.perf_clock.value; } timestamp;' not in meta:
    sys.exit(f'{src}/metadata: not the layout of perf\'s CTF writer')

# Event classes: id -> list of field sizes in bytes (0 = null-terminated string).
events = {}
for m in re.finditer(r'event \{\s*id = (\d+);.*?fields := struct \{(.*?)\n\t\}', meta, re.S):
    fields = []
    for f in re.finditer(r'(integer \{[^}]*\}|string \{[^}]*\})\s*([A-Za-z_0-9]+)(\[[^\]]*\])?;', m.group(2)):
        decl = f.group(1)
        if f.group(3):
            sys.exit(f'{src}/metadata: event {m.group(1)} has an array field {f.group(2)}, which this script does not walk')
        if decl.startswith('string'):
            fields.append(0)
        else:
            size = int(re.search(r'size = (\d+)', decl).group(1))
            if 'align = 1;' not in decl or size % 8:
                sys.exit(f'{src}/metadata: event {m.group(1)} field {f.group(2)} is not a byte-packed integer')
            fields.append(size // 8)
    events[int(m.group(1))] = fields
if not events:
    sys.exit(f'{src}/metadata: no event classes found')

HEADER = 24  # magic, uuid[16], stream_id
CONTEXT = HEADER  # timestamp_begin, timestamp_end, content_size, packet_size, events_discarded (u64), cpu_id (u32)


def walk(data):
    """(packet offset, packet bytes, [offsets of the 8-byte timestamps to move]) for each packet of a stream file."""
    at, out = 0, []
    while at < len(data):
        magic, = struct.unpack_from('<I', data, at)
        if magic != 0xC1FC1FC1:
            sys.exit(f'packet at {at}: bad magic {magic:#x}')
        begin, end, content_bits, packet_bits = struct.unpack_from('<QQQQ', data, at + CONTEXT)
        stamps = [at + CONTEXT, at + CONTEXT + 8]
        e = at + CONTEXT + 44
        stop = at + content_bits // 8
        while e + 12 <= stop:
            eid, = struct.unpack_from('<I', data, e)
            if eid not in events:
                sys.exit(f'packet at {at}: event at {e} has unknown id {eid}')
            stamps.append(e + 4)
            e += 12
            for size in events[eid]:
                if size:
                    e += size
                else:
                    e = data.index(b'\0', e) + 1
        if e != stop:
            sys.exit(f'packet at {at}: events end at {e}, content at {stop}')
        out.append((at, packet_bits // 8, stamps))
        at += packet_bits // 8
    return out


streams = sorted(f for f in os.listdir(src) if f != 'metadata' and os.path.isfile(os.path.join(src, f)))
walked = {}
lo, hi, count = None, None, 0
for name in streams:
    data = open(os.path.join(src, name), 'rb').read()
    packets = walk(data)
    walked[name] = (data, packets)
    for _, _, stamps in packets:
        count += len(stamps) - 2
        for s in stamps[2:]:
            t, = struct.unpack_from('<Q', data, s)
            lo = t if lo is None else min(lo, t)
            hi = t if hi is None else max(hi, t)
shift = ((hi - lo) // 1_000_000_000 + 2) * 1_000_000_000
os.makedirs(dst, exist_ok=True)
with open(os.path.join(dst, 'metadata'), 'w', encoding='utf-8') as out:
    out.write(meta)
for name in streams:
    data, packets = walked[name]
    with open(os.path.join(dst, name), 'wb') as out:
        for j in range(k):
            for offset, size, stamps in packets:
                chunk = bytearray(data[offset:offset + size])
                if j:
                    for s in stamps:
                        t, = struct.unpack_from('<Q', chunk, s - offset)
                        struct.pack_into('<Q', chunk, s - offset, t + j * shift)
                out.write(chunk)
print(f'{dst}: {k} copies of {len(streams)} streams ({count} events each copy, {k * count} in all), {shift / 1e9:.0f} s apart')
