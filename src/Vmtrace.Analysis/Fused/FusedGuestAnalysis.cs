using Vmtrace.Analysis.Checkpoint;
using Vmtrace.Decoding;

namespace Vmtrace.Analysis;

/// <summary>What the host shows a vCPU thread doing, as the fused analysis splits a guest thread's run time by it.</summary>
public enum VcpuHostState : byte
{
    /// <summary>The host has not said yet (no event of the vCPU thread, or its vCPU is not mapped to a host thread).</summary>
    Unknown,
    /// <summary>In guest mode (non-root): <c>kvm_entry</c> → next <c>kvm_exit</c>.</summary>
    InGuest,
    /// <summary>Root mode: an exit being handled (exit → next entry), or on a pCPU outside guest mode.</summary>
    Hypervisor,
    /// <summary>Off the pCPU while runnable: switched out runnable, or woken and waiting for a pCPU.</summary>
    Preempted,
}

/// <summary>
/// One guest trace read with its host's: its name on the command line and, when the host trace recorded it
/// (trace-cmd's GUEST option), the host thread of each guest CPU. Without that map, guest CPU n is the
/// thread of vCPU n of the host VM named <see cref="Name"/>, as the host trace shows it (kvm_entry's vcpu_id).
/// </summary>
public sealed record GuestBinding(string Name, IReadOnlyDictionary<int, int>? HostTidByGuestCpu = null);

/// <summary>One guest thread's run time, split by what its vCPU's host thread was doing meanwhile (ns).</summary>
public sealed record GuestThreadTimes(int Tid, string Comm, long RunNs, long InGuestNs, long HypervisorNs, long PreemptedNs,
    IReadOnlyList<(string Culprit, long Ns)> PreemptedBy)
{
    /// <summary>Run time while the host had not shown the vCPU thread's state.</summary>
    public long UnknownNs => RunNs - InGuestNs - HypervisorNs - PreemptedNs;
}

/// <summary>One guest's threads, biggest run time first. <see cref="Vm"/>: the host VM of its vCPU threads, null when none was found.</summary>
public sealed record GuestMetrics(string Name, string? Vm, IReadOnlyList<GuestThreadTimes> Threads);

/// <summary>
/// Fused host+guest analysis: a guest's scheduler (its <c>sched_switch</c> events, in host time) says which guest
/// thread runs on guest CPU n; the host analysis says what vCPU n's host thread does meanwhile. Each guest
/// thread's run time is split by that host state (in guest, hypervisor, preempted, unknown), and its preempted
/// part by the host thread on the pCPU the vCPU was preempted from.
/// <para>Fed in time order: every host event goes to the <see cref="HostAnalysis"/> first, then to
/// <see cref="AfterHostEvent"/>; guest events to <see cref="OnGuestEvent"/>. A host state change is charged
/// tentatively and becomes the guest thread's at the guest's next event, so a guest trace that ends before its
/// host's is counted up to its own last event only. Pure and deterministic; nothing is allocated per event once
/// every guest thread, CPU and culprit has been seen.</para>
/// <para>Its whole state is saved with its host analysis's checkpoint (<see cref="HostAnalysis.AttachGuests"/>).</para>
/// </summary>
public sealed class FusedGuestAnalysis
{
    private readonly HostAnalysis _host;
    private readonly Guest[] _guests;
    private readonly long _fromNs;

