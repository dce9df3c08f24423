using System.Runtime.CompilerServices;

namespace Vmtrace.Decoding.Ftrace;

/// <summary>
/// Decoders by ftrace event id (an array indexed by id). A decoder and its <see cref="EventType"/> are built
/// the first time an id is met: a full system trace carries thousands of formats, most never used, and
/// every EventType takes a process-wide id that consumers use as an array index.
/// </summary>
public sealed class FtraceDecoderTable
{
    private readonly FtraceEventFormat?[] _formats;
    private readonly FtraceEventDecoder?[] _decoders;
    private readonly bool _bigEndian;
    private readonly int _kernelLongSize;

    public FtraceDecoderTable(IEnumerable<FtraceEventFormat> formats, bool bigEndian, int kernelLongSize)
    {
        var list = formats.Where(f => f.Id is >= 0 and <= ushort.MaxValue).ToList();
        int size = list.Count == 0 ? 0 : list.Max(f => f.Id) + 1;
        _formats = new FtraceEventFormat?[size];
        _decoders = new FtraceEventDecoder?[size];
        foreach (var f in list)
            _formats[f.Id] ??= f;
        _bigEndian = bigEndian;
        _kernelLongSize = kernelLongSize;
    }

    /// <summary>The decoder of an event id, or null when the trace has no format for it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public FtraceEventDecoder? Get(int id)
    {
        if ((uint)id >= (uint)_decoders.Length)
            return null;
        return _decoders[id] ?? Create(id);
    }

    private FtraceEventDecoder? Create(int id)
    {
        var format = _formats[id];
        if (format is null)
            return null;
        return _decoders[id] = new FtraceEventDecoder(format, _bigEndian, _kernelLongSize);
    }

    /// <summary>The decoders built so far (the event types met).</summary>
    public IEnumerable<FtraceEventDecoder> Built => _decoders.OfType<FtraceEventDecoder>();
}
