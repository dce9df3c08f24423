using Vmtrace.Agent;
using Vmtrace.Analysis;
using Vmtrace.Decoding;
using Vmtrace.TestSupport;
using Vmtrace.Wire;

namespace Vmtrace.Worker.Tests;

/// <summary>
/// A session whose event times are raw TSC cycles, as an agent that does not refuse such a trace would send it:
/// the worker dead-letters every event batch with the reason and writes no point, so no cycles are ever stored in
/// a <c>*_ns</c> field. The records are those the agent pipeline makes of the real raw-cycles trace hip24-allkvm.
/// </summary>
public class RawCyclesSessionTests
{
    private const string Trace = "hip24-kvm-host-allkvm/host.trace.dat";

    private sealed class ListSink : IRecordSink
    {
        public List<(byte[] Value, bool SessionEnd)> Records { get; } = [];

        public void Send(string key, byte[] value, bool sessionEnd, CancellationToken cancellationToken) => Records.Add((value, sessionEnd));

        public void Flush(TimeSpan timeout)
        {
        }
    }

    /// <summary>A replay source without the agent's raw-cycles refusal: what an older or foreign agent sends.</summary>
    private sealed class UncheckedReplaySource(string path) : IAgentSource
    {
        public string HostId => "allkvm";

        public string Description => path;

        public bool IsLive => false;

        public EventSource Open() => TraceOpener.Open(path);

        public WireInventory Inventory(EventSource opened)
        {
            using var pass = TraceOpener.Open(path);
            var vms = IdentityInference.Of(pass).Select(v => new WireVm(v.Name, v.Pid, "", v.TapDevices.ToList(),
                v.Threads.Select(t => new WireVmThread(t.Tid, t.Comm, t.VcpuIndex)).ToList(), v.Identity, v.Evidence)).ToList();
            return new WireInventory(vms, []);
        }
    }

    [CorpusFact]
    public void CyclesSession_BatchesDeadLetteredWithReason_NoPoint()
    {
        var sink = new ListSink();
        // Small batches: the session spans several of them, each refused on its own.
        new AgentPipeline(new UncheckedReplaySource(Corpus.Path(Trace)), sink, new AgentOptions { BatchMaxEvents = 1000 }).Run(CancellationToken.None);
        var processor = new RecordProcessor(new WorkerOptions { Window = TimeSpan.FromSeconds(1) });
        var state = new PartitionState(0);
        var points = new List<string>();
        int batches = 0;
        foreach (var (value, sessionEnd) in sink.Records)
        {
            var outcome = processor.Process(state, value, sessionEnd, points);
            if (HostRecord.Read(value).Kind == HostRecordKind.EventBatch)
            {
                batches++;
                Assert.False(outcome.Used, "an event batch in raw cycles was analysed");
                Assert.Contains("event batch in raw TSC cycles (host allkvm", outcome.Reason, StringComparison.Ordinal);
            }
            else
            {
                Assert.True(outcome.Used, outcome.Reason);
            }
        }

        // 7 792 events in batches of at most 1 000 (SOURCES.md): at least 8 batches, all refused.
        Assert.True(batches >= 8, $"{batches} batch(es)");
        // The agent's own health record is the only point: no window, no analysis health, nothing in ns fields.
        Assert.All(points, p => Assert.StartsWith("pipeline_health,component=agent,", p, StringComparison.Ordinal));
        Assert.Equal(0, processor.Counters.EventsIn);
        Assert.Equal(0, processor.Counters.WindowsClosed);
        Assert.Equal(1, processor.Counters.SessionsEnded);
    }
}
