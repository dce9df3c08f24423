using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Runtime.CompilerServices;
using Vmtrace.Analysis.Checkpoint;
using Vmtrace.Decoding;

namespace Vmtrace.Analysis.Trackers;

/// <summary>
/// Who is who: the thread table, VMs and their vCPUs, each thread's process, VM and role (vCPU, vhost), the
/// culprit names of interference, the names known before the trace and the agent's inventory; and the events
/// that change them (task_newtask, fork, exit, rename, LTTng statedump). Owns the thread objects the other
/// trackers keep their per-thread state in.
/// </summary>
internal sealed class IdentityTracker
{
    private const long CloneThread = 0x00010000;

    /// <summary>Slots in <see cref="_threadCache"/>; a power of two.</summary>
    private const int ThreadCacheSize = 256;

    private readonly EventClock _clock;
    private readonly Dictionary<int, ThreadInfo> _threads = [];
    private readonly Dictionary<int, VmInfo> _vmsByPid = [];
    private readonly Dictionary<int, string> _initialNames = [];
    private readonly Dictionary<string, int> _culpritIds = new(StringComparer.Ordinal);
    private readonly List<string> _culpritNames = [];

    /// <summary>Every thread an inventory placed, with its VM and vCPU index (-1 when not a vCPU).</summary>
    private readonly Dictionary<int, (VmInfo Vm, int VcpuIndex)> _inventoryThreads = [];

    /// <summary>
    /// Direct-mapped cache in front of <see cref="_threads"/>, slot = tid mod size: nearly every event
    /// (switches, wake-ups) looks a thread up by tid, and a few threads recur, so most lookups skip the
    /// dictionary. Holds only threads that are in <see cref="_threads"/> (a removed thread is evicted).
    /// </summary>
    private readonly ThreadInfo?[] _threadCache = new ThreadInfo?[ThreadCacheSize];

    private SchedulerTracker _scheduler = null!;
    private int _lastNewTask = -1;

    public IdentityTracker(EventClock clock)
    {
        _clock = clock;
        IdleCulprit = Culprit("idle");
        UnknownCulprit = Culprit("unknown");
    }

    /// <summary>The scheduler charges a thread's time before its identity changes.</summary>
    public void Connect(SchedulerTracker scheduler) => _scheduler = scheduler;

    public int IdleCulprit { get; }

    public int UnknownCulprit { get; }

    /// <summary>Every thread in the table.</summary>
    public Dictionary<int, ThreadInfo>.ValueCollection Threads => _threads.Values;

    /// <summary>The threads working for a VM, in the order they joined one.</summary>
    public List<ThreadInfo> VmThreads { get; } = [];

    /// <summary>The VMs, by <see cref="VmInfo.Index"/>.</summary>
    public List<VmInfo> Vms { get; } = [];

    public string CulpritName(int id) => _culpritNames[id];

    public int CulpritCount => _culpritNames.Count;

    /// <summary>Threads in the table (for tests).</summary>
    internal int ThreadCount => _threads.Count;

