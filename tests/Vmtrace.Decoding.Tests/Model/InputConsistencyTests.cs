using System.Globalization;
using System.Text.RegularExpressions;
using Vmtrace.TestSupport;

namespace Vmtrace.Decoding.Tests.Model;

/// <summary>
/// Inputs read together must be one machine on one clock: real recordings on other clocks (samples/mixed-clocks,
/// see its README) and hip24's host/guest pair (SOURCES.md 1a) are aligned or refused, never merged silently.
/// </summary>
public partial class InputConsistencyTests
{
    private static string Mixed(string file) => Path.Combine(Corpus.RepoRoot, "samples", "mixed-clocks", file);

    [Fact]
    public void Open_MonoTraceWithDate_IsRealtimeWithTraceCmdsTimestamps()
    {
        using var source = TraceOpener.Open(Mixed("trace-mono-date.dat.xz"));

        Assert.Equal(TraceClockKind.Realtime, source.Clock);
        Assert.Equal("mono + --date offset (realtime)", source.ClockName);
        Assert.Equal(ReportTimestamps("trace-mono-date.report-head.txt"), FirstTimestamps(source, 100));
    }

    [Fact]
    public void Open_LocalTrace_UnknownOriginWithTraceCmdsTimestamps()
    {
        using var source = TraceOpener.Open(Mixed("trace-local.dat.xz"));

        Assert.Equal(TraceClockKind.Unknown, source.Clock);
        Assert.Equal("local", source.ClockName);
        Assert.Equal(ReportTimestamps("trace-local.report-head.txt"), FirstTimestamps(source, 100));
    }

    [Fact]
    public void Open_DirectoryOfDatedMonoTraceAndQemuLog_MergesBothOnOneClock()
    {
        using var dir = new LinkedDirectory(Mixed("trace-mono-date.dat.xz"), Mixed("qemu-tiny.log.xz"));
        long separately = Count(TraceOpener.Open(Mixed("trace-mono-date.dat.xz"))) + Count(TraceOpener.Open(Mixed("qemu-tiny.log.xz")));

        using var merged = TraceOpener.Open(dir.Path);
        long events = 0, last = long.MinValue, qemuInsideTrace = 0;
        while (merged.MoveNext())
        {
            Assert.True(merged.Current.Timestamp >= last, "merged events out of order");
            last = merged.Current.Timestamp;
            events++;
            // The VM started before the trace and was stopped after it: its log is realtime like the dated trace.
            if (merged.Current.Cpu < 0 && merged.Current.Timestamp > 1_796_585_800_000_000_000)
                qemuInsideTrace++;
        }

        Assert.Equal(separately, events);
        Assert.Equal(5, qemuInsideTrace);
    }

