using System.Runtime.InteropServices;
using Vmtrace.Agent.Live.Native;
using Vmtrace.Agent.Live.Tracefs;

namespace Vmtrace.Agent.Live.Recording;

/// <summary>
/// Records an instance without trace-cmd: a thread reads every CPU's <c>trace_pipe_raw</c> with non-blocking
/// reads (a page, or the committed part of the page being written) and appends the pages to one file per CPU;
/// on stop, tracing is switched off and the buffers drained. <see cref="TraceDatWriter"/> then makes trace.dat.
/// </summary>
public sealed class RawPageRecorder : IDisposable
{
    private readonly TracefsInstance _instance;
    private readonly int[] _fds;
    private readonly FileStream[] _outputs;
    private readonly byte[] _page;
    private readonly Thread _thread;
    private readonly TimeSpan _poll;
    private volatile bool _stop;
    private Exception? _error;

    public RawPageRecorder(TracefsInstance instance, string scratchDirectory, TimeSpan poll)
    {
        _instance = instance;
        _poll = poll;
        _page = new byte[instance.PageSize];
        _fds = new int[instance.CpuCount];
        _outputs = new FileStream[instance.CpuCount];
        PagePaths = [.. Enumerable.Range(0, instance.CpuCount).Select(c => Path.Combine(scratchDirectory, $".cpu{c}.pages"))];
        Array.Fill(_fds, -1);
        try
        {
            for (int cpu = 0; cpu < _fds.Length; cpu++)
            {
                string path = instance.PerCpu(cpu, "trace_pipe_raw");
                _fds[cpu] = LibC.Open(path, LibC.ORdOnly | LibC.ONonBlock | LibC.OCloExec);
                if (_fds[cpu] < 0)
                    throw new RecordException($"cannot open {path}: {LibC.Describe(Marshal.GetLastPInvokeError())}");
                _outputs[cpu] = new FileStream(PagePaths[cpu], FileMode.Create, FileAccess.Write, FileShare.Read, 1 << 16);
            }
        }
        catch
        {
            Dispose();
            throw;
        }
        _thread = new Thread(Run) { IsBackground = true, Name = "trace_pipe_raw" };
    }

    /// <summary>One file of raw pages per CPU.</summary>
    public IReadOnlyList<string> PagePaths { get; }

    public long Pages { get; private set; }

    /// <summary>Switches tracing on and starts reading.</summary>
    public void Start()
    {
        _instance.TracingOn(true);
        _thread.Start();
    }

    /// <summary>Switches tracing off, drains every CPU's buffer and closes the page files.</summary>
    public void Stop()
    {
        _instance.TracingOn(false);
        _stop = true;
        _thread.Join();
        foreach (var o in _outputs)
            o?.Dispose();
        if (_error is not null)
            throw new RecordException($"reading the ring buffers failed: {_error.Message}", _error);
    }

    private void Run()
    {
        try
        {
            while (true)
            {
                // Read after seeing the stop flag, so that what was traced until tracing_on=0 is drained.
                bool stopping = _stop;
                bool any = false;
                for (int cpu = 0; cpu < _fds.Length; cpu++)
                {
                    while (ReadPage(cpu))
                        any = true;
                }
                if (stopping)
                    return;
                if (!any)
                    Thread.Sleep(_poll);
            }
        }
        catch (Exception ex) when (ex is IOException or RecordException)
        {
            _error = ex;
        }
    }

    private bool ReadPage(int cpu)
    {
        nint n = LibC.Read(_fds[cpu], ref _page[0], _page.Length);
        if (n > 0)
        {
            // A short read still is one page: the rest of it is padding the reader never looks at.
            Array.Clear(_page, (int)n, _page.Length - (int)n);
            _outputs[cpu].Write(_page, 0, _page.Length);
            Pages++;
            return true;
        }
        if (n == 0)
            return false;
        int errno = Marshal.GetLastPInvokeError();
        if (errno is LibC.EAgain or LibC.EIntr)
            return false;
        throw new RecordException($"reading {_instance.PerCpu(cpu, "trace_pipe_raw")} failed: {LibC.Describe(errno)}");
    }

    public void Dispose()
    {
        if (_thread is { IsAlive: true })
        {
            _stop = true;
            _thread.Join();
        }
        foreach (var fd in _fds)
        {
            if (fd >= 0)
                _ = LibC.Close(fd);
        }
        foreach (var o in _outputs)
            o?.Dispose();
        foreach (var p in PagePaths)
            File.Delete(p);
    }
}
