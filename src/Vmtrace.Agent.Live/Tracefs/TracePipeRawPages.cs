using System.Runtime.InteropServices;
using Vmtrace.Agent.Live.Native;
using Vmtrace.Decoding.Ftrace;

namespace Vmtrace.Agent.Live.Tracefs;

/// <summary>
/// The pages of one CPU of the instance, read with non-blocking reads of <c>per_cpu/cpuN/trace_pipe_raw</c> (the
/// kernel hands out a page, or the committed part of the page being written) into one reusable buffer. They are
/// decoded by the same <see cref="FtraceCpuStream"/> as a trace.dat's pages; damage is located by its byte offset in
/// what was read from the pipe, and the page's number.
/// </summary>
internal sealed class TracePipeRawPages : RingBufferPageSource, IDisposable
{
    private readonly string _path;
    private readonly int _fd;
    private long _pageNumber = -1;
    private long _pageOffset;
    private long _bytesRead;

    public TracePipeRawPages(string path, int pageSize)
    {
        _path = path;
        Buffer = new byte[pageSize];
        _fd = LibC.Open(path, LibC.ORdOnly | LibC.ONonBlock | LibC.OCloExec);
        if (_fd < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            string who = errno is LibC.EAcces or LibC.EPerm ? "not root: " : "";
            throw new TracefsException($"{who}cannot open {path}: {LibC.Describe(errno)}");
        }
    }

    /// <summary>False when the CPU's buffer has nothing to read just now.</summary>
    public override bool MoveNextPage()
    {
        while (true)
        {
            nint n = LibC.Read(_fd, ref Buffer[0], Buffer.Length);
            if (n > 0)
            {
                PageStart = 0;
                PageLength = (int)n;
                _pageNumber++;
                _pageOffset = _bytesRead;
                _bytesRead += n;
                return true;
            }
            if (n == 0)
                return false;
            int errno = Marshal.GetLastPInvokeError();
            if (errno == LibC.EAgain)
                return false;
            if (errno == LibC.EIntr)
                continue;
            throw new TracefsException($"reading {_path} failed: {LibC.Describe(errno)}");
        }
    }

    public override (long Offset, string Note) Locate(int pageOffset) => (_pageOffset + pageOffset, $" (page {_pageNumber})");

    public void Dispose() => LibC.Close(_fd);
}