    /// <summary>The thread with that tid, created on first sight (once per thread).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ThreadInfo Thread(int tid)
    {
        var cached = _threadCache[tid & (ThreadCacheSize - 1)];
        if (cached is not null && cached.Tid == tid)
            return cached;
        return ThreadSlow(tid);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private ThreadInfo ThreadSlow(int tid)
    {
        if (!_threads.TryGetValue(tid, out var t))
            t = NewThread(tid, createdNow: false);
        _threadCache[tid & (ThreadCacheSize - 1)] = t;
        return t;
    }

    /// <summary>The thread with that tid when the model knows it (creates nothing).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryGetThread(int tid, [NotNullWhen(true)] out ThreadInfo? thread)
    {
        var cached = _threadCache[tid & (ThreadCacheSize - 1)];
        if (cached is not null && cached.Tid == tid)
        {
            thread = cached;
            return true;
        }
        return _threads.TryGetValue(tid, out thread);
    }

    /// <summary>Forgets a thread (its tid is being reused by a new task).</summary>
    private void RemoveThread(ThreadInfo t)
    {
        _threads.Remove(t.Tid);
        ref var slot = ref _threadCache[t.Tid & (ThreadCacheSize - 1)];
        if (slot == t)
            slot = null;
        VmThreads.Remove(t);
    }

    /// <param name="createdNow">A task created during the trace: the names known from before the trace belong to an older task of that tid.</param>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private ThreadInfo NewThread(int tid, bool createdNow)
    {
        var t = new ThreadInfo(tid) { Since = _clock.Now };
        _threads.Add(tid, t);
        if (!createdNow && _initialNames.TryGetValue(tid, out var comm))
            t.SetComm(comm);
        Reclassify(t);
        return t;
    }

    public int Culprit(string name)
    {
        if (!_culpritIds.TryGetValue(name, out int id))
        {
            id = _culpritNames.Count;
            _culpritNames.Add(name);
            _culpritIds.Add(name, id);
        }
        return id;
    }

    public VmInfo VmOfPid(int pid, string origin, string identity)
    {
        if (!_vmsByPid.TryGetValue(pid, out var vm))
        {
            string name = "qemu-" + pid.ToString(CultureInfo.InvariantCulture);
            vm = new VmInfo(Vms.Count, name, pid, Culprit(name)) { Origin = origin, Identity = identity };
            Vms.Add(vm);
            _vmsByPid.Add(pid, vm);
        }
        return vm;
    }

    /// <summary>
    /// Fallback identity when the trace never says which process a vCPU thread belongs to (ftrace with
    /// only kvm events): the VM is named after the thread, <c>qemu-t&lt;tid&gt;</c>, so two vCPU threads are
    /// never merged on their vcpu_id alone.
    /// </summary>
    private VmInfo FallbackVm(ThreadInfo t)
    {
        string name = "qemu-t" + t.Tid.ToString(CultureInfo.InvariantCulture);
        var vm = new VmInfo(Vms.Count, name, -1, Culprit(name))
        {
            Origin = "fallback: process unknown, named after vCPU thread " + t.Tid.ToString(CultureInfo.InvariantCulture),
            Identity = VmIdentity.Guess,
        };
        Vms.Add(vm);
        return vm;
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

    /// <summary>The VM and threads of an inventory (its tap devices are the network tracker's).</summary>
    public VmInfo AddInventory(VmInventory inventory)
    {
        var vm = VmOfPid(inventory.Pid, "inventory", inventory.Identity);
        vm.Name = inventory.Name;
        vm.Origin = inventory.Evidence.Length > 0 ? inventory.Evidence : "inventory";
        vm.Identity = inventory.Identity;
        vm.CulpritId = Culprit(inventory.Name);
        foreach (var tap in inventory.TapDevices)
            vm.TapDevices.Add(tap);
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
        foreach (var t in VmThreads)
        {
            if (t.Vm == vm)
                t.CulpritId = vm.CulpritId;
        }
        return vm;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Rename(ThreadInfo t, ReadOnlySpan<byte> comm)
    {
        if (t.SetComm(comm))
            Reclassify(t);
    }

    /// <summary>Recomputes a thread's VM and role after its name or process changed. Rare: allocation allowed.</summary>
    public void Reclassify(ThreadInfo t)
    {
        _scheduler.Charge(t, _clock.Now);
        var vm = t.Vm;
        if (t.Pid >= 0 && _vmsByPid.TryGetValue(t.Pid, out var byPid))
            vm = byPid;
        else if (t.Pid >= 0 && t.Pid == t.Tid && IsQemuName(t.Comm))
            vm = VmOfPid(t.Pid, "process: qemu main thread", VmIdentity.Tgid);

        var role = t.Role;
        int vcpuId = -1;
        if (TryParseVcpuName(t.Comm, out int n))
        {
            role = ThreadRole.Vcpu;
            vcpuId = n;
        }
        else if (t.Comm.StartsWith("vhost-", StringComparison.Ordinal)
            && int.TryParse(t.Comm.AsSpan(6), NumberStyles.None, CultureInfo.InvariantCulture, out int ownerPid))
        {
            role = ThreadRole.Vhost;
            vm ??= VmOfPid(ownerPid, "process: owner of vhost-" + ownerPid.ToString(CultureInfo.InvariantCulture), VmIdentity.Names);
        }

        // A thread the inventory lists, seen created (ftrace's fork event says no process, task_newtask no vCPU): the inventory's.
        if (_inventoryThreads.TryGetValue(t.Tid, out var listed) && (vm is null || vm == listed.Vm))
        {
            vm = listed.Vm;
            if (t.Pid < 0)
                t.Pid = listed.Vm.Pid;
            if (listed.VcpuIndex >= 0 && role != ThreadRole.Vcpu)
            {
                role = ThreadRole.Vcpu;
                vcpuId = listed.VcpuIndex;
            }
        }

        if (role == ThreadRole.Vcpu && vm is null)
            vm = FallbackVm(t);
        SetIdentity(t, vm, role, vcpuId);
    }

    private void SetIdentity(ThreadInfo t, VmInfo? vm, ThreadRole role, int vcpuId)
    {
        if (vm is not null && t.Vm is null)
            VmThreads.Add(t);
        t.Vm = vm;
        t.Role = role;
        if (role == ThreadRole.Vcpu && vm is not null)
        {
            if (vcpuId < 0)
                vcpuId = t.Vcpu?.VcpuId ?? 0;
            if (t.Vcpu is null || t.Vcpu.Vm != vm || t.Vcpu.VcpuId != vcpuId)
                t.Vcpu = VcpuOf(vm, vcpuId);
            t.Vcpu.Tid = t.Tid;
        }
        t.CulpritId = vm?.CulpritId ?? HostCulprit(t);
    }

    /// <summary>
    /// The culprit "host:&lt;comm&gt;" (or "host:&lt;tid&gt;" while unnamed). Looked up from a stack buffer:
    /// every new host thread is classified, and most share a name already known, so no string is built for them.
    /// </summary>
    private int HostCulprit(ThreadInfo t)
    {
        const string Prefix = "host:";
        Span<char> name = stackalloc char[Prefix.Length + 64];
        Prefix.CopyTo(name);
        int length = 0;
        if (t.Comm.Length > 0 && t.Comm.Length <= 64)
        {
            t.Comm.CopyTo(name[Prefix.Length..]);
            length = Prefix.Length + t.Comm.Length;
        }
        else if (t.Comm.Length == 0 && t.Tid.TryFormat(name[Prefix.Length..], out int written, default, CultureInfo.InvariantCulture))
        {
            length = Prefix.Length + written;
        }
        if (length > 0 && _culpritIds.TryGetAlternateLookup<ReadOnlySpan<char>>(out var lookup)
            && lookup.TryGetValue(name[..length], out int known))
            return known;
        return Culprit(Prefix + (t.Comm.Length > 0 ? t.Comm : t.Tid.ToString(CultureInfo.InvariantCulture)));
    }

    private static VcpuInfo VcpuOf(VmInfo vm, int vcpuId)
    {
        foreach (var v in vm.Vcpus)
        {
            if (v.VcpuId == vcpuId)
                return v;
        }
        var created = new VcpuInfo(vm, vcpuId, -1);
        vm.Vcpus.Add(created);
        return created;
    }

    /// <summary>Marks a thread as a vCPU when a kvm event shows it running one (vcpu_id -1 when the event has none).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void BecomeVcpu(ThreadInfo t, int vcpuId)
    {
        // Every kvm event asks: nearly always the thread already runs that vCPU.
        if (t.Role == ThreadRole.Vcpu && t.Vcpu is { } vcpu && (vcpuId < 0 || vcpu.VcpuId == vcpuId))
            return;
        BecomeVcpuSlow(t, vcpuId);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void BecomeVcpuSlow(ThreadInfo t, int vcpuId)
    {
        _scheduler.Charge(t, _clock.Now);
        var vm = t.Vm;
        if (vm is null && t.Pid >= 0)
            vm = VmOfPid(t.Pid, "process: has a vCPU thread", VmIdentity.Tgid);
        vm ??= FallbackVm(t);
        SetIdentity(t, vm, ThreadRole.Vcpu, vcpuId);
    }

    /// <summary>
    /// The VM of a qemu trace event. qemu's own events come from qemu threads only: a thread of no known
    /// process is taken to be its process's main loop (thread_pool_submit/complete run there), so tid = pid.
    /// </summary>
    public VmInfo? QemuVmOf(in TraceEvent e)
    {
        if (e.Tid <= 0)
            return null;
        var t = Thread(e.Tid);
        if (t.Vm is null && t.Pid < 0)
        {
            t.Pid = t.Tid;
            _ = VmOfPid(t.Tid, "process: emits qemu trace events", VmIdentity.Guess);
            Reclassify(t);
        }
        return t.Vm;
    }

    /// <summary>task_newtask runs in the parent and knows the clone flags: a CLONE_THREAD child joins the parent's process.</summary>
    public void OnNewTask(in TraceEvent e)
    {
        int childTid = (int)e.Get(FieldRole.Tid, -1);
        if (childTid <= 0 || e.Tid <= 0)
            return;
        var parent = Thread(e.Tid);
        var child = FreshThread(childTid);
        bool isThread = (e.Get(FieldRole.CloneFlags, 0) & CloneThread) != 0;
        child.Pid = isThread ? parent.Pid : childTid;
        child.SetComm(e.GetText(FieldRole.Comm));
        Reclassify(child);
        _lastNewTask = childTid;
    }

    public void OnFork(in TraceEvent e)
    {
        int childTid = (int)e.Get(FieldRole.ChildTid, -1);
        if (childTid <= 0)
            return;
        int childPid = (int)e.Get(FieldRole.ChildPid, -1);
        // task_newtask, just before, already described the child (and knew whether it is a thread).
        var child = childTid == _lastNewTask ? Thread(childTid) : FreshThread(childTid);
        _lastNewTask = -1;
        if (childPid >= 0)
            child.Pid = childPid;
        child.SetComm(e.GetText(FieldRole.ChildComm));
        Reclassify(child);
    }

    /// <summary>A tid seen being created: forget what an older thread of that tid was.</summary>
    private ThreadInfo FreshThread(int tid)
    {
        if (_threads.TryGetValue(tid, out var old))
        {
            if (old.State is RunState.Running or RunState.Preempted)
                return old; // still in use: the create event came after it ran, keep the model consistent
            _scheduler.Charge(old, _clock.Now);
            RemoveThread(old);
        }
        return NewThread(tid, createdNow: true);
    }

    public void OnExit(in TraceEvent e, long now)
    {
        int tid = (int)e.Get(FieldRole.Tid, e.Tid);
        if (tid <= 0 || !TryGetThread(tid, out var t))
            return;
        _scheduler.Charge(t, now);
        t.PendingExitTime = -1;
    }

    public void OnRename(in TraceEvent e)
    {
        int tid = (int)e.Get(FieldRole.Tid, e.Tid);
        if (tid <= 0)
            return;
        Rename(Thread(tid), e.GetText(FieldRole.NewComm));
    }

    /// <summary>LTTng statedump (and Trace Compass stubs): tid, pid and name of every task at trace start.</summary>
    public void OnStatedump(in TraceEvent e)
    {
        int tid = (int)e.Get(FieldRole.Tid, -1);
        if (tid <= 0)
            return;
        var t = Thread(tid);
        int pid = (int)e.Get(FieldRole.Pid, -1);
        if (pid > 0)
            t.Pid = pid;
        int nameSlot = e.Type.IndexOf("name");
        if (nameSlot >= 0 && e.Type.Fields[nameSlot].Kind == FieldKind.String)
            t.SetComm(e.GetBytes(nameSlot));
        Reclassify(t);
    }

    internal static bool IsQemuName(string comm) =>
        comm.StartsWith("qemu-system-", StringComparison.Ordinal) || comm == "qemu-kvm";

    /// <summary>QEMU names vCPU threads "CPU n/KVM", "CPU n/TCG" (and "CPU n/HVF", "CPU n/WHPX" elsewhere).</summary>
    internal static bool TryParseVcpuName(string comm, out int vcpuId)
    {
        vcpuId = -1;
        if (!comm.StartsWith("CPU ", StringComparison.Ordinal))
            return false;
        int slash = comm.IndexOf('/', StringComparison.Ordinal);
        return slash > 4 && int.TryParse(comm.AsSpan(4, slash - 4), NumberStyles.None, CultureInfo.InvariantCulture, out vcpuId);
    }

    /// <summary>Numbers the thread table's threads (first) and the VM threads for a checkpoint.</summary>
    public void CollectThreads(ThreadRefs refs)
    {
        foreach (var t in _threads.Values)
            refs.Add(t, inTable: true);
        foreach (var t in VmThreads)
            refs.Add(t, inTable: false);
    }

    public void WriteCheckpoint(SectionWriter w, ThreadRefs refs)
    {
        w.Count(_culpritNames.Count);
        foreach (var name in _culpritNames)
            w.String(name);
        w.Count(_initialNames.Count);
        foreach (var (tid, comm) in _initialNames)
        {
            w.Int32(tid);
            w.String(comm);
        }
        w.Count(Vms.Count);
        foreach (var vm in Vms)
        {
            w.String(vm.Name);
            w.Int32(vm.Pid);
            w.Int32(vm.CulpritId);
            w.String(vm.Origin);
            w.String(vm.Identity);
            w.Count(vm.TapDevices.Count);
            foreach (var tap in vm.TapDevices)
                w.String(tap);
            w.Count(vm.Vcpus.Count);
            foreach (var v in vm.Vcpus)
            {
                w.Int32(v.VcpuId);
                w.Int32(v.Tid);
            }
        }
        w.Count(refs.Threads.Count);
        for (int i = 0; i < refs.Threads.Count; i++)
        {
            var t = refs.Threads[i];
            w.Bool(refs.InTable[i]);
            w.Int32(t.Tid);
            w.Int32(t.Pid);
            w.Bytes(t.CommUtf8);
            w.Int32(t.Vm?.Index ?? -1);
            w.Byte((byte)t.Role);
            w.Int32(t.Vcpu?.Vm.Index ?? -1);
            w.Int32(t.Vcpu is { } vcpu ? vcpu.Vm.Vcpus.IndexOf(vcpu) : -1);
            w.Int32(t.CulpritId);
        }
        w.Count(VmThreads.Count);
        foreach (var t in VmThreads)
            w.Int32(refs.Id(t));
        w.Count(_inventoryThreads.Count);
        foreach (var (tid, (vm, vcpuIndex)) in _inventoryThreads)
        {
            w.Int32(tid);
            w.Int32(vm.Index);
            w.Int32(vcpuIndex);
        }
        w.Int32(_lastNewTask);
    }

    /// <summary>Restores the section into this fresh tracker; returns every thread by its checkpoint number.</summary>
    public List<ThreadInfo> ReadCheckpoint(SectionReader r)
    {
        _culpritNames.Clear();
        _culpritIds.Clear();
        int culprits = r.Count();
        for (int i = 0; i < culprits; i++)
        {
            string name = r.String();
            if (!_culpritIds.TryAdd(name, i))
                throw r.Damaged("culprit name \"" + name + "\" twice");
            _culpritNames.Add(name);
        }
        if (culprits < 2 || _culpritNames[IdleCulprit] != "idle" || _culpritNames[UnknownCulprit] != "unknown")
            throw r.Damaged("culprit names without idle and unknown first");
        int names = r.Count(5);
        for (int i = 0; i < names; i++)
            _initialNames[r.Int32()] = r.String();
        int vms = r.Count(12);
        for (int i = 0; i < vms; i++)
        {
            var vm = new VmInfo(i, r.String(), r.Int32(), ReadCulprit(r))
            {
                Origin = r.String(),
                Identity = r.String(),
            };
            int taps = r.Count();
            for (int k = 0; k < taps; k++)
                vm.TapDevices.Add(r.String());
            int vcpus = r.Count(8);
            for (int k = 0; k < vcpus; k++)
            {
                int vcpuId = r.Int32();
                vm.Vcpus.Add(new VcpuInfo(vm, vcpuId, r.Int32()));
            }
            Vms.Add(vm);
            if (vm.Pid >= 0 && !_vmsByPid.TryAdd(vm.Pid, vm))
                throw r.Damaged("two VMs of pid " + vm.Pid.ToString(CultureInfo.InvariantCulture));
        }
        var threads = new List<ThreadInfo>();
        int count = r.Count(23);
        for (int i = 0; i < count; i++)
        {
            bool inTable = r.Bool();
            var t = new ThreadInfo(r.Int32()) { Pid = r.Int32() };
            t.SetComm(r.Bytes());
            int vm = r.Reference("VM", Vms.Count);
            t.Vm = vm < 0 ? null : Vms[vm];
            t.Role = (ThreadRole)r.Enum("thread role", (byte)ThreadRole.Vhost);
            int vcpuVm = r.Reference("VM", Vms.Count);
            int vcpu = r.Reference("vCPU", vcpuVm < 0 ? 0 : Vms[vcpuVm].Vcpus.Count);
            if ((vcpuVm < 0) != (vcpu < 0))
                throw r.Damaged("a vCPU reference without its VM");
            t.Vcpu = vcpuVm < 0 ? null : Vms[vcpuVm].Vcpus[vcpu];
            t.CulpritId = ReadCulprit(r);
            threads.Add(t);
            if (inTable && !_threads.TryAdd(t.Tid, t))
                throw r.Damaged("thread " + t.Tid.ToString(CultureInfo.InvariantCulture) + " twice in the thread table");
        }
        int vmThreads = r.Count(4);
        for (int i = 0; i < vmThreads; i++)
            VmThreads.Add(ThreadRefs.Read(r, threads, nullable: false)!);
        int inventory = r.Count(12);
        for (int i = 0; i < inventory; i++)
        {
            int tid = r.Int32();
            int vm = r.Reference("VM", Vms.Count);
            if (vm < 0)
                throw r.Damaged("an inventory thread without its VM");
            _inventoryThreads[tid] = (Vms[vm], r.Int32());
        }
        _lastNewTask = r.Int32();
        return threads;
    }

    private int ReadCulprit(SectionReader r)
    {
        int id = r.Int32();
        return id >= -1 && id < _culpritNames.Count ? id : throw r.Damaged("culprit " + id.ToString(CultureInfo.InvariantCulture));
    }
}
