namespace Vmtrace.Decoding;

/// <summary>
/// Merges time-ordered sources into one time-ordered stream with a min-heap (never a scan of every
/// source per event). Ties go to the source listed first, so the order is deterministic.
/// Nothing is buffered: each input is read one event ahead. Inputs whose first events lie more than
/// <see cref="MaxStartSpreadNs"/> apart are refused (<see cref="InconsistentInputsException"/>): they are not
/// one recording on one clock, whatever their metadata says, and reading them as one would run the analysis
/// through the whole empty span between them.
/// Owns and disposes its inputs.
/// </summary>
public sealed class MergedEventSource : EventSource
{
    /// <summary>One day: recordings of one host read together start within seconds of one another.</summary>
    public const long MaxStartSpreadNs = 86_400L * 1_000_000_000;

    private readonly EventSource[] _inputs;
    private readonly TimeOrderedMerge _merge;
    private bool _started;

    public MergedEventSource(IReadOnlyList<EventSource> inputs, string? description = null)
    {
        _inputs = inputs.ToArray();
        _merge = new TimeOrderedMerge(_inputs.Length);
        Description = description ?? string.Join(" + ", _inputs.Select(s => s.Description));
    }

    public override string Description { get; }

    public IReadOnlyList<EventSource> Inputs => _inputs;

    public override TraceEvent Current => _inputs[_merge.Current].Current;

    /// <summary>The index in <see cref="Inputs"/> of the input the current event comes from.</summary>
    public int CurrentInput => _merge.Current;

    public override double Progress => _inputs.Length == 0 ? 1 : _inputs.Average(s => s.Progress);

    public override TraceClockKind Clock => _inputs.Length == 0 ? TraceClockKind.Unknown : _inputs[0].Clock;

    public override string ClockName => _inputs.Length == 0 ? "unknown" : _inputs[0].ClockName;

    public override MachineIdentity? Machine => _inputs.Select(s => s.Machine).FirstOrDefault(m => m is not null);

    public override bool RecordedInGuest => _inputs.Any(s => s.RecordedInGuest);

    public override int CpuCount => _inputs.Length == 0 ? 0 : _inputs.Max(s => s.CpuCount);

    public override IReadOnlyDictionary<int, string> InitialThreadNames
    {
        get
        {
            var names = new Dictionary<int, string>();
            foreach (var s in _inputs)
            {
                foreach (var (tid, comm) in s.InitialThreadNames)
                    names.TryAdd(tid, comm);
            }
            return names;
        }
    }

    public override bool MoveNext()
    {
        if (_started)
            return _merge.MoveNext(new MergeInputs(_inputs));
        _started = true;
        var firsts = new long?[_inputs.Length];
        bool any = _merge.MoveNext(new FirstInputs(_inputs, firsts));
        CheckStarts(firsts);
        return any;
    }

    private void CheckStarts(long?[] firsts)
    {
        int earliest = -1, latest = -1;
        for (int i = 0; i < firsts.Length; i++)
        {
            if (firsts[i] is not { } t)
                continue;
            if (earliest < 0 || t < firsts[earliest])
                earliest = i;
            if (latest < 0 || t > firsts[latest])
                latest = i;
        }
        if (earliest < 0 || (Int128)firsts[latest]!.Value - firsts[earliest]!.Value <= MaxStartSpreadNs)
            return;
        var a = _inputs[earliest];
        var b = _inputs[latest];
        double days = (double)((Int128)firsts[latest]!.Value - firsts[earliest]!.Value) / MaxStartSpreadNs;
        throw new InconsistentInputsException(string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"{a.Description} (clock '{a.ClockName}') starts at {Seconds(firsts[earliest]!.Value)} s and {b.Description} (clock '{b.ClockName}') at {Seconds(firsts[latest]!.Value)} s, {days:0.#} days later: "
            + $"they are not one recording on one clock; {InputConsistency.HowToRecord}"));
    }

    private static string Seconds(long ns)
    {
        var sb = new System.Text.StringBuilder();
        EventFormatter.AppendTimestamp(sb, ns);
        return sb.ToString();
    }

    /// <summary>The inputs while the merge reads each one's first event, noting its time.</summary>
    private readonly struct FirstInputs(EventSource[] inputs, long?[] firsts) : IMergeInputs
    {
        public int Count => inputs.Length;

        public bool Advance(int index)
        {
            if (!inputs[index].MoveNext())
                return false;
            firsts[index] ??= inputs[index].Current.Timestamp;
            return true;
        }

        public long Timestamp(int index) => inputs[index].Current.Timestamp;
    }

    private readonly struct MergeInputs(EventSource[] inputs) : IMergeInputs
    {
        public int Count => inputs.Length;
        public bool Advance(int index) => inputs[index].MoveNext();
        public long Timestamp(int index) => inputs[index].Current.Timestamp;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            foreach (var s in _inputs)
                s.Dispose();
        }
    }
}
