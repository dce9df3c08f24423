using System.Globalization;

namespace Vmtrace.Decoding.Ctf;

/// <summary>
/// Recursive-descent parser for CTF 1.8 TSDL: typealias/typedef, integer, floating_point, string,
/// enum, struct, variant, arrays and sequences, and the trace/env/clock/stream/event blocks.
/// Unknown blocks (callsite) and unknown attributes are skipped.
/// </summary>
internal sealed class TsdlParser
{
    private readonly string _text;
    private readonly string _file;
    private readonly List<TsdlToken> _tokens;
    private readonly Dictionary<string, CtfType> _types = new(StringComparer.Ordinal);
    private int _pos;
    private int _depth;
    private const int MaxNesting = 64;

    private int _major = 1, _minor = 8;
    private byte[]? _uuid;
    private CtfByteOrder _byteOrder = CtfByteOrder.Native;
    private CtfStruct? _packetHeader;
    private readonly Dictionary<string, string> _env = new(StringComparer.Ordinal);
    private readonly Dictionary<string, CtfClock> _clocks = new(StringComparer.Ordinal);
    private readonly List<CtfStreamClass> _streams = [];
    private readonly List<(long Id, string Name, long StreamId, CtfStruct? Context, CtfStruct? Payload)> _events = [];
    private readonly List<string> _warnings = [];

    private TsdlParser(string text, string file)
    {
        _text = text;
        _file = file;
        _tokens = TsdlLexer.Tokenize(text, file);
    }

    public static CtfMetadata Parse(string text, string file)
    {
        var p = new TsdlParser(text, file);
        p.ParseTop();
        return p.Build();
    }

    internal static TraceFormatException Error(string text, string file, int offset, string problem)
    {
        int line = 1;
        for (int i = 0; i < offset && i < text.Length; i++)
        {
            if (text[i] == '\n')
                line++;
        }
        return new TraceFormatException(file, offset, $"metadata line {line}: {problem}");
    }

    private TraceFormatException Error(string problem) => Error(_text, _file, Peek.Offset, problem);

    private TsdlToken Peek => _tokens[_pos];
    private TsdlToken PeekAt(int ahead) => _tokens[Math.Min(_pos + ahead, _tokens.Count - 1)];

    private TsdlToken Next()
    {
        var t = _tokens[_pos];
        if (t.Kind != TsdlTokenKind.End)
            _pos++;
        return t;
    }

    private bool Accept(string s)
    {
        if (Peek.Is(s))
        {
            _pos++;
            return true;
        }
        return false;
    }

    private void Expect(string s)
    {
        if (!Accept(s))
            throw Error($"expected '{s}' but found {Peek}");
    }

    private string ExpectIdentifier()
    {
        if (Peek.Kind != TsdlTokenKind.Identifier)
            throw Error($"expected a name but found {Peek}");
        return Next().Text;
    }

    private CtfMetadata Build()
    {
        var byteOrder = _byteOrder == CtfByteOrder.Native ? CtfByteOrder.Little : _byteOrder;
        var events = _events.Select(e => new CtfEventClass
        {
            Id = e.Id, Name = e.Name, StreamId = e.StreamId, Context = e.Context, Payload = e.Payload, TraceByteOrder = byteOrder,
        }).ToList();
        return new CtfMetadata(_major, _minor, _uuid, byteOrder, _packetHeader, _env, _clocks, _streams, events, _warnings);
    }

    private void ParseTop()
    {
        while (Peek.Kind != TsdlTokenKind.End)
        {
            int start = _pos;
            try
            {
                ParseTopStatement();
            }
            catch (TraceFormatException ex) when (start > 0 && IsCutShort(start))
            {
                // Metadata cut short (a live session, a partial copy): keep what was complete before.
                _warnings.Add($"metadata ends inside a declaration started at offset {_tokens[start].Offset}; that declaration is ignored ({ex.Problem})");
                return;
            }
        }
    }

    /// <summary>True when the statement starting at token <paramref name="start"/> never ends: the text stops inside it.</summary>
    private bool IsCutShort(int start)
    {
        int depth = 0;
        for (int i = start; i < _tokens.Count; i++)
        {
            var t = _tokens[i];
            if (t.Is("{"))
                depth++;
            else if (t.Is("}"))
                depth--;
            else if (t.Is(";") && depth <= 0)
                return false;
        }
        return true;
    }

