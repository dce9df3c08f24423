namespace Vmtrace.Decoding.Ftrace;

/// <summary>
/// Hands out the ring-buffer pages of one CPU, one at a time, from a reusable buffer: the pages of a trace.dat
/// (<see cref="CpuPageSource"/>) or those read live from <c>trace_pipe_raw</c>. <see cref="FtraceCpuStream"/> decodes
/// either the same way. A source that has no page just now returns false and may have one on a later call.
/// </summary>
internal abstract class RingBufferPageSource
{
    protected byte[] Buffer { get; set; } = [];
    protected int PageStart { get; set; }
    protected int PageLength { get; set; }

    /// <summary>The current page (may be shorter than a page: a damaged range's end, or a short read).</summary>
    public ReadOnlySpan<byte> CurrentPage => Buffer.AsSpan(PageStart, PageLength);

    public abstract bool MoveNextPage();

    /// <summary>Where damage at <paramref name="pageOffset"/> of the current page is, for its message: an offset and a note.</summary>
    public abstract (long Offset, string Note) Locate(int pageOffset);
}
