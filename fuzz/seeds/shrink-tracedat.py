#!/usr/bin/env python3
"""Writes a small trace.dat (version 6) from a real one, as a fuzz seed: the same header and options, only the
event formats of the systems named, no kallsyms or printk, a few saved command lines, and the first pages of each CPU's data.
Usage: shrink-tracedat.py IN OUT [--pages N] [--systems sched,kvm,...]"""
import argparse
import struct

ap = argparse.ArgumentParser()
ap.add_argument("input")
ap.add_argument("output")
ap.add_argument("--pages", type=int, default=2)
ap.add_argument("--systems", default="sched,kvm,block,net,task")
ap.add_argument("--cmdlines", type=int, default=16, help="saved command lines kept")
a = ap.parse_args()
keep_systems = set(a.systems.split(","))

f = open(a.input, "rb").read()
p = 0
def take(n):
    global p
    b = f[p:p + n]
    p += n
    return b
def cstr():
    global p
    e = f.index(b"\0", p)
    s = f[p:e]
    p = e + 1
    return s

out = bytearray()
out += take(10)
version = cstr()
assert version == b"6", version
out += version + b"\0"
endian, longsize = take(1), take(1)
assert endian == b"\0", "little-endian only"
out += endian + longsize
page = struct.unpack("<I", take(4))[0]
out += struct.pack("<I", page)
for name in (b"header_page\0", b"header_event\0"):
    assert take(len(name)) == name
    size = struct.unpack("<Q", take(8))[0]
    out += name + struct.pack("<Q", size) + take(size)
count = struct.unpack("<I", take(4))[0]
for _ in range(count):
    take(struct.unpack("<Q", take(8))[0])
out += struct.pack("<I", 0)  # no ftrace formats
systems = struct.unpack("<I", take(4))[0]
kept = []
for _ in range(systems):
    name = cstr()
    n = struct.unpack("<I", take(4))[0]
    formats = [take(struct.unpack("<Q", take(8))[0]) for _ in range(n)]
    if name.decode() in keep_systems:
        kept.append((name, formats))
out += struct.pack("<I", len(kept))
for name, formats in kept:
    out += name + b"\0" + struct.pack("<I", len(formats))
    for fm in formats:
        out += struct.pack("<Q", len(fm)) + fm
take(struct.unpack("<I", take(4))[0])  # kallsyms
out += struct.pack("<I", 0)
take(struct.unpack("<I", take(4))[0])  # printk
out += struct.pack("<I", 0)
size = struct.unpack("<Q", take(8))[0]
cmdlines = b"".join(l + b"\n" for l in take(size).split(b"\n")[:a.cmdlines] if l)
out += struct.pack("<Q", len(cmdlines)) + cmdlines
cpus = struct.unpack("<I", take(4))[0]
out += struct.pack("<I", cpus)
marker = take(10)
assert marker == b"options  \0", marker
out += marker
while True:
    oid = struct.unpack("<H", take(2))[0]
    if oid == 0:
        out += struct.pack("<H", 0)
        break
    size = struct.unpack("<I", take(4))[0]
    out += struct.pack("<HI", oid, size) + take(size)
assert take(10) == b"flyrecord\0"
out += b"flyrecord\0"
table = [struct.unpack("<QQ", take(16)) for _ in range(cpus)]
table_at = len(out)
out += bytes(16 * cpus)
entries = []
for offset, size in table:
    keep = min(size, a.pages * page)
    pad = (-len(out)) % page
    out += bytes(pad)
    entries.append((len(out), keep))
    out += f[offset:offset + keep]
for i, (o, s) in enumerate(entries):
    struct.pack_into("<QQ", out, table_at + 16 * i, o if s else 0, s)
open(a.output, "wb").write(out)
print(f"{a.output}: {len(out)} bytes, {cpus} CPUs, {len(kept)} event systems")
