using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Runtime.CompilerServices;

namespace Vmtrace.Analysis;

/// <summary>Who is who: threads, their process, their VM and their role (vCPU, vhost).</summary>
public sealed partial class HostAnalysis
{
    private readonly Dictionary<string, int> _culpritIds = new(StringComparer.Ordinal);
    private readonly List<string> _culpritNames = [];

    /// <summary>Every thread an inventory placed, with its VM and vCPU index (-1 when not a vCPU).</summary>
    private readonly Dictionary<int, (VmInfo Vm, int VcpuIndex)> _inventoryThreads = [];

    private int IdleCulprit { get; }
    private int UnknownCulprit { get; }

    /// <summary>Slots in <see cref="_threadCache"/>; a power of two.</summary>
    private const int ThreadCacheSize = 256;

    /// <summary>
    /// Direct-mapped cache in front of <see cref="_threads"/>, slot = tid mod size: nearly every event
    /// (switches, wake-ups) looks a thread up by tid, and a few threads recur, so most lookups skip the
    /// dictionary. Holds only threads that are in <see cref="_threads"/> (a removed thread is evicted).
    /// </summary>
    private readonly ThreadInfo?[] _threadCache = new ThreadInfo?[ThreadCacheSize];

    /// <summary>The thread with that tid, created on first sight (once per thread).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ThreadInfo Thread(int tid)
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
    private bool TryGetThread(int tid, [NotNullWhen(true)] out ThreadInfo? thread)
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
    }

    /// <param name="createdNow">A task created during the trace: the names known from before the trace belong to an older task of that tid.</param>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private ThreadInfo NewThread(int tid, bool createdNow)
    {
        var t = new ThreadInfo(tid) { Since = _now };
        _threads.Add(tid, t);
        if (!createdNow && _initialNames.TryGetValue(tid, out var comm))
            t.SetComm(comm);
        Reclassify(t);
        return t;
    }

    private int Culprit(string name)
    {
        if (!_culpritIds.TryGetValue(name, out int id))
        {
            id = _culpritNames.Count;
            _culpritNames.Add(name);
            _culpritIds.Add(name, id);
        }
        return id;
    }

    private VmInfo VmOfPid(int pid, string origin, string identity)
    {
        if (!_vmsByPid.TryGetValue(pid, out var vm))
        {
            string name = "qemu-" + pid.ToString(CultureInfo.InvariantCulture);
            vm = new VmInfo(_vms.Count, name, pid, Culprit(name)) { Origin = origin, Identity = identity };
            _vms.Add(vm);
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
        var vm = new VmInfo(_vms.Count, name, -1, Culprit(name)) 
        {
            Origin = "fallback: process unknown, named after vCPU thread " + t.Tid.ToString(CultureInfo.InvariantCulture),
            Identity = VmIdentity.Guess,
        };
        _vms.Add(vm);
        return vm;
    }

    /// <summary>Recomputes a thread's VM and role after its name or process changed. Rare: allocation allowed.</summary>
    private void Reclassify(ThreadInfo t)
    {
        Charge(t, _now);
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
            _vmThreads.Add(t);
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
    private void BecomeVcpu(ThreadInfo t, int vcpuId)
    {
        if (t.Role == ThreadRole.Vcpu && t.Vcpu is not null && (vcpuId < 0 || t.Vcpu.VcpuId == vcpuId))
            return;
        Charge(t, _now);
        var vm = t.Vm;
        if (vm is null && t.Pid >= 0)
            vm = VmOfPid(t.Pid, "process: has a vCPU thread", VmIdentity.Tgid);
        vm ??= FallbackVm(t);
        SetIdentity(t, vm, ThreadRole.Vcpu, vcpuId);
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
}
