using System.Text.Json;
using Vmtrace.TestSupport;

namespace Vmtrace.Cli.Tests;

/// <summary><c>analyze HOST --guest NAME=GUEST</c>: the fused host+guest analysis as the command line gives it.</summary>
public class AnalyzeGuestTests
{
    private const string Stub = "tracecompass-vm-xml-stubs/OneQemuKvm/";
    private const string Pair = "hip24-kvm-host-guest-pair/";

    [CorpusFact]
    public async Task Analyze_StubWithGuest_JsonThread130IsTraceCompassFigures()
    {
        string guest = Corpus.Path(Stub + "guest.xml");
        var r = await CliRun.RunAsync("analyze", Corpus.Path(Stub + "host.xml"), "--guest", "qemu-t31=" + guest, "--format", "json", "--no-progress");

        Assert.Equal(0, r.ExitCode);
        using var doc = JsonDocument.Parse(r.Stdout);
        var g = Assert.Single(doc.RootElement.GetProperty("guests").EnumerateArray());
        Assert.Equal("qemu-t31", g.GetProperty("name").GetString());
        Assert.Equal("qemu-t31", g.GetProperty("vm").GetString());
        Assert.Equal(guest, g.GetProperty("trace").GetString());
        var t130 = g.GetProperty("threads").EnumerateArray().Single(t => t.GetProperty("tid").GetInt32() == 130);
        // GROUND_TRUTH.md A.4: guest thread 130 runs 190 ns, 40 of them with its vCPU in VMM, 50 with it preempted.
        Assert.Equal((190, 100, 40, 50), (t130.GetProperty("run_ns").GetInt64(), t130.GetProperty("in_guest_ns").GetInt64(),
            t130.GetProperty("hypervisor_ns").GetInt64(), t130.GetProperty("preempted_ns").GetInt64()));
        var by = Assert.Single(t130.GetProperty("preempted_by").EnumerateArray());
        Assert.Equal(("host:any", 50), (by.GetProperty("culprit").GetString(), by.GetProperty("preempted_ns").GetInt64()));
    }

