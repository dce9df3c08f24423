using System.Globalization;
using Vmtrace.Decoding;

namespace Vmtrace.Analysis;

/// <summary>
/// Builds a <c>perf kvm stat report</c>: per exit reason (or port, or MMIO address) the samples and their handling
/// time. VM exits come from the analysis itself (<see cref="AddExit"/>, wired to <see cref="AnalysisOptions.ExitHandled"/>),
/// so they are paired exactly as the metrics pair them. Port I/O and MMIO follow perf's x86 rules on the raw events
/// (<see cref="OnEvent"/>): a port access runs from kvm_pio to the next kvm_entry of its thread; an MMIO write from
/// kvm_mmio (write) to the next kvm_entry, an MMIO read from the thread's kvm_exit to its kvm_mmio (read).
/// Samples are kept per thread and given to the thread's VM and vCPU (from its exits) when the report is built.
/// </summary>
public sealed class KvmStatBuilder
{
    // The kernel's KVM_TRACE_MMIO_READ / KVM_TRACE_MMIO_WRITE (include/trace/events/kvm.h).
    private const long MmioRead = 1;
    private const long MmioWrite = 2;
    private const long NoKey = -1;

    private readonly KvmStatEvent _kind;
    private readonly Dictionary<(int Tid, long Key, int Info), Stats> _stats = [];
    private readonly Dictionary<int, (string Vm, int VcpuId)> _vcpuOfThread = [];
    private readonly Dictionary<int, (long Start, long Key, int Info)> _pending = [];
    private bool _eventsPresent;
    private EventType? _lastType;
    private int _lastTypeRole;

    public KvmStatBuilder(KvmStatEvent kind)
    {
        _kind = kind;
    }

    /// <summary>One exit the analysis paired with its entry.</summary>
    public void AddExit(HandledExit exit)
    {
        _vcpuOfThread[exit.Tid] = (exit.Vm, exit.VcpuId);
        if (_kind == KvmStatEvent.VmExit)
        {
            _eventsPresent = true;
            Add(exit.Tid, exit.Reason, (int)exit.Isa, exit.LatencyNs);
        }
    }

    /// <summary>True when an exit of a vCPU of the VM <paramref name="vm"/> was handled.</summary>
    public bool HasVm(string vm) => _vcpuOfThread.Values.Any(v => v.Vm == vm);

    /// <summary>Every event of the trace, in time order: port I/O and MMIO timing, and for VM exits whether the trace has kvm_exit events.</summary>
    public void OnEvent(in TraceEvent e)
    {
        if (_kind == KvmStatEvent.VmExit)
        {
            _eventsPresent |= e.Known == KnownEvent.KvmExit;
            return;
        }
        if (e.Tid < 0)
            return;
        switch (RoleOf(e.Type))
        {
            case Role.Entry:
                if (_pending.TryGetValue(e.Tid, out var begun) && begun.Key != NoKey)
                {
                    // perf leaves an exit with no key (an MMIO read that did not come) pending at the entry.
                    _pending.Remove(e.Tid);
                    End(e.Tid, begun, e.Timestamp);
                }
                break;
            case Role.Exit:
                if (_kind == KvmStatEvent.Mmio)
                    _pending[e.Tid] = (e.Timestamp, NoKey, 0);
                break;
            case Role.Pio:
                _eventsPresent = true;
                _pending[e.Tid] = (e.Timestamp, Field(e, "port"), Field(e, "rw") != 0 ? 1 : 0);
                break;
            case Role.Mmio:
                _eventsPresent = true;
                long type = Field(e, "type");
                if (type == MmioWrite)
                    _pending[e.Tid] = (e.Timestamp, Field(e, "gpa"), 1);
                else if (type == MmioRead && _pending.Remove(e.Tid, out var read))
                    End(e.Tid, read.Key != NoKey ? read : (read.Start, Field(e, "gpa"), 0), e.Timestamp);
                break;
            default:
                break;
        }
    }

    private void End(int tid, (long Start, long Key, int Info) begun, long end)
    {
        // perf skips an end before its begin (events out of order).
        if (end >= begun.Start)
            Add(tid, begun.Key, begun.Info, end - begun.Start);
    }

    private void Add(int tid, long key, int info, long latencyNs)
    {
        if (!_stats.TryGetValue((tid, key, info), out var s))
            _stats[(tid, key, info)] = s = new Stats();
        s.Add(latencyNs);
    }

    private enum Role { Other, Entry, Exit, Pio, Mmio }

