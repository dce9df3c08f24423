namespace Vmtrace.Decoding.Ctf;

/// <summary>Splits TSDL text into tokens: identifiers, numbers, string literals, symbols; skips comments.</summary>
internal static class TsdlLexer
{
    public static List<TsdlToken> Tokenize(string text, string file)
    {
        var tokens = new List<TsdlToken>(text.Length / 4);
        int i = 0;
        while (i < text.Length)
        {
            char c = text[i];
            if (char.IsWhiteSpace(c))
            {
                i++;
                continue;
            }
            if (c == '/' && i + 1 < text.Length && text[i + 1] == '*')
            {
                int end = text.IndexOf("*/", i + 2, StringComparison.Ordinal);
                i = end < 0 ? text.Length : end + 2;
                continue;
            }
            if (c == '/' && i + 1 < text.Length && text[i + 1] == '/')
            {
                int end = text.IndexOf('\n', i);
                i = end < 0 ? text.Length : end + 1;
                continue;
            }
            int start = i;
            if (char.IsLetter(c) || c == '_')
            {
                while (i < text.Length && (char.IsLetterOrDigit(text[i]) || text[i] == '_'))
                    i++;
                tokens.Add(new TsdlToken(TsdlTokenKind.Identifier, text[start..i], start));
            }
            else if (char.IsAsciiDigit(c))
            {
                while (i < text.Length && (char.IsAsciiLetterOrDigit(text[i])))
                    i++;
                tokens.Add(new TsdlToken(TsdlTokenKind.Number, text[start..i], start));
            }
            else if (c is '"' or '\'')
            {
                i++;
                var sb = new System.Text.StringBuilder();
                while (i < text.Length && text[i] != c)
                {
                    if (text[i] == '\\' && i + 1 < text.Length)
                    {
                        i++;
                        sb.Append(text[i] switch { 'n' => '\n', 't' => '\t', '0' => '\0', _ => text[i] });
                    }
                    else
                    {
                        sb.Append(text[i]);
                    }
                    i++;
                }
                if (i >= text.Length)
                    throw TsdlParser.Error(text, file, start, "unterminated string literal");
                i++;
                tokens.Add(new TsdlToken(TsdlTokenKind.String, sb.ToString(), start));
            }
            else if (c == ':' && i + 1 < text.Length && text[i + 1] == '=')
            {
                i += 2;
                tokens.Add(new TsdlToken(TsdlTokenKind.Symbol, ":=", start));
            }
            else if (c == '.' && i + 2 < text.Length && text[i + 1] == '.' && text[i + 2] == '.')
            {
                i += 3;
                tokens.Add(new TsdlToken(TsdlTokenKind.Symbol, "...", start));
            }
            else if ("{}[]()<>;:=,.-+*".Contains(c))
            {
                i++;
                tokens.Add(new TsdlToken(TsdlTokenKind.Symbol, c.ToString(), start));
            }
            else
            {
                throw TsdlParser.Error(text, file, start, $"unexpected character U+{(int)c:X4}");
            }
        }
        tokens.Add(new TsdlToken(TsdlTokenKind.End, "", text.Length));
        return tokens;
    }
}
