#!/usr/bin/env python3
"""multiply-tracedat.py SRC DST K: a trace-cmd v6 (flyrecord, uncompressed) trace.dat whose CPU sections are SRC's
repeated K times (K x CPUs in the flyrecord table); everything else (formats, options, cmdlines) is SRC's.
A large input for whole-process benchmarks: each copy decodes like the original, readers merge the CPUs by time."""
import struct
import sys

src, dst, k = sys.argv[1], sys.argv[2], int(sys.argv[3])
data = open(src, 'rb').read()
if data[:10] != b'\x17\x08\x44tracing' or data[10:12] != b'6\0':
    sys.exit(f'{src}: not a trace-cmd v6 trace.dat')
options = data.index(b'options  \0')
cpus = struct.unpack_from('<I', data, options - 4)[0]
fly = data.index(b'flyrecord\0', options) + len(b'flyrecord\0')
sections = [struct.unpack_from('<QQ', data, fly + 16 * i) for i in range(cpus)]
head = bytearray(data[:fly])
struct.pack_into('<I', head, options - 4, cpus * k)
page = 4096
start = -(-(fly + 16 * cpus * k) // page) * page
table, at = [], start
for _ in range(k):
    for _, size in sections:
        table.append((at, size))
        at += -(-size // page) * page
with open(dst, 'wb') as out:
    out.write(head)
    for offset, size in table:
        out.write(struct.pack('<QQ', offset, size))
    out.write(b'\0' * (start - out.tell()))
    for _ in range(k):
        for offset, size in sections:
            out.write(data[offset:offset + size])
            out.write(b'\0' * (-size % page))
print(f'{dst}: {cpus * k} CPU sections ({cpus} x {k})')
