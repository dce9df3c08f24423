using System.Buffers.Binary;
using Vmtrace.Decoding.Archives;
using Vmtrace.Decoding.Ftrace;
using Vmtrace.TestSupport;

namespace Vmtrace.Decoding.Tests.Ftrace;

/// <summary>Damaged copies of real trace.dat files (in a temp dir): errors name the file and offset, the rest is read.</summary>
public sealed class FtraceCorruptionTests : IDisposable
{
    private const int PageSize = 4096;
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    private string CopyOf(string source, string name)
    {
        string copy = Path.Combine(_temp.Path, name);
        File.Copy(source, copy);
        return copy;
    }

    private string TcgCopy() => CopyOf(FtraceReading.UnpackedTcgTrace("s2-cpu-contention"), "s2.dat");

    private static (long Events, long Cpu0Events, SourceDiagnostics Diagnostics, long LostMarkers) ReadAll(string path)
    {
        using var source = FtraceFileSource.OpenTraceDat(path);
        long n = 0, cpu0 = 0, lost = 0;
        while (source.MoveNext())
        {
            var e = source.Current;
            if (e.Known == KnownEvent.LostEvents)
            {
                lost++;
                continue;
            }
            n++;
            if (e.Cpu == 0) cpu0++;
        }
        return (n, cpu0, source.Diagnostics, lost);
    }

    private static TraceDatCpuData CpuData(string path, int cpu)
    {
        using var source = FtraceFileSource.OpenTraceDat(path);
        return source.Metadata.Buffers[0].Cpus.Single(c => c.Cpu == cpu);
    }

    private static void Patch(string path, long offset, ReadOnlySpan<byte> bytes)
    {
        using var f = new FileStream(path, FileMode.Open, FileAccess.Write);
        f.Position = offset;
        f.Write(bytes);
    }

    private static byte[] U64(ulong v)
    {
        var b = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(b, v);
        return b;
    }

