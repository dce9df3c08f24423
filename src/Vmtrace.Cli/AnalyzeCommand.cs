using Vmtrace.Analysis;
using Vmtrace.Decoding;

namespace Vmtrace.Cli;

/// <summary>
/// <c>vmtrace analyze &lt;trace…&gt;</c>: the embedded pipeline (no Kafka, no InfluxDB). Opens every input
/// (merged by time when there are several: a trace.dat and the qemu logs beside it), feeds the analysis
/// core, and prints per-VM tables, or JSON / CSV / line protocol for machines.
/// </summary>
internal static class AnalyzeCommand
{
    private static readonly HashSet<string> Flags = ["--no-progress", "--progress", "--no-inventory"];
    private static readonly HashSet<string> Valued = ["--format", "--window", "--vm", "--from", "--to", "--inventory", "--host", "--top", "--cpus", "--html"];

    public const string Usage = """
          analyze <trace…> [--format table|json|csv|line-protocol] [--window 1s] [--vm NAME[,NAME…]]
                  [--from T] [--to T] [--inventory vmmap.json | --no-inventory] [--host NAME] [--top N]
                  [--cpus N] [--no-progress] [--html report.html]
              per-VM metrics from host events: vCPU time (guest, host, preempted, waiting, blocked), VM exits
              by reason with handling latency, disk, network, and who preempted whom. Several inputs of one
              host are merged by time. T is seconds on the trace clock (as dump prints) or +DURATION from
              the trace start (+2s, +500ms). A vmmap.json beside the first trace names the VMs; without one
              (or with --no-inventory) they are found in the trace itself, each VM saying how (identity).
        """;

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var o = new Options(args, Flags, Valued);
        if (o.Positional.Count == 0)
            throw new UsageException("analyze takes at least one trace");
        string format = o.Value("--format") ?? "table";
        if (format is not ("table" or "json" or "csv" or "line-protocol"))
            throw new UsageException($"--format must be table, json, csv or line-protocol, not '{format}'");
        long windowNs = o.Value("--window") is { } w ? TimeArgument.ParseDuration("--window", w) : 1_000_000_000L;
        var from = o.Value("--from") is { } f ? TimeArgument.ParseBound("--from", f) : ((long, bool)?)null;
        var to = o.Value("--to") is { } t ? TimeArgument.ParseBound("--to", t) : ((long, bool)?)null;
        int top = (int)(o.Long("--top") ?? 5);
        int cpus = (int)(o.Long("--cpus") ?? 0);
        if (top < 1) throw new UsageException("--top must be at least 1");
        if (cpus < 0) throw new UsageException("--cpus cannot be negative");
        var vmFilter = o.Value("--vm")?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal);
        bool progress = o.Flag("--progress") || (!o.Flag("--no-progress") && ProgressBar.IsTerminal(stderr));

        string? inventoryPath = o.Flag("--no-inventory") ? null : o.Value("--inventory") ?? RecordingDirectory.FindInventory(o.Positional);
        var inventory = inventoryPath is null ? InferInventory(o.Positional) : VmMapJson.Parse(File.ReadAllText(inventoryPath));
        string host = o.Value("--host") ?? RecordingDirectory.DefaultHostName(o.Positional[0]);

        var report = Analyze(o.Positional, inventory, inventoryPath, host, windowNs, from, to, top, cpus, progress, stderr);
        if (vmFilter is not null)
            report = Filter(report, vmFilter);

        switch (format)
        {
            case "json": AnalysisJson.Write(stdout, report); break;
            case "csv": AnalysisCsv.Write(stdout, report); break;
            case "line-protocol": AnalysisLineProtocol.Write(stdout, report); break;
            default: AnalysisTable.Write(stdout, report, top); break;
        }
        if (o.Value("--html") is { } html) HtmlReport.WriteFile(html, report);
        // Machine formats keep their "_ns" field names: say once that they hold cycles.
        if (report.InCycles && (format != "table" || o.Value("--html") is not null))
            stderr.WriteLine($"vmtrace: warning: {report.CyclesNotice}");
        foreach (var err in report.Diagnostics.Errors)
            stderr.WriteLine($"vmtrace: warning: {err.Message}");
        if (format != "table")
        {
            foreach (var note in AnalysisNotes.Of(report.Counters))
                stderr.WriteLine($"vmtrace: note: {note}");
        }
        foreach (var vm in report.Total.Vms.Where(v => v.Identity == VmIdentity.Guess))
            stderr.WriteLine($"vmtrace: warning: VM {vm.Vm}: identity guessed ({vm.Origin}); a vmmap.json beside the trace (vmtrace record) makes it certain");
        return 0;
    }

    /// <summary>Without a vmmap.json, the VMs the trace itself shows (a first pass; the agent's replay sends the same).</summary>
    internal static IReadOnlyList<VmInventory> InferInventory(IReadOnlyList<string> inputs)
    {
        using var pass = TraceOpener.OpenAll(inputs);
        return IdentityInference.Of(pass);
    }

    internal static AnalysisReport Analyze(IReadOnlyList<string> inputs, IReadOnlyList<VmInventory> inventory, string? inventoryPath,
        string host, long windowNs, (long Ns, bool Relative)? from, (long Ns, bool Relative)? to, int top, int cpus,
        bool progress, TextWriter stderr)
    {
        using var source = TraceOpener.OpenAll(inputs);
        using var bar = new ProgressBar(stderr, progress);
        HostAnalysis? analysis = null;
        var windows = new List<WindowMetrics>();
        long events = 0, first = 0, last = 0, end = long.MaxValue;
        int maxCpu = -1;
        while (source.MoveNext())
        {
            var e = source.Current;
            if (analysis is null)
            {
                // Relative bounds count from the first event, so the analysis starts with it.
                first = e.Timestamp;
                long? fromNs = from is { } fb ? (fb.Relative ? first + fb.Ns : fb.Ns) : null;
                if (to is { } tb)
                    end = tb.Relative ? first + tb.Ns : tb.Ns;
                if (fromNs >= end)
                    throw new UsageException("--from must be before --to");
                analysis = new HostAnalysis(new AnalysisOptions { WindowNs = windowNs, FromNs = fromNs, TopInterferers = top, CpuCount = cpus > 0 ? cpus : source.CpuCount });
                analysis.AddThreadNames(source.InitialThreadNames);
                foreach (var vm in inventory)
                    analysis.AddInventory(vm);
            }
            if (e.Timestamp >= end)
                break;
            last = Math.Max(last, e.Timestamp);
            maxCpu = Math.Max(maxCpu, e.Cpu);
            events++;
            analysis.OnEvent(e);
            if ((events & 0x3FF) == 0)
                windows.AddRange(analysis.TakeClosedWindows());
            bar.Tick(events, source);
        }
        bar.Dispose();
        var counters = new AnalysisCounters();
        long rangeStart = first, rangeEnd = last;
        if (analysis is not null)
        {
            rangeEnd = end != long.MaxValue ? end : last;
            analysis.Flush(rangeEnd);
            windows.AddRange(analysis.TakeClosedWindows());
            counters = analysis.Counters;
            if (from is { } fb)
                rangeStart = Math.Min(rangeEnd, Math.Max(first, fb.Relative ? first + fb.Ns : fb.Ns));
        }
        // A trace without VMs closes no window: its total still spans the range analysed, on the CPUs it had.
        var total = windows.Count > 0 ? MetricsMerge.Total(windows, top)
            : new WindowMetrics(rangeStart, rangeEnd, analysis is null ? 0 : cpus > 0 ? cpus : Math.Max(source.CpuCount, maxCpu + 1), []);
        string description = inputs.Count == 1 ? inputs[0] : string.Join(" + ", inputs);
        return new AnalysisReport(description, host, windowNs, events, first, last, windows, total,
            counters, TraceOpener.DiagnosticsOf(source), inventoryPath, source.Clock, source.ClockName);
    }

    private static AnalysisReport Filter(AnalysisReport r, HashSet<string> vms)
    {
        static WindowMetrics Keep(WindowMetrics w, HashSet<string> vms) => w with { Vms = w.Vms.Where(v => vms.Contains(v.Vm)).ToList() };
        return r with { Windows = r.Windows.Select(w => Keep(w, vms)).Where(w => w.Vms.Count > 0).ToList(), Total = Keep(r.Total, vms) };
    }
}
