using System.Diagnostics;
using System.Text;
using Confluent.Kafka;
using Vmtrace.Kafka;
using Vmtrace.Kafka.Mock;
using Vmtrace.Wire;

namespace Vmtrace.Agent.Live.Tests.Agent;

/// <summary>
/// <c>vmtrace agent --live</c> as a real process on this machine, producing to librdkafka's mock cluster: events
/// of its own ftrace instance reach the topic, heartbeats keep coming (beyond the last event) while nothing
/// happens, and SIGTERM ends it with exit code 0 after the buffers were drained and sent and the instance removed.
/// </summary>
public sealed class LiveAgentProcessTests : IDisposable
{
    private readonly string _state = Directory.CreateTempSubdirectory("vmtrace-live-agent-").FullName;

    public void Dispose() => Directory.Delete(_state, recursive: true);

    /// <summary>One consumed record.</summary>
    private sealed record Seen(HostRecord Record, bool SessionEnd, List<(long Ts, int Tid)> Markers, long MaxEventTs);

    /// <summary>Writes <paramref name="count"/> lines into trace_marker from a thread of its own; returns that thread's tid.</summary>
    private static int WriteFromNewThread(string marker, int count)
    {
        int tid = 0;
        var thread = new Thread(() =>
        {
            // "/proc/thread-self" → "PID/task/TID"
            tid = int.Parse(Directory.ResolveLinkTarget("/proc/thread-self", returnFinalTarget: false)!.Name, System.Globalization.CultureInfo.InvariantCulture);
            for (int i = 0; i < count; i++)
                File.AppendAllText(marker, $"vmtrace-test {i}");
        });
        thread.Start();
        thread.Join();
        return tid;
    }

    private static int EventCount(HostRecord batch)
    {
        var reader = new EventBatchReader();
        reader.Load(batch);
        return reader.EventCount;
    }

