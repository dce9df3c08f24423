using System.Globalization;
using System.Text.RegularExpressions;

namespace Vmtrace.Agent.Live.Lttng;

/// <summary>
/// One archived trace chunk of an LTTng session with rotation (<c>lttng enable-rotation --timer …</c>):
/// <c>OUTPUT/archives/BEGIN-END-INDEX/</c>, BEGIN and END like <c>20191218T163424-0500</c>, holding the CTF
/// traces of that period (kernel/, ust/…). A chunk appears there only once LTTng has finished writing it.
/// </summary>
public sealed partial record LttngChunk(string Path, long Index, DateTimeOffset Begin, DateTimeOffset End)
{
    [GeneratedRegex(@"^(\d{8}T\d{6}[+-]\d{4})-(\d{8}T\d{6}[+-]\d{4})-(\d+)$")]
    private static partial Regex NamePattern();

    /// <summary>Parses a chunk directory's name; null for anything else.</summary>
    public static LttngChunk? TryParse(string path)
    {
        var m = NamePattern().Match(System.IO.Path.GetFileName(path));
        if (!m.Success)
            return null;
        const string format = "yyyyMMdd'T'HHmmsszzz";
        static string Colon(string s) => s[..^2] + ":" + s[^2..];
        if (!DateTimeOffset.TryParseExact(Colon(m.Groups[1].Value), format, CultureInfo.InvariantCulture, DateTimeStyles.None, out var begin)
            || !DateTimeOffset.TryParseExact(Colon(m.Groups[2].Value), format, CultureInfo.InvariantCulture, DateTimeStyles.None, out var end)
            || !long.TryParse(m.Groups[3].Value, NumberStyles.None, CultureInfo.InvariantCulture, out long index))
            return null;
        return new LttngChunk(path, index, begin, end);
    }

    /// <summary>The CTF traces of the chunk: every directory under it holding a <c>metadata</c> file.</summary>
    public IReadOnlyList<string> TraceDirectories() =>
        Directory.EnumerateFiles(Path, "metadata", SearchOption.AllDirectories).Select(f => System.IO.Path.GetDirectoryName(f)!).Order(StringComparer.Ordinal).ToList();
}
