namespace Vmtrace.Analysis;

/// <summary>Mutable per-window figures of one vCPU; exits indexed by reason (grown once per new reason).</summary>
internal sealed class VcpuAccumulator
{
    /// <summary>Reasons beyond this are not tracked one by one (VMX uses &lt; 80, SVM &lt; 0x500).</summary>
    public const int MaxReason = 4096;

    public long GuestNs;
    public long HostNs;
    public long PreemptedNs;
    public long WaitNs;
    public long BlockedNs;
    public long BlockedQueuedNs;
    /// <summary>Blocked time by what ended it, indexed by <see cref="WaitCause"/> (the wait-cause tracker's part).</summary>
    public readonly long[] WaitCauseNs = new long[(int)WaitCause.Unknown + 1];
    private LatencyAccumulator?[] _exits = new LatencyAccumulator?[64];
    /// <summary>The ISA of this vCPU's exits (from kvm_exit's isa field): kept across windows.</summary>
    public ExitIsa Isa;
    /// <summary>Guest time by guest mode at entry, and the runs classified at both ends (the kvm tracker's part).</summary>
    /// <summary>
    /// Guest time by <see cref="GuestMode"/> (the Unknown slot takes the runs of no known mode and is never reported): indexed,
    /// as the mode of consecutive runs follows no pattern a branch predictor learns.
    /// </summary>
    public GuestNsByMode GuestModeNs;
    public long GuestKernelNs { get => GuestModeNs[(int)GuestMode.Kernel]; set => GuestModeNs[(int)GuestMode.Kernel] = value; }
    public long GuestUserNs { get => GuestModeNs[(int)GuestMode.User]; set => GuestModeNs[(int)GuestMode.User] = value; }
    public long GuestModeRuns;
    public long GuestCrossedRuns;

    public CpuTimes Times => new(GuestNs, HostNs, PreemptedNs, WaitNs, BlockedNs, BlockedQueuedNs);

    public WaitCauses WaitCauses => WaitCauses.From(WaitCauseNs);

    public GuestModes GuestModes => new(GuestKernelNs, GuestUserNs, GuestModeRuns, GuestCrossedRuns);

    public bool IsEmpty => GuestNs == 0 && HostNs == 0 && PreemptedNs == 0 && WaitNs == 0 && BlockedNs == 0 && !HasExits() && !HasWaitCauses()
        && GuestKernelNs == 0 && GuestUserNs == 0 && GuestModeRuns == 0;

    /// <summary>The accumulator of a reason, created the first time the reason shows; null when out of range.</summary>
    public LatencyAccumulator? Exit(int reason)
    {
        // Every VM entry asks, nearly always for a reason seen before: one compare and one read then.
        var exits = _exits;
        return (uint)reason < (uint)exits.Length && exits[reason] is { } exit ? exit : NewExit(reason);
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private LatencyAccumulator? NewExit(int reason)
    {
        if ((uint)reason >= MaxReason)
            return null;
        if (reason >= _exits.Length)
            Array.Resize(ref _exits, Math.Min(MaxReason, Math.Max(reason + 1, _exits.Length * 2)));
        return _exits[reason] ??= new LatencyAccumulator();
    }

    public List<ExitMetrics> SnapshotExits()
    {
        var list = new List<ExitMetrics>();
        for (int r = 0; r < _exits.Length; r++)
        {
            var a = _exits[r];
            if (a is not null && a.Count > 0)
                list.Add(new ExitMetrics(r, a.Snapshot(), Isa));
        }
        return list;
    }

    /// <summary>The exit reasons with latencies this window, and the ISA (the kvm tracker's part).</summary>
    public void WriteExitsTo(Checkpoint.SectionWriter w)
    {
        w.Byte((byte)Isa);
        int used = 0;
        foreach (var a in _exits)
        {
            if (a is not null && a.Count > 0)
                used++;
        }
        w.Count(used);
        for (int r = 0; r < _exits.Length; r++)
        {
            if (_exits[r] is { Count: > 0 } a)
            {
                w.Count(r);
                a.WriteTo(w);
            }
        }
    }

    public void ReadExitsFrom(Checkpoint.SectionReader r)
    {
        Isa = (ExitIsa)r.Enum("exit ISA", (byte)ExitIsa.Svm);
        int used = r.Count(2);
        for (int k = 0; k < used; k++)
        {
            int reason = r.Index();
            var a = Exit(reason) ?? throw r.Damaged("exit reason " + reason.ToString(System.Globalization.CultureInfo.InvariantCulture));
            a.ReadFrom(r);
        }
    }

    /// <summary>The guest modes of the window (the kvm tracker's part).</summary>
    public void WriteGuestModesTo(Checkpoint.SectionWriter w)
    {
        w.Int64(GuestKernelNs);
        w.Int64(GuestUserNs);
        w.Int64(GuestModeRuns);
        w.Int64(GuestCrossedRuns);
    }

    public void ReadGuestModesFrom(Checkpoint.SectionReader r)
    {
        GuestKernelNs = r.Int64();
        GuestUserNs = r.Int64();
        GuestModeRuns = r.Int64();
        GuestCrossedRuns = r.Int64();
    }

    /// <summary>The window's time in each state (the window tracker's part).</summary>
    public void WriteTimesTo(Checkpoint.SectionWriter w)
    {
        w.Int64(GuestNs);
        w.Int64(HostNs);
        w.Int64(PreemptedNs);
        w.Int64(WaitNs);
        w.Int64(BlockedNs);
        w.Int64(BlockedQueuedNs);
    }

    public void ReadTimesFrom(Checkpoint.SectionReader r)
    {
        GuestNs = r.Int64();
        HostNs = r.Int64();
        PreemptedNs = r.Int64();
        WaitNs = r.Int64();
        BlockedNs = r.Int64();
        BlockedQueuedNs = r.Int64();
    }

    public void Clear()
    {
        GuestNs = HostNs = PreemptedNs = WaitNs = BlockedNs = BlockedQueuedNs = 0;
        GuestModeNs = default;
        GuestModeRuns = GuestCrossedRuns = 0;
        Array.Clear(WaitCauseNs);
        foreach (var a in _exits)
            a?.Clear();
    }

    private bool HasWaitCauses()
    {
        foreach (long ns in WaitCauseNs)
        {
            if (ns != 0)
                return true;
        }
        return false;
    }

    private bool HasExits()
    {
        foreach (var a in _exits)
        {
            if (a is not null && a.Count > 0)
                return true;
        }
        return false;
    }

    [System.Runtime.CompilerServices.InlineArray((int)GuestMode.User + 1)]
    internal struct GuestNsByMode
    {
        private long _first;
    }
}
