using System.Globalization;
using System.Text.Json;
using Vmtrace.Analysis;
using Vmtrace.Analysis.Tests;
using Vmtrace.TestSupport;

namespace Vmtrace.Cli.Tests;

/// <summary>
/// <c>vmtrace kvm-stat</c> on the hip24 host traces against <see cref="KvmExitReference"/> (trace-cmd's raw text export:
/// each kvm_exit paired with the next kvm_entry of the same thread; an exit with no entry after it before the thread's
/// next exit or the end of the trace is not a sample, as the analysis counts it unfinished). Per reason the reference's
/// per-thread counts and latency sums are added; percentages are computed here from them.
/// </summary>
public sealed class KvmStatCommandTests
{
    private const string GuestPair = "hip24-kvm-host-guest-pair/host.trace.dat";
    private const string GuestPairExport = "hip24-kvm-host-guest-pair/host.report-raw.txt";

    private static Dictionary<string, (long Count, long Sum, long Min, long Max)> ReferenceByReason(string export)
    {
        var byReason = new Dictionary<string, (long Count, long Sum, long Min, long Max)>();
        foreach (var ((_, reason), s) in KvmExitReference.FromRawExport(Corpus.Path(export)).Exits)
        {
            // The hip24 host is Intel (isa=1 on every kvm_exit; SOURCES.md lists these VMX names).
            string name = ExitReasons.Name(ExitIsa.Vmx, reason)!;
            byReason[name] = byReason.TryGetValue(name, out var a)
                ? (a.Count + s.Count, a.Sum + s.Sum, Math.Min(a.Min, s.Min), Math.Max(a.Max, s.Max))
                : s;
        }
        return byReason;
    }

    [CorpusFact]
    public async Task KvmStat_JsonOnHip24_EveryRowEqualsTheTextExport()
    {
        var expected = ReferenceByReason(GuestPairExport);
        long samples = expected.Values.Sum(r => r.Count), time = expected.Values.Sum(r => r.Sum);

        var r = await CliRun.RunAsync("kvm-stat", Corpus.Path(GuestPair), "--format", "json");

        Assert.Equal(0, r.ExitCode);
        using var json = JsonDocument.Parse(r.Stdout);
        var rows = json.RootElement.GetProperty("rows").EnumerateArray().ToList();
        Assert.Equal(expected.Count, rows.Count);
        foreach (var row in rows)
        {
            string reason = row.GetProperty("reason").GetString()!;
            var e = expected[reason];
            Assert.Equal((reason, e.Count, e.Sum, e.Min, e.Max),
                (reason, row.GetProperty("samples").GetInt64(), row.GetProperty("time_ns").GetInt64(), row.GetProperty("min_ns").GetInt64(), row.GetProperty("max_ns").GetInt64()));
            Assert.Equal(100.0 * e.Count / samples, row.GetProperty("samples_pct").GetDouble(), 1e-9);
            Assert.Equal(100.0 * e.Sum / time, row.GetProperty("time_pct").GetDouble(), 1e-9);
            Assert.Equal((double)e.Sum / e.Count, row.GetProperty("avg_ns").GetDouble(), 1e-6);
            Assert.True(row.GetProperty("stddev_pct").GetDouble() >= 0);
        }
        // Default key: samples, biggest first.
        Assert.Equal(rows.Select(x => x.GetProperty("samples").GetInt64()).OrderDescending(), rows.Select(x => x.GetProperty("samples").GetInt64()));
        Assert.Equal(samples, json.RootElement.GetProperty("total").GetProperty("samples").GetInt64());
        Assert.Equal(time, json.RootElement.GetProperty("total").GetProperty("time_ns").GetInt64());
    }

