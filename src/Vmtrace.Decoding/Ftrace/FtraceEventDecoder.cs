using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace Vmtrace.Decoding.Ftrace;

/// <summary>
/// Decodes the payload of one ftrace event type into an <see cref="EventRecordBuffer"/>, from a plan
/// built once from the event's format file. The non-common fields become the event's fields (the ones
/// <c>trace-cmd report -R</c> prints); <c>common_pid</c> becomes the event's thread.
/// </summary>
public sealed class FtraceEventDecoder
{
    private readonly FieldPlan[] _plans;
    private readonly bool _bigEndian;
    private readonly int _pidOffset;
    private readonly int _pidSize;

    public FtraceEventDecoder(FtraceEventFormat format, bool bigEndian, int kernelLongSize = 8)
    {
        Format = format;
        _bigEndian = bigEndian;
        _pidOffset = -1;
        var hexFields = FtracePrintFormat.HexFields(format.PrintFormat);
        var descriptors = new List<FieldDescriptor>();
        var plans = new List<FieldPlan>();
        int minLength = 0;
        foreach (var f in format.Fields)
        {
            if (f.IsCommon)
            {
                if (f.Name == "common_pid" && f.Size is 2 or 4)
                {
                    _pidOffset = f.Offset;
                    _pidSize = f.Size;
                    minLength = Math.Max(minLength, f.Offset + f.Size);
                }
                continue;
            }
            var plan = PlanFor(f, descriptors.Count, kernelLongSize, hexFields.Contains(f.Name), out var descriptor);
            descriptors.Add(descriptor);
            plans.Add(plan);
            int fixedEnd = f.Storage switch
            {
                FtraceFieldStorage.Trailing => f.Offset,
                FtraceFieldStorage.DataLoc or FtraceFieldStorage.RelLoc => f.Offset + 4,
                _ => f.Offset + f.Size,
            };
            minLength = Math.Max(minLength, fixedEnd);
        }
        _plans = plans.ToArray();
        MinimumLength = minLength;
        Type = new EventType(format.Name, descriptors, format.System);
    }

    public FtraceEventFormat Format { get; }
    public EventType Type { get; }

    /// <summary>Bytes a record of this type needs to hold its fixed fields; shorter records are damaged.</summary>
    public int MinimumLength { get; }

    private static FieldPlan PlanFor(FtraceFormatField f, int slot, int kernelLongSize, bool printedInHex, out FieldDescriptor descriptor)
    {
        var signedness = f.Signed ? FieldKind.Signed : FieldKind.Unsigned;
        int displayBase = f.IsPointer || printedInHex ? 16 : 10;
        if (f.Storage == FtraceFieldStorage.Scalar)
        {
            descriptor = new FieldDescriptor(f.Name, signedness, displayBase);
            return new FieldPlan(PlanKind.Scalar, f.Offset, f.Size, f.Signed, f.Size, 0, slot);
        }
        if (f.IsText)
        {
            descriptor = new FieldDescriptor(f.Name, FieldKind.String);
            return new FieldPlan(f.Storage switch
            {
                FtraceFieldStorage.DataLoc => PlanKind.DataLocText,
                FtraceFieldStorage.RelLoc => PlanKind.RelLocText,
                FtraceFieldStorage.Trailing => PlanKind.TrailingText,
                _ => PlanKind.FixedText,
            }, f.Offset, f.Size, false, 1, f.ArrayLength, slot);
        }
        int elementSize = f.Storage == FtraceFieldStorage.FixedArray && f.ArrayLength > 0
            ? f.Size / f.ArrayLength
            : FtraceFormatParser.ElementSize(f.Type, kernelLongSize);
        if (elementSize is not (1 or 2 or 4 or 8))
            elementSize = 1;
        descriptor = new FieldDescriptor(f.Name, FieldKind.IntArray, displayBase, signedness);
        return new FieldPlan(f.Storage switch
        {
            FtraceFieldStorage.DataLoc => PlanKind.DataLocArray,
            FtraceFieldStorage.RelLoc => PlanKind.RelLocArray,
            FtraceFieldStorage.Trailing => PlanKind.TrailingArray,
            _ => PlanKind.FixedArray,
        }, f.Offset, f.Size, f.Signed, elementSize, f.ArrayLength, slot);
    }

