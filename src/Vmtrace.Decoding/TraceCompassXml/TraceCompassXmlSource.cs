using System.Globalization;
using System.Text;
using System.Xml;

namespace Vmtrace.Decoding.TraceCompassXml;

/// <summary>
/// Reads Trace Compass XML stub traces (<c>&lt;trace&gt;&lt;event timestamp= name=&gt;&lt;field name= value= type=/&gt;</c>),
/// the hand-written inputs of Trace Compass's own VM tests. Timestamps are nanoseconds; the <c>cpu</c>
/// field gives the CPU; stubs carry no current thread, so <see cref="TraceEvent.Tid"/> is -1 and consumers
/// take the thread from the CPU's last sched_switch. Streamed with <see cref="XmlReader"/> (a test-sized
/// text format: it allocates per event, unlike the binary readers). A malformed event is skipped and
/// recorded; malformed XML ends the reading with an error (XML cannot resynchronise).
/// </summary>
public sealed class TraceCompassXmlSource : EventSource
{
    private readonly string _path;
    private readonly FileStream _stream;
    private readonly XmlReader _xml;
    private readonly Dictionary<string, EventType> _types = new(StringComparer.Ordinal);
    private readonly EventRecordBuffer _buffer = new();
    private readonly List<(string Name, string Value, string Type)> _fields = [];
    private readonly StringBuilder _key = new();
    private EventType? _currentType;
    private long _timestamp;
    private int _cpu;
    private long _lastTimestamp = long.MinValue;
    private bool _done;

    private TraceCompassXmlSource(string path)
    {
        _path = path;
        _recordedInGuest = new Lazy<bool>(() => HasGuestSyncEvents(path));
        _stream = File.OpenRead(path);
        _xml = XmlReader.Create(_stream, new XmlReaderSettings
        {
            DtdProcessing = DtdProcessing.Prohibit,
            XmlResolver = null,
            IgnoreComments = true,
            IgnoreWhitespace = true,
        });
    }

    public static EventSource Open(string path) => new TraceCompassXmlSource(path);

    public override string Description => _path;

    /// <summary>
    /// Trace Compass's rule: a trace with the guest side of the vmsync hypercalls (vmsync_gh_guest, vmsync_hg_guest)
    /// was recorded in a guest. Known before the first event (stubs are small), so a guest's stub is not merged into its host's.
    /// </summary>
    public override bool RecordedInGuest => _recordedInGuest.Value;

    private readonly Lazy<bool> _recordedInGuest;

    private static bool HasGuestSyncEvents(string path)
    {
        foreach (var line in File.ReadLines(path))
        {
            if (line.Contains("\"vmsync_gh_guest\"", StringComparison.Ordinal) || line.Contains("\"vmsync_hg_guest\"", StringComparison.Ordinal))
                return true;
        }
        return false;
    }

    public override TraceClockKind Clock => TraceClockKind.Unknown;

    public override double Progress => _stream.Length == 0 ? 1 : _done ? 1 : Math.Clamp((double)_stream.Position / _stream.Length, 0, 1);

    public override TraceEvent Current => _buffer.View(_timestamp, _cpu, -1, _currentType!);

    public override bool MoveNext()
    {
        while (!_done)
        {
            try
            {
                if (!_xml.Read())
                {
                    _done = true;
                    return false;
                }
                if (_xml.NodeType != XmlNodeType.Element || _xml.Name != "event")
                    continue;
                if (ReadEvent())
                    return true;
            }
            catch (XmlException ex)
            {
                Diagnostics.AddError(new TraceFormatException(_path, _stream.Position,
                    $"malformed XML at line {ex.LineNumber}, column {ex.LinePosition}: {ex.Message}", ex), Math.Max(0, _stream.Length - _stream.Position));
                _done = true;
            }
        }
        return false;
    }

    /// <summary>Reads one &lt;event&gt;; false when it is unusable (recorded as an error).</summary>
    private bool ReadEvent()
    {
        long offset = _stream.Position;
        string? timestampText = _xml.GetAttribute("timestamp");
        string? name = _xml.GetAttribute("name");
        _fields.Clear();
        if (!_xml.IsEmptyElement)
        {
            int depth = _xml.Depth;
            while (_xml.Read() && !(_xml.NodeType == XmlNodeType.EndElement && _xml.Depth == depth))
            {
                if (_xml.NodeType == XmlNodeType.Element && _xml.Name == "field")
                {
                    _fields.Add((_xml.GetAttribute("name") ?? "", _xml.GetAttribute("value") ?? "", _xml.GetAttribute("type") ?? "string"));
                }
            }
        }
        if (string.IsNullOrEmpty(name) || !long.TryParse(timestampText, NumberStyles.Integer, CultureInfo.InvariantCulture, out long ts))
        {
            Diagnostics.AddError(new TraceFormatException(_path, offset, "event without a name or an integer timestamp"), 0);
            return false;
        }

        var type = TypeOf(name);
        _buffer.Reset(type);
        _cpu = -1;
        for (int i = 0; i < _fields.Count; i++)
        {
            var (fieldName, value, _) = _fields[i];
            if (type.Fields[i].Kind == FieldKind.String)
            {
                _buffer.SetString(i, Encoding.UTF8.GetBytes(value));
                continue;
            }
            if (!long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out long v))
            {
                Diagnostics.AddError(new TraceFormatException(_path, offset, $"field '{fieldName}' of '{name}' is not an integer: '{value}'"), 0);
                return false;
            }
            _buffer.SetInt(i, v);
            if (fieldName == "cpu")
                _cpu = (int)Math.Clamp(v, -1, int.MaxValue);
        }
        if (ts < _lastTimestamp)
            Diagnostics.AddOutOfOrder();
        _lastTimestamp = ts;
        _timestamp = ts;
        _currentType = type;
        return true;
    }

    private EventType TypeOf(string name)
    {
        _key.Clear().Append(name);
        foreach (var (fieldName, _, fieldType) in _fields)
            _key.Append('|').Append(fieldName).Append(':').Append(fieldType);
        string key = _key.ToString();
        if (!_types.TryGetValue(key, out var type))
        {
            var descriptors = _fields.Select(f => new FieldDescriptor(f.Name, KindOf(f.Type))).ToArray();
            type = new EventType(name, descriptors);
            _types.Add(key, type);
        }
        return type;
    }

    private static FieldKind KindOf(string xmlType) => xmlType switch
    {
        "int" or "long" => FieldKind.Signed,
        _ => FieldKind.String,
    };

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _xml.Dispose();
            _stream.Dispose();
        }
    }
}
