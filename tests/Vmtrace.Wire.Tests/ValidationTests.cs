using Vmtrace.Decoding;
using Vmtrace.TestSupport;

namespace Vmtrace.Wire.Tests;

/// <summary>
/// <see cref="EventBatchReader.Validate"/> (the worker checks a whole batch before any event reaches the analysis): it
/// throws exactly when reading every event throws, with the same exception, and a batch it passes is read to the end
/// without one. Compared outcome for outcome with a full read over every truncation, every bit flip and random damage.
/// </summary>
public sealed class ValidationTests
{
    private const string Stub = "tracecompass-vm-xml-stubs/OneQemuKvm/";

    /// <summary>A full read: every event and string field, or the exception it stopped at.</summary>
    private static string FullRead(byte[] record)
    {
        var reader = new EventBatchReader();
        try
        {
            if (NotABatch(record) is { } other)
                return other;
            reader.Load(record);
            return "read " + ReadAll(reader);
        }
        catch (WireFormatException ex)
        {
            return Describe(ex);
        }
    }

    /// <summary>Validate first, then a full read, which must not throw once Validate passed.</summary>
    private static string ValidatedRead(byte[] record, EventBatchReader reader)
    {
        try
        {
            if (NotABatch(record) is { } other)
                return other;
            reader.Load(record);
            reader.Validate();
        }
        catch (WireFormatException ex)
        {
            return Describe(ex);
        }
        try
        {
            return "read " + ReadAll(reader);
        }
        catch (WireFormatException ex)
        {
            return "Validate passed a batch whose read then threw " + Describe(ex);
        }
    }

    /// <summary>A flip in the envelope can make the record another kind, which the worker never hands to the batch reader.</summary>
    private static string? NotABatch(byte[] record)
    {
        var kind = HostRecord.Read(record).Kind;
        return kind == HostRecordKind.EventBatch ? null : "a record of kind " + kind;
    }

    private static string Describe(WireFormatException ex) => $"{ex.GetType().Name} at {ex.Offset}: {ex.Message}";

    private static string ReadAll(EventBatchReader reader)
    {
        var sum = new HashCode();
        int n = 0;
        while (reader.MoveNext())
        {
            var e = reader.Current;
            sum.Add(e.Timestamp);
            sum.Add(e.Cpu);
            sum.Add(e.Tid);
            sum.Add(reader.CurrentGuest);
            for (int k = 0; k < e.FieldCount; k++)
            {
                if (!e.IsPresent(k))
                    sum.Add(-1);
                else if (e.Type.Fields[k].Kind == FieldKind.String)
                    sum.AddBytes(e.GetBytes(k));
                else
                    sum.Add(e.GetInt64(k));
            }
            n++;
        }
        return $"{n} events, hash {sum.ToHashCode()}";
    }

    private static byte[] Batch(EventSource source, int maxEvents = 32_768, IReadOnlyList<string>? guests = null, Func<int>? input = null)
    {
        var writer = new EventBatchWriter(new HostRecordWriter("h", "s"), new EventBatchWriterOptions { MaxEvents = maxEvents });
        if (guests is not null)
            writer.GuestNames = guests;
        while (!writer.IsFull && source.MoveNext())
            writer.Append(source.Current, input?.Invoke() ?? 0);
        return writer.Flush();
    }

    private static void AssertSameOutcomes(byte[] record, IEnumerable<byte[]> damaged)
    {
        var reader = new EventBatchReader();
        Assert.StartsWith("read ", ValidatedRead(record, reader), StringComparison.Ordinal);
        Assert.Equal(FullRead(record), ValidatedRead(record, reader));
        int cases = 0, rejected = 0;
        foreach (var d in damaged)
        {
            string full = FullRead(d);
            Assert.Equal(full, ValidatedRead(d, reader));
            cases++;
            if (!full.StartsWith("read ", StringComparison.Ordinal))
                rejected++;
        }
        Assert.True(rejected > 0 && rejected < cases, $"{rejected} of {cases} damaged batches rejected: the cases test nothing");
    }

