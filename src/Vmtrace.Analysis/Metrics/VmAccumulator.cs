namespace Vmtrace.Analysis;

/// <summary>Mutable per-window figures of one VM beyond its vCPUs.</summary>
internal sealed class VmAccumulator
{
    public long ThreadsOnCpuNs;
    public long VhostBusyNs;
    public long VhostWaitNs;
    public long RxPackets;
    public long RxBytes;
    public long TxPackets;
    public long TxBytes;
    /// <summary>Gaps between successive packets into the VM (rx) and out of it (tx), counted at the later packet.</summary>
    public DurationSpread RxGaps;
    public DurationSpread TxGaps;
    /// <summary>The last packet's time each way (-1 before any): kept across windows, forgotten across a time jump.</summary>
    public long LastRxNs = -1;
    public long LastTxNs = -1;
    /// <summary>Lengths of the VM's vCPUs' preempted intervals (switched out runnable → back on a pCPU), counted where they end.</summary>
    public DurationSpread PreemptedIntervals;
    public readonly DiskLayerAccumulator QemuDisk = new();
    public readonly DiskLayerAccumulator BlockDisk = new();
    /// <summary>Preempted ns by culprit id (an array: charged on most context switches, a dictionary was too slow).</summary>
    private long[] _interferenceNs = new long[16];
    /// <summary>Culprit ids with preempted time in this window, in first-charge order.</summary>
    private readonly List<int> _interferenceCulprits = [];
    /// <summary>Guest ns by guest address space (CR3) this window, at most <see cref="MaxGuestSpaces"/> of them.</summary>
    private readonly Dictionary<long, long> _guestSpaceNs = [];
    /// <summary>Guest ns of the spaces beyond <see cref="MaxGuestSpaces"/> this window (reported in "other").</summary>
    public long GuestSpaceOverflowNs;
    /// <summary>Guest ns of runs no addons_vcpu_enter_guest gave a CR3 this window (reported as "unknown").</summary>
    public long GuestSpaceUnknownNs;

    /// <summary>Distinct guest address spaces tracked one by one per VM and window: bounds the state whatever the guest does.</summary>
    public const int MaxGuestSpaces = 256;

    public bool IsEmpty => ThreadsOnCpuNs == 0 && VhostBusyNs == 0 && VhostWaitNs == 0 && RxPackets == 0 && TxPackets == 0
        && QemuDisk.IsEmpty && BlockDisk.IsEmpty && _interferenceCulprits.Count == 0 && PreemptedIntervals.Count == 0;

