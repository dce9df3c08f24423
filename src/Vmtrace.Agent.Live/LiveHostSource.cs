using Vmtrace.Agent.Live.Discovery;
using Vmtrace.Agent.Live.Lttng;
using Vmtrace.Agent.Live.QemuLog;
using Vmtrace.Agent.Live.Tracefs;
using Vmtrace.Analysis;
using Vmtrace.Decoding;
using Vmtrace.Wire;

namespace Vmtrace.Agent.Live;

/// <summary>
/// The agent's source on a real host: the selected live sources merged in time order
/// (<see cref="LiveMergedSource"/>), VMs found in /proc. <see cref="Open"/> returns a
/// <see cref="LiveEventSource"/>: a pipeline that sees one uses <see cref="LiveEventSource.TryMoveNext"/> to
/// flush batches and send heartbeats at <see cref="LiveEventSource.Watermark"/> while the host is quiet, and
/// <see cref="LiveEventSource.RequestStop"/> on shutdown (tracing stops, buffers drain, the instance is removed
/// when the source is disposed). Each <see cref="Inventory"/> call rescans /proc and starts following the
/// trace log of any qemu that appeared since.
/// </summary>
public sealed class LiveHostSource : IAgentSource
{
    private readonly LiveOptions _options;
    private readonly QemuProcessScanner _scanner;
    private readonly HashSet<string> _followedLogs = [];
    private readonly TimeProvider _time;
    private TracefsEventSource? _tracefs;

    /// <param name="time">The clock of the sources' waits, and the realtime of an inventory without tracefs (tests pass a fake one).</param>
    public LiveHostSource(LiveOptions options, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = options.Problems().ToList();
        if (problems.Count > 0)
            throw new ArgumentException(string.Join("; ", problems));
        _options = options;
        _time = time ?? TimeProvider.System;
        _scanner = new QemuProcessScanner(options.Proc, options.LibvirtRun);
        HostId = options.HostId ?? Environment.MachineName;
    }

    public string HostId { get; }

    public string Description =>
        string.Join(" + ", new[] { _options.Tracefs ? "tracefs" : null, _options.QemuLogs ? "qemu logs" : null, _options.LttngSessionOutput.Length > 0 ? "lttng " + _options.LttngSessionOutput : null }.OfType<string>());

    public bool IsLive => true;

    /// <summary>VMs seen by the last scan.</summary>
    public IReadOnlyList<DiscoveredVm> LastScan { get; private set; } = [];

    public EventSource Open()
    {
        var inputs = new List<LiveEventSource>();
        try
        {
            if (_options.Tracefs)
                inputs.Add(_tracefs = TracefsEventSource.Start(_options.TracefsSettings, _time));
            if (_options.LttngSessionOutput.Length > 0)
            {
                Directory.CreateDirectory(_options.StateDirectory);
                string state = Path.Combine(_options.StateDirectory, "lttng-last-chunk");
                inputs.Add(new LttngChunkFollower(_options.LttngSessionOutput, state, _options.PollInterval, _time));
            }
        }
        catch
        {
            foreach (var i in inputs)
                i.Dispose();
            throw;
        }
        return new LiveMergedSource(inputs, _options.PollInterval, _time);
    }

    public WireInventory Inventory(EventSource opened)
    {
        ArgumentNullException.ThrowIfNull(opened);
        var vms = _scanner.Scan();
        LastScan = vms;
        if (_options.QemuLogs && opened is LiveMergedSource merged)
        {
            foreach (var vm in vms)
            {
                if (vm.TraceLogFile is { } log && _followedLogs.Add(Path.GetFullPath(log, $"/proc/{vm.Pid}/cwd")))
                    merged.Add(new QemuLogFollower(Path.GetFullPath(log, $"/proc/{vm.Pid}/cwd"), _options.QemuLogSlack, _options.PollInterval, Now, _time));
            }
        }
        var wireVms = vms.Select(v => new WireVm(v.Name, v.Pid, v.Uuid, v.TapDevices.ToList(),
            v.Threads.Select(t => new WireVmThread(t.Tid, t.Comm, t.VcpuIndex)).ToList(), VmIdentity.Cmdline)).ToList();
        var names = vms.SelectMany(v => v.Threads).Select(t => new WireThreadName(t.Tid, t.Comm)).ToList();
        if (names.Count == 0)
            names = opened.InitialThreadNames.OrderBy(kv => kv.Key).Select(kv => new WireThreadName(kv.Key, kv.Value)).ToList();
        return new WireInventory(wireVms, names, Now());
    }

    /// <summary>Realtime ns: the kernel's trace clock when tracefs runs (the events' own time scale), else the injected clock.</summary>
    private long Now() => _tracefs?.NowRealtime() ?? _time.UnixNanoseconds();
}
