namespace Vmtrace.Decoding.Ftrace;

/// <summary>
/// Where the parts of one kernel ring-buffer page are, as the tracer's <c>header_page</c> format says:
/// a u64 base timestamp, a <c>local_t commit</c> (4 or 8 bytes: the kernel's long) holding the data length
/// and the lost-events flags, then the event data. The same layout describes trace.dat pages and the
/// pages read live from <c>trace_pipe_raw</c>.
/// </summary>
public readonly record struct RingBufferPageLayout(int PageSize, int CommitOffset, int CommitSize, int DataOffset, bool BigEndian)
{
    /// <summary>The layout of a 64-bit kernel: timestamp at 0, 8-byte commit at 8, data at 16.</summary>
    public static RingBufferPageLayout For64BitKernel(int pageSize, bool bigEndian = false) => new(pageSize, 8, 8, 16, bigEndian);

    /// <summary>Bytes of event data a page can hold.</summary>
    public int DataCapacity => PageSize - DataOffset;

    /// <summary>
    /// Reads the layout from the text of <c>events/header_page</c>. Falls back to the 64-bit layout for
    /// fields it cannot find, and rejects layouts that cannot fit in the page.
    /// </summary>
    public static RingBufferPageLayout FromHeaderPage(string headerPageText, int pageSize, bool bigEndian)
    {
        var fields = FtraceFormatParser.ParseFieldLines(headerPageText);
        int commitOffset = 8, commitSize = 8, dataOffset = 16;
        foreach (var f in fields)
        {
            switch (f.Name)
            {
                case "commit":
                    commitOffset = f.Offset;
                    commitSize = f.Size;
                    break;
                case "data":
                    dataOffset = f.Offset;
                    break;
            }
        }
        if (commitSize is not (4 or 8) || commitOffset < 8 || commitOffset + commitSize > dataOffset || dataOffset >= pageSize)
            throw new FormatException($"unusable header_page layout: commit at {commitOffset} size {commitSize}, data at {dataOffset}, page {pageSize}");
        return new RingBufferPageLayout(pageSize, commitOffset, commitSize, dataOffset, bigEndian);
    }
}
