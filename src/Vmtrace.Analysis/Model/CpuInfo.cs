namespace Vmtrace.Analysis;

/// <summary>One physical CPU: who runs on it, and which threads were preempted from it and still wait.</summary>
internal sealed class CpuInfo
{
    private ThreadInfo? _current;
    private bool _known;

    /// <summary>Thread on this CPU (null while idle or unknown).</summary>
    public ThreadInfo? Current
    {
        get => _current;
        set
        {
            _current = value;
            RunningTid = RunningTidOf(value, _known);
        }
    }

    /// <summary>True once an event said who runs here (idle included).</summary>
    public bool Known
    {
        get => _known;
        set
        {
            _known = value;
            RunningTid = RunningTidOf(_current, value);
        }
    }

    /// <summary>
    /// The tid the model has running here (0 = idle), or -1 when not <see cref="Known"/>: every event compares its tid
    /// (never negative) with it, one read instead of three.
    /// </summary>
    public int RunningTid { get; private set; } = -1;
    /// <summary>Time of the last switch on this CPU (recorded or inferred).</summary>
    public long SwitchTime { get; set; }
    /// <summary>Time up to which the preempted threads' waiting has been attributed to the current occupant.</summary>
    public long AttributedUntil { get; set; }
    /// <summary>Threads preempted from this CPU that have not run since. Small: a few per CPU.</summary>
    public List<ThreadInfo> Preempted { get; } = new(8);

    /// <summary>
    /// The <see cref="Preempted"/> threads of a VM, counted by the VM's accumulator: their waiting is charged by VM,
    /// so a switch adds count × time once per VM instead of once per thread. Entries [0, <see cref="WaitGroupCount"/>).
    /// </summary>
    public WaitGroup[] WaitGroups { get; private set; } = new WaitGroup[4];

    public int WaitGroupCount { get; private set; }

    /// <summary>
    /// Every preempted thread of a VM started waiting by <see cref="AttributedUntil"/>: each is owed the same time since then.
    /// False while one started later (its switch-out placed after the attribution point), until the attribution passes it.
    /// </summary>
    public bool WaitersSettled { get; set; } = true;

    /// <summary>Counts one more preempted thread of the VM whose accumulator is <paramref name="window"/>.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public void AddWaiter(VmAccumulator window)
    {
        // Usually no VM or the same one waits here already.
        var groups = WaitGroups;
        if (WaitGroupCount == 0)
        {
            groups[0] = new WaitGroup(window, 1);
            WaitGroupCount = 1;
        }
        else if (WaitGroupCount == 1 && ReferenceEquals(groups[0].Window, window))
        {
            groups[0].Count++;
        }
        else
        {
            AddWaiterSlow(window);
        }
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private void AddWaiterSlow(VmAccumulator window)
    {
        var groups = WaitGroups;
        for (int i = 0; i < WaitGroupCount; i++)
        {
            if (ReferenceEquals(groups[i].Window, window))
            {
                groups[i].Count++;
                return;
            }
        }
        if (WaitGroupCount == groups.Length)
        {
            Array.Resize(ref groups, groups.Length * 2);
            WaitGroups = groups;
        }
        groups[WaitGroupCount++] = new WaitGroup(window, 1);
    }

    /// <summary>Counts one preempted thread of that VM less; false when the groups did not count it.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public bool RemoveWaiter(VmAccumulator window)
    {
        var groups = WaitGroups;
        if (WaitGroupCount == 1 && ReferenceEquals(groups[0].Window, window))
        {
            if (--groups[0].Count == 0)
            {
                groups[0] = default;
                WaitGroupCount = 0;
            }
            return true;
        }
        return RemoveWaiterSlow(window);
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private bool RemoveWaiterSlow(VmAccumulator window)
    {
        var groups = WaitGroups;
        for (int i = 0; i < WaitGroupCount; i++)
        {
            if (ReferenceEquals(groups[i].Window, window))
            {
                if (--groups[i].Count == 0)
                {
                    // Order of the groups does not matter: each VM's sums are its own.
                    groups[i] = groups[--WaitGroupCount];
                    groups[WaitGroupCount] = default;
                }
                return true;
            }
        }
        return false;
    }

    /// <summary>Recounts the groups and <see cref="WaitersSettled"/> from <see cref="Preempted"/> (after a thread changed VM, a restore, a gap).</summary>
    public void RecountWaiters()
    {
        Array.Clear(WaitGroups);
        WaitGroupCount = 0;
        bool settled = true;
        foreach (var w in Preempted)
        {
            if (w.Vm is not { } vm)
                continue;
            AddWaiterSlow(vm.Window);
            settled &= w.StateStart <= AttributedUntil;
        }
        WaitersSettled = settled;
    }

    /// <summary>A thread whose tid is not positive (a damaged inventory) matches no event's tid, as with a comparison of threads.</summary>
    private static int RunningTidOf(ThreadInfo? current, bool known) =>
        !known ? -1 : current is null ? 0 : current.Tid > 0 ? current.Tid : int.MinValue;
}

/// <summary>Preempted threads of one VM waiting on one CPU: the VM's accumulator and how many.</summary>
internal struct WaitGroup(VmAccumulator window, int count)
{
    public VmAccumulator Window = window;
    public int Count = count;
}
