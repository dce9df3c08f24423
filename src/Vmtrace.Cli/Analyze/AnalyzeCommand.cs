using System.CommandLine;
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
    public const string Usage = """
          analyze <trace…> [--format table|json|csv|line-protocol] [--window 1s] [--vm NAME[,NAME…]]
                  [--from T] [--to T] [--inventory vmmap.json | --no-inventory] [--host NAME] [--top N]
                  [--cpus N] [--no-progress] [--html report.html] [--guest NAME=GUEST_TRACE …]
              per-VM metrics from host events: vCPU time (guest, host, preempted, waiting, blocked), VM exits
              by reason with handling latency, disk, network, and who preempted whom. Several inputs of one
              host are merged by time. T is seconds on the trace clock (as dump prints) or +DURATION from
              the trace start (+2s, +500ms). A vmmap.json beside the first trace names the VMs; without one
              (or with --no-inventory) they are found in the trace itself, each VM saying how (identity).
              --guest adds a trace recorded inside VM NAME (its vmtrace name or qemu -name): each guest
              thread's run time split by what its vCPU's host thread did (in guest, hypervisor, preempted).
        """;

    private static readonly string[] s_formats = ["table", "json", "csv", "line-protocol"];

    public static Command Build()
    {
        var traces = new Argument<string[]>("trace") { Arity = ArgumentArity.ZeroOrMore, Description = "the traces of one host (merged by time)" };
        var format = OptionValues.OneOf("--format", s_formats, "the output: per-VM tables (default), JSON, CSV or InfluxDB line protocol");
        var window = OptionValues.Duration("--window", "the length of a window (default 1s)");
        var vm = OptionValues.Text("--vm", "NAME[,NAME…]", "only these VMs");
        var from = OptionValues.Bound("--from", "start of the range analysed: seconds on the trace clock or +DURATION from the trace start");
        var to = OptionValues.Bound("--to", "end of the range analysed, as --from");
        var inventory = OptionValues.Text("--inventory", "vmmap.json", "the VMs' names and threads (default: a vmmap.json beside the first trace)");
        var noInventory = OptionValues.Flag("--no-inventory", "find the VMs in the trace itself even when a vmmap.json is there");
        var host = OptionValues.Text("--host", "NAME", "the host's name in the output (default: from the trace's path)");
        var top = OptionValues.WholeNumber("--top", "the N biggest culprits per VM (default 5)");
        var cpus = OptionValues.WholeNumber("--cpus", "the host's CPU count when the trace does not tell it");
        var progress = OptionValues.Flag("--progress", "a progress bar on stderr even when it is not a terminal");
        var noProgress = OptionValues.Flag("--no-progress", "no progress bar");
        var html = OptionValues.Text("--html", "report.html", "also write an HTML report with charts and a timeline");
        var guest = new Option<string[]>("--guest")
        {
            Description = "a trace recorded inside VM NAME, on the host's clock (repeatable): guest threads' time split by their vCPU's host state",
            HelpName = "NAME=GUEST_TRACE",
        };
        var command = new UsageCommand("analyze", Usage) { traces, format, window, vm, from, to, inventory, noInventory, host, top, cpus, progress, noProgress, html, guest };
        command.SetAction(parseResult =>
        {
            var inputs = OptionValues.Positional(parseResult, traces);
            if (inputs.Length == 0)
                throw new UsageException("analyze takes at least one trace");
            string formatValue = parseResult.GetValue(format) ?? "table";
            if (!s_formats.Contains(formatValue))
                throw new UsageException($"--format must be table, json, csv or line-protocol, not '{formatValue}'");
            long topValue = parseResult.GetValue(top) ?? 5, cpusValue = parseResult.GetValue(cpus) ?? 0;
            if (topValue < 1) throw new UsageException("--top must be at least 1");
            if (cpusValue < 0) throw new UsageException("--cpus cannot be negative");
            var stderr = parseResult.InvocationConfiguration.Error;
            var request = new Request(inputs, formatValue,
                parseResult.GetValue(window) ?? 1_000_000_000L,
                parseResult.GetValue(vm)?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal),
                parseResult.GetValue(from), parseResult.GetValue(to),
                parseResult.GetValue(noInventory) ? null : parseResult.GetValue(inventory) ?? RecordingDirectory.FindInventory(inputs),
                parseResult.GetValue(host) ?? RecordingDirectory.DefaultHostName(inputs[0]),
                (int)Math.Min(topValue, int.MaxValue), (int)Math.Min(cpusValue, int.MaxValue),
                parseResult.GetValue(progress) || (!parseResult.GetValue(noProgress) && ProgressBar.IsTerminal(stderr)),
                parseResult.GetValue(html),
                (parseResult.GetValue(guest) ?? []).Select(GuestRequest.Parse).ToList());
            return Run(request, parseResult.InvocationConfiguration.Output, stderr);
        });
        return command;
    }

    /// <summary>What the command line asks of one analysis.</summary>
    private sealed record Request(IReadOnlyList<string> Inputs, string Format, long WindowNs, HashSet<string>? Vms,
        (long Ns, bool Relative)? From, (long Ns, bool Relative)? To, string? InventoryPath, string Host, int Top, int Cpus,
        bool Progress, string? Html, IReadOnlyList<GuestRequest> Guests);

    private static int Run(Request r, TextWriter stdout, TextWriter stderr)
    {
        var inventory = r.InventoryPath is null ? InferInventory(r.Inputs) : VmMapJson.Parse(File.ReadAllText(r.InventoryPath));

        var report = Analyze(r.Inputs, inventory, r.InventoryPath, r.Host, r.WindowNs, r.From, r.To, r.Top, r.Cpus, r.Progress, stderr, r.Guests);
        if (r.Vms is not null)
            report = Filter(report, r.Vms);

        switch (r.Format)
        {
            case "json": AnalysisJson.Write(stdout, report); break;
            case "csv": AnalysisCsv.Write(stdout, report); break;
            case "line-protocol": AnalysisLineProtocol.Write(stdout, report); break;
            default:
                AnalysisTable.Write(stdout, report, r.Top);
                GuestTable.Write(stdout, report);
                break;
        }
        if (r.Html is { } html) HtmlReport.WriteFile(html, report);
        // Machine formats keep their "_ns" field names: say once that they hold cycles.
        if (report.InCycles && (r.Format != "table" || r.Html is not null))
            stderr.WriteLine($"vmtrace: warning: {report.CyclesNotice}");
        foreach (var err in report.Diagnostics.Errors)
            stderr.WriteLine($"vmtrace: warning: {err.Message}");
        if (r.Format != "table")
        {
            foreach (var note in AnalysisNotes.Of(report.Counters))
                stderr.WriteLine($"vmtrace: note: {note}");
        }
        foreach (var (trace, guest) in report.Guests?.Where(g => g.Metrics.Vm is null) ?? [])
        {
            string vms = report.Total.Vms.Count == 0 ? "it shows none" : "its VMs: " + string.Join(", ", report.Total.Vms.Select(v => v.Vm));
            stderr.WriteLine($"vmtrace: warning: --guest {guest.Name}={trace}: the host trace has no vCPU thread of a VM named '{guest.Name}' ({vms}), so the guest's time is all unknown");
        }
        if (report.GuestNotice is { } guestNotice)
            stderr.WriteLine($"vmtrace: note: {guestNotice}");
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
        bool progress, TextWriter stderr, IReadOnlyList<GuestRequest>? guests = null)
    {
        guests ??= [];
        // With guests: the host's inputs and each guest's trace merged by time, host first (input 0).
        MergedEventSource? fusedSource = null;
        EventSource hostSource;
        IReadOnlyList<GuestBinding> bindings = [];
        if (guests.Count > 0)
            (fusedSource, hostSource, bindings) = GuestInputs.Open(inputs, guests);
        else
            hostSource = TraceOpener.OpenAll(inputs);
        using var source = fusedSource ?? hostSource;
        using var bar = new ProgressBar(stderr, progress);
        HostAnalysis? analysis = null;
        FusedGuestAnalysis? fused = null;
        var windows = new List<WindowMetrics>();
        var episodes = new List<Episode>();
        long events = 0, first = 0, last = 0, end = long.MaxValue, guestSyncEvents = 0;
        int maxCpu = -1;
        bool cut = false;
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
                analysis = new HostAnalysis(new AnalysisOptions { WindowNs = windowNs, FromNs = fromNs, TopInterferers = top, CpuCount = cpus > 0 ? cpus : hostSource.CpuCount });
                analysis.AddThreadNames(hostSource.InitialThreadNames);
                foreach (var vm in inventory)
                    analysis.AddInventory(vm);
                if (fusedSource is not null)
                {
                    fused = analysis.AttachGuests(bindings, fromNs);
                    for (int g = 0; g < bindings.Count; g++)
                        fused.AddGuestThreadNames(g, fusedSource.Inputs[g + 1].InitialThreadNames);
                }
            }
            if (e.Timestamp >= end)
            {
                cut = true;
                break;
            }
            last = Math.Max(last, e.Timestamp);
            events++;
            int input = fusedSource?.CurrentInput ?? 0;
            if (input > 0)
            {
                fused!.OnGuestEvent(input - 1, e);
                continue;
            }
            maxCpu = Math.Max(maxCpu, e.Cpu);
            // A guest's side of Trace Compass's vmsync hypercalls: a guest's trace read as the host's.
            if (e.Known is KnownEvent.VmsyncGuestToHostGuest or KnownEvent.VmsyncHostToGuestGuest)
                guestSyncEvents++;
            analysis.OnEvent(e);
            fused?.AfterHostEvent();
            if ((events & 0x3FF) == 0)
            {
                windows.AddRange(analysis.TakeClosedWindows());
                episodes.AddRange(analysis.TakeClosedEpisodes());
            }
            bar.Tick(events, source);
        }
        bar.Dispose();
        var counters = new AnalysisCounters();
        IReadOnlyList<GuestReport>? guestReports = null;
        long rangeStart = first, rangeEnd = last;
        if (analysis is not null)
        {
            rangeEnd = end != long.MaxValue ? end : last;
            analysis.Flush(rangeEnd);
            windows.AddRange(analysis.TakeClosedWindows());
            episodes.AddRange(analysis.TakeClosedEpisodes());
            counters = analysis.Counters;
            if (fused is not null)
                guestReports = fused.Finish(cut ? rangeEnd : null).Select((m, i) => new GuestReport(guests[i].Trace, m)).ToList();
            if (from is { } fb)
                rangeStart = Math.Min(rangeEnd, Math.Max(first, fb.Relative ? first + fb.Ns : fb.Ns));
        }
        // A trace without VMs closes no window: its total still spans the range analysed, on the CPUs it had.
        var total = windows.Count > 0 ? MetricsMerge.Total(windows, top)
            : new WindowMetrics(rangeStart, rangeEnd, analysis is null ? 0 : cpus > 0 ? cpus : Math.Max(hostSource.CpuCount, maxCpu + 1), []);
        string description = inputs.Count == 1 ? inputs[0] : string.Join(" + ", inputs);
        return new AnalysisReport(description, host, windowNs, events, first, last, windows, total,
            counters, TraceOpener.DiagnosticsOf(source), inventoryPath, hostSource.Clock, hostSource.ClockName)
        {
            Episodes = episodes,
            Guests = guests.Count > 0 ? guestReports ?? [] : null,
            RangeEndNs = rangeEnd,
            GuestNotice = guests.Count > 0 ? null : GuestNotice(description, hostSource, guestSyncEvents),
        };
    }

    /// <summary>What says the input is a guest's trace rather than a host's: recognised, analysed as given, not merged.</summary>
    private static string? GuestNotice(string description, EventSource source, long guestSyncEvents)
    {
        if (source.Machine is { HostTraceId: { } peer })
            return string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"{description} is a guest's trace (TIME_SHIFT to host trace {peer:x16}): analysed as a machine of its own; give it beside its host's trace as --guest NAME={description}");
        if (guestSyncEvents > 0)
            return string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"{description} holds {guestSyncEvents} guest-side vmsync events: a guest's trace, analysed as a host; give it beside its host's trace as --guest NAME=GUEST_TRACE");
        return null;
    }

    private static AnalysisReport Filter(AnalysisReport r, HashSet<string> vms)
    {
        static WindowMetrics Keep(WindowMetrics w, HashSet<string> vms) => w with { Vms = w.Vms.Where(v => vms.Contains(v.Vm)).ToList() };
        return r with
        {
            Windows = r.Windows.Select(w => Keep(w, vms)).Where(w => w.Vms.Count > 0).ToList(), Total = Keep(r.Total, vms),
            Episodes = r.Episodes.Where(e => vms.Contains(e.Vm)).ToList(),
        };
    }
}