    [CorpusFact]
    public async Task Analyze_StubWithGuest_TableSaysWhoTookTheThreadsTime()
    {
        var r = await CliRun.RunAsync("analyze", Corpus.Path(Stub + "host.xml"), "--guest", "qemu-t31=" + Corpus.Path(Stub + "guest.xml"), "--no-progress");

        Assert.Equal(0, r.ExitCode);
        // 50 of 190 ns = 26.3 %.
        Assert.Contains("  guest thread 130 (any) lost 26.3 % of its run to host preemption by host:any (50 ns)", r.StdoutLines);
        Assert.Contains(r.StdoutLines, l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries) is ["130", "any", "190", "ns", "100", "ns", "40", "ns", "50", "ns", "0", "ns"]);
    }

    [CorpusFact]
    public async Task Analyze_StubWithGuestHtml_HasTheGuestThreadsTable()
    {
        using var html = new TempFile("", ".html");
        var r = await CliRun.RunAsync("analyze", Corpus.Path(Stub + "host.xml"), "--guest", "qemu-t31=" + Corpus.Path(Stub + "guest.xml"),
            "--html", html.Path, "--no-progress");

        Assert.Equal(0, r.ExitCode);
        string page = await File.ReadAllTextAsync(html.Path);
        Assert.Contains("<h2>Guest qemu-t31</h2>", page, StringComparison.Ordinal);
        Assert.Contains("<tr><td>130</td><td class=\"l\">any</td><td>190 ns</td><td>100 ns</td><td>40 ns</td><td>50 ns</td><td>0 ns</td>"
            + "<td class=\"l\">26.3 % by host:any (50 ns)</td></tr>", page, StringComparison.Ordinal);
    }

    [CorpusFact]
    public async Task Analyze_GuestNamingNoVm_WarnsInOneLine()
    {
        string guest = Corpus.Path(Stub + "guest.xml");
        var r = await CliRun.RunAsync("analyze", Corpus.Path(Stub + "host.xml"), "--guest", "vm9=" + guest, "--no-progress");

        Assert.Equal(0, r.ExitCode);
        Assert.Contains($"vmtrace: warning: --guest vm9={guest}: the host trace has no vCPU thread of a VM named 'vm9' (its VMs: qemu-t31), so the guest's time is all unknown",
            r.Stderr.Split('\n').Select(l => l.TrimEnd('\r')));
    }

    [CorpusFact]
    public async Task Analyze_GuestStubWithoutGuestOption_IsRefusedNotMerged()
    {
        string guest = Corpus.Path(Stub + "guest.xml");
        var r = await CliRun.RunAsync("analyze", Corpus.Path(Stub + "host.xml"), guest, "--no-progress");

        Assert.Equal(1, r.ExitCode);
        Assert.Equal("", r.Stdout);
        Assert.Equal($"vmtrace: {guest} was recorded inside a guest, which vmtrace does not merge with other inputs: "
            + $"analyze the host's trace and give this one as --guest NAME={guest} (NAME: the VM)" + Environment.NewLine, r.Stderr);
    }

    [CorpusFact]
    public async Task Analyze_GuestTraceAlone_IsRecognisedInANote()
    {
        string guest = Corpus.Path(Pair + "guest-Salamander4.trace.dat");
        var r = await CliRun.RunAsync("analyze", guest, "--no-progress");

        Assert.Equal(0, r.ExitCode);
        Assert.Contains($"vmtrace: note: {guest} is a guest's trace (TIME_SHIFT to host trace 2c75ff89fdaf813c): analysed as a machine of its own; give it beside its host's trace as --guest NAME={guest}",
            r.Stderr.Split('\n').Select(l => l.TrimEnd('\r')));
    }

    [Fact]
    public async Task Analyze_GuestWithoutName_IsAUsageError()
    {
        var r = await CliRun.RunAsync("analyze", "host.dat", "--guest", "guest.dat", "--no-progress");

        Assert.Equal(2, r.ExitCode);
        Assert.StartsWith("vmtrace: --guest expects NAME=GUEST_TRACE (NAME: the VM), got 'guest.dat'", r.Stderr, StringComparison.Ordinal);
    }

    /// <summary>
    /// The hip24 pair: the GUEST option of the host trace maps guest CPU 0 to thread 483882. A guest thread is in guest
    /// mode only while its vCPU is, so the guest threads' in-guest times add up to at most the vCPU's guest time.
    /// (The figures themselves are checked against the text exports in the analysis tests.)
    /// </summary>
    [CorpusFact]
    public async Task Analyze_Hip24Pair_GuestThreadsInGuestAddUpToTheVcpusGuestTime()
    {
        var r = await CliRun.RunAsync("analyze", Corpus.Path(Pair + "host.trace.dat"),
            "--guest", "Salamander4=" + Corpus.Path(Pair + "guest-Salamander4.trace.dat"), "--format", "json", "--no-progress");

        Assert.Equal(0, r.ExitCode);
        using var doc = JsonDocument.Parse(r.Stdout);
        var g = Assert.Single(doc.RootElement.GetProperty("guests").EnumerateArray());
        Assert.Equal("qemu-t483882", g.GetProperty("vm").GetString());
        var vcpu = doc.RootElement.GetProperty("total").GetProperty("vms").EnumerateArray()
            .Single(v => v.GetProperty("vm").GetString() == "qemu-t483882").GetProperty("vcpus").EnumerateArray().Single();
        long vcpuGuest = vcpu.GetProperty("times").GetProperty("guest_ns").GetInt64();
        var threads = g.GetProperty("threads").EnumerateArray().ToList();
        long inGuest = threads.Sum(t => t.GetProperty("in_guest_ns").GetInt64());
        Assert.True(threads.Count > 10);
        Assert.InRange(inGuest, 1, vcpuGuest);
        Assert.All(threads, t => Assert.Equal(t.GetProperty("run_ns").GetInt64(),
            t.GetProperty("in_guest_ns").GetInt64() + t.GetProperty("hypervisor_ns").GetInt64() + t.GetProperty("preempted_ns").GetInt64() + t.GetProperty("unknown_ns").GetInt64()));
    }
}