    private static byte[] U32(uint v)
    {
        var b = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, v);
        return b;
    }

    [CorpusFact]
    public void Read_V6TruncatedInsideCpu1Data_ReadsCpu0FullyAndCountsTheCutBytes()
    {
        string intact = FtraceReading.UnpackedTcgTrace("s2-cpu-contention");
        var whole = ReadAll(intact);
        string copy = TcgCopy();
        var cpu1 = CpuData(copy, 1);
        long cut = cpu1.Offset + (cpu1.Size / 2) + 100; // mid-page
        using (var f = new FileStream(copy, FileMode.Open, FileAccess.Write))
            f.SetLength(cut);

        var damaged = ReadAll(copy);

        var first = damaged.Diagnostics.Errors[0];
        Assert.Equal(copy, first.File);
        Assert.Equal(cut, first.Offset);
        Assert.Contains($"{cpu1.Offset + cpu1.Size - cut} bytes missing", first.Problem);
        Assert.InRange(damaged.Diagnostics.SkippedBytes, 1, PageSize); // the cut page, which cannot be decoded
        Assert.Equal(whole.Cpu0Events, damaged.Cpu0Events);
        Assert.InRange(damaged.Events, whole.Cpu0Events + 1, whole.Events - 1);
    }

    [CorpusFact]
    public void Read_V6PageCommitBeyondPage_SkipsThatPageOnly()
    {
        string copy = TcgCopy();
        var cpu0 = CpuData(copy, 0);
        long page = cpu0.Offset + 10 * PageSize;
        var whole = ReadAll(FtraceReading.UnpackedTcgTrace("s2-cpu-contention"));
        Patch(copy, page + 8, U64(0xFFFF));

        var damaged = ReadAll(copy);

        var error = Assert.Single(damaged.Diagnostics.Errors);
        Assert.Equal((copy, page), (error.File, error.Offset));
        Assert.Contains("commit", error.Problem);
        Assert.Equal(PageSize, damaged.Diagnostics.SkippedBytes);
        Assert.InRange(damaged.Events, whole.Events - PageSize / 8, whole.Events - 1);
    }

    [CorpusFact]
    public void Read_V6EventLengthBeyondPage_SkipsTheRestOfThatPage()
    {
        string copy = TcgCopy();
        var cpu0 = CpuData(copy, 0);
        long page = cpu0.Offset + 20 * PageSize;
        var whole = ReadAll(FtraceReading.UnpackedTcgTrace("s2-cpu-contention"));
        Patch(copy, page + 16, [.. U32(0), .. U32(60_000)]); // first record: type_len 0, length 60000

        var damaged = ReadAll(copy);

        var error = Assert.Single(damaged.Diagnostics.Errors);
        Assert.Equal(page + 16, error.Offset);
        Assert.Contains("60000", error.Problem);
        Assert.True(damaged.Diagnostics.SkippedBytes > 0);
        Assert.InRange(damaged.Events, whole.Events - PageSize / 8, whole.Events - 1);
    }

    [CorpusFact]
    public void Read_V6PageWithMissedEventsFlag_EmitsLostEventsMarker()
    {
        string copy = TcgCopy();
        var cpu1 = CpuData(copy, 1);
        long page = cpu1.Offset + 5 * PageSize;
        var commit = new byte[8];
        using (var f = File.OpenRead(copy))
        {
            f.Position = page + 8;
            f.ReadExactly(commit);
        }
        Patch(copy, page + 8, U64(BinaryPrimitives.ReadUInt64LittleEndian(commit) | (1UL << 31)));

        var read = ReadAll(copy);

        Assert.Equal(1, read.LostMarkers);
        Assert.Equal(1, read.Diagnostics.LossReports);
        Assert.Equal(0, read.Diagnostics.ErrorCount);
    }

    [CorpusFact]
    public void Read_V7CorruptCompressedChunk_SkipsThatChunkAndReadsTheOthers()
    {
        string copy = CopyOf(Corpus.Path("hip24-kvm-host-guest-pair/host.trace.dat"), "host.dat");
        var cpu10 = CpuData(copy, 10); // 4 zlib chunks
        long chunk = cpu10.Offset + 4;
        var sizes = new byte[8];
        using (var f = File.OpenRead(copy))
        {
            f.Position = chunk;
            f.ReadExactly(sizes);
        }
        uint compressedSize = BinaryPrimitives.ReadUInt32LittleEndian(sizes);
        Patch(copy, chunk + 8 + 2, Enumerable.Repeat((byte)0xFF, 64).ToArray()); // just past the zlib header

        var damaged = ReadAll(copy);

        var error = Assert.Single(damaged.Diagnostics.Errors);
        Assert.Equal((copy, chunk + 8), (error.File, error.Offset));
        Assert.Equal(compressedSize, damaged.Diagnostics.SkippedBytes);
        Assert.InRange(damaged.Events, 11_721 - 10 * PageSize / 8, 11_720);
    }

    [CorpusFact]
    public void Read_V7BogusChunkSize_SkipsTheRestOfThatCpu()
    {
        string copy = CopyOf(Corpus.Path("hip24-kvm-host-guest-pair/host.trace.dat"), "host.dat");
        var cpu10 = CpuData(copy, 10);
        Patch(copy, cpu10.Offset + 4, U32(0x7FFF_FFF0));

        var damaged = ReadAll(copy);

        var error = Assert.Single(damaged.Diagnostics.Errors);
        Assert.Equal(cpu10.Offset + 4, error.Offset);
        Assert.Equal(cpu10.Size, damaged.Diagnostics.SkippedBytes); // from the chunk header to the end, with the 4-byte count slack
        Assert.InRange(damaged.Events, 1, 11_720);
    }

    [CorpusFact]
    public void Open_V7TruncatedBeforeItsBufferOptions_RecordsTheMissingSectionAndReadsTheEventsBeforeTheCut()
    {
        string copy = CopyOf(Corpus.Path("hip24-kvm-host-guest-pair/host.trace.dat"), "host.dat");
        using (var f = new FileStream(copy, FileMode.Open, FileAccess.Write))
            f.SetLength(2_500_000); // the BUFFER options section is at 2 513 637

        var damaged = ReadAll(copy);

        Assert.InRange(damaged.Events, 1, 11_720); // the whole file has 11 721 (FtraceTruncationTests checks them against it)
        Assert.Contains(damaged.Diagnostics.Errors, e => e.Offset == 2_513_637);
    }

    [CorpusFact]
    public void Read_V7DamagedFtraceFormatsSection_RecordedAndKvmEventsStillRead()
    {
        // The FTRACE_EVENTS section of this file is at 0x129 (its option says so); kvm events do not need it.
        string copy = CopyOf(Corpus.Path("hip24-kvm-host-allkvm/host.trace.dat"), "allkvm.dat");
        Patch(copy, 0x129 + 16 + 8 + 2, Enumerable.Repeat((byte)0xFF, 32).ToArray());

        var damaged = ReadAll(copy);

        Assert.Equal(7792, damaged.Events);
        var error = Assert.Single(damaged.Diagnostics.Errors);
        Assert.Equal((copy, 0x129L + 16 + 8), (error.File, error.Offset));
        Assert.Contains("FtraceEvents", error.Problem);
    }

    [Fact]
    public void Open_FileShorterThanItsHeader_ThrowsNamingTheFile()
    {
        string path = Path.Combine(_temp.Path, "short.dat");
        File.WriteAllBytes(path, [0x17, 0x08, 0x44, (byte)'t', (byte)'r', (byte)'a']);

        var ex = Assert.Throws<TraceFormatException>(() => FtraceFileSource.OpenTraceDat(path));

        Assert.Equal(path, ex.File);
    }

    [CorpusFact]
    public void Open_V7HeaderSectionSizeBogus_ThrowsNamingFileAndOffset()
    {
        string copy = CopyOf(Corpus.Path("hip24-kvm-host-allkvm/host.trace.dat"), "allkvm.dat");
        Patch(copy, 0x26 + 8, U64(1UL << 40)); // HEADER_INFO section at 0x26: size field

        var ex = Assert.Throws<TraceFormatException>(() => FtraceFileSource.OpenTraceDat(copy));

        Assert.Equal(copy, ex.File);
        Assert.Equal(0x26 + 16, ex.Offset);
    }

    [CorpusTheory]
    [InlineData("v6", 1)]
    [InlineData("v6", 2)]
    [InlineData("v7", 3)]
    [InlineData("v7", 4)]
    public void Read_RandomBytesFlippedInEventData_NeverThrowsOrHangs(string version, int seed)
    {
        string copy = version == "v6" ? TcgCopy() : CopyOf(Corpus.Path("hip24-kvm-host-2vms-46s/host.trace.dat"), "2vms.dat");
        var data = CpuData(copy, version == "v6" ? 1 : 0);
        var random = new Random(seed);
        using (var f = new FileStream(copy, FileMode.Open, FileAccess.ReadWrite))
        {
            for (int i = 0; i < 300; i++)
            {
                f.Position = data.Offset + random.NextInt64(data.Size);
                f.WriteByte((byte)random.Next(256));
            }
        }

        var task = Task.Run(() => ReadAll(copy));

        Assert.True(task.Wait(TimeSpan.FromSeconds(60)), "reading a damaged file did not finish");
        Assert.True(task.Result.Diagnostics.ErrorCount > 0 || task.Result.Events > 0);
        Assert.All(task.Result.Diagnostics.Errors, e => Assert.Equal(copy, e.File));
    }
}
