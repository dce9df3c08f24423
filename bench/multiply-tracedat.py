#!/usr/bin/env python3
"""multiply-tracedat.py SRC DST K: a trace-cmd v6 (flyrecord, uncompressed) trace.dat holding SRC's events K times,
on SRC's CPUs: each CPU's section is its pages repeated K times, copy j's page timestamps moved j x SHIFT later, so
every CPU's events keep increasing in time and the readers merge as many CPUs as in SRC (the absolute time stamps
inside pages, ring-buffer records of type 31, are moved too). SHIFT is twice the span of
SRC's page timestamps plus 1 s (copies do not overlap). Formats, options and cmdlines are SRC's.
A large input for whole-process benchmarks that decodes like the original."""
import struct
import sys

src, dst, k = sys.argv[1], sys.argv[2], int(sys.argv[3])
data = open(src, 'rb').read()
if data[:10] != b'\x17\x08\x44tracing' or data[10:12] != b'6\0':
    sys.exit(f'{src}: not a trace-cmd v6 trace.dat')
page = struct.unpack_from('<I', data, 14)[0]
options = data.index(b'options  \0')
cpus = struct.unpack_from('<I', data, options - 4)[0]
fly = data.index(b'flyrecord\0', options) + len(b'flyrecord\0')
sections = [struct.unpack_from('<QQ', data, fly + 16 * i) for i in range(cpus)]
stamps = [struct.unpack_from('<Q', data, o + p)[0] for o, s in sections for p in range(0, s, page)]
shift = 2 * (max(stamps) - min(stamps)) + 1_000_000_000
start = -(-(fly + 16 * cpus) // page) * page
MASK59 = (1 << 59) - 1


def shift_page(chunk, p):
    """Moves one page (little-endian, 8-byte long) SHIFT later: its header stamp and its absolute stamp records."""
    struct.pack_into('<Q', chunk, p, struct.unpack_from('<Q', chunk, p)[0] + shift)
    end = p + 16 + (struct.unpack_from('<Q', chunk, p + 8)[0] & 0xFFFFF)
    at = p + 16
    while at + 4 <= end:
        header = struct.unpack_from('<I', chunk, at)[0]
        type_len, delta = header & 0x1F, header >> 5
        if type_len == 29:  # padding; delta 0: the rest of the page is unused
            if delta == 0:
                return
            at += 4 + struct.unpack_from('<I', chunk, at + 4)[0]
        elif type_len == 30:  # time extend (relative)
            at += 8
        elif type_len == 31:  # absolute time stamp, low 59 bits
            stamp = ((struct.unpack_from('<I', chunk, at + 4)[0] << 27) | delta) + shift
            struct.pack_into('<II', chunk, at, ((stamp & ((1 << 27) - 1)) << 5) | 31, (stamp & MASK59) >> 27)
            at += 8
        elif type_len == 0:
            at += 4 + ((struct.unpack_from('<I', chunk, at + 4)[0] + 3) & ~3)
        else:
            at += 4 + 4 * type_len

table, at = [], start
for _, size in sections:
    padded = -(-size // page) * page
    table.append((at, padded * (k - 1) + size))
    at += padded * k
with open(dst, 'wb') as out:
    out.write(data[:fly])
    for offset, size in table:
        out.write(struct.pack('<QQ', offset, size))
    out.write(b'\0' * (start - out.tell()))
    for offset, size in sections:
        chunk = bytearray(data[offset:offset + size] + b'\0' * (-size % page))
        for j in range(k):
            if j > 0:
                for p in range(0, size, page):
                    shift_page(chunk, p)
            out.write(chunk if j < k - 1 else chunk[:size])
print(f'{dst}: {k} copies of {cpus} CPU sections, {shift / 1e9:.3f} s apart')
