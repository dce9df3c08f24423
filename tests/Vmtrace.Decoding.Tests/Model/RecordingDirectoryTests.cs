using Vmtrace.TestSupport;

namespace Vmtrace.Decoding.Tests.Model;

public class RecordingDirectoryTests
{
    private static string Sample => Path.Combine(Corpus.RepoRoot, "samples", "tcg-3vms");

    [Fact]
    public void FindInputs_RepoSample_TraceDatAndEveryQemuLog()
    {
        var inputs = RecordingDirectory.FindInputs(Sample).Select(Path.GetFileName).ToList();
        Assert.Equal(["trace.dat.xz", "qemu-db.log.xz", "qemu-edge.log.xz", "qemu-web.log.xz"], inputs);
    }

    [Fact]
    public void Open_RecordingDirectory_EqualsTheFilesMergedByTime()
    {
        long fromDirectory = CountAndCheckOrder(TraceOpener.Open(Sample));
        long fromFiles = CountAndCheckOrder(TraceOpener.OpenAll(RecordingDirectory.FindInputs(Sample)));
        long separately = RecordingDirectory.FindInputs(Sample).Sum(f => CountAndCheckOrder(TraceOpener.Open(f)));
        Assert.Equal(fromFiles, fromDirectory);
        Assert.Equal(separately, fromDirectory);
    }

    [Fact]
    public void Open_DirectoryWithoutTraces_NamesTheDirectory()
    {
        var dir = Directory.CreateTempSubdirectory("vmtrace-empty-");
        try
        {
            File.WriteAllText(Path.Combine(dir.FullName, "notes.txt"), "nothing here");
            var ex = Assert.Throws<TraceFormatException>(() => TraceOpener.Open(dir.FullName));
            Assert.Contains(dir.FullName, ex.Message, StringComparison.Ordinal);
        }
        finally
        {
            dir.Delete(true);
        }
    }

    private static long CountAndCheckOrder(EventSource source)
    {
        using (source)
        {
            long n = 0, last = long.MinValue, backwards = 0;
            while (source.MoveNext())
            {
                if (source.Current.Timestamp < last) backwards++;
                last = source.Current.Timestamp;
                n++;
            }
            Assert.Equal(0, backwards);
            return n;
        }
    }
}
