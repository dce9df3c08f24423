namespace Vmtrace.Decoding.Ctf;

/// <summary>
/// The integers of one dynamic scope (trace.packet.header, stream.event.context, event.fields…) by raw
/// dotted path, with the register each is decoded into: how sequences and variants find their
/// length or tag, and how the reader finds magic, stream_id, content_size….
/// </summary>
internal sealed class RegisterScope(string absoluteName)
{
    public string AbsoluteName { get; } = absoluteName;
    public Dictionary<string, (int Register, CtfType Type)> Paths { get; } = new(StringComparer.Ordinal);

    /// <summary>Register of a top-level or dotted field path, or -1.</summary>
    public int Find(string path) => Paths.TryGetValue(path, out var r) ? r.Register : -1;

    /// <summary>Register of the first field whose last path component (without leading underscore) is <paramref name="name"/>.</summary>
    public int FindLeaf(string name)
    {
        foreach (var (path, entry) in Paths)
        {
            int dot = path.LastIndexOf('.');
            var leaf = path[(dot + 1)..];
            if (leaf == name || (leaf.Length > 0 && leaf[0] == '_' && leaf.AsSpan(1).SequenceEqual(name)))
                return entry.Register;
        }
        return -1;
    }
}
