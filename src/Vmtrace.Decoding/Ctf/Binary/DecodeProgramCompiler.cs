namespace Vmtrace.Decoding.Ctf;

/// <summary>
/// Compiles CTF types into a flat <see cref="DecodeProgram"/> once per event class: integers, floats,
/// strings, text and integer arrays become single ops; structures are flattened into dotted slot names;
/// variants become a table jump with every option's leaves as optional slots; arrays of compound
/// elements become a repeat loop whose values are decoded but not kept.
/// </summary>
internal sealed class DecodeProgramCompiler
{
    private readonly CtfByteOrder _traceOrder;
    private readonly List<RegisterScope> _scopes;
    private readonly bool _lenient;
    private readonly List<DecodeOp> _ops = [];
    private readonly List<(int Group, int Local)> _opSlots = [];
    private readonly List<VariantCase[]> _tables = [];
    private readonly List<bool> _unsignedTags = [];
    private readonly List<List<FieldDescriptor>> _groups = [[], []];
    private int _nextRegister;

    /// <param name="traceOrder">What native byte order means.</param>
    /// <param name="outerScopes">Scopes compiled before (their registers stay valid while this program runs).</param>
    /// <param name="firstRegister">First free register.</param>
    /// <param name="lenient">True to flatten without resolving sequence lengths and variant tags (metadata inspection).</param>
    public DecodeProgramCompiler(CtfByteOrder traceOrder, IEnumerable<RegisterScope> outerScopes, int firstRegister, bool lenient = false)
    {
        _traceOrder = traceOrder == CtfByteOrder.Native ? CtfByteOrder.Little : traceOrder;
        _scopes = outerScopes.ToList();
        _nextRegister = firstRegister;
        _lenient = lenient;
    }

    /// <summary>Registers used so far (the reader sizes its register file with the maximum).</summary>
    public int RegisterCount => _nextRegister;

    /// <summary>Flattens a payload to slot descriptors without a trace (metadata API).</summary>
    public static IReadOnlyList<FieldDescriptor> Flatten(CtfStruct? payload, CtfByteOrder traceOrder)
    {
        var c = new DecodeProgramCompiler(traceOrder, [], 0, lenient: true);
        c.AddScope("event.fields", payload, slotGroup: 0, slotPrefix: "", headerRoles: false);
        return c.Build().Fields;
    }

    /// <summary>
    /// Emits the ops of one scope. Slots go to <paramref name="slotGroup"/> (0 first, then 1), named
    /// <paramref name="slotPrefix"/> + path; group -1 keeps no slots.
    /// </summary>
    public RegisterScope AddScope(string absoluteName, CtfStruct? type, int slotGroup, string slotPrefix, bool headerRoles)
    {
        var scope = new RegisterScope(absoluteName);
        _scopes.Add(scope);
        if (type is not null)
        {
            var ctx = new EmitContext(scope, slotGroup, slotPrefix, headerRoles, Optional: false);
            EmitStructBody(type, "", ctx);
        }
        return scope;
    }

    public DecodeProgram Build()
    {
        int group0 = _groups[0].Count;
        var ops = _ops.ToArray();
        for (int i = 0; i < ops.Length; i++)
        {
            var (group, local) = _opSlots[i];
            ops[i].Slot = group < 0 || local < 0 ? -1 : group == 0 ? local : group0 + local;
        }
        return new DecodeProgram(ops, [.. _tables], [.. _unsignedTags], [.. _groups[0], .. _groups[1]], _nextRegister);
    }

    private readonly record struct EmitContext(RegisterScope Scope, int SlotGroup, string SlotPrefix, bool HeaderRoles, bool Optional);

    private void EmitStructBody(CtfStruct st, string path, EmitContext ctx)
    {
        Emit(new DecodeOp { Code = DecodeOpCode.Align, Align = st.Alignment }, -1, -1);
        foreach (var f in st.Fields)
            EmitField(f.Type, Join(path, f.Name), ctx);
    }

    private static string Join(string path, string name) => path.Length == 0 ? name : path + "." + name;

    private static string SlotName(string prefix, string rawPath) =>
        prefix + string.Join('.', rawPath.Split('.').Select(p => p.Length > 1 && p[0] == '_' ? p[1..] : p));