    [CorpusFact]
    public async Task KvmStat_TableOnHip24_HasPerfsLayoutAndTotals()
    {
        var expected = ReferenceByReason(GuestPairExport);
        long samples = expected.Values.Sum(r => r.Count), time = expected.Values.Sum(r => r.Sum);

        var r = await CliRun.RunAsync("kvm-stat", Corpus.Path(GuestPair));

        Assert.Equal(0, r.ExitCode);
        // perf's print_result: "%20s %10s %9s %9s %11s %11s %16s " header; rows "%20s %10llu %8.2f%% %8.2f%% %9.2fus %9.2fus %9.2fus ( +-%7.2f%% )".
        Assert.Contains("Analyze events for all VMs, all VCPUs:", r.StdoutLines);
        Assert.Contains("             VM-EXIT    Samples  Samples%     Time%    Min Time    Max Time         Avg time ", r.StdoutLines);
        var hlt = expected["HLT"];
        string hltStart = string.Create(CultureInfo.InvariantCulture,
            $"{"HLT",20} {hlt.Count,10} {100.0 * hlt.Count / samples,8:F2}% {100.0 * hlt.Sum / time,8:F2}% {hlt.Min / 1e3,9:F2}us {hlt.Max / 1e3,9:F2}us {(double)hlt.Sum / hlt.Count / 1e3,9:F2}us ( +-");
        Assert.Single(r.StdoutLines, l => l.StartsWith(hltStart, StringComparison.Ordinal) && l.EndsWith("% )", StringComparison.Ordinal));
        Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"Total Samples:{samples}, Total events handled time:{time / 1e3:F2}us."), r.StdoutLines);
        // The two exits with no entry after them (5860 exits, 5858 paired: SOURCES.md 1a) are said, not counted.
        Assert.Equal(5858, samples);
        Assert.Contains("2 exits had no following entry", r.Stderr, StringComparison.Ordinal);
    }

    [CorpusFact]
    public async Task KvmStat_IoportOnATraceWithoutKvmPio_SaysSoInOneLine()
    {
        var r = await CliRun.RunAsync("kvm-stat", Corpus.Path("hip24-kvm-host-allkvm/host.trace.dat"), "--event", "ioport");

        Assert.Equal(0, r.ExitCode);
        var line = Assert.Single(r.StdoutLines);
        Assert.Contains("has no kvm_pio events", line, StringComparison.Ordinal);
    }

    [CorpusFact]
    public async Task KvmStat_TraceWithoutKvmExit_SaysSoInOneLine()
    {
        // An LTTng kernel trace of a plain host (SOURCES.md: none of these CTF traces has kvm events).
        var r = await CliRun.RunAsync("kvm-stat", Corpus.Path("tracecompass-test-traces-ctf/many-threads"));

        Assert.Equal(0, r.ExitCode);
        var line = Assert.Single(r.StdoutLines);
        Assert.Contains("has no kvm_exit events", line, StringComparison.Ordinal);
    }

    [CorpusFact]
    public async Task KvmStat_UnknownVm_IsAUsageError()
    {
        var r = await CliRun.RunAsync("kvm-stat", Corpus.Path(GuestPair), "--vm", "nosuchvm");

        Assert.Equal(2, r.ExitCode);
        Assert.StartsWith("vmtrace: --vm nosuchvm: no such VM", r.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--key", "speed", "--key must be sample, time, max, min or mean, not 'speed'")]
    [InlineData("--event", "msr", "--event must be vmexit, ioport or mmio, not 'msr'")]
    [InlineData("--format", "csv", "--format must be table or json, not 'csv'")]
    public async Task KvmStat_BadOptionValue_IsOneLineUsageError(string option, string value, string message)
    {
        var r = await CliRun.RunAsync("kvm-stat", "trace.dat", option, value);

        Assert.Equal(2, r.ExitCode);
        Assert.Equal($"vmtrace: {message}", r.Stderr.Split('\n')[0].TrimEnd('\r'));
    }

    [Fact]
    public async Task KvmStat_MissingTrace_IsOneLineInputError()
    {
        var r = await CliRun.RunAsync("kvm-stat", "/nonexistent/trace.dat");

        Assert.Equal(1, r.ExitCode);
        Assert.Equal("", r.Stdout);
        Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }
}
