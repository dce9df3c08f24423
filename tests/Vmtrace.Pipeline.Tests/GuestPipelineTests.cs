using Microsoft.Extensions.DependencyInjection;
using Vmtrace.TestSupport;
using Vmtrace.Worker;

namespace Vmtrace.Pipeline.Tests;

/// <summary>
/// A host trace and a guest trace recorded inside one of its VMs, streamed together by the agent (<c>Agent:Guests</c>)
/// → Kafka (mock cluster over TCP) → worker → real influxd: InfluxDB holds exactly the points of
/// <c>vmtrace analyze HOST --guest NAME=GUEST --format line-protocol</c>, the host's windows and the guest threads'.
/// </summary>
public sealed class GuestPipelineTests(InfluxServer influx) : IClassFixture<InfluxServer>
{
    /// <summary>Trace Compass's stub pair (host preemption of the guest's thread 130) and the real hip24 trace-cmd host+guest recording.</summary>
    public static TheoryData<string, string, string, string> Pairs => new()
    {
        { "tc-onequemukvm-guest", "tracecompass-vm-xml-stubs/OneQemuKvm/host.xml", "qemu-t31", "tracecompass-vm-xml-stubs/OneQemuKvm/guest.xml" },
        { "hip24-pair-guest", "hip24-kvm-host-guest-pair/host.trace.dat", "Salamander4", "hip24-kvm-host-guest-pair/guest-Salamander4.trace.dat" },
    };

    [InfluxTheory]
    [MemberData(nameof(Pairs))]
    public async Task Replay_HostWithGuest_InfluxHoldsExactlyTheAnalyzeGuestPoints(string host, string hostTrace, string guestName, string guestTrace)
    {
        string hostPath = Corpus.Path(hostTrace), guestPath = Corpus.Path(guestTrace);
        var expected = await AnalyzeAsync(hostPath, guestName, guestPath, host);
        var guestPoints = expected.Where(p => p.StartsWith("vmtrace_guest_thread|", StringComparison.Ordinal)).ToList();
        Assert.True(guestPoints.Count > 0, "analyze --guest wrote no guest thread point");
        Assert.True(expected.Count > guestPoints.Count, "analyze --guest wrote no host point");

        using var h = new PipelineHarness(influx);
        using var worker = h.Worker();
        await worker.StartAsync();
        await h.ReplayAsync([hostPath], host, new Dictionary<string, string?> { [$"Agent:Guests:{guestName}"] = guestPath });
        var counters = worker.Services.GetRequiredService<WorkerService>().Counters;
        var actual = await h.WaitForPointsAsync(expected, TimeSpan.FromMinutes(2), () => counters.SessionsEnded == 1);
        await worker.StopAsync();

        Assert.True(expected.SetEquals(actual), PipelineHarness.Diff(expected, actual));
        Assert.Equal(0, counters.DeadLettered);
        Assert.Equal(1, counters.SessionsEnded);
    }

    /// <summary>What <c>vmtrace analyze HOST --guest NAME=GUEST --format line-protocol</c> prints.</summary>
    private static async Task<SortedSet<string>> AnalyzeAsync(string hostTrace, string guestName, string guestTrace, string host)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int rc = await Vmtrace.Cli.CommandLine.RunAsync(
            ["analyze", hostTrace, "--guest", $"{guestName}={guestTrace}", "--format", "line-protocol", "--host", host, "--no-progress"], stdout, stderr);
        Assert.True(rc == 0, $"vmtrace analyze exited {rc}: {stderr}");
        return PointSet.FromLineProtocol(stdout.ToString());
    }
}
