using System.Text;
using Vmtrace.Decoding.Archives;
using Vmtrace.Decoding.Ftrace;

namespace Vmtrace.Decoding.Tests.Ftrace;

/// <summary>Shared steps of the ftrace tests: counting, comparing with trace-cmd's text, unpacking the tcg-qemu traces once.</summary>
internal static class FtraceReading
{
    public static Dictionary<string, long> CountByEvent(EventSource source, out long lostEventMarkers)
    {
        var byType = new Dictionary<EventType, long>(ReferenceEqualityComparer.Instance);
        while (source.MoveNext())
        {
            var type = source.Current.Type;
            byType[type] = byType.GetValueOrDefault(type) + 1;
        }
        lostEventMarkers = byType.Where(kv => kv.Key.Known == KnownEvent.LostEvents).Sum(kv => kv.Value);
        return byType.Where(kv => kv.Key.Known != KnownEvent.LostEvents)
            .GroupBy(kv => kv.Key.Name, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Sum(kv => kv.Value), StringComparer.Ordinal);
    }

    /// <summary>
    /// Compares the first <paramref name="count"/> events with trace-cmd's raw lines, event by event:
    /// timestamp (ns), CPU, thread, event name and every field. Returns the differences found (empty = equal).
    /// </summary>
    public static List<string> CompareWithReport(EventSource source, IEnumerable<ReportRawText.Line> lines, int count, bool checkComm,
        int keepEvery = 1)
    {
        var problems = new List<string>();
        using var expected = lines.GetEnumerator();
        var names = source.InitialThreadNames;
        int index = 0, compared = 0;
        while (compared < count && expected.MoveNext())
        {
            var line = expected.Current;
            if (!source.MoveNext())
            {
                problems.Add($"#{index}: the reader ended, trace-cmd has: {line.Text}");
                break;
            }
            var e = source.Current;
            bool check = index % keepEvery == 0 || index < 5000;
            index++;
            if (!check)
                continue;
            compared++;
            var diff = new StringBuilder();
            if (e.Timestamp != line.Timestamp) diff.Append($" timestamp {e.Timestamp}≠{line.Timestamp}");
            if (e.Cpu != line.Cpu) diff.Append($" cpu {e.Cpu}≠{line.Cpu}");
            if (e.Tid != line.Tid) diff.Append($" tid {e.Tid}≠{line.Tid}");
            if (e.Type.Name != line.Event) diff.Append($" event {e.Type.Name}≠{line.Event}");
            if (checkComm && line.Comm != "<...>" && (!names.TryGetValue(line.Tid, out var comm) || comm != line.Comm))
                diff.Append($" comm of {line.Tid}: {(names.TryGetValue(line.Tid, out var c) ? c : "none")}≠{line.Comm}");
            if (e.Type.Name == line.Event)
            {
                var fieldNames = e.Type.Fields.Select(f => f.Name).ToArray();
                var values = ReportRawText.SplitFields(line.Fields, fieldNames);
                if (values is null)
                {
                    diff.Append($" fields [{string.Join(' ', fieldNames)}] not found in '{line.Fields}'");
                }
                else
                {
                    for (int i = 0; i < values.Length; i++)
                    {
                        if (!ReportRawText.ValueMatches(e, i, values[i], out var decoded))
                            diff.Append($" {fieldNames[i]}={decoded}≠{values[i]}");
                    }
                }
            }
            if (diff.Length > 0 && problems.Count < 20)
                problems.Add($"#{index - 1}:{diff} | {line.Text}");
        }
        if (compared < Math.Min(count, 1))
            problems.Add("nothing was compared");
        return problems;
    }

    /// <summary>Each tcg-qemu trace.dat unpacked once per test run, for the tests that need the plain file (trace-cmd, allocation).</summary>
    public static string UnpackedTcgTrace(string scenario)
    {
        lock (Unpacked)
        {
            if (!Unpacked.TryGetValue(scenario, out var path))
            {
                var temp = new TempDirectory();
                Temps.Add(temp);
                path = Decompression.Unpack(Vmtrace.TestSupport.Corpus.Path($"tcg-qemu/{scenario}/trace.dat.xz"), temp);
                Unpacked[scenario] = path;
            }
            return path;
        }
    }

    private static readonly Dictionary<string, string> Unpacked = [];
    private static readonly List<TempDirectory> Temps = [];

    static FtraceReading()
    {
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            foreach (var t in Temps)
                t.Dispose();
        };
    }

    public static FtraceFileSource OpenTraceDat(string path) => FtraceFileSource.OpenTraceDat(path);
}
