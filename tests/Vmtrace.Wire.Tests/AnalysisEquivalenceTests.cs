using System.Text.Json;
using Vmtrace.Analysis;
using Vmtrace.Decoding;
using Vmtrace.TestSupport;

namespace Vmtrace.Wire.Tests;

/// <summary>
/// The worker's results equal <c>vmtrace analyze</c>'s: the analysis fed from wire records (inventory, event
/// batches, heartbeats) produces exactly the windows it produces fed from the trace itself.
/// </summary>
public sealed class AnalysisEquivalenceTests
{
    [CorpusTheory]
    [InlineData("tcg-qemu/s3-disk-vs-cpu/trace.dat.xz", "tcg-qemu/s3-disk-vs-cpu/vmmap.json")]
    [InlineData("tcg-qemu/s2-cpu-contention/trace.dat.xz", "tcg-qemu/s2-cpu-contention/vmmap.json")]
    [InlineData("tcg-qemu/s4-net/trace.dat.xz", "tcg-qemu/s4-net/vmmap.json")]
    [InlineData("hip24-kvm-host-2vms-46s/host.trace.dat", null)]
    [InlineData("hip24-kvm-host-guest-pair/host.trace.dat", null)]
    [InlineData("hip24-kvm-host-allkvm/host.trace.dat", null)]
    public void Analyze_ThroughTheWire_SameWindowsAsDirect(string trace, string? vmmap)
    {
        var inventory = vmmap is null ? [] : VmMapJson.Parse(File.ReadAllText(Corpus.Path(vmmap)));
        string direct = Direct(Corpus.Path(trace), inventory, out int windows);
        string viaWire = ThroughWire(Corpus.Path(trace), inventory, out long batches);
        Assert.True(windows > 0, $"{trace}: no window");
        Assert.True(batches > 1, $"{trace}: one batch only, the test would not cross batch boundaries");
        Assert.Equal(direct, viaWire);
    }

    /// <summary>
    /// The research's addons_vcpu_enter_guest (CR3) and the guest RIPs reach the worker: the hand-built trace (no real one has
    /// the CR3 tracepoint) gives the same windows, guest modes and address spaces included, through the wire.
    /// </summary>
    [Fact]
    public void Analyze_Cr3TraceThroughTheWire_SameGuestModesAndSpacesAsDirect()
    {
        var dir = Directory.CreateTempSubdirectory("vmtrace-cr3-wire-");
        try
        {
            string trace = GuestSpaceTrace.WriteTo(dir.FullName);
            string direct = Direct(trace, [], out int windows);
            string viaWire = ThroughWire(trace, [], out _);
            Assert.True(windows > 0);
            Assert.Contains("\"0x3000\"", direct, StringComparison.Ordinal);
            Assert.Contains("\"CrossedRuns\": 2", direct, StringComparison.Ordinal);
            Assert.Equal(direct, viaWire);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    private static string Direct(string path, IReadOnlyList<VmInventory> inventory, out int windowCount)
    {
        using var source = TraceOpener.Open(path);
        var analysis = new HostAnalysis();
        analysis.AddThreadNames(source.InitialThreadNames);
        foreach (var vm in inventory)
            analysis.AddInventory(vm);
        var windows = new List<WindowMetrics>();
        long last = long.MinValue;
        while (source.MoveNext())
        {
            var e = source.Current;
            last = Math.Max(last, e.Timestamp);
            analysis.OnEvent(e);
            windows.AddRange(analysis.TakeClosedWindows());
        }
        analysis.Flush(last);
        windows.AddRange(analysis.TakeClosedWindows());
        windowCount = windows.Count;
        return Text(windows, analysis);
    }

    /// <summary>Agent: inventory record, then batches each followed by a heartbeat. Worker: replays them in order.</summary>
    private static string ThroughWire(string path, IReadOnlyList<VmInventory> inventory, out long batches)
    {
        var records = new List<byte[]>();
        using (var source = TraceOpener.Open(path))
        {
            var host = new HostRecordWriter("host-under-test", "run-1");
            records.Add(host.Inventory(new WireInventory(inventory.Select(InventoryMapping.ToWire).ToList(),
                source.InitialThreadNames.Select(kv => new WireThreadName(kv.Key, kv.Value)).ToList())));
            var writer = new EventBatchWriter(host, new EventBatchWriterOptions { MaxEvents = 7_000 }) { Clock = source.Clock, CpuCount = source.CpuCount };
            long last = long.MinValue;
            while (source.MoveNext())
            {
                var e = source.Current;
                last = Math.Max(last, e.Timestamp);
                writer.Append(e);
                if (writer.IsFull)
                {
                    records.Add(writer.Flush());
                    records.Add(host.Heartbeat(last));
                }
            }
            if (writer.EventCount > 0)
                records.Add(writer.Flush());
        }

        var analysis = new HostAnalysis();
        var reader = new EventBatchReader();
        var windows = new List<WindowMetrics>();
        long lastSeen = long.MinValue;
        ulong expected = 0;
        batches = 0;
        foreach (var bytes in records)
        {
            var record = HostRecord.Read(bytes);
            Assert.Equal(expected++, record.Sequence);
            switch (record.Kind)
            {
                case HostRecordKind.Inventory:
                    var inv = record.ReadInventory();
                    analysis.AddThreadNames(inv.ThreadNames.ToDictionary(n => n.Tid, n => n.Comm));
                    foreach (var vm in inv.Vms)
                        analysis.AddInventory(InventoryMapping.ToAnalysis(vm));
                    break;
                case HostRecordKind.EventBatch:
                    batches++;
                    reader.Load(record);
                    while (reader.MoveNext())
                    {
                        var e = reader.Current;
                        lastSeen = Math.Max(lastSeen, e.Timestamp);
                        analysis.OnEvent(e);
                        windows.AddRange(analysis.TakeClosedWindows());
                    }
                    break;
                case HostRecordKind.Heartbeat:
                    analysis.AdvanceWatermark(record.ReadWatermark());
                    windows.AddRange(analysis.TakeClosedWindows());
                    break;
            }
        }
        analysis.Flush(lastSeen);
        windows.AddRange(analysis.TakeClosedWindows());
        return Text(windows, analysis);
    }

    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true, Converters = { new LatencyHistogramJsonConverter() } };

    private static string Text(List<WindowMetrics> windows, HostAnalysis analysis) =>
        JsonSerializer.Serialize(windows, JsonOptions) + "\n" + JsonSerializer.Serialize(analysis.Counters, JsonOptions);
}
