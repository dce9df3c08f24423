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
    /// <summary>
    /// Every real trace of the corpus with VMs on it, in each of its formats (trace-cmd, perf's CTF, qemu logs,
    /// Trace Compass XML stub), plus traces without any VM (an LTTng kernel trace, a guest's own trace): those must
    /// go through and give no VM point at all. The other CTF test traces are decoder cases with no scheduler data.
    /// hip24-allkvm counts raw TSC cycles: the agent and the worker are told to take it (<see cref="RawCyclesSettings"/>),
    /// as by default it is refused (<see cref="Replay_RawCyclesTrace_AgentRefusesAndSendsNothing"/>).
    /// </summary>
    public static TheoryData<string, string[]> Traces => new()
    {
        { "samples", ["samples/tcg-3vms/trace.dat.xz"] },
        { "queued-sleep", ["samples/queued-sleep/trace.dat.xz"] },  // blocked_queued_ns through the wire and the worker
        // No vmmap.json: the VMs the agent finds in the trace (identity "guess") are the ones analyze finds.
        { "plain-1vm", ["samples/plain-trace-cmd/1vm/notgid.dat.xz"] },
        { "plain-3vm-tgid", ["samples/plain-trace-cmd/3vm/tgid.dat.xz"] },
        { "s2", ["tcg-qemu/s2-cpu-contention/trace.dat.xz", "tcg-qemu/s2-cpu-contention/qemu-vmA.log", "tcg-qemu/s2-cpu-contention/qemu-vmB.log", "tcg-qemu/s2-cpu-contention/qemu-vmC.log"] },
        { "s2-perf-ctf", ["tcg-qemu/s2-cpu-contention/perf-ctf.tar.xz"] },
        { "s3", ["tcg-qemu/s3-disk-vs-cpu/trace.dat.xz", "tcg-qemu/s3-disk-vs-cpu/qemu-vmD.log.xz", "tcg-qemu/s3-disk-vs-cpu/qemu-vmE.log"] },
        { "s4", ["tcg-qemu/s4-net/trace.dat.xz", "tcg-qemu/s4-net/qemu-vmN.log.xz"] },
        { "hip24", ["hip24-kvm-host-2vms-46s/host.trace.dat"] },
        { "hip24-allkvm", ["hip24-kvm-host-allkvm/host.trace.dat"] },
        { "hip24-pair-host", ["hip24-kvm-host-guest-pair/host.trace.dat"] },
        { "tc-onequemukvm", ["tracecompass-vm-xml-stubs/OneQemuKvm/host.xml"] },
        { "nested-synthetic", ["samples/nested-synthetic/host.xml"] },  // vmtrace_nested (hand-written: no nested KVM was traced)
        { "novm-lttng-many-threads", ["tracecompass-test-traces-ctf/many-threads"] },
        { "novm-hip24-guest", ["hip24-kvm-host-guest-pair/guest-Salamander4.trace.dat"] },
    };

    /// <summary>Traces in raw TSC cycles, which the pipeline takes only when both sides are told to.</summary>
    private static readonly HashSet<string> RawCyclesHosts = ["hip24-allkvm"];

    private static readonly Dictionary<string, string?> RawCyclesSettings = new()
    {
        ["Agent:SendRawCycles"] = "true",
        ["Worker:AcceptRawCycles"] = "true",
    };

    internal static string[] Resolve(string[] inputs) =>
        inputs.Select(i => i.StartsWith("samples/", StringComparison.Ordinal) ? Path.Combine(Corpus.RepoRoot, i) : Corpus.Path(i)).ToArray();

    [InfluxTheory]
    [MemberData(nameof(Traces))]
    public async Task Replay_RealTrace_InfluxHoldsExactlyTheAnalyzePoints(string host, string[] relative)
    {
        var inputs = Resolve(relative);
        var expected = await PipelineHarness.AnalyzeAsync(inputs, host);
        bool hasVms = !host.StartsWith("novm-", StringComparison.Ordinal);
        Assert.Equal(hasVms, expected.Count > 0);

        using var h = new PipelineHarness(influx);
        var overrides = RawCyclesHosts.Contains(host) ? RawCyclesSettings : null;
        var settings = h.Settings();
        foreach (var (key, value) in overrides ?? [])
            settings[key] = value;
        using var worker = PipelineHarnessHosts.Worker(settings);
        await worker.StartAsync();
        await h.ReplayAsync(inputs, host, overrides);
        var counters = worker.Services.GetRequiredService<WorkerService>().Counters;
        var actual = await h.WaitForPointsAsync(expected, TimeSpan.FromMinutes(2), () => counters.SessionsEnded == 1);
        await worker.StopAsync();

        Assert.True(expected.SetEquals(actual), PipelineHarness.Diff(expected, actual));
        Assert.Equal(0, counters.DeadLettered);
        Assert.Equal(1, counters.SessionsEnded);
        Assert.True(counters.EventsIn > 0, "no event reached the worker");
    }

    /// <summary>
    /// A trace in raw TSC cycles (hip24-allkvm: x86-tsc without TSC2NSEC) would put cycles in the *_ns fields: the
    /// agent refuses it before its first record: nothing of it is sent to Kafka.
    /// </summary>
    [InfluxFact]
    public async Task Replay_RawCyclesTrace_AgentRefusesAndSendsNothing()
    {
        var inputs = Resolve(["hip24-kvm-host-allkvm/host.trace.dat"]);
        using var h = new PipelineHarness(influx);
        using var agent = h.Agent(inputs, "hip24-allkvm");
        int exitCode = Environment.ExitCode;
        try
        {
            await agent.StartAsync();
            var service = agent.Services.GetRequiredService<Vmtrace.Agent.AgentService>();
            var refusal = await Assert.ThrowsAsync<Vmtrace.Agent.RawCyclesInputException>(() => service.Completion.WaitAsync(TimeSpan.FromMinutes(3)));
            await agent.StopAsync();
            Assert.StartsWith(inputs[0] + ": clock 'x86-tsc (raw cycles, no TSC2NSEC)' counts raw TSC cycles", refusal.Message, StringComparison.Ordinal);
            Assert.Equal(1, Environment.ExitCode); // what `vmtrace agent` would exit with
            Assert.Equal((0L, 0L, 0L), (service.Counters.Inventories, service.Counters.Batches, service.Counters.EventsRead));
        }
        finally
        {
            // The refusal sets the process's exit code, as the agent process must; this test process is not the agent.
            Environment.ExitCode = exitCode;
        }
    }
}
