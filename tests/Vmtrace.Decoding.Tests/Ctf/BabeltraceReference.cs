using System.Collections.Concurrent;

namespace Vmtrace.Decoding.Tests.Ctf;

/// <summary>babeltrace2's reading of a trace, run once per trace per test run and shared by the tests that compare with it.</summary>
internal static class BabeltraceReference
{
    private static readonly ConcurrentDictionary<string, Lazy<List<BabeltraceEvent>>> Cache = new(StringComparer.Ordinal);

    public static List<BabeltraceEvent> Events(string traceDirectory) =>
        Cache.GetOrAdd(traceDirectory, d => new Lazy<List<BabeltraceEvent>>(() => BabeltraceText.Read(d))).Value;
}
