using Vmtrace.Agent.Live.Lttng;
using Vmtrace.Decoding.Ctf;
using Vmtrace.TestSupport;

namespace Vmtrace.Agent.Live.Tests.Lttng;

/// <summary>
/// An LTTng session with rotation, as its output directory looks: chunks archived one after the other under
/// archives/BEGIN-END-INDEX/kernel (this machine has no LTTng kernel tracer: the test lays chunks out itself,
/// each a copy of a real CTF trace of the corpus, made in a temporary directory).
/// </summary>
public sealed class LttngChunkFollowerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("vmtrace-lttng-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Session => Path.Combine(_dir, "session");
    private string State => Path.Combine(_dir, "state");

    private void Archive(string name, string corpusTrace)
    {
        string target = Path.Combine(Session, "archives", name, "kernel");
        Directory.CreateDirectory(target);
        foreach (var f in Directory.EnumerateFiles(Corpus.Path(corpusTrace)))
            File.Copy(f, Path.Combine(target, Path.GetFileName(f)));
    }

    private static long Count(string trace)
    {
        using var s = CtfTraceSource.Open(Corpus.Path(trace));
        long n = 0;
        while (s.MoveNext())
            n++;
        return n;
    }

    private static long Drain(LttngChunkFollower f)
    {
        long n = 0;
        while (f.TryMoveNext(TimeSpan.Zero) == LiveReadResult.Event)
            n++;
        return n;
    }

    [CorpusFact]
    public void TryMoveNext_ChunksArchivedOverTime_DeliversEachOnceInOrderAcrossRestarts()
    {
        const string a = "tracecompass-test-traces-ctf/flipping-endianness";
        const string b = "tracecompass-test-traces-ctf/bug446190";
        Assert.True(Count(a) > 0 && Count(b) > 0);
        Directory.CreateDirectory(Session);
        // A chunk directory that is not an archive name (LTTng's current chunk lives elsewhere) is ignored.
        Directory.CreateDirectory(Path.Combine(Session, "archives", "not-a-chunk"));
        Archive("20260101T000010+0000-20260101T000020+0000-1", b);
        Archive("20260101T000000+0000-20260101T000010+0000-0", a);
        using (var f = new LttngChunkFollower(Session, State, TimeSpan.FromMilliseconds(1)))
        {
            Assert.Equal(Count(a) + Count(b), Drain(f));
            Assert.Equal(1, f.LastDeliveredChunk);
            Assert.Equal(2, f.ChunksDelivered);
            Assert.Equal(DateTimeOffset.Parse("2026-01-01T00:00:20Z").ToUnixTimeMilliseconds() * 1_000_000L, f.Watermark);
        }
        // Restarted: the chunks already delivered are not read again; the next archived one is.
        Archive("20260101T000020+0000-20260101T000030+0000-2", a);
        using (var f = new LttngChunkFollower(Session, State, TimeSpan.FromMilliseconds(1)))
        {
            Assert.Equal(Count(a), Drain(f));
            Assert.Equal(2, f.LastDeliveredChunk);
            f.RequestStop();
            Assert.Equal(LiveReadResult.End, f.TryMoveNext(TimeSpan.Zero));
            Assert.True(f.Diagnostics.ErrorCount == 0, string.Join("; ", f.Diagnostics.Errors.Select(e => e.Message)));
        }
    }

    [Theory]
    [InlineData("20191218T163424-0500-20191218T163434-0500-3", 3L)]
    [InlineData("20191218T163424+0100-20191218T163434+0100-12", 12L)]
    public void TryParse_ArchiveName_ReadsIndexAndTimes(string name, long index)
    {
        var c = LttngChunk.TryParse("/x/archives/" + name);
        Assert.NotNull(c);
        Assert.Equal(index, c.Index);
        Assert.Equal(TimeSpan.FromSeconds(10), c.End - c.Begin);
    }

    [Fact]
    public void TryParse_OtherName_IsNull() => Assert.Null(LttngChunk.TryParse("/x/archives/kernel"));
}
