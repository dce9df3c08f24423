using System.Globalization;
using System.Text.RegularExpressions;

namespace Vmtrace.InfluxDb;

/// <summary>
/// Reads InfluxDB's 400 answer to a write in which some lines were rejected while the valid ones were stored:
/// <c>partial write: unable to parse 'LINE': REASON\nunable to parse 'LINE': REASON dropped=N</c>, or
/// <c>partial write: field type conflict: input field "F" on measurement "M" is type T, already exists as type U dropped=N</c>,
/// or (every line unparsable) just <c>unable to parse 'LINE': REASON</c>. Finds exactly which lines of the batch
/// were rejected; what the answer does not name (InfluxDB reports only the first type conflict, and
/// "points beyond retention policy" names none) is counted as unidentified.
/// </summary>
internal static partial class PartialWriteAnswer
{
    private const string UnableToParse = "unable to parse '";

    [GeneratedRegex("""field type conflict: input field "(?<field>.*)" on measurement "(?<measurement>.*)" is type (?<type>\w+), already exists as type \w+""")]
    private static partial Regex FieldTypeConflict();

    [GeneratedRegex(@"dropped=(?<n>\d+)\s*$")]
    private static partial Regex Dropped();

    /// <summary>True when <paramref name="message"/> is one of the partial-write answers above.</summary>
    public static bool IsPartialWrite(string message) =>
        message.StartsWith("partial write:", StringComparison.Ordinal) || message.StartsWith(UnableToParse, StringComparison.Ordinal);

    /// <summary>InfluxDB 1.x's answer when points are older than the retention policy: "partial write: points beyond retention policy dropped=N".</summary>
    public static bool IsBeyondRetention(string message) => message.Contains("points beyond retention policy", StringComparison.Ordinal);

    /// <summary>The rejected lines of <paramref name="batch"/>, each with its reason, and how many dropped lines could not be named.</summary>
    public static (List<DeadLetter> Rejected, int Unidentified) Match(string message, IReadOnlyList<string> batch)
    {
        var rejected = new List<DeadLetter>();
        var lines = new HashSet<string>(batch, StringComparer.Ordinal);
        var named = new HashSet<string>(StringComparer.Ordinal);
        // A line cannot hold a newline, so each "unable to parse" stands on its own line of the message.
        foreach (string segment in message.Split('\n'))
        {
            int start = segment.IndexOf(UnableToParse, StringComparison.Ordinal);
            if (start < 0)
                continue;
            start += UnableToParse.Length;
            // The line itself may contain "': ", so try each end from the last one back until a batch line matches.
            for (int end = segment.LastIndexOf("': ", StringComparison.Ordinal); end >= start; end = end == 0 ? -1 : segment.LastIndexOf("': ", end - 1, StringComparison.Ordinal))
            {
                string candidate = segment[start..end];
                if (lines.Contains(candidate))
                {
                    if (named.Add(candidate))
                        rejected.Add(new DeadLetter(candidate, StripDropped(segment[(end + 3)..])));
                    break;
                }
            }
        }

        int dropped = 0;
        var droppedMatch = Dropped().Match(message);
        if (droppedMatch.Success)
            dropped = int.Parse(droppedMatch.Groups["n"].ValueSpan, CultureInfo.InvariantCulture);

        int identifiedDropped = 0;
        var conflict = FieldTypeConflict().Match(message);
        if (conflict.Success)
        {
            string measurement = conflict.Groups["measurement"].Value;
            string field = conflict.Groups["field"].Value;
            string type = conflict.Groups["type"].Value;
            string reason = StripDropped(conflict.Value);
            foreach (string line in batch)
            {
                if (named.Contains(line) || !LineProtocolReader.TryFieldType(line, measurement, field, out string? lineType) || lineType != type)
                    continue;
                named.Add(line);
                rejected.Add(new DeadLetter(line, reason));
                identifiedDropped++;
            }
        }
        return (rejected, Math.Max(0, dropped - identifiedDropped));
    }

    private static string StripDropped(string text)
    {
        var m = Dropped().Match(text);
        return (m.Success ? text[..m.Index] : text).TrimEnd();
    }
}