    [LiveHostFact]
    public void AgentLive_QuietHostThenSigterm_EventsAndIdleHeartbeatsArrive_ExitsCleanlyFlushedInstanceRemoved()
    {
        using var cluster = new MockKafkaCluster();
        cluster.CreateVmtraceTopics(1);
        string name = "vmtrace-test-agent-" + Environment.ProcessId;
        string instance = Path.Combine("/sys/kernel/tracing/instances", name);
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "vmtrace.dll"));
        foreach (string arg in new[]
        {
            "agent", "--live",
            "--Kafka:BootstrapServers=" + cluster.BootstrapServers,
            "--Agent:HostId=live-test",
            "--Agent:HeartbeatInterval=00:00:00.200",
            "--Agent:HealthInterval=00:00:01",
            "--Live:QemuLogs=false",
            "--Live:StateDirectory=" + _state,
            "--Live:TracefsSettings:InstanceName=" + name,
            "--Live:TracefsSettings:BufferSizeKb=256",
            // A tracepoint that does not fire while the test runs (OOM kills only): the instance then holds only
            // the test's trace_marker lines, and the host is quiet for the agent even while other builds run.
            "--Live:TracefsSettings:Events:0=oom:mark_victim",
        })
        {
            psi.ArgumentList.Add(arg);
        }
        psi.Environment.Remove("KAFKA_BOOTSTRAP_SERVERS");
        psi.Environment["Logging__LogLevel__Default"] = "Information";
        var output = new StringBuilder();
        using var agent = Process.Start(psi)!;
        agent.OutputDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        agent.ErrorDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        agent.BeginOutputReadLine();
        agent.BeginErrorReadLine();
        string Output() { lock (output) return output.ToString(); }
        try
        {
            using var consumer = new ConsumerBuilder<string, byte[]>(new ConsumerConfig
            {
                BootstrapServers = cluster.BootstrapServers,
                GroupId = "live-agent-test",
                AutoOffsetReset = AutoOffsetReset.Earliest,
            }).Build();
            consumer.Subscribe(KafkaTopics.Events);
            var seen = new List<Seen>();
            var reader = new EventBatchReader();
            bool ConsumeUntil(Func<bool> done, TimeSpan timeout)
            {
                var sw = Stopwatch.StartNew();
                while (!done())
                {
                    if (sw.Elapsed > timeout)
                        return false;
                    var cr = consumer.Consume(TimeSpan.FromMilliseconds(200));
                    if (cr is null)
                        continue;
                    Assert.Equal("live-test", cr.Message.Key);
                    var record = HostRecord.Read(cr.Message.Value);
                    var markers = new List<(long, int)>();
                    long maxTs = long.MinValue;
                    if (record.Kind == HostRecordKind.EventBatch)
                    {
                        reader.Load(record);
                        while (reader.MoveNext())
                        {
                            var e = reader.Current;
                            maxTs = Math.Max(maxTs, e.Timestamp);
                            if (e.Type.Name == "print")
                                markers.Add((e.Timestamp, e.Tid)); // the wire keeps no text of a print: its writer's tid tells them apart
                        }
                    }
                    bool end = cr.Message.Headers?.TryGetLastBytes(KafkaHeaders.SessionEnd, out _) == true;
                    seen.Add(new Seen(record, end, markers, maxTs));
                }
                return true;
            }

            // The instance appears before tracing is switched on (and resizing its buffer clears it): probe lines
            // are written until one comes back through Kafka; from then on every line written is traced.
            string marker = Path.Combine(instance, "trace_marker");
            var start = Stopwatch.StartNew();
            while (!seen.Any(s => s.Markers.Count > 0))
            {
                Assert.False(agent.HasExited, "the agent stopped:\n" + Output());
                Assert.True(start.Elapsed < TimeSpan.FromSeconds(90), "no trace_marker line came back through Kafka:\n" + Output());
                try
                {
                    File.AppendAllText(marker, "vmtrace-test probe");
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    // not made yet, or tracing still off (the kernel answers EBADF)
                }
                ConsumeUntil(() => seen.Any(s => s.Markers.Count > 0), TimeSpan.FromMilliseconds(300));
            }
            int firstTid = WriteFromNewThread(marker, 5);
            int Markers(int tid) => seen.Sum(s => s.Markers.Count(m => m.Tid == tid));
            Assert.True(ConsumeUntil(() => Markers(firstTid) == 5, TimeSpan.FromSeconds(60)),
                $"the first markers did not arrive (got {Markers(firstTid)}):\n" + Output());

            // Quiet host: heartbeats go on, their watermark beyond every event sent before them (the source's
            // watermark, not the last event's), so a worker closes windows without new events.
            int IdleHeartbeats()
            {
                long sentMax = long.MinValue, lastMark = long.MinValue;
                int idle = 0;
                foreach (var s in seen)
                {
                    sentMax = Math.Max(sentMax, s.MaxEventTs);
                    if (s.Record.Kind == HostRecordKind.Heartbeat && !s.SessionEnd)
                    {
                        long w = s.Record.ReadWatermark();
                        Assert.True(w > lastMark, "heartbeat watermarks only grow");
                        lastMark = w;
                        if (w > sentMax && sentMax != long.MinValue)
                            idle++;
                    }
                }
                return idle;
            }
            Assert.True(ConsumeUntil(() => IdleHeartbeats() >= 3, TimeSpan.FromSeconds(30)), "no heartbeats while the host was quiet:\n" + Output());

            // Lines written just before SIGTERM are still in the ring buffer: the stop drains and sends them.
            int lastTid = WriteFromNewThread(marker, 3);
            using (var kill = Process.Start("kill", ["-TERM", agent.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
                kill.WaitForExit();
            Assert.True(agent.WaitForExit(TimeSpan.FromSeconds(90)), "the agent did not stop on SIGTERM:\n" + Output());
            agent.WaitForExit(); // the output readers are done
            Assert.True(agent.ExitCode == 0, $"exit code {agent.ExitCode}:\n" + Output());
            Assert.False(Directory.Exists(instance), $"{instance} left behind");

            Assert.True(ConsumeUntil(() => seen.Any(s => s.SessionEnd), TimeSpan.FromSeconds(30)), "no session end record:\n" + Output());
            consumer.Close();
            var last = seen[^1];
            Assert.True(last.SessionEnd, "the session end is the last record");
            Assert.Equal(3, Markers(lastTid));
            Assert.Equal(5, Markers(firstTid));
            long lastMarkerTs = seen.SelectMany(s => s.Markers).Max(m => m.Ts);
            Assert.True(last.Record.ReadWatermark() >= lastMarkerTs, "the session ends at or after its last event");
            Assert.Equal(HostRecordKind.Inventory, seen[0].Record.Kind);
            Assert.Equal(Enumerable.Range(0, seen.Count).Select(i => (ulong)i), seen.Select(s => s.Record.Sequence));
            Assert.Single(seen.Select(s => s.Record.SessionId).Distinct());
            // The health counters (logged as for a replay) count what reached the topic.
            long consumed = seen.Where(s => s.Record.Kind == HostRecordKind.EventBatch).Sum(s => (long)EventCount(s.Record));
            var health = System.Text.RegularExpressions.Regex.Matches(Output(), @"agent health: read=(\d+) sent=(\d+)");
            Assert.True(health.Count >= 2, "health lines are logged periodically and at the stop:\n" + Output());
            Assert.Equal($"read={consumed} sent={consumed}", $"read={health[^1].Groups[1].Value} sent={health[^1].Groups[2].Value}");
            Assert.Contains($"Live agent stopped: {consumed} events", Output(), StringComparison.Ordinal);
        }
        finally
        {
            // A failed run must not leave an agent or its ftrace instance behind: SIGTERM first, SIGKILL if that fails.
            if (!agent.HasExited)
            {
                using (var kill = Process.Start("kill", ["-TERM", agent.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
                    kill.WaitForExit();
                if (!agent.WaitForExit(TimeSpan.FromSeconds(30)))
                    agent.Kill(entireProcessTree: true);
            }
            if (Directory.Exists(instance))
                Directory.Delete(instance); // rmdir removes an ftrace instance
        }
    }
}