    private void ParseTopStatement()
    {
        var t = Peek;
        if (Accept(";"))
            return;
        if (t.Is("typealias"))
            ParseTypealias();
        else if (t.Is("typedef"))
            ParseTypedef();
        else if (t.Kind == TsdlTokenKind.Identifier && PeekAt(1).Is("{")
            && t.Text is "trace" or "env" or "clock" or "stream" or "event" or "callsite")
            ParseBlock(t.Text);
        else if (t.Is("struct") || t.Is("variant") || t.Is("enum"))
        {
            ParseTypeSpecifier(declaratorFollows: false);
            // "struct name { … } field;" at top level declares nothing useful beyond the name.
            while (!Peek.Is(";") && Peek.Kind != TsdlTokenKind.End)
                Next();
            Expect(";");
        }
        else
            throw Error($"unexpected {t} at top level");
    }

    /// <summary>A lone ';', a typealias or a typedef inside a block: consumed (the alias is registered).</summary>
    private bool AcceptTypeDeclaration()
    {
        if (Accept(";"))
            return true;
        if (Peek.Is("typealias"))
        {
            ParseTypealias();
            return true;
        }
        if (Peek.Is("typedef"))
        {
            ParseTypedef();
            return true;
        }
        return false;
    }

    private void ParseTypealias()
    {
        Expect("typealias");
        var type = ParseTypeSpecifier(declaratorFollows: false);
        Expect(":=");
        var names = new List<string>();
        while (Peek.Kind == TsdlTokenKind.Identifier || Peek.Is("*"))
            names.Add(Next().Text);
        if (names.Count == 0)
            throw Error("typealias needs a name after ':='");
        _types[string.Join(' ', names)] = type;
        Expect(";");
    }

    private void ParseTypedef()
    {
        Expect("typedef");
        var type = ParseTypeSpecifier(declaratorFollows: true);
        var (name, declared) = ParseDeclarator(type);
        _types[name] = declared;
        Expect(";");
    }

    private void ParseBlock(string kind)
    {
        Next();
        Expect("{");
        var values = new Dictionary<string, object>(StringComparer.Ordinal);
        while (!Accept("}"))
        {
            if (Peek.Kind == TsdlTokenKind.End)
                throw Error($"unterminated {kind} block");
            if (AcceptTypeDeclaration())
                continue;
            var key = ParseDottedName();
            if (Accept(":="))
                values[key] = ParseTypeSpecifier(declaratorFollows: false);
            else
            {
                Expect("=");
                values[key] = ParseValue();
            }
            Expect(";");
        }
        Accept(";");

        switch (kind)
        {
            case "trace":
                _major = (int)GetNumber(values, "major", 1);
                _minor = (int)GetNumber(values, "minor", 8);
                if (values.TryGetValue("uuid", out var u) && u is string us)
                    _uuid = ParseUuid(us);
                if (values.TryGetValue("byte_order", out var bo))
                    _byteOrder = ParseByteOrder(bo.ToString()!);
                _packetHeader = GetStruct(values, "packet.header");
                break;
            case "env":
                foreach (var (k, v) in values)
                    _env[k] = Convert.ToString(v, CultureInfo.InvariantCulture) ?? "";
                break;
            case "clock":
                var name = values.TryGetValue("name", out var n) ? n.ToString()! : "clock";
                _clocks[name] = new CtfClock
                {
                    Name = name,
                    Description = values.TryGetValue("description", out var d) ? d.ToString() : null,
                    Frequency = (ulong)GetNumber(values, "freq", 1_000_000_000),
                    OffsetSeconds = GetNumber(values, "offset_s", 0),
                    OffsetCycles = GetNumber(values, "offset", 0),
                    Absolute = values.TryGetValue("absolute", out var a) && a.ToString()!.Equals("true", StringComparison.OrdinalIgnoreCase)
                        || (a is long al && al != 0),
                };
                if (_clocks[name].Frequency == 0)
                    throw Error($"clock {name} has frequency 0");
                break;
            case "stream":
                _streams.Add(new CtfStreamClass
                {
                    Id = GetNumber(values, "id", 0),
                    PacketContext = GetStruct(values, "packet.context"),
                    EventHeader = GetStruct(values, "event.header"),
                    EventContext = GetStruct(values, "event.context"),
                });
                break;
            case "event":
                _events.Add((GetNumber(values, "id", 0),
                    values.TryGetValue("name", out var en) ? en.ToString()! : "event" + GetNumber(values, "id", 0),
                    GetNumber(values, "stream_id", 0), GetStruct(values, "context"), GetStruct(values, "fields")));
                break;
        }
    }