    [Fact]
    public void Open_DirectoryOfLocalTraceAndQemuLog_RefusedNamingBothFilesAndClocks()
    {
        using var dir = new LinkedDirectory(Mixed("trace-local.dat.xz"), Mixed("qemu-tiny.log.xz"));

        var ex = Assert.Throws<InconsistentInputsException>(() => TraceOpener.Open(dir.Path));

        Assert.Contains(Path.Combine(dir.Path, "trace-local.dat.xz"), ex.Message, StringComparison.Ordinal);
        Assert.Contains(Path.Combine(dir.Path, "qemu-tiny.log.xz"), ex.Message, StringComparison.Ordinal);
        Assert.Contains("clock 'local'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("clock 'realtime (qemu log, gettimeofday)'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("trace-cmd record -C tai", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', ex.Message);
    }

    [Fact]
    public void OpenAll_RealtimeInputsTwoWeeksApart_RefusedAtTheFirstEvent()
    {
        // Both realtime (dated mono trace of 2026-12-06, tcg-3vms' qemu log of 2026-11-22): the clocks agree,
        // the recordings do not; the merge must not run through the two weeks between them.
        string qemu = Path.Combine(Corpus.RepoRoot, "samples", "tcg-3vms", "qemu-web.log.xz");
        using var source = TraceOpener.OpenAll([Mixed("trace-mono-date.dat.xz"), qemu]);

        var ex = Assert.Throws<InconsistentInputsException>(() => source.MoveNext());

        Assert.Contains(qemu, ex.Message, StringComparison.Ordinal);
        Assert.Contains(Mixed("trace-mono-date.dat.xz"), ex.Message, StringComparison.Ordinal);
        Assert.Contains("13.9 days later", ex.Message, StringComparison.Ordinal);
    }

    [CorpusFact]
    public void OpenAll_RawTscTraceAndQemuLog_RefusedAsCyclesAgainstRealtime()
    {
        string tsc = Corpus.Path("hip24-kvm-host-allkvm/host.trace.dat");

        var ex = Assert.Throws<InconsistentInputsException>(() => TraceOpener.OpenAll([tsc, Mixed("qemu-tiny.log.xz")]));

        Assert.Contains("clock 'x86-tsc (raw cycles, no TSC2NSEC)'", ex.Message, StringComparison.Ordinal);
    }

    [CorpusFact]
    public void Open_HostAndGuestTraceInOneDirectory_RefusedAsTwoMachines()
    {
        string host = Corpus.Path("hip24-kvm-host-guest-pair/host.trace.dat");
        string guest = Corpus.Path("hip24-kvm-host-guest-pair/guest-Salamander4.trace.dat");
        using var dir = new LinkedDirectory(host, guest);

        var ex = Assert.Throws<InconsistentInputsException>(() => TraceOpener.Open(dir.Path));

        // SOURCES.md 1a: the host (UNAME node "pamhal") lists the guest's trace id in its GUEST option, the
        // guest ("sigmatek-core2") points at the host's trace id with TIME_SHIFT.
        Assert.Contains(Path.Combine(dir.Path, "host.trace.dat") + " (machine 'pamhal', a host: GUEST trace 5d2b93f358166218)", ex.Message, StringComparison.Ordinal);
        Assert.Contains(Path.Combine(dir.Path, "guest-Salamander4.trace.dat") + " (machine 'sigmatek-core2', a guest: TIME_SHIFT to host trace 2c75ff89fdaf813c)", ex.Message, StringComparison.Ordinal);
        Assert.Contains("two machines", ex.Message, StringComparison.Ordinal);
        Assert.Contains("--guest", ex.Message, StringComparison.Ordinal);
    }

    [CorpusFact]
    public void OpenAll_GuestTraceThenHostTrace_RefusedAsTwoMachines()
    {
        string host = Corpus.Path("hip24-kvm-host-guest-pair/host.trace.dat");
        string guest = Corpus.Path("hip24-kvm-host-guest-pair/guest-Salamander4.trace.dat");

        var ex = Assert.Throws<InconsistentInputsException>(() => TraceOpener.OpenAll([guest, host]));

        Assert.StartsWith($"{guest} (machine 'sigmatek-core2'", ex.Message, StringComparison.Ordinal);
        Assert.Contains($"{host} (machine 'pamhal'", ex.Message, StringComparison.Ordinal);
    }

    [CorpusFact]
    public void OpenAll_LttngTracesOfTwoHosts_RefusedByTheirHostNames()
    {
        // synctraces: an scp between two machines, each traced by LTTng (CTF env hostname "VM1" and "VM3").
        string src = Corpus.Path("tracecompass-test-traces-ctf/synctraces/scp_src");
        string dest = Corpus.Path("tracecompass-test-traces-ctf/synctraces/scp_dest");

        var ex = Assert.Throws<InconsistentInputsException>(() => TraceOpener.OpenAll([src, dest]));

        Assert.Contains("(machine 'VM1')", ex.Message, StringComparison.Ordinal);
        Assert.Contains("(machine 'VM3')", ex.Message, StringComparison.Ordinal);
    }

    [CorpusFact]
    public void Machine_GuestTraceWithoutHostNames_StillTiedToItsHostByTraceIds()
    {
        using var host = Vmtrace.Decoding.Ftrace.FtraceFileSource.OpenTraceDat(Corpus.Path("hip24-kvm-host-guest-pair/host.trace.dat"));
        using var guest = Vmtrace.Decoding.Ftrace.FtraceFileSource.OpenTraceDat(Corpus.Path("hip24-kvm-host-guest-pair/guest-Salamander4.trace.dat"));
        var unnamedHost = host.Machine! with { HostName = null };
        var unnamedGuest = guest.Machine! with { HostName = null };

        Assert.True(unnamedGuest.IsGuestOf(unnamedHost));
        Assert.True(unnamedHost.DiffersFrom(unnamedGuest));
        Assert.False(unnamedHost.DiffersFrom(unnamedHost));
    }

    private static List<long> FirstTimestamps(EventSource source, int count)
    {
        var list = new List<long>(count);
        while (list.Count < count && source.MoveNext())
            list.Add(source.Current.Timestamp);
        return list;
    }

    private static List<long> ReportTimestamps(string report) =>
        File.ReadLines(Mixed(report)).Select(l => ReportLine().Match(l)).Where(m => m.Success)
            .Select(m => long.Parse(m.Groups["s"].Value, CultureInfo.InvariantCulture) * 1_000_000_000L + long.Parse(m.Groups["ns"].Value, CultureInfo.InvariantCulture))
            .ToList();

    private static long Count(EventSource source)
    {
        using (source)
        {
            long n = 0;
            while (source.MoveNext())
                n++;
            return n;
        }
    }

    [GeneratedRegex(@"\[\d+\]\s+(?<s>\d+)\.(?<ns>\d{9}):")]
    private static partial Regex ReportLine();

    /// <summary>A temporary directory of symbolic links to real files (read in place, never copied).</summary>
    private sealed class LinkedDirectory : IDisposable
    {
        private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("vmtrace-mix-");

        public LinkedDirectory(params string[] files)
        {
            foreach (var f in files)
                File.CreateSymbolicLink(System.IO.Path.Combine(_dir.FullName, System.IO.Path.GetFileName(f)), f);
        }

        public string Path => _dir.FullName;

        public void Dispose() => _dir.Delete(true);
    }
}
