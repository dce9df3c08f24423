namespace Vmtrace.Analysis.Checkpoint;

/// <summary>
/// Every thread object the state refers to, numbered for a checkpoint: the thread table's in its order, then those
/// only referred to from elsewhere (a thread whose tid was reused while it still waits in a preempted list). A
/// thread is written once, in the identity section; the others refer to it by that number.
/// </summary>
internal sealed class ThreadRefs
{
    private readonly Dictionary<ThreadInfo, int> _ids = new(ReferenceEqualityComparer.Instance);

    public List<ThreadInfo> Threads { get; } = [];

    public List<bool> InTable { get; } = [];

    public void Add(ThreadInfo t, bool inTable)
    {
        if (_ids.TryAdd(t, Threads.Count))
        {
            Threads.Add(t);
            InTable.Add(inTable);
        }
    }

    public int Id(ThreadInfo? t) => t is null ? -1 : _ids[t];

    /// <summary>The thread a number read back refers to (null for -1 when <paramref name="nullable"/>).</summary>
    public static ThreadInfo? Read(SectionReader r, List<ThreadInfo> threads, bool nullable)
    {
        int id = r.Reference("thread", threads.Count);
        if (id < 0 && !nullable)
            throw r.Damaged("a missing thread reference");
        return id < 0 ? null : threads[id];
    }
}
