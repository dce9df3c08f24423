using Microsoft.Extensions.DependencyInjection;
using Vmtrace.TestSupport;
using Vmtrace.Worker;

namespace Vmtrace.Pipeline.Tests;

/// <summary>
/// Agent → Kafka (mock cluster over TCP) → worker → real influxd, in-process: the points queried back with
/// InfluxQL are exactly those <c>vmtrace analyze --format line-protocol</c> prints for the same trace.
/// </summary>
public sealed class InProcessPipelineTests(InfluxServer influx) : IClassFixture<InfluxServer>
{
    public static TheoryData<string, string[]> Traces => new()
    {
        { "samples", ["samples/tcg-3vms/trace.dat.xz"] },
        { "s3", ["tcg-qemu/s3-disk-vs-cpu/trace.dat.xz", "tcg-qemu/s3-disk-vs-cpu/qemu-vmD.log.xz", "tcg-qemu/s3-disk-vs-cpu/qemu-vmE.log"] },
        { "hip24", ["hip24-kvm-host-2vms-46s/host.trace.dat"] },
    };

    internal static string[] Resolve(string[] inputs) =>
        inputs.Select(i => i.StartsWith("samples/", StringComparison.Ordinal) ? Path.Combine(Corpus.RepoRoot, i) : Corpus.Path(i)).ToArray();

    [InfluxTheory]
    [MemberData(nameof(Traces))]
    public async Task Replay_RealTrace_InfluxHoldsExactlyTheAnalyzePoints(string host, string[] relative)
    {
        var inputs = Resolve(relative);
        var expected = await PipelineHarness.AnalyzeAsync(inputs, host);
        Assert.NotEmpty(expected);

        using var h = new PipelineHarness(influx);
        using var worker = h.Worker();
        await worker.StartAsync();
        await h.ReplayAsync(inputs, host);
        var counters = worker.Services.GetRequiredService<WorkerService>().Counters;
        var actual = await h.WaitForPointsAsync(expected, TimeSpan.FromMinutes(2), () => counters.SessionsEnded == 1);
        await worker.StopAsync();

        Assert.True(expected.SetEquals(actual), PipelineHarness.Diff(expected, actual));
        Assert.Equal(0, counters.DeadLettered);
        Assert.Equal(1, counters.SessionsEnded);
    }
}