    /// <summary>Thread id of the record (<c>common_pid</c>), or -1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int ReadPid(ReadOnlySpan<byte> payload)
    {
        if (_pidOffset < 0 || payload.Length < _pidOffset + _pidSize)
            return -1;
        return _pidSize == 4 ? (int)ReadUnsigned(payload.Slice(_pidOffset, 4), 4, _bigEndian) : (short)ReadUnsigned(payload.Slice(_pidOffset, 2), 2, _bigEndian);
    }

    /// <summary>Decodes the record's fields. False when the record is too short for its fixed fields.</summary>
    public bool Decode(ReadOnlySpan<byte> payload, EventRecordBuffer buffer)
    {
        buffer.Reset(Type);
        if (payload.Length < MinimumLength)
            return false;
        var plans = _plans;
        for (int i = 0; i < plans.Length; i++)
        {
            ref readonly var p = ref plans[i];
            switch (p.Kind)
            {
                case PlanKind.Scalar:
                    buffer.SetInt(p.Slot, ReadInteger(payload.Slice(p.Offset, p.Size), p.Size, p.Signed, _bigEndian));
                    break;
                case PlanKind.FixedText:
                    buffer.SetString(p.Slot, UpToNul(payload.Slice(p.Offset, p.Size)));
                    break;
                case PlanKind.TrailingText:
                    buffer.SetString(p.Slot, UpToNul(payload[p.Offset..]));
                    break;
                case PlanKind.DataLocText:
                case PlanKind.RelLocText:
                    buffer.SetString(p.Slot, UpToNul(Located(payload, p)));
                    break;
                case PlanKind.FixedArray:
                    SetArray(buffer, p, payload.Slice(p.Offset, p.Size));
                    break;
                case PlanKind.TrailingArray:
                    SetArray(buffer, p, payload[p.Offset..]);
                    break;
                default:
                    SetArray(buffer, p, Located(payload, p));
                    break;
            }
        }
        return true;
    }

    /// <summary>The bytes a __data_loc / __rel_loc field points at; empty when they lie outside the record.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ReadOnlySpan<byte> Located(ReadOnlySpan<byte> payload, in FieldPlan p)
    {
        uint loc = (uint)ReadUnsigned(payload.Slice(p.Offset, 4), 4, _bigEndian);
        int start = (int)(loc & 0xFFFF);
        int length = (int)(loc >> 16);
        if (p.Kind is PlanKind.RelLocText or PlanKind.RelLocArray)
            start += p.Offset + 4;
        if (start + length > payload.Length)
            return default;
        return payload.Slice(start, length);
    }

    private void SetArray(EventRecordBuffer buffer, in FieldPlan p, ReadOnlySpan<byte> bytes)
    {
        int start = buffer.BeginElements();
        int size = p.ElementSize;
        for (int at = 0; at + size <= bytes.Length; at += size)
            buffer.AppendElement(ReadInteger(bytes.Slice(at, size), size, p.Signed, _bigEndian));
        buffer.EndElements(p.Slot, start);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ReadOnlySpan<byte> UpToNul(ReadOnlySpan<byte> bytes)
    {
        int nul = bytes.IndexOf((byte)0);
        return nul >= 0 ? bytes[..nul] : bytes;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static long ReadInteger(ReadOnlySpan<byte> bytes, int size, bool signed, bool bigEndian)
    {
        ulong raw = ReadUnsigned(bytes, size, bigEndian);
        if (!signed)
            return (long)raw;
        return size switch
        {
            1 => (sbyte)raw,
            2 => (short)raw,
            4 => (int)raw,
            _ => (long)raw,
        };
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong ReadUnsigned(ReadOnlySpan<byte> bytes, int size, bool bigEndian) => size switch
    {
        1 => bytes[0],
        2 => bigEndian ? BinaryPrimitives.ReadUInt16BigEndian(bytes) : BinaryPrimitives.ReadUInt16LittleEndian(bytes),
        4 => bigEndian ? BinaryPrimitives.ReadUInt32BigEndian(bytes) : BinaryPrimitives.ReadUInt32LittleEndian(bytes),
        _ => bigEndian ? BinaryPrimitives.ReadUInt64BigEndian(bytes) : BinaryPrimitives.ReadUInt64LittleEndian(bytes),
    };

    private enum PlanKind : byte
    {
        Scalar,
        FixedText,
        TrailingText,
        DataLocText,
        RelLocText,
        FixedArray,
        TrailingArray,
        DataLocArray,
        RelLocArray,
    }

    private readonly record struct FieldPlan(PlanKind Kind, int Offset, int Size, bool Signed, int ElementSize, int Count, int Slot);
}
