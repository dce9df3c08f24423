using System.Collections.Immutable;

namespace Vmtrace.Analysis;

/// <summary>What a figure measures; it sets the unit every output states.</summary>
public enum MetricKind
{
    /// <summary>A time span on the trace clock, ns.</summary>
    DurationNs,

    /// <summary>A point on the trace clock, ns.</summary>
    TimestampNs,

    /// <summary>A time span of the wall clock, ms (the worker's own timings).</summary>
    DurationMs,

    /// <summary>How many: events, requests, packets, exits.</summary>
    Count,

    Bytes,

    /// <summary>A fraction (0..1 for a share).</summary>
    Ratio,

    /// <summary>A variance of time spans, ns².</summary>
    VarianceNs2,

    /// <summary>A number that names something (pid, tid, vCPU id, exit reason): never summed.</summary>
    Identifier,

    /// <summary>A word or a name.</summary>
    Label,
}

/// <summary>How a figure's value is written: integer (line protocol <c>i</c> suffix), float, or string.</summary>
public enum MetricType
{
    Integer,
    Float,
    Text,
}

/// <summary>The output a <see cref="MetricGroup"/> lays out.</summary>
public enum MetricFormat
{
    Json,
    Csv,
    LineProtocol,
}

/// <summary>What one value of a group is about.</summary>
public enum MetricLevel
{
    /// <summary>A whole host (or one agent / worker process).</summary>
    Host,
    Window,
    Vm,
    Vcpu,
    ExitReason,
    DiskLayer,
    Culprit,
    /// <summary>An interference episode (a run of windows of one VM and resource).</summary>
    Episode,
    /// <summary>A guest address space (CR3) of a VM.</summary>
    GuestSpace,
    /// <summary>A vCPU of an L2 guest that a VM runs (nested virtualisation).</summary>
    NestedVcpu,
    /// <summary>A thread of a guest traced with its host (the fused host+guest analysis).</summary>
    GuestThread,
}

/// <summary>A line protocol tag of a measurement.</summary>
public sealed record MetricTag(string Name, string Description);

/// <summary>
/// Receives a group's values in their order (<see cref="MetricGroup{T}.Write"/>): each output implements it as a struct,
/// so writing a window calls the accessors and nothing else.
/// </summary>
public interface IMetricWriter
{
    void Integer(string name, long value);

    void Float(string name, double value);

    /// <summary><paramref name="value"/> null: the figure does not apply (no ISA known); each output decides how to say so.</summary>
    void Text(string name, string? value);
}

/// <summary>
/// One figure of <see cref="MetricSchema"/>: its name, kind (and so unit), value type, description, and where in the result
/// objects it is read. An entry of a layout that reads a figure through a containing object, or under another name, keeps
/// the figure it comes from in <see cref="Figure"/>.
/// </summary>
public abstract class Metric
{
    private protected Metric(string name, MetricKind kind, MetricType type, string source, string description, Metric? figure)
    {
        Name = name;
        Kind = kind;
        Type = type;
        Source = source;
        Description = description;
        Figure = figure ?? this;
    }

    public string Name { get; }

    public MetricKind Kind { get; }

    public MetricType Type { get; }

    /// <summary>How it is read from the result objects (<c>CpuTimes.GuestNs</c>), or who writes it when no analysis result holds it.</summary>
    public string Source { get; }

    public string Description { get; }

    /// <summary>The table's entry for this figure: this one, or the one it was made from by <see cref="Metric{T}.Of"/> / <see cref="Metric{T}.Named"/>.</summary>
    public Metric Figure { get; }

    public string Unit => Kind switch
    {
        MetricKind.DurationNs or MetricKind.TimestampNs => "ns",
        MetricKind.DurationMs => "ms",
        MetricKind.Count => "count",
        MetricKind.Bytes => "bytes",
        MetricKind.Ratio => "fraction",
        MetricKind.VarianceNs2 => "ns²",
        MetricKind.Identifier => "id",
        _ => "text",
    };

    public override string ToString() => Name;

    public static Metric<T> Integer<T>(string name, MetricKind kind, string source, string description, Func<T, long> read) =>
        new(name, kind, MetricType.Integer, source, description, null, read, null, null);

    public static Metric<T> Float<T>(string name, MetricKind kind, string source, string description, Func<T, double> read) =>
        new(name, kind, MetricType.Float, source, description, null, null, read, null);

    public static Metric<T> Text<T>(string name, MetricKind kind, string source, string description, Func<T, string?> read) =>
        new(name, kind, MetricType.Text, source, description, null, null, null, read);