    private static long GetNumber(Dictionary<string, object> values, string key, long fallback) =>
        values.TryGetValue(key, out var v) && v is long l ? l : fallback;

    private CtfStruct? GetStruct(Dictionary<string, object> values, string key)
    {
        if (!values.TryGetValue(key, out var v))
            return null;
        return v switch
        {
            CtfStruct s => s,
            // A layout that is not a struct (rare): wrap it so every scope is a struct.
            CtfType t => new CtfStruct([new CtfField(key, t)], 1),
            _ => throw Error($"{key} must be a type"),
        };
    }

    private static byte[]? ParseUuid(string s)
    {
        var hex = s.Replace("-", "", StringComparison.Ordinal);
        if (hex.Length != 32)
            return null;
        try
        {
            return Convert.FromHexString(hex);
        }
        catch (FormatException)
        {
            return null;
        }
    }

    private string ParseDottedName()
    {
        var name = ExpectIdentifier();
        while (Peek.Is(".") && PeekAt(1).Kind == TsdlTokenKind.Identifier)
        {
            Next();
            name += "." + Next().Text;
        }
        return name;
    }

    /// <summary>A value after '=': number, string or dotted name (le, UTF8, clock.monotonic.value).</summary>
    private object ParseValue()
    {
        if (Peek.Kind == TsdlTokenKind.String)
            return Next().Text;
        if (Peek.Kind == TsdlTokenKind.Number || Peek.Is("-") || Peek.Is("+"))
            return ParseInteger();
        if (Peek.Kind == TsdlTokenKind.Identifier)
            return ParseDottedName();
        throw Error($"expected a value but found {Peek}");
    }

    private long ParseInteger()
    {
        bool negative = false;
        if (Accept("-"))
            negative = true;
        else
            Accept("+");
        if (Peek.Kind != TsdlTokenKind.Number)
            throw Error($"expected a number but found {Peek}");
        var text = Next().Text.TrimEnd('u', 'U', 'l', 'L');
        ulong value;
        bool ok;
        if (text.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
            ok = ulong.TryParse(text.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value);
        else if (text.Length > 1 && text[0] == '0')
        {
            ok = true;
            value = 0;
            foreach (char c in text.AsSpan(1))
            {
                if (c is < '0' or > '7')
                {
                    ok = false;
                    break;
                }
                value = value * 8 + (ulong)(c - '0');
            }
        }
        else
            ok = ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);
        if (!ok)
        {
            _pos--;
            throw Error($"bad number {Peek}");
        }
        return negative ? -(long)value : (long)value;
    }

    private static CtfByteOrder ParseByteOrder(string s) => s switch
    {
        "le" or "little" => CtfByteOrder.Little,
        "be" or "big" or "network" => CtfByteOrder.Big,
        _ => CtfByteOrder.Native,
    };

    /// <summary>
    /// A type specifier. With <paramref name="declaratorFollows"/>, a run of identifiers keeps its last
    /// one for the declarator ("unsigned long events_discarded").
    /// </summary>
    private CtfType ParseTypeSpecifier(bool declaratorFollows)
    {
        while (Peek.Is("const"))
            Next();
        var t = Peek;
        if (t.Is("integer"))
        {
            Next();
            return ParseInteger(ParseAttributes());
        }
        if (t.Is("floating_point"))
        {
            Next();
            return ParseFloat(ParseAttributes());
        }
        if (t.Is("string"))
        {
            Next();
            if (Peek.Is("{"))
                ParseAttributes();
            return CtfString.Instance;
        }
        if (t.Is("struct"))
            return ParseStruct();
        if (t.Is("variant"))
            return ParseVariant();
        if (t.Is("enum"))
            return ParseEnum();
        if (t.Kind != TsdlTokenKind.Identifier)
            throw Error($"expected a type but found {t}");

        int count = 0;
        while (PeekAt(count).Kind == TsdlTokenKind.Identifier)
            count++;
        if (declaratorFollows)
            count--;
        // Longest run of words that names a known type.
        for (int n = count; n >= 1; n--)
        {
            var name = string.Join(' ', Enumerable.Range(0, n).Select(i => PeekAt(i).Text));
            if (_types.TryGetValue(name, out var known))
            {
                _pos += n;
                return known;
            }
        }
        throw Error($"unknown type {t}");
    }

