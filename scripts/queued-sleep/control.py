"""For record.sh: flips a thread's CPU affinity every 5 ms and reads its schedstat on two window boundaries.

usage: control.py PID TID OUT.json  -- writes the samples (CLOCK_REALTIME = the trace's tai clock on these hosts).
"""
import json
import os
import sys
import threading
import time

WINDOW_NS = 100_000_000
pid, tid, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
stop = threading.Event()


def flip():
    cpu = 0
    while not stop.is_set():
        try:
            os.sched_setaffinity(tid, {cpu})
        except OSError:
            return
        cpu ^= 1
        time.sleep(0.005)


def sample(label):
    # SCHED_FIFO from 3 ms before the boundary: a normal thread here wakes tens of ms late on a loaded host.
    boundary = (time.time_ns() // WINDOW_NS + 3) * WINDOW_NS
    while time.time_ns() < boundary - 3_000_000:
        time.sleep(0.001)
    os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(50))
    while time.time_ns() < boundary:
        pass
    with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
        run, wait, _ = (int(x) for x in f.read().split())
    read_ns = time.time_ns() - boundary
    os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))
    with open("/sys/kernel/tracing/trace_marker", "w") as m:
        m.write(f"vmtrace_schedstat {label} boundary={boundary} read_ns={read_ns}\n")
    return {"label": label, "at_ns": boundary, "run_ns": run, "wait_ns": wait, "read_ns": read_ns}


flipper = threading.Thread(target=flip, daemon=True)
flipper.start()
time.sleep(0.5)
samples = [sample("t1")]
time.sleep(3)
samples.append(sample("t2"))
stop.set()
flipper.join()
with open(out, "w") as f:
    json.dump({"pid": pid, "vcpu_tid": tid, "window_ns": WINDOW_NS, "kernel": os.uname().release, "samples": samples}, f, indent=1)