    private int NewSlot(EmitContext ctx, string path, FieldKind kind, int displayBase = 10, FieldKind elementKind = FieldKind.Signed,
        IReadOnlyList<EnumMapping>? mappings = null)
    {
        if (ctx.SlotGroup < 0)
            return -1;
        var group = _groups[ctx.SlotGroup];
        group.Add(new FieldDescriptor(SlotName(ctx.SlotPrefix, path), kind, displayBase, elementKind, mappings, ctx.Optional));
        return group.Count - 1;
    }

    private void Emit(DecodeOp op, int group, int localSlot)
    {
        _ops.Add(op);
        _opSlots.Add((group, localSlot));
    }

    private CtfByteOrder Resolve(CtfByteOrder order) => order == CtfByteOrder.Native ? _traceOrder : order;

    private DecodeOp IntOp(CtfInteger i) => new()
    {
        Code = DecodeOpCode.Int,
        Size = (byte)i.Size,
        Align = i.Alignment,
        Signed = i.Signed,
        BigEndian = Resolve(i.ByteOrder) == CtfByteOrder.Big,
        Register = -1,
        LengthRegister = -1,
    };

    private void EmitField(CtfType type, string path, EmitContext ctx)
    {
        switch (type)
        {
            case CtfInteger i:
                EmitInteger(i, null, path, ctx);
                break;
            case CtfEnum e:
                EmitInteger(e.Container, e, path, ctx);
                break;
            case CtfFloat f:
            {
                int slot = NewSlot(ctx, path, FieldKind.Float);
                Emit(new DecodeOp
                {
                    Code = f.Size == 32 ? DecodeOpCode.Float32 : DecodeOpCode.Float64, Size = (byte)f.Size, Align = f.Alignment,
                    BigEndian = Resolve(f.ByteOrder) == CtfByteOrder.Big, Register = -1, LengthRegister = -1,
                }, ctx.SlotGroup, slot);
                break;
            }
            case CtfString:
            {
                int slot = NewSlot(ctx, path, FieldKind.String);
                Emit(new DecodeOp { Code = DecodeOpCode.String, Align = 8, Register = -1, LengthRegister = -1 }, ctx.SlotGroup, slot);
                break;
            }
            case CtfStruct st:
                EmitStructBody(st, path, ctx);
                break;
            case CtfVariant v:
                EmitVariant(v, path, ctx);
                break;
            case CtfArray a:
                EmitArray(a.Element, a.Length, -1, path, ctx);
                break;
            case CtfSequence s:
            {
                var (reg, _) = Lookup(s.LengthPath, path, ctx.Scope);
                if (reg < 0 && !_lenient)
                    throw new TraceFormatException("metadata", -1, $"sequence {path}: length field '{s.LengthPath}' not found");
                EmitArray(s.Element, -1, reg, path, ctx);
                break;
            }
            default:
                throw new TraceFormatException("metadata", -1, $"field {path}: unsupported type {type.GetType().Name}");
        }
    }

    private void EmitInteger(CtfInteger i, CtfEnum? e, string path, EmitContext ctx)
    {
        var op = IntOp(i);
        op.Register = _nextRegister++;
        if (ctx.HeaderRoles)
        {
            string leaf = path[(path.LastIndexOf('.') + 1)..].TrimStart('_');
            if (i.MappedClock is not null || leaf == "timestamp")
                op.Role = FieldRoleInHeader.ClockValue;
            else if (leaf == "id")
                op.Role = FieldRoleInHeader.EventId;
        }
        ctx.Scope.Paths[path] = (op.Register, (CtfType?)e ?? i);
        int slot = NewSlot(ctx, path, i.Signed ? FieldKind.Signed : FieldKind.Unsigned, i.DisplayBase, mappings: e?.Mappings);
        Emit(op, ctx.SlotGroup, slot);
    }

