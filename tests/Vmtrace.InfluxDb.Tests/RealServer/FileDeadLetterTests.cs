using Vmtrace.TestSupport;

namespace Vmtrace.InfluxDb.Tests.RealServer;

/// <summary>Points a real influxd rejects go to the dead-letter file, survive the process (a new sink reads them back) and are not counted as written.</summary>
public sealed class FileDeadLetterTests(InfluxServer server) : IClassFixture<InfluxServer>, IDisposable
{
    private const long T0 = 1_700_000_000_000_000_000;
    private readonly string _directory = Directory.CreateTempSubdirectory("vmtrace-dl-test-").FullName;

    [InfluxFact]
    public async Task WriteAsync_FieldTypeConflict_RejectedLinesInTheFileNotCountedAsWritten()
    {
        using var client = await RealInflux.NewDatabaseAsync(server, deadLetters: new FileDeadLetterSink(_directory, 1 << 20));
        await client.WriteAsync([$"m,vm=a v=1i {T0}"]);
        string[] lines = [$"m,vm=a v=2i {T0 + 1}", $"m,vm=b v=\"text\" {T0 + 2}", $"m,vm=c v=\"more\" {T0 + 3}", $"m,vm=d v=3i {T0 + 4}"];

        var result = await client.WriteAsync(lines);

        Assert.Equal(new InfluxWriteResult(2, 2, 0), result);
        Assert.Equal(3, client.Counters.Snapshot().PointsWritten);
        // Read back by a new sink on the same directory, as a restarted worker would find them.
        var kept = new FileDeadLetterSink(_directory, 1 << 20).ReadAll();
        Assert.Equal([lines[1], lines[2]], kept.Select(l => l.Line).Order(StringComparer.Ordinal).ToArray());
        Assert.All(kept, l => Assert.Contains("field type conflict", l.Reason, StringComparison.Ordinal));
    }

    [Fact]
    public async Task WriteAsync_PastTheBound_RotatesAndKeepsAtMostTwiceTheBoundNewestLast()
    {
        var sink = new FileDeadLetterSink(_directory, 4096);
        for (int i = 0; i < 200; i++)
            await sink.WriteAsync([new DeadLetter($"m,vm=v{i} x=\"{new string('y', 40)}\" {i}", "test")], CancellationToken.None);

        long total = Directory.GetFiles(_directory).Sum(f => new FileInfo(f).Length);
        Assert.InRange(total, 4096, 2 * 4096);
        var kept = sink.ReadAll();
        Assert.StartsWith("m,vm=v199 ", kept[^1].Line, StringComparison.Ordinal);
        Assert.True(kept.Count < 200);
        Assert.Equal(Enumerable.Range(200 - kept.Count, kept.Count).Select(i => $"m,vm=v{i} "), kept.Select(l => l.Line[..(l.Line.IndexOf(' ', StringComparison.Ordinal) + 1)]));
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