    /// <summary>Culprit ids charged this window, in first-charge order.</summary>
    public ReadOnlySpan<int> InterferenceCulprits => System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_interferenceCulprits);

    /// <summary>Preempted ns charged to a culprit this window.</summary>
    public long InterferenceNs(int culprit) => culprit < _interferenceNs.Length ? _interferenceNs[culprit] : 0;

    /// <summary>Charges <paramref name="ns"/> (&gt; 0) of this VM's preempted time to <paramref name="culprit"/>.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public void AddInterference(int culprit, long ns)
    {
        // Nearly always a culprit already charged this window: no call on that path keeps the caller's loop in registers.
        var charged = _interferenceNs;
        if ((uint)culprit < (uint)charged.Length && charged[culprit] != 0)
            charged[culprit] += ns;
        else
            AddFirstInterference(culprit, ns);
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private void AddFirstInterference(int culprit, long ns)
    {
        if (culprit >= _interferenceNs.Length)
            Array.Resize(ref _interferenceNs, Math.Max(culprit + 1, _interferenceNs.Length * 2));
        ref long slot = ref _interferenceNs[culprit];
        if (slot == 0)
            _interferenceCulprits.Add(culprit);
        slot += ns;
    }

    /// <summary>Charges <paramref name="ns"/> of guest time to the address space <paramref name="cr3"/>.</summary>
    public void AddGuestSpace(long cr3, long ns)
    {
        if (_guestSpaceNs.Count >= MaxGuestSpaces && !_guestSpaceNs.ContainsKey(cr3))
        {
            GuestSpaceOverflowNs += ns;
            return;
        }
        System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_guestSpaceNs, cr3, out _) += ns;
    }

    /// <summary>
    /// The window's spaces: the top <see cref="GuestSpace.Top"/> by time then CR3, the rest and the overflow as "other".
    /// Allocated once per window close, never per event.
    /// </summary>
    public IReadOnlyList<GuestSpace> SnapshotGuestSpaces()
    {
        if (_guestSpaceNs.Count == 0 && GuestSpaceOverflowNs == 0 && GuestSpaceUnknownNs == 0)
            return [];
        var ranked = new List<KeyValuePair<long, long>>(_guestSpaceNs);
        ranked.Sort(static (a, b) => a.Value != b.Value ? b.Value.CompareTo(a.Value) : ((ulong)a.Key).CompareTo((ulong)b.Key));
        var kept = new List<GuestSpace>(Math.Min(ranked.Count, GuestSpace.Top) + 1);
        long other = GuestSpaceOverflowNs;
        for (int i = 0; i < ranked.Count; i++)
        {
            if (i < GuestSpace.Top)
                kept.Add(new GuestSpace(Cr3Text(ranked[i].Key), ranked[i].Value));
            else
                other += ranked[i].Value;
        }
        if (other > 0)
            kept.Add(new GuestSpace(MetricsMerge.Other, other));
        if (GuestSpaceUnknownNs > 0)
            kept.Add(new GuestSpace(GuestSpace.Unknown, GuestSpaceUnknownNs));
        return kept;
    }

    /// <summary>A CR3 as vmtrace writes it: 0x and lower-case hexadecimal.</summary>
    public static string Cr3Text(long cr3) => "0x" + ((ulong)cr3).ToString("x", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The guest address spaces of the window (the kvm tracker's part).</summary>
    public void WriteGuestSpacesTo(Checkpoint.SectionWriter w)
    {
        w.Int64(GuestSpaceOverflowNs);
        w.Int64(GuestSpaceUnknownNs);
        w.Count(_guestSpaceNs.Count);
        foreach (var (cr3, ns) in _guestSpaceNs)
        {
            w.Int64(cr3);
            w.Int64(ns);
        }
    }

    public void ReadGuestSpacesFrom(Checkpoint.SectionReader r)
    {
        GuestSpaceOverflowNs = r.Int64();
        GuestSpaceUnknownNs = r.Int64();
        int n = r.Count(16);
        if (n > MaxGuestSpaces)
            throw r.Damaged("guest address space count " + n.ToString(System.Globalization.CultureInfo.InvariantCulture));
        for (int i = 0; i < n; i++)
        {
            long cr3 = r.Int64();
            long ns = r.Int64();
            if (!_guestSpaceNs.TryAdd(cr3, ns))
                throw r.Damaged("guest address space " + Cr3Text(cr3));
        }
    }

    /// <summary>On-CPU, vhost and interference time of the window (the window tracker's part).</summary>
    public void WriteTimesTo(Checkpoint.SectionWriter w)
    {
        w.Int64(ThreadsOnCpuNs);
        w.Int64(VhostBusyNs);
        w.Int64(VhostWaitNs);
        w.Count(_interferenceCulprits.Count);
        foreach (int culprit in _interferenceCulprits)
        {
            w.Count(culprit);
            w.Int64(_interferenceNs[culprit]);
        }
    }

    public void ReadTimesFrom(Checkpoint.SectionReader r, int culprits)
    {
        ThreadsOnCpuNs = r.Int64();
        VhostBusyNs = r.Int64();
        VhostWaitNs = r.Int64();
        int n = r.Count(9);
        for (int i = 0; i < n; i++)
        {
            int culprit = r.Index();
            long ns = r.Int64();
            if (culprit >= culprits || ns <= 0 || InterferenceNs(culprit) != 0)
                throw r.Damaged("interference of culprit " + culprit.ToString(System.Globalization.CultureInfo.InvariantCulture));
            AddInterference(culprit, ns);
        }
    }

    public NetworkMetrics Network => new(RxPackets, RxBytes, TxPackets, TxBytes, VhostBusyNs, VhostWaitNs) { RxGaps = RxGaps, TxGaps = TxGaps };

    /// <summary>A packet into the VM at <paramref name="now"/>.</summary>
    public void OnRxPacket(long now, long bytes)
    {
        RxPackets++;
        RxBytes += bytes;
        if (LastRxNs >= 0)
            RxGaps = RxGaps.Add(now - LastRxNs);
        LastRxNs = now;
    }

    /// <summary>A packet out of the VM at <paramref name="now"/>.</summary>
    public void OnTxPacket(long now, long bytes)
    {
        TxPackets++;
        TxBytes += bytes;
        if (LastTxNs >= 0)
            TxGaps = TxGaps.Add(now - LastTxNs);
        LastTxNs = now;
    }

    /// <summary>After a time jump no packet gap spans it.</summary>
    public void ForgetLastPackets() => LastRxNs = LastTxNs = -1;

    public void Clear()
    {
        ThreadsOnCpuNs = VhostBusyNs = VhostWaitNs = RxPackets = RxBytes = TxPackets = TxBytes = 0;
        RxGaps = TxGaps = PreemptedIntervals = default;
        QemuDisk.ClearWindow();
        BlockDisk.ClearWindow();
        foreach (int culprit in _interferenceCulprits)
            _interferenceNs[culprit] = 0;
        _interferenceCulprits.Clear();
        _guestSpaceNs.Clear();
        GuestSpaceOverflowNs = GuestSpaceUnknownNs = 0;
    }
}