    public FusedGuestAnalysis(HostAnalysis host, IReadOnlyList<GuestBinding> guests, long? fromNs = null)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(guests);
        _host = host;
        _guests = guests.Select(g => new Guest(g)).ToArray();
        GuestNames = [.. guests.Select(g => g.Name)];
        _fromNs = fromNs ?? long.MinValue;
    }

    /// <summary>The guests' names, in the order <see cref="OnGuestEvent"/> numbers them.</summary>
    public IReadOnlyList<string> GuestNames { get; }

    /// <summary>Thread names the guest trace knows up front (its saved_cmdlines).</summary>
    public void AddGuestThreadNames(int guest, IReadOnlyDictionary<int, string> names)
    {
        ArgumentNullException.ThrowIfNull(names);
        foreach (var (tid, comm) in names)
            _guests[guest].InitialNames.TryAdd(tid, comm);
    }

    /// <summary>After the host analysis took a host event: vCPU threads whose state changed charge the time before it to the state they left.</summary>
    public void AfterHostEvent()
    {
        long now = _host.Now;
        foreach (var g in _guests)
        {
            foreach (var c in g.Cpus)
            {
                if (c is null)
                    continue;
                var (state, culprit) = HostStateOf(g, c);
                if (state != c.HostState || culprit != c.Culprit)
                {
                    Charge(c, now);
                    c.HostState = state;
                    c.Culprit = culprit;
                }
            }
        }
    }

    /// <summary>An event of guest <paramref name="guest"/> (its timestamp already on the host's clock).</summary>
    public void OnGuestEvent(int guest, in TraceEvent e)
    {
        var g = _guests[guest];
        long t = Math.Max(e.Timestamp, g.Last);
        g.Last = t;
        // The guest trace still runs: what was charged tentatively since its previous event is its threads'.
        foreach (var c in g.Cpus)
        {
            if (c is null)
                continue;
            Charge(c, t);
            Commit(c);
        }
        if (e.Known != KnownEvent.SchedSwitch || e.Cpu < 0)
            return;
        var cpu = g.Cpu(e.Cpu, t);
        if (cpu.HostState == VcpuHostState.Unknown)
            (cpu.HostState, cpu.Culprit) = HostStateOf(g, cpu);
        int prev = (int)e.Get(FieldRole.PrevTid, -1);
        if (prev > 0)
            g.Thread(prev).Name(e.GetText(FieldRole.PrevComm));
        int next = (int)e.Get(FieldRole.NextTid, -1);
        cpu.Current = next > 0 ? g.Thread(next) : null;
        cpu.Current?.Name(e.GetText(FieldRole.NextComm));
    }

    /// <summary>
    /// Ends the analysis. <paramref name="cutNs"/>: the end of the range when the inputs were cut there (--to), so a
    /// guest thread still running is counted up to it; null when the inputs ended, so each guest is counted up to its own last event.
    /// </summary>
    public IReadOnlyList<GuestMetrics> Finish(long? cutNs)
    {
        var result = new List<GuestMetrics>(_guests.Length);
        foreach (var g in _guests)
        {
            foreach (var c in g.Cpus)
            {
                if (c is null)
                    continue;
                if (cutNs is { } cut)
                {
                    Charge(c, cut);
                    Commit(c);
                }
                c.Current = null;
                // Resolved as at the last host event (a restored analysis has not looked it up yet).
                if (c.Vcpu is null)
                    _ = VcpuThread(g, c);
            }
            string? vm = g.Cpus.Select(c => c?.Vcpu?.Vm?.Name).FirstOrDefault(n => n is not null);
            var threads = g.Threads.Values.Where(t => t.Run > 0)
                .Select(t => new GuestThreadTimes(t.Tid, t.Comm ?? g.InitialNames.GetValueOrDefault(t.Tid, ""), t.Run, t.InGuest, t.Hypervisor, t.Preempted,
                    t.PreemptedBy.Where(p => p.Value > 0).OrderByDescending(p => p.Value).ThenBy(p => p.Key)
                        .Select(p => (_host.Identity.CulpritName(p.Key), p.Value)).ToList()))
                .OrderByDescending(t => t.RunNs).ThenBy(t => t.Tid).ToList();
            result.Add(new GuestMetrics(g.Binding.Name, vm, threads));
        }
        return result;
    }

    /// <summary>
    /// The state, for the host analysis's checkpoint (docs/checkpoint-format.md, section guests). The vCPU and host
    /// thread of each guest CPU are not saved: they are looked up again from the host analysis's identity.
    /// </summary>
    internal void WriteCheckpoint(SectionWriter w)
    {
        w.Int64(_fromNs);
        w.Count(_guests.Length);
        foreach (var g in _guests)
        {
            w.String(g.Binding.Name);
            w.Bool(g.Binding.HostTidByGuestCpu is not null);
            if (g.Binding.HostTidByGuestCpu is { } map)
            {
                w.Count(map.Count);
                foreach (var (cpu, tid) in map.OrderBy(kv => kv.Key))
                {
                    w.Int32(cpu);
                    w.Int32(tid);
                }
            }
            w.Count(g.InitialNames.Count);
            foreach (var (tid, comm) in g.InitialNames)
            {
                w.Int32(tid);
                w.String(comm);
            }
            w.Int64(g.Last);
            w.Count(g.Threads.Count);
            foreach (var t in g.Threads.Values)
            {
                w.Int32(t.Tid);
                w.Bytes(t.CommBytes);
                w.Int64(t.Run);
                w.Int64(t.InGuest);
                w.Int64(t.Hypervisor);
                w.Int64(t.Preempted);
                WriteByCulprit(w, t.PreemptedBy);
            }
            w.Count(g.Cpus.Length);
            foreach (var c in g.Cpus)
            {
                w.Bool(c is not null);
                if (c is null)
                    continue;
                w.Int32(c.Current?.Tid ?? -1);
                w.Int64(c.Since);
                w.Byte((byte)c.HostState);
                w.Int32(c.Culprit);
                w.Int64(c.PendingRun);
                w.Int64(c.PendingInGuest);
                w.Int64(c.PendingHypervisor);
                w.Int64(c.PendingPreempted);
                WriteByCulprit(w, c.PendingBy);
            }
        }
    }

    /// <summary>A fused analysis in the state <see cref="WriteCheckpoint"/> saved, on the restored <paramref name="host"/>.</summary>
    internal static FusedGuestAnalysis ReadCheckpoint(SectionReader r, HostAnalysis host)
    {
        long fromNs = r.Int64();
        int guests = r.Count();
        var bindings = new List<GuestBinding>(guests);
        var read = new List<(GuestBinding Binding, Dictionary<int, string> Names, long Last, List<GuestThread> Threads, GuestCpu?[] Cpus)>(guests);
        for (int i = 0; i < guests; i++)
        {
            string name = r.String();
            Dictionary<int, int>? map = null;
            if (r.Bool())
            {
                int n = r.Count(8);
                map = new Dictionary<int, int>(n);
                for (int k = 0; k < n; k++)
                    map.Add(r.Int32(), r.Int32());
            }
            var binding = new GuestBinding(name, map);
            int names = r.Count(5);
            var initial = new Dictionary<int, string>(names);
            for (int k = 0; k < names; k++)
                initial.Add(r.Int32(), r.String());
            long last = r.Int64();
            int threadCount = r.Count(37);
            var threads = new List<GuestThread>(threadCount);
            for (int k = 0; k < threadCount; k++)
            {
                var t = new GuestThread(r.Int32());
                t.Name(r.Bytes());
                t.Run = r.Int64();
                t.InGuest = r.Int64();
                t.Hypervisor = r.Int64();
                t.Preempted = r.Int64();
                ReadByCulprit(r, t.PreemptedBy, host);
                threads.Add(t);
            }
            var byTid = threads.ToDictionary(t => t.Tid);
            int cpuCount = r.Count();
            var cpus = new GuestCpu?[cpuCount];
            for (int k = 0; k < cpuCount; k++)
            {
                if (!r.Bool())
                    continue;
                int current = r.Int32();
                var c = new GuestCpu(k)
                {
                    Current = current < 0 ? null : byTid.TryGetValue(current, out var t) ? t : throw new InvalidOperationException($"guest CPU {k} runs thread {current}, which the guest's threads do not hold"),
                    Since = r.Int64(),
                    HostState = (VcpuHostState)r.Enum("vCPU host state", (byte)VcpuHostState.Preempted),
                    Culprit = Culprit(r.Int32(), host, allowNone: true),
                    PendingRun = r.Int64(),
                    PendingInGuest = r.Int64(),
                    PendingHypervisor = r.Int64(),
                    PendingPreempted = r.Int64(),
                };
                ReadByCulprit(r, c.PendingBy, host);
                cpus[k] = c;
            }
            bindings.Add(binding);
            read.Add((binding, initial, last, threads, cpus));
        }
        var fused = new FusedGuestAnalysis(host, bindings, fromNs == long.MinValue ? null : fromNs);
        for (int i = 0; i < guests; i++)
        {
            var g = fused._guests[i];
            var (_, names, last, threads, cpus) = read[i];
            foreach (var (tid, comm) in names)
                g.InitialNames.Add(tid, comm);
            g.Last = last;
            foreach (var t in threads)
                g.Threads.Add(t.Tid, t);
            g.Restore(cpus);
        }
        return fused;
    }

    private static void WriteByCulprit(SectionWriter w, Dictionary<int, long> byCulprit)
    {
        w.Count(byCulprit.Count);
        foreach (var (culprit, ns) in byCulprit)
        {
            w.Int32(culprit);
            w.Int64(ns);
        }
    }

    private static void ReadByCulprit(SectionReader r, Dictionary<int, long> into, HostAnalysis host)
    {
        int n = r.Count(12);
        for (int k = 0; k < n; k++)
            into.Add(Culprit(r.Int32(), host, allowNone: false), r.Int64());
    }

    private static int Culprit(int id, HostAnalysis host, bool allowNone)
    {
        if ((allowNone && id == -1) || (id >= 0 && id < host.Identity.CulpritCount))
            return id;
        throw new InvalidOperationException($"culprit {id} is not in the identity section's {host.Identity.CulpritCount} culprits");
    }

    /// <summary>The host state of guest CPU <paramref name="c"/>'s vCPU thread, and who runs on the pCPU it was preempted from.</summary>
    private (VcpuHostState State, int Culprit) HostStateOf(Guest g, GuestCpu c)
    {
        var t = VcpuThread(g, c);
        if (t is null)
            return (VcpuHostState.Unknown, -1);
        if (t.InGuest)
            return (VcpuHostState.InGuest, -1);
        if (t.State is RunState.Preempted or RunState.WaitingAfterWakeup)
        {
            var on = _host.Scheduler.CurrentThreadOn(t.Cpu, out bool known);
            return (VcpuHostState.Preempted, on?.CulpritId ?? (known ? _host.Identity.IdleCulprit : _host.Identity.UnknownCulprit));
        }
        if (t.PendingExitTime >= 0 || t.State == RunState.Running)
            return (VcpuHostState.Hypervisor, -1);
        return (VcpuHostState.Unknown, -1);
    }

    private ThreadInfo? VcpuThread(Guest g, GuestCpu c)
    {
        int tid;
        if (g.Binding.HostTidByGuestCpu is { } map)
        {
            if (!map.TryGetValue(c.Number, out tid))
                return null;
        }
        else
        {
            if (c.Vcpu is null)
            {
                var vm = _host.Identity.Vms.Find(v => string.Equals(v.Name, g.Binding.Name, StringComparison.Ordinal));
                c.Vcpu = vm?.Vcpus.Find(v => v.VcpuId == c.Number);
                if (c.Vcpu is null)
                    return null;
            }
            tid = c.Vcpu.Tid;
        }
        if (c.Thread is { } cached && cached.Tid == tid)
            return cached;
        if (!_host.Identity.TryGetThread(tid, out var t))
            return null;
        c.Thread = t;
        c.Vcpu ??= t.Vcpu;
        return t;
    }

    /// <summary>Charges [since, <paramref name="until"/>) (the part from the range's start on) to the CPU's tentative totals under its host state.</summary>
    private void Charge(GuestCpu c, long until)
    {
        long start = Math.Max(c.Since, _fromNs);
        if (c.Current is not null && until > start)
        {
            long d = until - start;
            c.PendingRun += d;
            switch (c.HostState)
            {
                case VcpuHostState.InGuest: c.PendingInGuest += d; break;
                case VcpuHostState.Hypervisor: c.PendingHypervisor += d; break;
                case VcpuHostState.Preempted:
                    c.PendingPreempted += d;
                    c.PendingBy[c.Culprit] = c.PendingBy.GetValueOrDefault(c.Culprit) + d;
                    break;
                default: break;
            }
        }
        c.Since = Math.Max(c.Since, until);
    }

    private static void Commit(GuestCpu c)
    {
        if (c.Current is { } t)
        {
            t.Run += c.PendingRun;
            t.InGuest += c.PendingInGuest;
            t.Hypervisor += c.PendingHypervisor;
            t.Preempted += c.PendingPreempted;
            foreach (var (culprit, ns) in c.PendingBy)
                t.PreemptedBy[culprit] = t.PreemptedBy.GetValueOrDefault(culprit) + ns;
        }
        c.PendingRun = c.PendingInGuest = c.PendingHypervisor = c.PendingPreempted = 0;
        if (c.PendingBy.Count > 0)
            c.PendingBy.Clear();
    }

    private sealed class Guest(GuestBinding binding)
    {
        public GuestBinding Binding { get; } = binding;
        public GuestCpu?[] Cpus { get; private set; } = [];
        public Dictionary<int, GuestThread> Threads { get; } = [];
        public Dictionary<int, string> InitialNames { get; } = [];
        public long Last { get; set; } = long.MinValue;

        public void Restore(GuestCpu?[] cpus) => Cpus = cpus;

        public GuestCpu Cpu(int n, long now)
        {
            if (n >= Cpus.Length)
            {
                var grown = Cpus;
                Array.Resize(ref grown, n + 1);
                Cpus = grown;
            }
            return Cpus[n] ??= new GuestCpu(n) { Since = now };
        }

        public GuestThread Thread(int tid)
        {
            if (!Threads.TryGetValue(tid, out var t))
                Threads.Add(tid, t = new GuestThread(tid));
            return t;
        }
    }

    /// <summary>A guest CPU: the guest thread on it, its vCPU thread's host state, and the time charged but not yet confirmed by a guest event.</summary>
    private sealed class GuestCpu(int number)
    {
        public int Number { get; } = number;
        public GuestThread? Current { get; set; }
        public long Since { get; set; }
        public VcpuHostState HostState { get; set; }
        public int Culprit { get; set; } = -1;
        public VcpuInfo? Vcpu { get; set; }
        public ThreadInfo? Thread { get; set; }
        public long PendingRun { get; set; }
        public long PendingInGuest { get; set; }
        public long PendingHypervisor { get; set; }
        public long PendingPreempted { get; set; }
        public Dictionary<int, long> PendingBy { get; } = [];
    }

    private sealed class GuestThread(int tid)
    {
        public int Tid { get; } = tid;
        private byte[] _comm = [];

        public string? Comm { get; private set; }

        /// <summary>The name's UTF-8 bytes as last seen (empty before any).</summary>
        public ReadOnlySpan<byte> CommBytes => _comm;
        public long Run { get; set; }
        public long InGuest { get; set; }
        public long Hypervisor { get; set; }
        public long Preempted { get; set; }
        public Dictionary<int, long> PreemptedBy { get; } = [];

        public void Name(ReadOnlySpan<byte> utf8)
        {
            if (utf8.IsEmpty || utf8.SequenceEqual(_comm))
                return;
            _comm = utf8.ToArray();
            Comm = System.Text.Encoding.UTF8.GetString(_comm);
        }
    }
}
