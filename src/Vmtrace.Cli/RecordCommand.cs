using System.Globalization;
using System.Runtime.InteropServices;
using Vmtrace.Agent.Live.Recording;
using Vmtrace.Agent.Live.Tracefs;

namespace Vmtrace.Cli;

/// <summary><c>vmtrace record -o DIR</c>: a host recording that <c>vmtrace analyze DIR</c> reads (see docs/recording.md).</summary>
internal static class RecordCommand
{
    private static readonly HashSet<string> Flags = ["--no-qemu-logs"];
    private static readonly HashSet<string> Valued = ["--output", "--duration", "--events", "--buffer-kb", "--trace-cmd", "--writer"];

    public const string Usage = """
          record -o DIR [--duration 30s] [--events sys:event,…] [--buffer-kb 8192]
                 [--writer auto|trace-cmd|tracefs] [--trace-cmd PATH] [--no-qemu-logs]
              record this host (root) into DIR for a duration or until Ctrl-C: trace.dat (the kernel events
              the analysis uses, from an ftrace instance of its own, timestamps aligned to realtime; written
              by trace-cmd when installed, else by vmtrace from the raw ring buffers), vmmap.json (the VMs
              from /proc: names, vCPU and vhost threads, taps, clock) and the part of each qemu's trace log
              (-D FILE) written meanwhile. See docs/recording.md.
        """;

    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr)
    {
        RecordOptions? options;
        try
        {
            options = Parse(args);
        }
        catch (UsageException ex)
        {
            // One line: the mistake and where to read more (the full usage would bury it).
            await stderr.WriteLineAsync($"vmtrace record: {ex.Message} (vmtrace record --help)").ConfigureAwait(false);
            return 2;
        }
        if (options is null)
        {
            await stdout.WriteLineAsync("usage: vmtrace\n" + Usage).ConfigureAwait(false);
            return 0;
        }

        using var stop = new CancellationTokenSource();
        void OnSignal(PosixSignalContext context)
        {
            context.Cancel = true;
            stop.Cancel();
        }
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        try
        {
            var result = await new Recorder(options, TimeProvider.System, stderr).RunAsync(stop.Token).ConfigureAwait(false);
            int vcpus = result.Map.Vms.Sum(v => v.Threads.Count(t => t.Role == "vcpu"));
            int logs = result.Map.Vms.Count(v => v.QemuLog is not null);
            await stdout.WriteLineAsync(
                $"recorded {result.Recorded.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s into {Path.GetDirectoryName(result.TracePath)}: " +
                $"{Path.GetFileName(result.TracePath)} {Units.Bytes(result.TraceBytes)}, {result.Map.Vms.Count} VM(s) with {vcpus} vCPU(s) in vmmap.json, {logs} qemu log(s), {result.Map.LostEvents ?? 0} event(s) lost " +
                $"(vmtrace analyze {Path.GetDirectoryName(result.TracePath)})").ConfigureAwait(false);
            return 0;
        }
        catch (Exception ex) when (ex is RecordException or TracefsException or IOException or UnauthorizedAccessException)
        {
            // The instance is already removed (the recorder disposes it on every path); the message names what failed.
            await stderr.WriteLineAsync($"vmtrace record: {ex.Message}").ConfigureAwait(false);
            return 1;
        }
    }

    /// <summary>The options, or null for --help.</summary>
    internal static RecordOptions? Parse(string[] args)
    {
        if (args.Any(a => a is "-h" or "--help"))
            return null;
        var o = new Options([.. args.Select(a => a == "-o" ? "--output" : a)], Flags, Valued);
        if (o.Positional.Count > 0)
            throw new UsageException($"unexpected argument '{o.Positional[0]}'");
        string output = o.Value("--output") ?? throw new UsageException("-o DIR is required (the directory to record into)");
        TimeSpan? duration = o.Value("--duration") is { } d ? TimeSpan.FromTicks(TimeArgument.ParseDuration("--duration", d) / 100) : null;
        var events = o.Value("--events")?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? [];
        int bufferKb = (int)Math.Clamp(o.Long("--buffer-kb") ?? 8192, int.MinValue, int.MaxValue);
        var options = new RecordOptions
        {
            OutputDirectory = output,
            Duration = duration,
            Events = events,
            BufferSizeKb = bufferKb,
            TraceCmd = o.Value("--trace-cmd"),
            Writer = o.Value("--writer") ?? RecordOptions.WriterAuto,
            CopyQemuLogs = !o.Flag("--no-qemu-logs"),
        };
        try
        {
            options.Validate();
        }
        catch (ArgumentException ex)
        {
            throw new UsageException(ex.Message);
        }
        return options;
    }
}
