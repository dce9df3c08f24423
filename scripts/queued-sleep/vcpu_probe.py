"""A stand-in VM for record.sh: the process is named like qemu, one thread like a TCG vCPU.

The vCPU thread runs 4 ms and sleeps 100 ms, forever; its tid goes to stdout. Run by record.sh, killed by it.
"""
import ctypes
import sys
import threading
import time

PR_SET_NAME = 15
libc = ctypes.CDLL(None, use_errno=True)


def set_name(name):
    libc.prctl(PR_SET_NAME, ctypes.c_char_p(name.encode()), 0, 0, 0)


def vcpu():
    set_name("CPU 0/TCG")
    print(threading.get_native_id(), flush=True)
    while True:
        start = time.perf_counter()
        while time.perf_counter() - start < 0.004:
            pass
        time.sleep(0.1)


set_name("qemu-system-x86")
threading.Thread(target=vcpu, daemon=True).start()
sys.stdin.read()  # until record.sh closes it