    private static IEnumerable<byte[]> Truncations(byte[] record)
    {
        for (int length = 0; length < record.Length; length++)
            yield return record.AsSpan(0, length).ToArray();
    }

    private static IEnumerable<byte[]> BitFlips(byte[] record)
    {
        for (int i = 0; i < record.Length * 8; i++)
        {
            var flipped = (byte[])record.Clone();
            flipped[i / 8] ^= (byte)(1 << (i % 8));
            yield return flipped;
        }
    }

    private static IEnumerable<byte[]> RandomDamage(byte[] record, int seed, int trials)
    {
        var random = new Random(seed);
        for (int trial = 0; trial < trials; trial++)
        {
            var damaged = (byte[])record.Clone();
            int bytes = 1 + random.Next(8);
            for (int f = 0; f < bytes; f++)
                damaged[random.Next(damaged.Length)] = (byte)random.Next(256);
            yield return damaged;
        }
    }

    [Fact]
    public void Validate_MixedBatch_EveryTruncationAndBitFlipSameOutcomeAsFullRead()
    {
        byte[] record = Batch(ScriptedEvents.Mixed());
        // Truncations all fail (a cut record), so they are checked apart from the flips (some of which still read).
        var reader = new EventBatchReader();
        foreach (var cut in Truncations(record))
            Assert.Equal(FullRead(cut), ValidatedRead(cut, reader));
        AssertSameOutcomes(record, BitFlips(record));
    }

    [Fact]
    public void Validate_MixedBatch_RandomDamageSameOutcomeAsFullRead()
    {
        byte[] record = Batch(ScriptedEvents.Mixed());
        AssertSameOutcomes(record, RandomDamage(record, 17, 20_000));
    }

    [CorpusFact]
    public void Validate_RealBatch_RandomDamageSameOutcomeAsFullRead()
    {
        using var source = TraceOpener.Open(Corpus.Path("hip24-kvm-host-guest-pair/host.trace.dat"));
        byte[] record = Batch(source, maxEvents: 2000);
        AssertSameOutcomes(record, RandomDamage(record, 1234, 3000));
    }

    /// <summary>Host and guest events in one batch (guest index column, schema version 3).</summary>
    [CorpusFact]
    public void Validate_GuestBatch_EveryBitFlipSameOutcomeAsFullRead()
    {
        using var merged = new MergedEventSource([TraceOpener.Open(Corpus.Path(Stub + "host.xml")), TraceOpener.Open(Corpus.Path(Stub + "guest.xml"))]);
        byte[] record = Batch(merged, maxEvents: 300, guests: ["qemu-t31"], input: () => merged.CurrentInput);
        var reader = new EventBatchReader();
        reader.Load(record);
        Assert.Equal(["qemu-t31"], reader.GuestNames);
        AssertSameOutcomes(record, BitFlips(record));
    }

    /// <summary>The point of Validate: an undamaged batch is vouched for by the column scan, not read event by event.</summary>
    [CorpusFact]
    public void Validate_UndamagedRealBatches_PassWithoutAFullRead()
    {
        using var source = TraceOpener.Open(Corpus.Path("tcg-qemu/s3-disk-vs-cpu/trace.dat.xz"));
        var reader = new EventBatchReader();
        int batches = 0;
        while (batches < 8)
        {
            byte[] record = Batch(source, maxEvents: 32_768);
            if (HostRecord.Read(record).Kind != HostRecordKind.EventBatch)
                break;
            string outcome = ValidatedRead(record, reader);
            Assert.StartsWith("read ", outcome, StringComparison.Ordinal);
            Assert.Equal(FullRead(record), outcome);
            batches++;
        }
        Assert.Equal(8, batches);
        Assert.Equal(0, reader.SlowValidations);
    }

    [Fact]
    public void Validate_AfterAnEventWasRead_Refused()
    {
        var reader = new EventBatchReader();
        reader.Load(Batch(ScriptedEvents.Mixed()));
        Assert.True(reader.MoveNext());
        Assert.Throws<InvalidOperationException>(reader.Validate);
    }
}
