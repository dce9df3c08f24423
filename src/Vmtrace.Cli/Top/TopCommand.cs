using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using Vmtrace.Agent.Live;
using Vmtrace.Agent.Live.Tracefs;
using Vmtrace.Analysis;
using Vmtrace.Decoding;

namespace Vmtrace.Cli;

/// <summary>
/// <c>vmtrace top</c>: a per-VM view of one host refreshed every interval, live from the host's tracefs or replayed from a
/// trace. Each refresh is one closed window of the analysis core (window = the interval), so its figures are
/// <c>analyze --window</c>'s.
/// </summary>
internal static class TopCommand
{
    public const string Usage = """
          top [--replay TRACE [--speed N]] [--once] [--format table|json|csv] [--interval 1s]
              [--sort cpu|exits|steal|disk|net|name] [--vm NAME[,NAME…]] [--inventory vmmap.json | --no-inventory]
              [--host NAME]
              a per-VM view of the host refreshed every interval (like kvm_stat, vmtop): CPU % of the host,
              guest/host/preempted/steal shares of vCPU time, exits/s with the top reasons, disk and network
              rates, each VM's latest interference episode. Live it reads the host's tracefs through its own
              ftrace instance (vmtrace-top), as the agent does: it needs root and tracefs mounted. --replay runs
              the same view on a recorded trace, paced by --speed (1: recorded pace, default; 0: as fast as
              possible). --once: live, the first full interval; replayed, every window as fast as possible; then
              exit. A terminal gets a table redrawn in place; --once, a pipe, or --format json|csv get plain
              output (json: one object per refresh and line, or with --once one document of every refresh).
        """;

    private static readonly string[] s_formats = ["table", "json", "csv"];

    public static Command Build() => Build(TimeProvider.System);

    internal static Command Build(TimeProvider time)
    {
        var replay = new Option<string[]>("--replay") { Description = "replay these traces of one host (merged by time) instead of reading tracefs", HelpName = "TRACE" };
        var speed = new Option<double?>("--speed")
        {
            Description = "replay pace: 1 recorded speed (default), 2 twice as fast, 0 as fast as possible",
            HelpName = "N",
            CustomParser = r => OptionValues.Parse<double?>(r, "--speed", text =>
                double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && v >= 0 && double.IsFinite(v)
                    ? v : throw new UsageException($"--speed expects a number at least 0, got '{text}'")),
        };
        var once = OptionValues.Flag("--once", "print once and exit (live: the first full interval; replay: every window, unpaced)");
        var format = OptionValues.OneOf("--format", s_formats, "the output: a table (default), JSON or CSV");
        var interval = OptionValues.Duration("--interval", "the refresh interval, the analysis window (default 1s)");
        var sort = OptionValues.OneOf("--sort", TopFrame.SortKeys, "the order of the VMs, biggest first (default cpu; name: alphabetical)");
        var vm = OptionValues.Text("--vm", "NAME[,NAME…]", "only these VMs");
        var inventory = OptionValues.Text("--inventory", "vmmap.json", "replay: the VMs' names and threads (default: a vmmap.json beside the first trace)");
        var noInventory = OptionValues.Flag("--no-inventory", "replay: find the VMs in the trace itself even when a vmmap.json is there");
        var host = OptionValues.Text("--host", "NAME", "the host's name in the output (default: this machine's, or from the trace's path)");
        var command = new UsageCommand("top", Usage) { replay, speed, once, format, interval, sort, vm, inventory, noInventory, host };
        command.SetAction((parseResult, cancellation) =>
        {
            string[] traces = parseResult.GetValue(replay) ?? [];
            string formatValue = parseResult.GetValue(format) ?? "table";
            if (!s_formats.Contains(formatValue))
                throw new UsageException($"--format must be table, json or csv, not '{formatValue}'");
            string sortValue = parseResult.GetValue(sort) ?? "cpu";
            if (!TopFrame.SortKeys.Contains(sortValue))
                throw new UsageException($"--sort must be one of {string.Join(", ", TopFrame.SortKeys)}, not '{sortValue}'");
            long intervalNs = parseResult.GetValue(interval) ?? 1_000_000_000L;
            if (intervalNs <= 0)
                throw new UsageException("--interval must be positive");
            double? speedValue = parseResult.GetValue(speed);
            if (traces.Length == 0 && (speedValue is not null || parseResult.GetValue(inventory) is not null || parseResult.GetValue(noInventory)))
                throw new UsageException("--speed, --inventory and --no-inventory apply to --replay only");
            bool onceValue = parseResult.GetValue(once);
            var request = new Request(traces, onceValue ? 0 : speedValue ?? 1, onceValue, formatValue, intervalNs, sortValue,
                parseResult.GetValue(vm)?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal),
                parseResult.GetValue(noInventory) || traces.Length == 0 ? null : parseResult.GetValue(inventory) ?? RecordingDirectory.FindInventory(traces),
                parseResult.GetValue(host) ?? (traces.Length > 0 ? RecordingDirectory.DefaultHostName(traces[0]) : Environment.MachineName));
            return Task.FromResult(Run(request, time, parseResult.InvocationConfiguration.Output, parseResult.InvocationConfiguration.Error, cancellation));
        });
        return command;
    }

    /// <summary>What the command line asks of one run.</summary>
    internal sealed record Request(IReadOnlyList<string> Replay, double Speed, bool Once, string Format, long IntervalNs, string Sort,
        HashSet<string>? Vms, string? InventoryPath, string Host);

    internal static int Run(Request r, TimeProvider time, TextWriter stdout, TextWriter stderr, CancellationToken cancellation)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        void OnSignal(PosixSignalContext context)
        {
            context.Cancel = true;
            stop.Cancel();
        }
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);

        // The in-place table only on the process's own terminal; a writer given by a caller, or a pipe, gets plain text.
        bool liveTable = !r.Once && ReferenceEquals(stdout, Console.Out) && !Console.IsOutputRedirected;
        var view = TopView.For(r.Format, r.Once, liveTable, r.Host, stdout);
        var latest = new Dictionary<string, Episode>(StringComparer.Ordinal);
        void Show(WindowMetrics w, IReadOnlyList<Episode> episodes, Action<TopFrame> frame) => frame(TopFrame.Of(w, episodes, latest, r.Sort, r.Vms));
        try
        {
            if (r.Replay.Count > 0)
            {
                var inventory = r.InventoryPath is null ? AnalyzeCommand.InferInventory(r.Replay) : VmMapJson.Parse(File.ReadAllText(r.InventoryPath));
                SourceDiagnostics? diagnostics = null;
                view.Run(frame => diagnostics = TopFeed.Replay(r.Replay, inventory, r.IntervalNs, r.Speed, time, stop.Token, (w, e) => Show(w, e, frame)));
                foreach (var err in diagnostics?.Errors ?? [])
                    stderr.WriteLine($"vmtrace: warning: {err.Message}");
            }
            else
            {
                var options = new LiveOptions { TracefsSettings = new TracefsOptions { InstanceName = "vmtrace-top" } };
                view.Run(frame => TopFeed.Live(options, r.IntervalNs, r.Once, time, stop.Token, (w, e) => Show(w, e, frame)));
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Interrupted: what was shown stands.
        }
        catch (Exception ex) when (r.Replay.Count == 0 && ex is TracefsException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            stderr.WriteLine($"vmtrace: top: {ex.Message} (live, top reads tracefs: it needs root and tracefs mounted; or use --replay TRACE)");
            return 1;
        }
        return 0;
    }
}
