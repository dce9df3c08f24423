using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Vmtrace.TestSupport;

namespace Vmtrace.Decoding.Tests.Ctf;

/// <summary>One event line of babeltrace2's pretty text output (with --clock-seconds).</summary>
internal sealed record BabeltraceEvent(long Timestamp, string Name, string Payload);

/// <summary>A payload value as babeltrace2 prints it: integer (enums give their container value), text, or integer array.</summary>
internal sealed record BabeltraceValue(Int128? Integer, string? Text, IReadOnlyList<Int128>? Elements);

/// <summary>
/// Runs babeltrace2 and reads its <c>sink.text.pretty</c> lines:
/// <c>[SECONDS.NANOS] (+DELTA) [HOST] NAME: { packet context }, { payload }</c>.
/// </summary>
internal static partial class BabeltraceText
{
    [GeneratedRegex(@"^\[(\d+)\.(\d{9})\] \(\+[^)]*\) (?:\S+ )?(\S+): (\{.*\})$")]
    private static partial Regex Line();

    /// <summary>All events of a trace directory through the muxer (every stream merged).</summary>
    public static List<BabeltraceEvent> Read(string traceDirectory) =>
        ParseLines(Tools.Run("babeltrace2", "--clock-seconds", traceDirectory));

    /// <summary>
    /// Events of a single-stream trace read without the muxer: old LTTng 2.1 traces (synctraces) make
    /// the muxer stop on timestamps that go slightly backwards at packet boundaries.
    /// </summary>
    public static List<BabeltraceEvent> ReadWithoutMuxer(string traceDirectory) =>
        ParseLines(Tools.Run("babeltrace2", "run", "--component", "src:src.ctf.fs", "--params", $"inputs=[\"{traceDirectory}\"]",
            "--component", "sink:sink.text.pretty", "--params", "clock-seconds=yes", "--connect", "src:sink"));

    private static List<BabeltraceEvent> ParseLines(string output)
    {
        var events = new List<BabeltraceEvent>();
        foreach (var line in output.Split('\n'))
        {
            var m = Line().Match(line);
            if (!m.Success)
                continue;
            long ts = long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) * 1_000_000_000
                + long.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture);
            events.Add(new BabeltraceEvent(ts, m.Groups[3].Value, m.Groups[4].Value));
        }
        return events;
    }

    /// <summary>
    /// The payload (last <c>{ … }</c> group) flattened to dotted names, babeltrace's leading
    /// underscores removed as ours are.
    /// </summary>
    public static List<(string Name, BabeltraceValue Value)> PayloadFields(string groups)
    {
        var parser = new ValueParser(groups);
        var all = new List<List<(string, BabeltraceValue)>>();
        while (true)
        {
            parser.SkipSpaces();
            if (parser.AtEnd)
                break;
            var fields = new List<(string, BabeltraceValue)>();
            parser.ParseStruct("", fields);
            all.Add(fields);
            parser.SkipSpaces();
            parser.Accept(',');
        }
        return all[^1];
    }

    private sealed class ValueParser(string text)
    {
        private int _i;

        public bool AtEnd => _i >= text.Length;

        public void SkipSpaces()
        {
            while (_i < text.Length && text[_i] == ' ')
                _i++;
        }

        public bool Accept(char c)
        {
            SkipSpaces();
            if (_i < text.Length && text[_i] == c)
            {
                _i++;
                return true;
            }
            return false;
        }

        private void Expect(char c)
        {
            if (!Accept(c))
                throw new FormatException($"expected '{c}' at {_i} in: {text}");
        }

        public void ParseStruct(string prefix, List<(string, BabeltraceValue)> into)
        {
            Expect('{');
            if (Accept('}'))
                return;
            do
            {
                SkipSpaces();
                int start = _i;
                while (_i < text.Length && text[_i] != ' ' && text[_i] != '=')
                    _i++;
                string name = prefix + text[start.._i];
                Expect('=');
                SkipSpaces();
                if (text[_i] == '{')
                    ParseStruct(name + ".", into);
                else
                    into.Add((name, ParseValue()));
            }
            while (Accept(','));
            Expect('}');
        }

        private BabeltraceValue ParseValue()
        {
            SkipSpaces();
            char c = text[_i];
            if (c == '"')
                return new BabeltraceValue(null, ParseString(), null);
            if (c == '[')
            {
                _i++;
                var elements = new List<Int128>();
                if (!Accept(']'))
                {
                    do
                    {
                        Expect('[');
                        while (text[_i] != ']')
                            _i++;
                        Expect(']');
                        Expect('=');
                        elements.Add(ParseValue().Integer ?? throw new FormatException("non-integer array element in: " + text));
                    }
                    while (Accept(','));
                    Expect(']');
                }
                return new BabeltraceValue(null, null, elements);
            }
            if (c == '(')
            {
                // Enumeration: ( "LABEL" : container = VALUE ), or ( <unknown> : container = VALUE ).
                int eq = text.IndexOf("container = ", _i, StringComparison.Ordinal);
                _i = eq + "container = ".Length;
                var v = ParseNumber();
                Expect(')');
                return new BabeltraceValue(v, null, null);
            }
            return new BabeltraceValue(ParseNumber(), null, null);
        }

        private Int128 ParseNumber()
        {
            SkipSpaces();
            int start = _i;
            while (_i < text.Length && (char.IsAsciiLetterOrDigit(text[_i]) || text[_i] is '-' or '.' or '+'))
                _i++;
            var s = text[start.._i];
            if (s.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
                return (Int128)ulong.Parse(s.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
            if (s.StartsWith("0b", StringComparison.OrdinalIgnoreCase))
                return (Int128)Convert.ToUInt64(s[2..], 2);
            if (s.Length > 1 && s[0] == '0')
                return (Int128)Convert.ToUInt64(s[1..], 8); // octal display base
            return Int128.Parse(s, CultureInfo.InvariantCulture);
        }

        private string ParseString()
        {
            Expect('"');
            var sb = new StringBuilder();
            while (text[_i] != '"')
            {
                if (text[_i] == '\\')
                {
                    _i++;
                    sb.Append(text[_i] switch { 'n' => '\n', 't' => '\t', 'r' => '\r', 'v' => '\v', 'f' => '\f', 'a' => '\a', 'b' => '\b', _ => text[_i] });
                }
                else
                {
                    sb.Append(text[_i]);
                }
                _i++;
            }
            _i++;
            return sb.ToString();
        }
    }
}