    private Dictionary<string, object> ParseAttributes()
    {
        Expect("{");
        var values = new Dictionary<string, object>(StringComparer.Ordinal);
        while (!Accept("}"))
        {
            if (Peek.Kind == TsdlTokenKind.End)
                throw Error("unterminated type attributes");
            if (Accept(";"))
                continue;
            var key = ParseDottedName();
            Expect("=");
            values[key] = ParseValue();
            if (!Peek.Is("}"))
                Expect(";");
        }
        return values;
    }

    private CtfInteger ParseInteger(Dictionary<string, object> a)
    {
        long size = GetNumber(a, "size", -1);
        if (size is < 1 or > 64)
            throw Error($"integer size {size} is not 1..64");
        long align = a.TryGetValue("align", out var al) && al is long l ? l : size % 8 == 0 ? 8 : 1;
        if (!IsPowerOfTwo(align))
            throw Error($"integer alignment {align} is not a power of two");
        bool signed = a.TryGetValue("signed", out var s) && (s is long sl ? sl != 0 : s.ToString()!.Equals("true", StringComparison.OrdinalIgnoreCase));
        var bo = a.TryGetValue("byte_order", out var b) ? ParseByteOrder(b.ToString()!) : CtfByteOrder.Native;
        int displayBase = 10;
        if (a.TryGetValue("base", out var bs))
        {
            displayBase = bs switch
            {
                long n => (int)n,
                string str => str switch
                {
                    "hexadecimal" or "hex" or "x" or "X" or "p" => 16,
                    "octal" or "oct" or "o" => 8,
                    "binary" or "b" => 2,
                    _ => 10,
                },
                _ => 10,
            };
        }
        bool isText = a.TryGetValue("encoding", out var enc) && enc.ToString() is "UTF8" or "ASCII" or "utf8" or "ascii";
        string? clock = null;
        if (a.TryGetValue("map", out var m) && m is string ms && ms.StartsWith("clock.", StringComparison.Ordinal))
        {
            var parts = ms.Split('.');
            if (parts.Length >= 2)
                clock = parts[1];
        }
        return new CtfInteger((int)size, (int)align, signed, bo, displayBase, isText, clock);
    }

    private CtfFloat ParseFloat(Dictionary<string, object> a)
    {
        long exp = GetNumber(a, "exp_dig", 8), mant = GetNumber(a, "mant_dig", 24);
        if (!(exp == 8 && mant == 24) && !(exp == 11 && mant == 53))
            throw Error($"floating_point exp_dig {exp} mant_dig {mant} is neither 32 nor 64 bits");
        long align = GetNumber(a, "align", 8);
        if (!IsPowerOfTwo(align))
            throw Error($"floating_point alignment {align} is not a power of two");
        var bo = a.TryGetValue("byte_order", out var b) ? ParseByteOrder(b.ToString()!) : CtfByteOrder.Native;
        return new CtfFloat((int)exp, (int)mant, (int)align, bo);
    }

    private CtfType ParseStruct()
    {
        Expect("struct");
        string? name = Peek.Kind == TsdlTokenKind.Identifier ? Next().Text : null;
        if (!Peek.Is("{"))
        {
            if (name is null || !_types.TryGetValue("struct " + name, out var known))
                throw Error($"unknown struct {name}");
            return known;
        }
        var fields = ParseFields();
        int align = 1;
        if (Accept("align"))
        {
            Expect("(");
            long requested = ParseInteger();
            if (!IsPowerOfTwo(requested))
                throw Error($"struct alignment {requested} is not a power of two");
            align = (int)requested;
            Expect(")");
        }
        var st = new CtfStruct(fields, align);
        if (name is not null)
            _types["struct " + name] = st;
        return st;
    }

