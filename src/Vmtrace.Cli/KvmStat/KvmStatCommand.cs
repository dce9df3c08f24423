using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Vmtrace.Analysis;
using Vmtrace.Decoding;

namespace Vmtrace.Cli;

/// <summary>
/// <c>vmtrace kvm-stat &lt;trace…&gt;</c>: <c>perf kvm stat report</c> from a host trace. The exits are those the analysis
/// pairs (kvm_exit → next kvm_entry of the same thread), so the figures agree with <c>vmtrace analyze</c>.
/// </summary>
internal static class KvmStatCommand
{
    public const string Usage = """
          kvm-stat <trace…> [--event vmexit|ioport|mmio] [--key sample|time|max|min|mean] [--vcpu N]
                   [--vm NAME[,NAME…]] [--format table|json] [--inventory vmmap.json | --no-inventory]
              perf kvm stat report from a host trace: per exit reason (or port, or MMIO address) the samples,
              their share of samples and of handling time, min, max and mean handling time with the standard
              deviation of the mean (+-), and the totals. Exits are handled from kvm_exit to the next kvm_entry
              of the same thread; port I/O from kvm_pio, MMIO from kvm_mmio, as perf times them.
        """;

    private static readonly string[] s_events = ["vmexit", "ioport", "mmio"];
    private static readonly string[] s_keys = ["sample", "time", "max", "min", "mean"];
    private static readonly string[] s_formats = ["table", "json"];