    private void EmitArray(CtfType element, long length, int lengthRegister, string path, EmitContext ctx)
    {
        bool isSequence = lengthRegister >= 0 || length < 0;
        var intElement = element as CtfInteger ?? (element as CtfEnum)?.Container;
        if (intElement is not null)
        {
            var op = IntOp(intElement);
            op.Length = length;
            op.LengthRegister = lengthRegister;
            int slot;
            if (intElement.IsText && intElement.Size == 8)
            {
                op.Code = isSequence ? DecodeOpCode.TextSequence : DecodeOpCode.TextArray;
                slot = NewSlot(ctx, path, FieldKind.String);
            }
            else
            {
                op.Code = isSequence ? DecodeOpCode.IntSequence : DecodeOpCode.IntArray;
                slot = NewSlot(ctx, path, FieldKind.IntArray, intElement.DisplayBase,
                    intElement.Signed ? FieldKind.Signed : FieldKind.Unsigned);
            }
            Emit(op, ctx.SlotGroup, slot);
            return;
        }

        // Compound elements: decoded (so later fields line up) but not kept.
        int begin = _ops.Count;
        Emit(new DecodeOp
        {
            Code = DecodeOpCode.RepeatBegin, Align = element.Alignment, Length = length, LengthRegister = lengthRegister, Register = -1,
        }, -1, -1);
        EmitField(element, path, ctx with { SlotGroup = -1 });
        int end = _ops.Count;
        Emit(new DecodeOp { Code = DecodeOpCode.RepeatEnd, Target = begin, Register = -1, LengthRegister = -1 }, -1, -1);
        var b = _ops[begin];
        b.Target = end;
        _ops[begin] = b;
    }

    private void EmitVariant(CtfVariant v, string path, EmitContext ctx)
    {
        int tagRegister = -1;
        CtfEnum? tagEnum = null;
        if (v.Tag is not null)
        {
            var (reg, type) = Lookup(v.Tag, path, ctx.Scope);
            tagRegister = reg;
            tagEnum = type as CtfEnum;
        }
        if ((tagRegister < 0 || tagEnum is null) && !_lenient)
            throw new TraceFormatException("metadata", -1, $"variant {path}: tag '{v.Tag}' is not an enum field declared before it");

        int variantIndex = _ops.Count;
        int table = _tables.Count;
        _tables.Add([]);
        _unsignedTags.Add(tagEnum is not null && !tagEnum.Container.Signed);
        Emit(new DecodeOp { Code = DecodeOpCode.Variant, Register = tagRegister, Table = table, LengthRegister = -1 }, -1, -1);

        var optionStarts = new int[v.Options.Count];
        var jumps = new List<int>();
        var inner = ctx with { Optional = true };
        for (int k = 0; k < v.Options.Count; k++)
        {
            optionStarts[k] = _ops.Count;
            EmitField(v.Options[k].Type, Join(path, v.Options[k].Name), inner);
            jumps.Add(_ops.Count);
            Emit(new DecodeOp { Code = DecodeOpCode.Jump, Register = -1, LengthRegister = -1 }, -1, -1);
        }
        int end = _ops.Count;
        foreach (int j in jumps)
        {
            var op = _ops[j];
            op.Target = end;
            _ops[j] = op;
        }
        var cases = new List<VariantCase>();
        if (tagEnum is not null)
        {
            foreach (var m in tagEnum.Mappings)
            {
                int k = IndexOfOption(v, m.Label);
                if (k >= 0)
                    cases.Add(new VariantCase(m.Low, m.High, optionStarts[k]));
            }
        }
        _tables[table] = [.. cases];
        _ = variantIndex;
    }

    private static int IndexOfOption(CtfVariant v, string label)
    {
        for (int k = 0; k < v.Options.Count; k++)
        {
            var name = v.Options[k].Name;
            if (name == label || (name.Length > 1 && name[0] == '_' && name.AsSpan(1).SequenceEqual(label)))
                return k;
        }
        return -1;
    }

    /// <summary>
    /// Resolves a sequence length or variant tag: absolute ("stream.event.context.x", "event.fields.x")
    /// or relative to the field being declared (innermost structure first, then enclosing scopes).
    /// </summary>
    private (int Register, CtfType? Type) Lookup(string reference, string fromPath, RegisterScope current)
    {
        foreach (var scope in _scopes)
        {
            var prefix = scope.AbsoluteName + ".";
            if (reference.StartsWith(prefix, StringComparison.Ordinal)
                && scope.Paths.TryGetValue(reference[prefix.Length..], out var abs))
                return abs;
        }
        // Relative: from the structure holding the field outwards.
        string container = fromPath.Contains('.') ? fromPath[..fromPath.LastIndexOf('.')] : "";
        while (true)
        {
            if (current.Paths.TryGetValue(Join(container, reference), out var hit))
                return hit;
            if (container.Length == 0)
                break;
            int dot = container.LastIndexOf('.');
            container = dot < 0 ? "" : container[..dot];
        }
        for (int s = _scopes.Count - 1; s >= 0; s--)
        {
            if (_scopes[s] != current && _scopes[s].Paths.TryGetValue(reference, out var outer))
                return outer;
        }
        return (-1, null);
    }
}
