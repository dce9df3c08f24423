using System.Runtime.CompilerServices;
using Vmtrace.Decoding;

namespace Vmtrace.Analysis;

/// <summary>
/// The analysis core: fed a host's events one at a time in time order (<see cref="OnEvent"/>), it keeps a
/// model of threads, pCPUs and VMs and emits closed event-time windows of per-VM metrics
/// (<see cref="TakeClosedWindows"/>). Pure and deterministic: no I/O, no clock, no randomness; the same
/// events give the same windows, whether they come from <c>vmtrace analyze</c> or the Kafka worker.
/// Windows are [k·W, (k+1)·W); one closes when an event (or <see cref="AdvanceWatermark"/>) reaches its
/// end; intervals spanning windows are split at the boundary so totals are kept. Nothing is allocated
/// per event once every thread, VM and exit reason has been seen.
/// </summary>
public sealed partial class HostAnalysis
{
    private readonly AnalysisOptions _options;
    private readonly Dictionary<int, ThreadInfo> _threads = [];
    private readonly List<ThreadInfo> _vmThreads = [];
    private readonly List<VmInfo> _vms = [];
    private readonly Dictionary<int, VmInfo> _vmsByPid = [];
    private readonly List<WindowMetrics> _closed = [];
    private readonly Dictionary<int, string> _initialNames = [];
    private CpuInfo[] _cpus = new CpuInfo[8];
    private int _maxCpu = -1;
    private bool _started;
    private bool _finished;
    private long _now;
    private long _windowStart;
    private long _windowEnd;

    public HostAnalysis(AnalysisOptions? options = null)
    {
        _options = options ?? new AnalysisOptions();
        _options.Validate();
        IdleCulprit = Culprit("idle");
        UnknownCulprit = Culprit("unknown");
    }

    public AnalysisCounters Counters { get; } = new();

    /// <summary>Latest event time seen.</summary>
    public long Now => _now;

    /// <summary>Start of the window still open (meaningful once an event was seen).</summary>
    public long OpenWindowStart => _windowStart;

    /// <summary>Windows closed since the last call, oldest first.</summary>
    public IReadOnlyList<WindowMetrics> TakeClosedWindows()
    {
        if (_closed.Count == 0)
            return []; // polled often (every batch of events): nothing allocated when no window closed
        var taken = _closed.ToArray();
        _closed.Clear();
        return taken;
    }

    /// <summary>Thread names known before the first event (ftrace saved_cmdlines, LTTng statedump).</summary>
    public void AddThreadNames(IReadOnlyDictionary<int, string> names)
    {
        foreach (var (tid, comm) in names)
        {
            _initialNames[tid] = comm;
            if (_threads.TryGetValue(tid, out var t) && t.Comm.Length == 0 && t.SetComm(comm))
                Reclassify(t);
        }
    }

    /// <summary>What the agent knows of a VM (name, pid, threads, tap devices). May come before or between events.</summary>
    public void AddInventory(VmInventory inventory)
    {
        ArgumentNullException.ThrowIfNull(inventory);
        var vm = VmOfPid(inventory.Pid, "inventory", inventory.Identity);
        vm.Name = inventory.Name;
        vm.Origin = inventory.Evidence.Length > 0 ? inventory.Evidence : "inventory";
        vm.Identity = inventory.Identity;
        vm.CulpritId = Culprit(inventory.Name);
        foreach (var tap in inventory.TapDevices)
        {
            vm.TapDevices.Add(tap);
            DeviceOf(System.Text.Encoding.UTF8.GetBytes(tap)).Vm = vm;
        }
        foreach (var th in inventory.Threads)
        {
            _inventoryThreads[th.Tid] = (vm, th.VcpuIndex);
            var t = Thread(th.Tid);
            t.Pid = inventory.Pid;
            t.SetComm(th.Comm);
            Reclassify(t);
            if (th.VcpuIndex >= 0 && !(t.Role == ThreadRole.Vcpu && t.Vcpu?.VcpuId == th.VcpuIndex))
                SetIdentity(t, vm, ThreadRole.Vcpu, th.VcpuIndex);
        }
        var main = Thread(inventory.Pid);
        main.Pid = inventory.Pid;
        Reclassify(main);
        foreach (var t in _vmThreads)
        {
            if (t.Vm == vm)
                t.CulpritId = vm.CulpritId;
        }
    }

