using Vmtrace.Decoding;
using Vmtrace.TestSupport;
using Vmtrace.TestSupport.Wire;

namespace Vmtrace.Wire.Tests;

/// <summary>Every real trace through writer and reader: each event's timestamp, CPU, tid, type and kept fields survive exactly.</summary>
public sealed class CorpusRoundTripTests
{
    [CorpusTheory]
    [MemberData(nameof(WireCorpus.All), MemberType = typeof(WireCorpus))]
    public void RoundTrip_RealTrace_EveryKeptValueSurvives(string trace)
    {
        using var source = TraceOpener.Open(Corpus.Path(trace));
        var host = new HostRecordWriter("host-a");
        var writer = new EventBatchWriter(host, new EventBatchWriterOptions { MaxEvents = 5000 }) { Clock = source.Clock, CpuCount = source.CpuCount };
        var reader = new EventBatchReader();
        var pending = new List<ExpectedEvent>();
        long compared = 0;
        ulong expectedSequence = 0;
        void Check(byte[] record)
        {
            reader.Load(record);
            Assert.Equal(expectedSequence++, reader.Record!.Sequence);
            Assert.Equal("host-a", reader.Record.HostId);
            Assert.Equal(pending.Count, reader.EventCount);
            Assert.Equal(source.Clock, reader.Clock);
            int i = 0;
            while (reader.MoveNext())
                pending[i++].AssertSame(reader.Current, compared++);
            Assert.Equal(pending.Count, i);
            pending.Clear();
        }
        while (source.MoveNext())
        {
            var e = source.Current;
            Assert.True(writer.Append(e));
            pending.Add(ExpectedEvent.Capture(e));
            if (writer.IsFull)
                Check(writer.Flush());
        }
        Check(writer.Flush());
        Assert.True(compared > 0, $"{trace}: no events");
        Assert.Equal(0, writer.SkippedEvents);
    }

    [CorpusTheory]
    [MemberData(nameof(WireCorpus.All), MemberType = typeof(WireCorpus))]
    public void SelectSlots_RealTraceTypes_KeptRolesResolveToTheSameFields(string trace)
    {
        using var source = TraceOpener.Open(Corpus.Path(trace));
        var seen = new HashSet<EventType>();
        while (source.MoveNext())
        {
            var type = source.Current.Type;
            if (!seen.Add(type))
                continue;
            var slots = WireEventSelection.SelectSlots(type, out bool allFields);
            Assert.False(allFields, $"{trace}: {type.Name} needs every field to resolve its roles");
            var rebuilt = new EventType(type.Name, slots.Select(s => type.Fields[s]).ToArray(), type.System);
            Assert.Equal(type.Known, rebuilt.Known);
            foreach (var role in WireEventSelection.Roles(type.Known))
            {
                int original = type.Slot(role);
                int now = rebuilt.Slot(role);
                Assert.Equal(original >= 0 ? type.Fields[original].Name : null, now >= 0 ? rebuilt.Fields[now].Name : null);
            }
        }
    }
}