    private Role RoleOf(EventType type)
    {
        if (!ReferenceEquals(type, _lastType))
        {
            _lastType = type;
            _lastTypeRole = (int)(type.Known switch
            {
                KnownEvent.KvmEntry => Role.Entry,
                KnownEvent.KvmExit => Role.Exit,
                _ => type.Name switch
                {
                    "kvm_pio" or "kvm_x86_pio" when _kind == KvmStatEvent.IoPort => Role.Pio,
                    "kvm_mmio" when _kind == KvmStatEvent.Mmio => Role.Mmio,
                    _ => Role.Other,
                },
            });
        }
        return (Role)_lastTypeRole;
    }

    private static long Field(in TraceEvent e, string name)
    {
        int slot = e.Type.IndexOf(name);
        return slot >= 0 && e.IsPresent(slot) ? e.GetInt64(slot) : 0;
    }

    /// <summary>
    /// The report over the threads of the VMs <paramref name="vms"/> names (all when null) and the vCPU
    /// <paramref name="vcpu"/> (all when null), sorted by <paramref name="key"/>.
    /// </summary>
    public KvmStatReport Build(KvmStatKey key = KvmStatKey.Sample, IReadOnlySet<string>? vms = null, int? vcpu = null)
    {
        var merged = new Dictionary<(long Key, int Info), Stats>();
        foreach (var ((tid, k, info), s) in _stats)
        {
            bool known = _vcpuOfThread.TryGetValue(tid, out var owner);
            if ((vms is not null && (!known || !vms.Contains(owner.Vm))) || (vcpu is not null && (!known || owner.VcpuId != vcpu)))
                continue;
            if (!merged.TryGetValue((k, info), out var m))
                merged[(k, info)] = m = new Stats();
            m.Merge(s);
        }
        long totalSamples = merged.Values.Sum(s => s.Count);
        long totalTime = merged.Values.Sum(s => s.SumNs);
        var rows = merged.Select(kv => new KvmStatRow(Label(kv.Key.Key, kv.Key.Info), kv.Value.Count,
                Percent(kv.Value.Count, totalSamples), Percent(kv.Value.SumNs, totalTime), kv.Value.SumNs, kv.Value.MinNs,
                kv.Value.MaxNs, (double)kv.Value.SumNs / kv.Value.Count, kv.Value.RelativeStddevOfMeanPct))
            .OrderByDescending(r => key switch
            {
                KvmStatKey.Time => r.TimeNs,
                KvmStatKey.Max => r.MaxNs,
                KvmStatKey.Min => r.MinNs,
                KvmStatKey.Mean => r.AvgNs,
                _ => (double)r.Samples,
            })
            .ThenBy(r => r.Key, StringComparer.Ordinal)
            .ToList();
        return new KvmStatReport(_kind, rows, totalSamples, totalTime, _eventsPresent);
    }

    private static double Percent(long part, long total) => total == 0 ? 0 : 100.0 * part / total;

    private string Label(long key, int info) => _kind switch
    {
        // VM exits: the reason's name in its ISA's table (info), else its number.
        KvmStatEvent.VmExit => ExitReasons.Name((ExitIsa)info, (int)key) ?? key.ToString(CultureInfo.InvariantCulture),
        KvmStatEvent.IoPort => "0x" + key.ToString("x", CultureInfo.InvariantCulture) + (info != 0 ? ":POUT" : ":PIN"),
        _ => "0x" + key.ToString("x", CultureInfo.InvariantCulture) + (info != 0 ? ":W" : ":R"),
    };

    /// <summary>Count, sum, min, max and Welford's running mean and squared deviations (mergeable, as Chan et al.).</summary>
    private sealed class Stats
    {
        public long Count;
        public long SumNs;
        public long MinNs = long.MaxValue;
        public long MaxNs = long.MinValue;
        private double _mean;
        private double _m2;

        public void Add(long ns)
        {
            Count++;
            SumNs += ns;
            MinNs = Math.Min(MinNs, ns);
            MaxNs = Math.Max(MaxNs, ns);
            double delta = ns - _mean;
            _mean += delta / Count;
            _m2 += delta * (ns - _mean);
        }

        public void Merge(Stats other)
        {
            if (other.Count == 0)
                return;
            long n = Count + other.Count;
            double delta = other._mean - _mean;
            _m2 += other._m2 + delta * delta * Count * other.Count / n;
            _mean += delta * other.Count / n;
            Count = n;
            SumNs += other.SumNs;
            MinNs = Math.Min(MinNs, other.MinNs);
            MaxNs = Math.Max(MaxNs, other.MaxNs);
        }

        /// <summary>perf's rel_stddev_stats(stddev_stats()): √(M2 / (n − 1) / n) / mean × 100; 0 below two samples.</summary>
        public double RelativeStddevOfMeanPct
        {
            get
            {
                if (Count < 2 || _mean == 0)
                    return 0;
                return 100 * Math.Sqrt(_m2 / (Count - 1) / Count) / _mean;
            }
        }
    }
}