    /// <summary>Handles one event. Events must come in time order (late ones are handled at the latest time seen).</summary>
    public void OnEvent(in TraceEvent e)
    {
        if (_finished)
            ThrowFinished();
        long t = e.Timestamp;
        if (!_started)
            Start(t);
        if (t < _now)
        {
            Counters.OutOfOrderEvents++;
            t = _now;
        }
        else
        {
            if (t >= _windowEnd)
                CloseWindowsThrough(t);
            _now = t;
        }
        Counters.Events++;

        int cpu = ValidCpu(e.Cpu);

        var known = e.Known;
        if (known == KnownEvent.SchedSwitch)
        {
            OnSchedSwitch(e, t);
            return;
        }
        if (e.Tid < 0 && known != KnownEvent.LostEvents)
        {
            Counters.EventsWithoutTid++;
        }
        else if (cpu >= 0 && e.Tid >= 0)
        {
            EnsureOnCpu(cpu, e.Tid, t);
            // A recognised host event in a thread the model has in guest means its kvm_exit was lost.
            // Unrecognised kvm_* events (kvm_wait_lapic_expire) do fire between kvm_entry and the VM-enter.
            if (known is not (KnownEvent.Unknown or KnownEvent.KvmExit) && _cpus[cpu].Current is { InGuest: true } inGuest)
                LoseExit(inGuest, t);
        }

        switch (known)
        {
            case KnownEvent.KvmEntry: OnKvmEntry(e, t); break;
            case KnownEvent.KvmExit: OnKvmExit(e, t); break;
            case KnownEvent.SchedWakeup:
            case KnownEvent.SchedWaking:
            case KnownEvent.SchedWakeupNew: OnWakeup(e, t); break;
            case KnownEvent.SchedMigrateTask: OnMigrate(e, t); break;
            case KnownEvent.SchedStatRuntime: OnStatRuntime(e); break;
            case KnownEvent.TaskNewtask: OnNewTask(e); break;
            case KnownEvent.SchedProcessFork: OnFork(e); break;
            case KnownEvent.SchedProcessExit: OnExit(e, t); break;
            case KnownEvent.TaskRename: OnRename(e); break;
            case KnownEvent.StatedumpProcessState: OnStatedump(e); break;
            case KnownEvent.QemuThreadPoolSubmit: OnThreadPoolSubmit(e, t); break;
            case KnownEvent.QemuThreadPoolComplete: OnThreadPoolComplete(e, t); break;
            case KnownEvent.QemuBdrvCoIoEm: OnBdrvCoIoEm(e); break;
            case KnownEvent.QemuVirtioBlkHandleRead:
            case KnownEvent.QemuVirtioBlkHandleWrite:
            case KnownEvent.QemuBlkCoPreadv:
            case KnownEvent.QemuBlkCoPwritev: OnQemuRequestDirection(e, known); break;
            case KnownEvent.BlockRqIssue: OnBlockIssue(e, t); break;
            case KnownEvent.BlockRqComplete: OnBlockComplete(e, t); break;
            case KnownEvent.NetDevXmit: OnNetDevXmit(e); break;
            case KnownEvent.NetifReceiveSkb:
            case KnownEvent.NetifRx: OnNetifReceive(e); break;
            case KnownEvent.LostEvents: OnLostEvents(cpu); break;
            default: break;
        }
    }

    /// <summary>Declares that no event older than <paramref name="timestamp"/> will come: closes the windows ending by then.</summary>
    public void AdvanceWatermark(long timestamp)
    {
        if (!_started || _finished || timestamp < _windowEnd)
            return;
        CloseWindowsThrough(timestamp);
        _now = Math.Max(_now, timestamp);
    }

    /// <summary>Ends the analysis at <paramref name="endTime"/> (at least the last event's time): closes every window, the last one partial.</summary>
    public void Flush(long endTime)
    {
        if (_finished || !_started)
        {
            _finished = true;
            return;
        }
        endTime = Math.Max(endTime, _now);
        if (endTime >= _windowEnd)
            CloseWindowsThrough(endTime);
        _now = endTime;
        if (endTime > _windowStart)
            CloseWindow(endTime);
        foreach (var t in _threads.Values)
        {
            if (t.PendingExitTime >= 0)
                Counters.UnfinishedExits++;
        }
        _finished = true;
    }

    private void Start(long t)
    {
        _started = true;
        _windowStart = AlignDown(t, _options.WindowNs);
        _windowEnd = NextWindowEnd(_windowStart);
        _now = t;
    }

    internal static long AlignDown(long t, long window)
    {
        long r = t % window;
        if (r < 0) r += window;
        return t - r;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void GrowCpus(int cpu)
    {
        if (cpu < 0 || cpu >= 65536)
            return;
        if (cpu >= _cpus.Length)
            Array.Resize(ref _cpus, Math.Max(cpu + 1, _cpus.Length * 2));
        for (int i = _maxCpu + 1; i <= cpu; i++)
            _cpus[i] = new CpuInfo { SwitchTime = _now, AttributedUntil = _now };
        _maxCpu = cpu;
    }

    /// <summary>The CPU number when usable (grows the CPU table on first sight), else -1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int ValidCpu(int cpu)
    {
        if (cpu > _maxCpu)
            GrowCpus(cpu);
        return cpu <= _maxCpu ? cpu : -1;
    }

    private int CpuCount => _options.CpuCount > 0 ? _options.CpuCount : Math.Max(1, _maxCpu + 1);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowFinished() => throw new InvalidOperationException("the analysis was flushed; it takes no more events");
}
