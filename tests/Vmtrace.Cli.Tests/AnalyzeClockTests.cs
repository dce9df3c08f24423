using System.Text.RegularExpressions;
using Vmtrace.TestSupport;

namespace Vmtrace.Cli.Tests;

/// <summary>Times are shown in the trace's unit (TSC cycles are never printed as ns), and inputs that cannot be read as one host are one line.</summary>
public partial class AnalyzeClockTests
{
    private static string Mixed(string file) => Path.Combine(Corpus.RepoRoot, "samples", "mixed-clocks", file);

    [CorpusFact]
    public async Task Analyze_RawTscTrace_EveryTimeInCyclesNeverAsNs()
    {
        // SOURCES.md 1b: x86-tsc with no TSC2NSEC option, so the timestamps are TSC ticks.
        var r = await CliRun.RunAsync("analyze", Corpus.Path("hip24-kvm-host-allkvm/host.trace.dat"), "--no-progress");

        Assert.Equal(0, r.ExitCode);
        Assert.Contains("clock: x86-tsc (raw cycles, no TSC2NSEC): every time and duration here is in TSC cycles (cyc), not ns", r.StdoutLines);
        Assert.Contains(r.StdoutLines, l => l.StartsWith("events: 7,792   range: 303280081900681 cyc .. ", StringComparison.Ordinal));
        Assert.Contains(r.StdoutLines, l => l.Contains("APIC_WRITE", StringComparison.Ordinal) && l.EndsWith(" Mcyc", StringComparison.Ordinal));
        Assert.DoesNotContain(r.StdoutLines, l => TimeUnit().IsMatch(l));
        // The table says it in cycles itself: stderr carries only the warning that the trace's one VM is a guess
        // (kvm events only: its process is unknown).
        Assert.All(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries),
            l => Assert.StartsWith("vmtrace: warning: VM qemu-t533825: identity guessed", l, StringComparison.Ordinal));
    }

    [CorpusFact]
    public async Task Analyze_RawTscTraceAsJson_SaysItsTimesAreCycles()
    {
        var r = await CliRun.RunAsync("analyze", Corpus.Path("hip24-kvm-host-allkvm/host.trace.dat"), "--no-progress", "--format", "json");

        Assert.Equal(0, r.ExitCode);
        Assert.Contains("\"time_unit\": \"tsc_cycles\"", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("every time and duration is in TSC cycles, not ns", r.Stderr, StringComparison.Ordinal);
    }

    [CorpusFact]
    public async Task Analyze_RawTscTraceAsHtml_CyclesOnEveryFigureAndAxis()
    {
        string html = Path.Combine(Path.GetTempPath(), $"vmtrace-cycles-{Guid.NewGuid():N}.html");
        try
        {
            var r = await CliRun.RunAsync("analyze", Corpus.Path("hip24-kvm-host-allkvm/host.trace.dat"), "--no-progress", "--html", html);

            Assert.Equal(0, r.ExitCode);
            string page = File.ReadAllText(html);
            Assert.Contains(" Mcyc", page, StringComparison.Ordinal);
            Assert.Contains(" Gcyc</text>", page, StringComparison.Ordinal);
            Assert.DoesNotMatch(TimeUnit(), page);
        }
        finally
        {
            File.Delete(html);
        }
    }

    [Fact]
    public async Task Analyze_NanosecondTrace_NoCycleLabels()
    {
        string sample = Path.Combine(Corpus.RepoRoot, "samples", "tcg-3vms");
        var table = await CliRun.RunAsync("analyze", sample, "--no-progress");
        var json = await CliRun.RunAsync("analyze", sample, "--no-progress", "--format", "json");

        Assert.Equal(0, table.ExitCode);
        Assert.DoesNotContain(table.StdoutLines, l => l.StartsWith("clock:", StringComparison.Ordinal) || l.Contains("cyc", StringComparison.Ordinal));
        Assert.DoesNotContain("time_unit", json.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Analyze_LocalClockTraceWithQemuLog_OneLineNamingBothAndExitOne()
    {
        string trace = Mixed("trace-local.dat.xz");
        string log = Mixed("qemu-tiny.log.xz");

        var r = await CliRun.RunAsync("analyze", trace, log, "--no-progress");

        Assert.Equal(1, r.ExitCode);
        Assert.Equal("", r.Stdout);
        Assert.Equal(
            $"vmtrace: {trace} is on clock 'local' and {log} on clock 'realtime (qemu log, gettimeofday)', which vmtrace cannot align: "
            + "record the kernel trace on qemu's clock with `trace-cmd record -C tai` (tai is realtime when the host's TAI offset is 0) or add `--date`, or use `vmtrace record`"
            + Environment.NewLine, r.Stderr);
    }

    [CorpusFact]
    public async Task Analyze_HostAndGuestTraces_OneLineNamingTwoMachines()
    {
        string host = Corpus.Path("hip24-kvm-host-guest-pair/host.trace.dat");
        string guest = Corpus.Path("hip24-kvm-host-guest-pair/guest-Salamander4.trace.dat");

        var r = await CliRun.RunAsync("analyze", host, guest, "--no-progress");

        Assert.Equal(1, r.ExitCode);
        Assert.Equal("", r.Stdout);
        Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith($"vmtrace: {host} (machine 'pamhal', a host: GUEST trace 5d2b93f358166218) and {guest} (machine 'sigmatek-core2', a guest: TIME_SHIFT to host trace 2c75ff89fdaf813c) are traces of two machines", r.Stderr, StringComparison.Ordinal);
    }

    /// <summary>A figure followed by a time unit (s, ms, µs, ns).</summary>
    [GeneratedRegex(@"\d (s|ms|µs|ns)\b")]
    private static partial Regex TimeUnit();
}
