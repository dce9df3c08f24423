using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using Vmtrace.Agent.Live.Recording;
using Vmtrace.Agent.Live.Tracefs;

namespace Vmtrace.Cli;

/// <summary><c>vmtrace record -o DIR</c>: a host recording that <c>vmtrace analyze DIR</c> reads (see docs/recording.md).</summary>
internal static class RecordCommand
{
    public const string Usage = """
          record -o DIR [--duration 30s] [--events sys:event,…] [--buffer-kb 8192]
                 [--writer auto|trace-cmd|tracefs] [--trace-cmd PATH] [--no-qemu-logs]
              record this host (root) into DIR for a duration or until Ctrl-C: trace.dat (the kernel events
              the analysis uses, from an ftrace instance of its own, timestamps aligned to realtime; written
              by trace-cmd when installed, else by vmtrace from the raw ring buffers), vmmap.json (the VMs
              from /proc: names, vCPU and vhost threads, taps, clock) and the part of each qemu's trace log
              (-D FILE) written meanwhile. See docs/recording.md.
        """;

    public static Command Build()
    {
        var output = OptionValues.Text("--output", "DIR", "the directory to record into (required)", "-o");
        var duration = OptionValues.Duration("--duration", "stop after this long (default: at Ctrl-C or SIGTERM)");
        var events = OptionValues.Text("--events", "sys:event,…", "the kernel events to record (default: the ones the analysis uses)");
        var bufferKb = OptionValues.WholeNumber("--buffer-kb", "the ring buffer per CPU in KiB (default 8192)");
        var writer = OptionValues.OneOf("--writer", [RecordOptions.WriterAuto, "trace-cmd", "tracefs"], "who writes trace.dat (default auto: trace-cmd when installed)");
        var traceCmd = OptionValues.Text("--trace-cmd", "PATH", "the trace-cmd program to use");
        var noQemuLogs = OptionValues.Flag("--no-qemu-logs", "do not copy the qemu trace logs");
        var command = new UsageCommand("record", Usage, oneLineUsageErrors: true) { output, duration, events, bufferKb, writer, traceCmd, noQemuLogs };
        command.SetAction((parseResult, _) =>
        {
            var stdout = parseResult.InvocationConfiguration.Output;
            var stderr = parseResult.InvocationConfiguration.Error;
            RecordOptions options;
            try
            {
                options = Options(parseResult.GetValue(output), parseResult.GetValue(duration), parseResult.GetValue(events),
                    parseResult.GetValue(bufferKb), parseResult.GetValue(writer), parseResult.GetValue(traceCmd), parseResult.GetValue(noQemuLogs));
            }
            catch (UsageException ex)
            {
                // One line: the mistake and where to read more (the full usage would bury it).
                stderr.WriteLine($"vmtrace record: {ex.Message} (vmtrace record --help)");
                return Task.FromResult(2);
            }
            return RunAsync(options, stdout, stderr);
        });
        return command;
    }

    private static async Task<int> RunAsync(RecordOptions options, TextWriter stdout, TextWriter stderr)
    {
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

    /// <summary>The recording the options ask for, checked.</summary>
    internal static RecordOptions Options(string? output, long? durationNs, string? events, long? bufferKb, string? writer, string? traceCmd, bool noQemuLogs)
    {
        if (output is null)
            throw new UsageException("-o DIR is required (the directory to record into)");
        var options = new RecordOptions
        {
            OutputDirectory = output,
            Duration = durationNs is { } ns ? TimeSpan.FromTicks(ns / 100) : null,
            Events = events?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? [],
            BufferSizeKb = (int)Math.Clamp(bufferKb ?? 8192, int.MinValue, int.MaxValue),
            TraceCmd = traceCmd,
            Writer = writer ?? RecordOptions.WriterAuto,
            CopyQemuLogs = !noQemuLogs,
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
