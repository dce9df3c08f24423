using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace Vmtrace.Decoding.Ctf;

/// <summary>
/// Runs <see cref="DecodeProgram"/>s over one packet's bytes: a bit position, the content limit,
/// the register file, and the running clock. Allocates nothing; problems throw
/// <see cref="TraceFormatException"/> (via throw helpers kept out of the hot loop) with the byte offset
/// in the file.
/// </summary>
internal sealed class DecodeMachine(string file)
{
    private const int MaxRepeatDepth = 32;
    private readonly int[] _repeatLeft = new int[MaxRepeatDepth];
    private long[] _registers = new long[64];

    /// <summary>Read position in bits from the packet start.</summary>
    public long Position;
    /// <summary>End of the packet content in bits.</summary>
    public long Limit;
    /// <summary>File offset of the packet start, for messages.</summary>
    public long PacketOffset;
    /// <summary>The clock in cycles, updated by event-header timestamps.</summary>
    public ulong Clock;
    /// <summary>The event class id the last event header gave.</summary>
    public long EventId;

    public long[] Registers => _registers;

    private void GrowRegisters(int count) => Array.Resize(ref _registers, Math.Max(count, _registers.Length * 2));

    /// <summary>Runs a program; values with slots go into <paramref name="buffer"/> (may be null for slot-less programs).</summary>
    public void Run(ReadOnlySpan<byte> data, DecodeProgram program, EventRecordBuffer? buffer)
    {
        var ops = program.Ops;
        if (program.RegisterCount > _registers.Length)
            GrowRegisters(program.RegisterCount);
        var regs = _registers;
        int depth = 0;
        for (int pc = 0; pc < ops.Length; pc++)
        {
            ref readonly var op = ref ops[pc];
            switch (op.Code)
            {
                case DecodeOpCode.Int:
                {
                    AlignTo(op.Align);
                    long value = ReadInt(data, op.Size, op.Signed, op.BigEndian);
                    regs[op.Register] = value;
                    if (op.Slot >= 0)
                        buffer!.SetInt(op.Slot, value);
                    if (op.Role != FieldRoleInHeader.None)
                        ApplyRole(op.Role, value, op.Size);
                    break;
                }
                case DecodeOpCode.Align:
                    AlignTo(op.Align);
                    break;
                case DecodeOpCode.Float32:
                {
                    AlignTo(op.Align);
                    uint bits = (uint)ReadBits(data, 32, op.BigEndian);
                    if (op.Slot >= 0)
                        buffer!.SetDouble(op.Slot, BitConverter.UInt32BitsToSingle(bits));
                    break;
                }
                case DecodeOpCode.Float64:
                {
                    AlignTo(op.Align);
                    ulong bits = ReadBits(data, 64, op.BigEndian);
                    if (op.Slot >= 0)
                        buffer!.SetInt(op.Slot, (long)bits);
                    break;
                }
                case DecodeOpCode.String:
                    ReadString(data, op.Slot, buffer);
                    break;
                case DecodeOpCode.TextArray:
                    ReadText(data, op.Length, op.Slot, buffer);
                    break;
                case DecodeOpCode.TextSequence:
                    ReadText(data, regs[op.LengthRegister], op.Slot, buffer);
                    break;
                case DecodeOpCode.IntArray:
                    ReadIntArray(data, in op, op.Length, buffer);
                    break;
                case DecodeOpCode.IntSequence:
                    ReadIntArray(data, in op, regs[op.LengthRegister], buffer);
                    break;
                case DecodeOpCode.Variant:
                    pc = SelectOption(program, in op) - 1;
                    break;
                case DecodeOpCode.Jump:
                    pc = op.Target - 1;
                    break;
                case DecodeOpCode.RepeatBegin:
                {
                    long count = op.LengthRegister >= 0 ? regs[op.LengthRegister] : op.Length;
                    CheckCount(count, 1);
                    if (count == 0)
                    {
                        pc = op.Target; // past RepeatEnd
                        break;
                    }
                    if (depth == MaxRepeatDepth)
                        ThrowFormat("arrays nested too deeply");
                    _repeatLeft[depth++] = (int)count;
                    break;
                }
                case DecodeOpCode.RepeatEnd:
                    if (--_repeatLeft[depth - 1] > 0)
                        pc = op.Target;
                    else
                        depth--;
                    break;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void AlignTo(int align)
    {
        long mask = align - 1;
        Position = (Position + mask) & ~mask;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ulong ReadBits(ReadOnlySpan<byte> data, int size, bool bigEndian)
    {
        long end = Position + size;
        if (end > Limit)
            ThrowPastEnd(size);
        ulong v = BitReader.Read(data, Position, size, bigEndian);
        Position = end;
        return v;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private long ReadInt(ReadOnlySpan<byte> data, int size, bool signed, bool bigEndian)
    {
        ulong raw = ReadBits(data, size, bigEndian);
        return signed ? BitReader.SignExtend(raw, size) : (long)raw;
    }

    private void ApplyRole(FieldRoleInHeader role, long value, int size)
    {
        if (role == FieldRoleInHeader.EventId)
        {
            EventId = value;
            return;
        }
        // A timestamp of N bits replaces the low N bits of the clock; fewer than before means it wrapped.
        // Equal low bits are the same time, not a wrap.
        if (size >= 64)
        {
            Clock = (ulong)value;
            return;
        }
        ulong mask = (1UL << size) - 1;
        ulong low = (ulong)value & mask;
        ulong current = Clock & mask;
        ulong high = Clock & ~mask;
        if (low < current)
            high += mask + 1;
        Clock = high | low;
    }

    private void ReadString(ReadOnlySpan<byte> data, int slot, EventRecordBuffer? buffer)
    {
        AlignTo(8);
        int start = (int)(Position >> 3);
        int end = (int)(Limit >> 3);
        if (start > end)
            ThrowPastEnd(8);
        int nul = data[start..end].IndexOf((byte)0);
        if (nul < 0)
            ThrowFormat("string runs past the packet content");
        if (slot >= 0)
            buffer!.SetString(slot, data.Slice(start, nul));
        Position = (long)(start + nul + 1) << 3;
    }

    private void ReadText(ReadOnlySpan<byte> data, long length, int slot, EventRecordBuffer? buffer)
    {
        AlignTo(8);
        CheckCount(length, 8);
        int start = (int)(Position >> 3);
        var text = data.Slice(start, (int)length);
        int nul = text.IndexOf((byte)0);
        if (slot >= 0)
            buffer!.SetString(slot, nul < 0 ? text : text[..nul]);
        Position += length << 3;
    }

    private void ReadIntArray(ReadOnlySpan<byte> data, in DecodeOp op, long count, EventRecordBuffer? buffer)
    {
        CheckCount(count, op.Size);
        if (op.Slot < 0)
        {
            for (long i = 0; i < count; i++)
            {
                AlignTo(op.Align);
                ReadInt(data, op.Size, op.Signed, op.BigEndian);
            }
            return;
        }
        int start = buffer!.BeginElements();
        for (long i = 0; i < count; i++)
        {
            AlignTo(op.Align);
            buffer.AppendElement(ReadInt(data, op.Size, op.Signed, op.BigEndian));
        }
        buffer.EndElements(op.Slot, start);
    }

    /// <summary>Rejects negative or absurd element counts before any loop or allocation.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void CheckCount(long count, int minimumBitsPerElement)
    {
        if (count < 0 || count > (Limit - Position) / minimumBitsPerElement)
            ThrowBadLength(count);
    }

    private int SelectOption(DecodeProgram program, in DecodeOp op)
    {
        if (op.Register < 0)
            ThrowFormat("variant without a resolvable tag");
        long tag = _registers[op.Register];
        var table = program.VariantTables[op.Table];
        bool unsignedTag = program.UnsignedTags[op.Table];
        foreach (var c in table)
        {
            if (unsignedTag ? (ulong)tag >= (ulong)c.Low && (ulong)tag <= (ulong)c.High : tag >= c.Low && tag <= c.High)
                return c.Target;
        }
        ThrowFormat($"variant tag {tag} selects no option");
        return -1;
    }

    private long ByteOffset => PacketOffset + (Position >> 3);

    [DoesNotReturn]
    private void ThrowPastEnd(int size) =>
        throw new TraceFormatException(file, ByteOffset, $"event runs past the packet content (needs {size} bits at bit {Position} of {Limit})");

    [DoesNotReturn]
    private void ThrowBadLength(long count) =>
        throw new TraceFormatException(file, ByteOffset, $"array or sequence length {count} does not fit in the packet");

    [DoesNotReturn]
    public void ThrowFormat(string problem) => throw new TraceFormatException(file, ByteOffset, problem);
}
