namespace Vmtrace.Agent.Live.Discovery;

/// <summary>What a qemu command line says about the VM: <c>-name</c> (plain, or <c>guest=…,debug-threads=on</c>), <c>-uuid</c>, tap ifnames, log-backend trace file.</summary>
public sealed record QemuCommandLine(string? Name, string? Uuid, IReadOnlyList<string> TapNames, string? LogFile, bool DebugThreads)
{
    /// <summary>Parses argv (the NUL-separated /proc/PID/cmdline split).</summary>
    public static QemuCommandLine Parse(IReadOnlyList<string> argv)
    {
        string? name = null, uuid = null, log = null;
        bool debugThreads = false;
        var taps = new List<string>();
        for (int i = 1; i < argv.Count; i++)
        {
            string opt = argv[i].StartsWith("--", StringComparison.Ordinal) ? argv[i][1..] : argv[i];
            string? value = i + 1 < argv.Count ? argv[i + 1] : null;
            switch (opt)
            {
                case "-name" when value is not null:
                    foreach (var (key, v) in Options(value, "guest"))
                    {
                        if (key == "guest")
                            name = v;
                        else if (key == "debug-threads")
                            debugThreads = v is "on" or "yes" or "true";
                    }
                    i++;
                    break;
                case "-uuid" when value is not null:
                    uuid = value;
                    i++;
                    break;
                case "-D" when value is not null:
                    log = value;
                    i++;
                    break;
                case "-netdev" or "-net" or "-nic" when value is not null:
                    var parts = Options(value, "type");
                    if (parts.Any(p => p is ("type", "tap") or ("type", "bridge")))
                    {
                        foreach (var (key, v) in parts)
                        {
                            if (key == "ifname" && v.Length > 0)
                                taps.Add(v);
                        }
                    }
                    i++;
                    break;
            }
        }
        return new QemuCommandLine(name, uuid, taps, log, debugThreads);
    }

    /// <summary>Splits qemu's "key=value,key=value" (",," is a literal comma); a first part without '=' belongs to <paramref name="implicitKey"/>.</summary>
    public static List<(string Key, string Value)> Options(string text, string implicitKey)
    {
        var parts = new List<string>();
        var current = new System.Text.StringBuilder();
        for (int i = 0; i < text.Length; i++)
        {
            if (text[i] == ',')
            {
                if (i + 1 < text.Length && text[i + 1] == ',')
                {
                    current.Append(',');
                    i++;
                    continue;
                }
                parts.Add(current.ToString());
                current.Clear();
                continue;
            }
            current.Append(text[i]);
        }
        parts.Add(current.ToString());
        var result = new List<(string, string)>();
        for (int i = 0; i < parts.Count; i++)
        {
            int eq = parts[i].IndexOf('=', StringComparison.Ordinal);
            if (eq < 0)
                result.Add(i == 0 ? (implicitKey, parts[i]) : (parts[i], "on"));
            else
                result.Add((parts[i][..eq], parts[i][(eq + 1)..]));
        }
        return result;
    }
}