    public static Command Build()
    {
        var traces = new Argument<string[]>("trace") { Arity = ArgumentArity.ZeroOrMore, Description = "the traces of one host (merged by time)" };
        var eventKind = OptionValues.OneOf("--event", s_events, "what to analyse: VM exits (default), port I/O (kvm_pio) or MMIO (kvm_mmio)");
        var key = OptionValues.OneOf("--key", s_keys, "sort the rows by samples (default), total time, max, min or mean time, biggest first");
        var vcpu = OptionValues.WholeNumber("--vcpu", "only this vCPU (its vcpu_id)");
        var vm = OptionValues.Text("--vm", "NAME[,NAME…]", "only these VMs (default: all)");
        var format = OptionValues.OneOf("--format", s_formats, "the output: perf's table (default) or JSON");
        var inventory = OptionValues.Text("--inventory", "vmmap.json", "the VMs' names and threads (default: a vmmap.json beside the first trace)");
        var noInventory = OptionValues.Flag("--no-inventory", "find the VMs in the trace itself even when a vmmap.json is there");
        var command = new UsageCommand("kvm-stat", Usage) { traces, eventKind, key, vcpu, vm, format, inventory, noInventory };
        command.SetAction(parseResult =>
        {
            var inputs = OptionValues.Positional(parseResult, traces);
            if (inputs.Length == 0)
                throw new UsageException("kvm-stat takes at least one trace");
            string eventValue = parseResult.GetValue(eventKind) ?? "vmexit";
            if (!s_events.Contains(eventValue))
                throw new UsageException($"--event must be vmexit, ioport or mmio, not '{eventValue}'");
            string keyValue = parseResult.GetValue(key) ?? "sample";
            if (!s_keys.Contains(keyValue))
                throw new UsageException($"--key must be sample, time, max, min or mean, not '{keyValue}'");
            string formatValue = parseResult.GetValue(format) ?? "table";
            if (!s_formats.Contains(formatValue))
                throw new UsageException($"--format must be table or json, not '{formatValue}'");
            long? vcpuValue = parseResult.GetValue(vcpu);
            if (vcpuValue is < 0 or > int.MaxValue)
                throw new UsageException($"--vcpu must be a vCPU number, not {vcpuValue}");
            var request = new Request(inputs,
                eventValue switch { "ioport" => KvmStatEvent.IoPort, "mmio" => KvmStatEvent.Mmio, _ => KvmStatEvent.VmExit },
                Enum.Parse<KvmStatKey>(keyValue, ignoreCase: true),
                (int?)vcpuValue,
                parseResult.GetValue(vm)?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal),
                formatValue == "json",
                parseResult.GetValue(noInventory) ? null : parseResult.GetValue(inventory) ?? RecordingDirectory.FindInventory(inputs));
            return Run(request, parseResult.InvocationConfiguration.Output, parseResult.InvocationConfiguration.Error);
        });
        return command;
    }

    private sealed record Request(IReadOnlyList<string> Inputs, KvmStatEvent Event, KvmStatKey Key, int? Vcpu, HashSet<string>? Vms, bool Json, string? InventoryPath);

    private static int Run(Request r, TextWriter stdout, TextWriter stderr)
    {
        var inventory = r.InventoryPath is null ? AnalyzeCommand.InferInventory(r.Inputs) : VmMapJson.Parse(File.ReadAllText(r.InventoryPath));
        var builder = new KvmStatBuilder(r.Event);
        var analysis = new HostAnalysis(new AnalysisOptions { ExitHandled = builder.AddExit });
        using var source = TraceOpener.OpenAll(r.Inputs);
        analysis.AddThreadNames(source.InitialThreadNames);
        foreach (var vm in inventory)
            analysis.AddInventory(vm);
        long last = 0;
        while (source.MoveNext())
        {
            var e = source.Current;
            last = Math.Max(last, e.Timestamp);
            analysis.OnEvent(e);
            builder.OnEvent(e);
        }
        analysis.Flush(last);
        if (r.Vms is not null && r.Vms.FirstOrDefault(name => !inventory.Any(v => v.Name == name) && !builder.HasVm(name)) is { } unknown)
            throw new UsageException($"--vm {unknown}: no such VM in the trace");

        var report = builder.Build(r.Key, r.Vms, r.Vcpu);
        bool cycles = source.Clock == TraceClockKind.Cycles;
        string trace = r.Inputs.Count == 1 ? r.Inputs[0] : string.Join(" + ", r.Inputs);
        if (r.Json)
            WriteJson(stdout, report, trace, cycles, r);
        else
            WriteTable(stdout, report, trace, r);
        if (cycles)
            stderr.WriteLine("vmtrace: warning: the trace's clock is in TSC cycles with no conversion to ns: times are cycles (shown as us/ns)");
        if (analysis.Counters.UnfinishedExits > 0)
            stderr.WriteLine($"vmtrace: note: {analysis.Counters.UnfinishedExits} exits had no following entry on their thread (lost, or still in the host at the end) and are not counted");
        foreach (var err in TraceOpener.DiagnosticsOf(source).Errors)
            stderr.WriteLine($"vmtrace: warning: {err.Message}");
        return 0;
    }

    private static string EventTitle(KvmStatEvent kind) => kind switch
    {
        KvmStatEvent.IoPort => "IO Port Access",
        KvmStatEvent.Mmio => "MMIO Access",
        _ => "VM-EXIT",
    };

    private static string MissingEvents(KvmStatEvent kind, string trace) => kind switch
    {
        KvmStatEvent.IoPort => $"{trace} has no kvm_pio events: no port I/O to report (record kvm:kvm_pio)",
        KvmStatEvent.Mmio => $"{trace} has no kvm_mmio events: no MMIO to report (record kvm:kvm_mmio)",
        _ => $"{trace} has no kvm_exit events: no VM exits to report (record kvm:kvm_entry and kvm:kvm_exit)",
    };

    /// <summary>perf's layout (builtin-kvm.c print_result): the same widths, us with two decimals.</summary>
    private static void WriteTable(TextWriter o, KvmStatReport report, string trace, Request r)
    {
        if (!report.EventsPresent)
        {
            o.WriteLine(MissingEvents(report.Event, trace));
            return;
        }
        var c = CultureInfo.InvariantCulture;
        string vms = r.Vms is null ? "all VMs" : (r.Vms.Count == 1 ? "VM " : "VMs ") + string.Join(",", r.Vms.Order(StringComparer.Ordinal));
        string vcpus = r.Vcpu is { } n ? string.Create(c, $"VCPU {n}") : "all VCPUs";
        o.WriteLine();
        o.WriteLine();
        o.WriteLine($"Analyze events for {vms}, {vcpus}:");
        o.WriteLine();
        o.WriteLine(string.Create(c, $"{EventTitle(report.Event),20} {"Samples",10} {"Samples%",9} {"Time%",9} {"Min Time",11} {"Max Time",11} {"Avg time",16} "));
        o.WriteLine();
        foreach (var row in report.Rows)
        {
            o.WriteLine(string.Create(c,
                $"{row.Key,20} {row.Samples,10} {row.SamplesPct,8:F2}% {row.TimePct,8:F2}% {row.MinNs / 1e3,9:F2}us {row.MaxNs / 1e3,9:F2}us {row.AvgNs / 1e3,9:F2}us ( +-{row.StddevPct,7:F2}% )"));
        }
        o.WriteLine();
        o.WriteLine(string.Create(c, $"Total Samples:{report.TotalSamples}, Total events handled time:{report.TotalTimeNs / 1e3:F2}us."));
        o.WriteLine();
    }

    private static void WriteJson(TextWriter o, KvmStatReport report, string trace, bool cycles, Request r)
    {
        using var stream = new MemoryStream();
        using (var j = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            j.WriteStartObject();
            j.WriteString("trace", trace);
            j.WriteString("event", report.Event switch { KvmStatEvent.IoPort => "ioport", KvmStatEvent.Mmio => "mmio", _ => "vmexit" });
            j.WriteString("key", r.Key.ToString().ToLowerInvariant());
            if (r.Vms is not null)
            {
                j.WriteStartArray("vms");
                foreach (string vm in r.Vms.Order(StringComparer.Ordinal))
                    j.WriteStringValue(vm);
                j.WriteEndArray();
            }
            if (r.Vcpu is { } vcpu)
                j.WriteNumber("vcpu", vcpu);
            if (cycles)
                j.WriteString("time_unit", "tsc_cycles");
            j.WriteBoolean("events_present", report.EventsPresent);
            if (!report.EventsPresent)
                j.WriteString("note", MissingEvents(report.Event, trace));
            j.WriteStartArray("rows");
            foreach (var row in report.Rows)
            {
                j.WriteStartObject();
                j.WriteString("reason", row.Key);
                j.WriteNumber("samples", row.Samples);
                j.WriteNumber("samples_pct", row.SamplesPct);
                j.WriteNumber("time_pct", row.TimePct);
                j.WriteNumber("time_ns", row.TimeNs);
                j.WriteNumber("min_ns", row.MinNs);
                j.WriteNumber("max_ns", row.MaxNs);
                j.WriteNumber("avg_ns", row.AvgNs);
                j.WriteNumber("stddev_pct", row.StddevPct);
                j.WriteEndObject();
            }
            j.WriteEndArray();
            j.WriteStartObject("total");
            j.WriteNumber("samples", report.TotalSamples);
            j.WriteNumber("time_ns", report.TotalTimeNs);
            j.WriteEndObject();
            j.WriteEndObject();
        }
        o.Write(System.Text.Encoding.UTF8.GetString(stream.ToArray()));
        o.WriteLine();
    }
}
