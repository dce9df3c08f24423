namespace Vmtrace.Analysis;

/// <summary>
/// Everything the analysis tracks about one host thread. Created once per thread, then mutated in place:
/// nothing is allocated per event. The identity tracker owns the object and its identity (pid, name, VM,
/// role, vCPU, culprit); the scheduler tracker its run state and times; the kvm tracker its guest mode and
/// pending exit. Each writes its part in its own checkpoint section.
/// </summary>
internal sealed class ThreadInfo
{
    private const int CommCapacity = 32;

    // In the object rather than an array of its own: every switch compares both threads' names, one memory access less.
    private CommBytes _commBytes;
    private int _commLength;

    public ThreadInfo(int tid)
    {
        Tid = tid;
    }

    public int Tid { get; }
    /// <summary>Process id (tgid), -1 when the trace has not said.</summary>
    public int Pid { get; set; } = -1;
    public string Comm { get; private set; } = "";

    /// <summary>The name as the trace gave it (UTF-8, at most 32 bytes).</summary>
    public ReadOnlySpan<byte> CommUtf8 => ((ReadOnlySpan<byte>)_commBytes)[.._commLength];

    /// <summary>The VM this thread works for, or null for host threads.</summary>
    public VmInfo? Vm { get; set; }
    public ThreadRole Role { get; set; }
    /// <summary>The vCPU accumulator this thread runs, when <see cref="Role"/> is Vcpu.</summary>
    public VcpuInfo? Vcpu { get; set; }
    /// <summary>Interned name of this thread as a culprit of interference ("vmB", "host:bash").</summary>
    public int CulpritId { get; set; } = -1;

    // Run state and times: the scheduler tracker's.
    public RunState State { get; set; }
    /// <summary>When the thread entered its current off-CPU state (preemption start, for interference).</summary>
    public long StateStart { get; set; }
    /// <summary>Time up to which this thread's time has been charged.</summary>
    public long Since { get; set; }
    /// <summary>pCPU it runs on (Running) or was preempted from (Preempted); -1 otherwise.</summary>
    public int Cpu { get; set; } = -1;
    public long WakeTime { get; set; } = -1;
    public int WakeCpu { get; set; } = -1;

    /// <summary>The thread has had sched_stat_runtime events: the kernel charges it CFS run time (RT threads never do).</summary>
    public bool ReportsRuntime { get; set; }
    /// <summary>Where the kernel's books start its current run on a CPU (the switch time as the kernel's clock had it), or long.MinValue when its switch-in was not seen.</summary>
    public long KernelRunStart { get; set; } = long.MinValue;
    /// <summary>Run time the kernel charged it (sched_stat_runtime) since <see cref="KernelRunStart"/>.</summary>
    public long StintRuntimeNs { get; set; }
    /// <summary>On-CPU time counted from its switches in its current run, before it reported any run time.</summary>
    public long StintSwitchOnCpuNs { get; set; }
    /// <summary>Where the kernel's books start its current run-queue wait (schedstat's last_queued), or long.MinValue when it is not waiting.</summary>
    public long RunDelaySince { get; set; } = long.MinValue;

    // Wait causes: the wait-cause tracker's.
    /// <summary>What woke this thread last, from its waker (the cause a helper thread passes on to those it wakes).</summary>
    public WaitCause WokenCause { get; set; }
    /// <summary>The first interrupt kvm accepted for this vCPU since its last kvm_entry, by vector (None when none).</summary>
    public WaitCause InjectedCause { get; set; }
    /// <summary>A blocked wait that ended, kept until the vCPU's next kvm_entry says which interrupt it took (0 when none).</summary>
    public long PendingWaitNs { get; set; }
    /// <summary>What the wake-up chain says ended that wait.</summary>
    public WaitCause PendingWaitCause { get; set; }

    // Guest mode and the exit waiting for its entry: the kvm tracker's.
    public bool InGuest { get; set; }
    /// <summary>Guest time charged to the open window since the last kvm_entry: taken back if that entry's exit turns out lost.</summary>
    public long GuestSinceEntryNs { get; set; }

    /// <summary>Time of the last kvm_exit not yet followed by a kvm_entry, or -1.</summary>
    public long PendingExitTime { get; set; } = -1;
    public int PendingExitReason { get; set; }

    /// <summary>The guest mode of the run in progress (or the last one), from the guest RIP at its entry.</summary>
    public GuestMode RunMode { get; set; }
    /// <summary>The guest mode of the last guest RIP a kvm event of this vCPU gave (where the guest resumes when an entry gives none).</summary>
    public GuestMode RipMode { get; set; }
    /// <summary>Whether <see cref="GuestCr3"/> holds the address space of the run in progress (set by addons_vcpu_enter_guest, cleared at exit).</summary>
    public bool HasGuestCr3 { get; set; }
    /// <summary>The guest address space (CR3, PCID bits cleared) of the run in progress.</summary>
    public long GuestCr3 { get; set; }
    /// <summary>Its nested state when it is an L1 vCPU thread that ran an L2 guest (the nested tracker's), else null.</summary>
    public Trackers.NestedThread? Nested { get; set; }

    /// <summary>Replaces the name when it differs; true when it changed (the caller reclassifies).</summary>
    public bool SetComm(ReadOnlySpan<byte> utf8)
    {
        if (utf8.IsEmpty || utf8.SequenceEqual(CommUtf8))
            return false;
        int n = Math.Min(utf8.Length, CommCapacity);
        utf8[..n].CopyTo(_commBytes);
        _commLength = n;
        Comm = System.Text.Encoding.UTF8.GetString(CommUtf8);
        return true;
    }

    public bool SetComm(string comm) => SetComm(System.Text.Encoding.UTF8.GetBytes(comm));

    public override string ToString() => $"{Comm}-{Tid}";

    [System.Runtime.CompilerServices.InlineArray(CommCapacity)]
    private struct CommBytes
    {
        private byte _first;
    }
}
