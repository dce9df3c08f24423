using Vmtrace.Analysis;

namespace Vmtrace.Worker.Tests;

/// <summary>The agent's health point, as the worker writes it from an agent health record, follows the metric table.</summary>
public class HealthPointSchemaTests
{
    [Fact]
    public void AgentHealthPoint_FieldsAreTheMetricTablesAgentHealthGroup_InOrder()
    {
        var w = new WorkerParts();
        w.Consumer.Record(0, 0, WorkerParts.AgentHealth(1_765_000_000_000_000_000));
        var points = new List<string>();

        var outcome = w.Processor.Process(w.Assign(0), WorkerParts.AgentHealth(1_765_000_000_000_000_000), sessionEnd: false, points);

        Assert.Equal(RecordOutcome.Ok, outcome);
        string point = Assert.Single(points);
        Assert.StartsWith("pipeline_health,component=agent,host=host-a ", point, StringComparison.Ordinal);
        // "measurement,tags f1=..,f2=.. TIME": the field set between the two spaces.
        var written = point.Split(' ')[1].Split(',').Select(f => f[..f.IndexOf('=', StringComparison.Ordinal)]);
        Assert.Equal(MetricSchema.LineProtocol.AgentHealth.Fields.Select(f => f.Name), written);
    }
}
