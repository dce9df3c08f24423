using System.Diagnostics;
using Vmtrace.Decoding;

namespace Vmtrace.Bench;

/// <summary>
/// Times vmtrace's decoding of one input: <see cref="TraceOpener.Open"/> plus a MoveNext loop that reads
/// every event's header and every value slot. Warm-up runs first (JIT tiering, page cache), then the best of N.
/// Allocation is that of the measured run that allocated least, on this thread (the readers decode on the caller's thread).
/// </summary>
internal static class VmtraceDecodeRunner
{
    public static Measurement Measure(string input, string path, int runs)
    {
        const string Tool = "vmtrace";
        try
        {
            // Warm up until tiered compilation has settled: at least 3 runs and 1.5 s.
            var warmUp = RunOnce(path);
            var warmUpClock = Stopwatch.StartNew();
            for (int i = 1; i < 3 || warmUpClock.Elapsed.TotalSeconds < 1.5; i++)
                warmUp = RunOnce(path);
            double best = double.MaxValue;
            double bestCpu = double.MaxValue;
            var steady = warmUp;
            for (int i = 0; i < runs; i++)
            {
                var run = RunOnce(path);
                if (run.Events != warmUp.Events)
                    return new Measurement(input, Tool, null, null) { Note = $"event count changed between runs: {warmUp.Events} then {run.Events}" };
                // Steady state: the run that allocated least (early runs still carry JIT tiering's allocations).
                if (i == 0 || run.LoopBytes < steady.LoopBytes)
                    steady = run;
                best = Math.Min(best, run.Seconds);
                bestCpu = Math.Min(bestCpu, run.CpuSeconds ?? double.MaxValue);
            }
            return new Measurement(input, Tool, steady.Events, best)
            {
                CpuSeconds = bestCpu == double.MaxValue ? null : bestCpu,
                BytesPerEvent = steady.Events > 0 ? (double)steady.RunBytes / steady.Events : null,
                LoopBytesPerEvent = steady.Events > 0 ? (double)steady.LoopBytes / steady.Events : null,
                Note = steady.Errors > 0 ? $"{steady.Errors} decoding errors reported" : "",
            };
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return new Measurement(input, Tool, null, null) { Note = "cannot read: " + FirstLine(ex.Message) };
        }
    }

    private readonly record struct Run(long Events, double Seconds, double? CpuSeconds, long RunBytes, long LoopBytes, long Errors, long Checksum);

    private static Run RunOnce(string path)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        long runStartBytes = GC.GetAllocatedBytesForCurrentThread();
        double? cpuStart = CpuTime.Thread();
        var clock = Stopwatch.StartNew();
        using var source = TraceOpener.Open(path);
        long loopStartBytes = GC.GetAllocatedBytesForCurrentThread();
        long events = 0;
        long checksum = 0;
        while (source.MoveNext())
        {
            var e = source.Current;
            checksum += e.Timestamp ^ ((long)e.Cpu << 32) ^ e.Tid ^ e.Type.Id;
            int fields = e.FieldCount;
            for (int slot = 0; slot < fields; slot++)
            {
                if (e.IsPresent(slot))
                    checksum += e.GetInt64(slot);
            }
            events++;
        }
        long loopEndBytes = GC.GetAllocatedBytesForCurrentThread();
        clock.Stop();
        double? cpu = CpuTime.Thread() - cpuStart;
        long errors = TraceOpener.DiagnosticsOf(source).ErrorCount;
        return new Run(events, clock.Elapsed.TotalSeconds, cpu, loopEndBytes - runStartBytes, loopEndBytes - loopStartBytes, errors, checksum);
    }

    private static string FirstLine(string s)
    {
        int nl = s.IndexOf('\n', StringComparison.Ordinal);
        return nl < 0 ? s : s[..nl];
    }
}
