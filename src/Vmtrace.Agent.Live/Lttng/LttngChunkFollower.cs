using System.Globalization;
using Vmtrace.Decoding;
using Vmtrace.Decoding.Ctf;

namespace Vmtrace.Agent.Live.Lttng;

/// <summary>
/// Streams an LTTng session that rotates: each archived chunk (<see cref="LttngChunk"/>) is decoded as soon as
/// it appears, in index order, its CTF traces merged by time. The index of the last chunk fully delivered is
/// kept in a state file, so a restarted agent goes on with the next chunk and never reads one twice (a chunk
/// the agent died in the middle of is read again from its start: delivery is at least once for that chunk).
/// Until the next chunk appears, everything up to the end of the last delivered chunk is final (the watermark).
/// </summary>
public sealed class LttngChunkFollower : LiveEventSource
{
    private readonly string _archives;
    private readonly string _stateFile;
    private EventSource? _chunkSource;
    private LttngChunk? _chunk;
    private long _lastDone;
    private long _watermark = long.MinValue;
    private bool _ended;

    /// <param name="sessionOutput">The session's output directory (the one holding <c>archives/</c>).</param>
    /// <param name="stateFile">Where the last delivered chunk index is kept across restarts.</param>
    /// <param name="time">The clock of a read's wait (tests pass a fake one).</param>
    public LttngChunkFollower(string sessionOutput, string stateFile, TimeSpan pollInterval, TimeProvider? time = null)
        : base(new LivePoll(pollInterval, time))
    {
        _archives = Path.Combine(sessionOutput, "archives");
        _stateFile = stateFile;
        _lastDone = File.Exists(stateFile) && long.TryParse(File.ReadAllText(stateFile).Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out long done) ? done : -1;
    }

    public override string Description => _archives;

    /// <summary>Index of the last chunk fully delivered (-1: none).</summary>
    public long LastDeliveredChunk => _lastDone;

    public long ChunksDelivered { get; private set; }

    public override long Watermark => _ended ? long.MaxValue : _chunkSource is null ? _watermark : long.MinValue;

    public override TraceEvent Current => _chunkSource!.Current;

    protected override LiveReadResult Poll()
    {
        if (_ended)
            return LiveReadResult.End;
        while (true)
        {
            if (_chunkSource is not null)
            {
                if (_chunkSource.MoveNext())
                    return LiveReadResult.Event;
                FinishChunk();
                continue;
            }
            var next = NextChunk();
            if (next is not null)
            {
                OpenChunk(next);
                continue;
            }
            if (StopRequested)
            {
                _ended = true;
                return LiveReadResult.End;
            }
            return LiveReadResult.Idle;
        }
    }

    /// <summary>The archived chunk right after the last delivered one, if LTTng has archived it.</summary>
    private LttngChunk? NextChunk()
    {
        if (!Directory.Exists(_archives))
            return null;
        LttngChunk? best = null;
        foreach (var dir in Directory.EnumerateDirectories(_archives))
        {
            var c = LttngChunk.TryParse(dir);
            if (c is not null && c.Index > _lastDone && (best is null || c.Index < best.Index))
                best = c;
        }
        return best;
    }

    private void OpenChunk(LttngChunk chunk)
    {
        var traces = chunk.TraceDirectories();
        var sources = new List<EventSource>();
        foreach (var t in traces)
        {
            try
            {
                sources.Add(CtfTraceSource.Open(t));
            }
            catch (TraceFormatException ex)
            {
                Diagnostics.AddError(ex, 0);
            }
        }
        _chunk = chunk;
        _chunkSource = new MergedEventSource(sources, chunk.Path);
    }

    private void FinishChunk()
    {
        Diagnostics.Add(_chunkSource!.Diagnostics);
        foreach (var input in ((MergedEventSource)_chunkSource).Inputs)
            Diagnostics.Add(input.Diagnostics);
        _chunkSource.Dispose();
        _chunkSource = null;
        _lastDone = _chunk!.Index;
        _watermark = Math.Max(_watermark, _chunk.End.ToUnixTimeMilliseconds() * 1_000_000L);
        ChunksDelivered++;
        string tmp = _stateFile + ".tmp";
        File.WriteAllText(tmp, _lastDone.ToString(CultureInfo.InvariantCulture));
        File.Move(tmp, _stateFile, overwrite: true);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
            _chunkSource?.Dispose();
    }
}
