using Vmtrace.Agent.Live.Tracefs;

namespace Vmtrace.Agent.Live.Recording;

/// <summary>
/// Records an instance without trace-cmd: a thread reads every CPU's <c>trace_pipe_raw</c> with non-blocking
/// reads (<see cref="TracePipeRawPages"/>: a page, or the committed part of the page being written) and appends the
/// pages to one file per CPU;
/// on stop, tracing is switched off and the buffers drained. <see cref="TraceDatWriter"/> then makes trace.dat.
/// </summary>
public sealed class RawPageRecorder : IDisposable
{
    private readonly TracefsInstance _instance;
    private readonly TracePipeRawPages?[] _pipes;
    private readonly FileStream[] _outputs;
    private readonly byte[] _padding;
    private readonly Thread _thread;
    private readonly TimeSpan _poll;
    private readonly TimeProvider _time;
    private volatile bool _stop;
    private Exception? _error;

    /// <param name="time">The clock of the pause between two polls that found nothing.</param>
    public RawPageRecorder(TracefsInstance instance, string scratchDirectory, TimeSpan poll, TimeProvider? time = null)
    {
        _instance = instance;
        _poll = poll;
        _time = time ?? TimeProvider.System;
        _padding = new byte[instance.PageSize];
        _pipes = new TracePipeRawPages?[instance.CpuCount];
        _outputs = new FileStream[instance.CpuCount];
        PagePaths = [.. Enumerable.Range(0, instance.CpuCount).Select(c => Path.Combine(scratchDirectory, $".cpu{c}.pages"))];
        try
        {
            for (int cpu = 0; cpu < _pipes.Length; cpu++)
            {
                try
                {
                    _pipes[cpu] = new TracePipeRawPages(instance.PerCpu(cpu, "trace_pipe_raw"), instance.PageSize);
                }
                catch (TracefsException ex)
                {
                    throw new RecordException(ex.Message, ex);
                }
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
                for (int cpu = 0; cpu < _pipes.Length; cpu++)
                {
                    while (ReadPage(cpu))
                        any = true;
                }
                if (stopping)
                    return;
                if (!any)
                    _time.Wait(_poll);
            }
        }
        catch (Exception ex) when (ex is IOException or RecordException or TracefsException)
        {
            _error = ex;
        }
    }

    private bool ReadPage(int cpu)
    {
        var pipe = _pipes[cpu]!;
        if (!pipe.MoveNextPage())
            return false;
        // A short read still is one page: the rest of it is padding the reader never looks at.
        var page = pipe.CurrentPage;
        _outputs[cpu].Write(page);
        _outputs[cpu].Write(_padding, 0, _padding.Length - page.Length);
        Pages++;
        return true;
    }

    public void Dispose()
    {
        if (_thread is { IsAlive: true })
        {
            _stop = true;
            _thread.Join();
        }
        foreach (var pipe in _pipes)
            pipe?.Dispose();
        foreach (var o in _outputs)
            o?.Dispose();
        foreach (var p in PagePaths)
            File.Delete(p);
    }
}