    /// <summary>A figure written by a part of vmtrace outside the analysis (the worker's and agent's own counters).</summary>
    public static Metric Described(string name, MetricKind kind, MetricType type, string source, string description) =>
        new DescribedMetric(name, kind, type, source, description);

    private sealed class DescribedMetric(string name, MetricKind kind, MetricType type, string source, string description)
        : Metric(name, kind, type, source, description, null);
}

/// <summary>A <see cref="Metric"/> read from a <typeparamref name="T"/>.</summary>
public sealed class Metric<T> : Metric
{
    private readonly Func<T, long>? _integer;
    private readonly Func<T, double>? _float;
    private readonly Func<T, string?>? _text;

    internal Metric(string name, MetricKind kind, MetricType type, string source, string description, Metric? figure,
        Func<T, long>? integer, Func<T, double>? @float, Func<T, string?>? text)
        : base(name, kind, type, source, description, figure)
    {
        _integer = integer;
        _float = @float;
        _text = text;
    }

    public long ReadInteger(T source) => _integer!(source);

    public double ReadFloat(T source) => _float!(source);

    public string? ReadText(T source) => _text!(source);

    public void Write<TWriter>(TWriter writer, T source) where TWriter : IMetricWriter
    {
        switch (Type)
        {
            case MetricType.Integer:
                writer.Integer(Name, _integer!(source));
                break;
            case MetricType.Float:
                writer.Float(Name, _float!(source));
                break;
            default:
                writer.Text(Name, _text!(source));
                break;
        }
    }

    /// <summary>The same figure read through a containing object (<c>VmMetrics → CpuTimes</c>), under <paramref name="name"/> if given.</summary>
    public Metric<TOuter> Of<TOuter>(Func<TOuter, T> part, string? name = null)
    {
        var i = _integer;
        var f = _float;
        var t = _text;
        return new Metric<TOuter>(name ?? Name, Kind, Type, Source, Description, Figure,
            i is null ? null : o => i(part(o)), f is null ? null : o => f(part(o)), t is null ? null : o => t(part(o)));
    }

    /// <summary>The same figure under another name (an output that spells it differently).</summary>
    public Metric<T> Named(string name) =>
        new(name, Kind, Type, Source, Description, Figure, _integer, _float, _text);
}

/// <summary>
/// One place of one output where figures are written together: a line protocol measurement, a JSON object, the CSV row.
/// <see cref="Name"/> is the measurement, the JSON path (<c>windows[].vms[].vcpu_times</c>), or <c>row</c>.
/// </summary>
public abstract class MetricGroup(MetricFormat format, string name, MetricLevel level, IReadOnlyList<MetricTag> tags, string? when)
{
    public MetricFormat Format { get; } = format;

    public string Name { get; } = name;

    public MetricLevel Level { get; } = level;

    /// <summary>Line protocol: the tags, in the order they are written.</summary>
    public IReadOnlyList<MetricTag> Tags { get; } = tags;

    /// <summary>When the group is written, if not always (a disk layer without requests writes no point).</summary>
    public string? When { get; } = when;

    /// <summary>The JSON property that holds the group (the last part of its path).</summary>
    public string Property { get; } = name[(name.LastIndexOf('.') + 1)..].Replace("[]", "", StringComparison.Ordinal);

    public abstract IReadOnlyList<Metric> Fields { get; }
}

/// <summary>A <see cref="MetricGroup"/> whose values are read from a <typeparamref name="T"/>, written in order.</summary>
public sealed class MetricGroup<T>(
    MetricFormat format, string name, MetricLevel level, ImmutableArray<Metric<T>> entries,
    IReadOnlyList<MetricTag>? tags = null, string? when = null)
    : MetricGroup(format, name, level, tags ?? [], when)
{
    public ImmutableArray<Metric<T>> Entries { get; } = entries;

    public override IReadOnlyList<Metric> Fields => Entries;

    public void Write<TWriter>(TWriter writer, T source) where TWriter : IMetricWriter
    {
        foreach (var m in Entries)
            m.Write(writer, source);
    }
}

/// <summary>A group written outside the analysis (pipeline health): documented and checked, read by no writer here.</summary>
public sealed class DescribedMetricGroup(
    MetricFormat format, string name, MetricLevel level, IReadOnlyList<Metric> fields, IReadOnlyList<MetricTag> tags, string when)
    : MetricGroup(format, name, level, tags, when)
{
    public override IReadOnlyList<Metric> Fields { get; } = fields;
}
