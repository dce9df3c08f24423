namespace Vmtrace.Decoding;

/// <summary>
/// Merges time-ordered sources into one time-ordered stream with a min-heap (never a scan of every
/// source per event). Ties go to the source listed first, so the order is deterministic.
/// Owns and disposes its inputs.
/// </summary>
public sealed class MergedEventSource : EventSource
{
    private readonly EventSource[] _inputs;
    private readonly TimeOrderedMerge _merge;

    public MergedEventSource(IReadOnlyList<EventSource> inputs, string? description = null)
    {
        _inputs = inputs.ToArray();
        _merge = new TimeOrderedMerge(_inputs.Length);
        Description = description ?? string.Join(" + ", _inputs.Select(s => s.Description));
    }

    public override string Description { get; }

    public IReadOnlyList<EventSource> Inputs => _inputs;

    public override TraceEvent Current => _inputs[_merge.Current].Current;

    public override double Progress => _inputs.Length == 0 ? 1 : _inputs.Average(s => s.Progress);

    public override TraceClockKind Clock => _inputs.Length == 0 ? TraceClockKind.Unknown : _inputs[0].Clock;

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

    public override bool MoveNext() => _merge.MoveNext(new MergeInputs(_inputs));

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
