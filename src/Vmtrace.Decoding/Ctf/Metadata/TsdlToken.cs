namespace Vmtrace.Decoding.Ctf;

internal enum TsdlTokenKind : byte
{
    End,
    Identifier,
    Number,
    String,
    Symbol,
}

/// <summary>One TSDL token; <see cref="Offset"/> is its character offset in the metadata text.</summary>
internal readonly record struct TsdlToken(TsdlTokenKind Kind, string Text, int Offset)
{
    public bool Is(string symbolOrWord) => Kind is TsdlTokenKind.Symbol or TsdlTokenKind.Identifier && Text == symbolOrWord;

    public override string ToString() => Kind == TsdlTokenKind.End ? "end of metadata" : $"'{Text}'";
}
