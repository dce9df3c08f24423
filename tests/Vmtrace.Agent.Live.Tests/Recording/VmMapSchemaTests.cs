using System.Text.Json;
using Json.Schema;
using Vmtrace.Agent.Live.Recording;
using Vmtrace.Analysis;
using Vmtrace.TestSupport;

namespace Vmtrace.Agent.Live.Tests.Recording;

/// <summary>
/// docs/vmmap.schema.json against both sides: what <c>vmtrace record</c> writes (and the repo's recorded
/// vmmap.json files) passes it, and what <see cref="VmMapJson"/> refuses, the schema refuses too.
/// </summary>
public sealed class VmMapSchemaTests
{
    private static readonly JsonSchema Schema = JsonSchema.FromText(File.ReadAllText(Path.Combine(Corpus.RepoRoot, "docs", "vmmap.schema.json")));

    private static bool Valid(string json)
    {
        using var doc = JsonDocument.Parse(json);
        return Schema.Evaluate(doc.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List }).IsValid;
    }

    private static string Recorded(int vcpus)
    {
        var threads = new List<RecordedThread> { new(10, "qemu-system-x86", "main", -1) };
        for (int i = 0; i < vcpus; i++)
            threads.Add(new RecordedThread(11 + i, $"CPU {i}/KVM", "vcpu", i));
        var map = new VmMap
        {
            Host = "h",
            Kernel = "6.1",
            Cpus = 2,
            StartRealtimeNs = 1,
            Clock = new RecordedClock("tai", 0, OffsetStoredInTrace: true),
            Events = ["sched:sched_switch"],
            BufferSizeKb = 8192,
            Vms = [new RecordedVm { Name = "web", Pid = 10, Threads = threads, Taps = ["tap0"], SeenAtStart = true, QemuLog = "qemu-web.log", QemuLogSource = "/var/log/web.log" }],
        };
        return map.ToJson();
    }

    [Fact]
    public void RecorderOutput_PassesSchema()
    {
        Assert.True(Valid(Recorded(2)));
        Assert.True(Valid(Recorded(0)));
    }

    public static TheoryData<string> RepoMaps()
    {
        var data = new TheoryData<string>();
        foreach (var f in Directory.EnumerateFiles(Path.Combine(Corpus.RepoRoot, "samples"), "vmmap.json", SearchOption.AllDirectories))
            data.Add(Path.GetRelativePath(Corpus.RepoRoot, f));
        return data;
    }

    /// <summary>Every vmmap.json under samples/ (the tcg-lab harness's and vmtrace record's) passes, and VmMapJson reads it.</summary>
    [Theory]
    [MemberData(nameof(RepoMaps))]
    public void SampleMaps_PassSchemaAndParse(string relative)
    {
        string json = File.ReadAllText(Path.Combine(Corpus.RepoRoot, relative));
        Assert.True(Valid(json), relative);
        Assert.NotEmpty(VmMapJson.Parse(json));
    }

    [Theory]
    [InlineData("""{"vm": []}""")]
    [InlineData("""{"vms": {}}""")]
    [InlineData("""{"vms": [{"name": "web"}]}""")]
    [InlineData("""{"vms": [{"name": "web", "pid": 0}]}""")]
    [InlineData("""{"vms": [{"name": "web", "pid": "12"}]}""")]
    public void MapsVmMapJsonRefuses_SchemaRefusesToo(string json)
    {
        Assert.Throws<FormatException>(() => VmMapJson.Parse(json));
        Assert.False(Valid(json));
    }

    [Fact]
    public void MinimalMap_PassesAndParses()
    {
        const string json = """{"vms": [{"pid": 7, "threads": [{"tid": 8, "comm": "CPU 0/KVM"}]}]}""";
        Assert.True(Valid(json));
        Assert.Equal("qemu-7", Assert.Single(VmMapJson.Parse(json)).Name);
    }

    [Theory]
    [InlineData("clock")]
    [InlineData("trace")]
    [InlineData("end_realtime_ns")]
    public void RecorderMapMissingAField_Refused(string field)
    {
        var node = System.Text.Json.Nodes.JsonNode.Parse(Recorded(1))!.AsObject();
        Assert.True(node.Remove(field));
        Assert.False(Valid(node.ToJsonString()));
    }

    [Fact]
    public void RecorderMapWithUnknownRole_Refused()
    {
        string json = Recorded(1).Replace("\"role\": \"vcpu\"", "\"role\": \"cpu\"", StringComparison.Ordinal);
        Assert.NotEqual(Recorded(1), json);
        Assert.False(Valid(json));
    }
}