    private CtfType ParseVariant()
    {
        Expect("variant");
        string? name = Peek.Kind == TsdlTokenKind.Identifier ? Next().Text : null;
        string? tag = null;
        if (Accept("<"))
        {
            tag = ParseDottedName();
            Expect(">");
        }
        if (!Peek.Is("{"))
        {
            if (name is null || !_types.TryGetValue("variant " + name, out var known) || known is not CtfVariant kv)
                throw Error($"unknown variant {name}");
            return tag is null ? kv : kv.WithTag(tag);
        }
        var v = new CtfVariant(tag, ParseFields());
        if (name is not null)
            _types["variant " + name] = v;
        return v;
    }

    private CtfType ParseEnum()
    {
        Expect("enum");
        string? name = Peek.Kind == TsdlTokenKind.Identifier ? Next().Text : null;
        CtfType container;
        if (Accept(":"))
            container = ParseTypeSpecifier(declaratorFollows: false);
        else if (!Peek.Is("{"))
        {
            if (name is null || !_types.TryGetValue("enum " + name, out var known))
                throw Error($"unknown enum {name}");
            return known;
        }
        else if (!_types.TryGetValue("int", out container!))
            throw Error("enum without a container type and no 'int' typealias");
        if (container is not CtfInteger ci)
            throw Error("enum container must be an integer");
        Expect("{");
        var mappings = new List<EnumMapping>();
        long next = 0;
        while (!Accept("}"))
        {
            if (Peek.Kind is not (TsdlTokenKind.Identifier or TsdlTokenKind.String))
                throw Error($"expected an enum label but found {Peek}");
            var label = Next().Text;
            long low = next, high = next;
            if (Accept("="))
            {
                low = high = ParseInteger();
                if (Accept("..."))
                    high = ParseInteger();
            }
            mappings.Add(new EnumMapping(label, low, high));
            next = high + 1;
            if (!Accept(","))
            {
                Expect("}");
                break;
            }
        }
        var e = new CtfEnum(ci, mappings);
        if (name is not null)
            _types["enum " + name] = e;
        return e;
    }

    private static bool IsPowerOfTwo(long value) => value is >= 1 and <= 1L << 30 && (value & (value - 1)) == 0;

    private List<CtfField> ParseFields()
    {
        // Bounded nesting: hostile metadata must not exhaust the stack.
        if (++_depth > MaxNesting)
            throw Error($"structures nested deeper than {MaxNesting}");
        try
        {
            return ParseFieldsBody();
        }
        finally
        {
            _depth--;
        }
    }

    private List<CtfField> ParseFieldsBody()
    {
        Expect("{");
        var fields = new List<CtfField>();
        while (!Accept("}"))
        {
            if (Peek.Kind == TsdlTokenKind.End)
                throw Error("unterminated struct or variant");
            if (AcceptTypeDeclaration())
                continue;
            var type = ParseTypeSpecifier(declaratorFollows: true);
            if (Accept(";"))
                continue; // a nested named type declaration without a field
            while (true)
            {
                var (name, declared) = ParseDeclarator(type);
                fields.Add(new CtfField(name, declared));
                if (!Accept(","))
                    break;
            }
            Expect(";");
        }
        return fields;
    }

    /// <summary>name, name[4], name[len], name[2][3] (outermost dimension first).</summary>
    private (string Name, CtfType Type) ParseDeclarator(CtfType type)
    {
        while (Accept("*"))
        {
        }
        var name = ExpectIdentifier();
        var dims = new List<object>();
        while (Accept("["))
        {
            if (Peek.Kind == TsdlTokenKind.Number)
                dims.Add(ParseInteger());
            else
                dims.Add(ParseDottedName());
            Expect("]");
        }
        for (int i = dims.Count - 1; i >= 0; i--)
        {
            type = dims[i] switch
            {
                long n when n >= 0 => new CtfArray(type, n),
                string path => new CtfSequence(type, path),
                _ => throw Error($"negative array length for {name}"),
            };
        }
        return (name, type);
    }
}
