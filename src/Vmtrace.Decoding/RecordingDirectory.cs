namespace Vmtrace.Decoding;

/// <summary>
/// A directory as a host recording leaves it: one kernel trace (<c>trace.dat</c>, possibly <c>.xz</c>)
/// and the qemu log-backend files beside it (<c>qemu-VM.log[.xz]</c>). Read together, merged by time.
/// Other files (a perf-CTF tarball of the same run, consoles, JSON) are not inputs: reading a second
/// recording of the same run would count every event twice.
/// </summary>
public static class RecordingDirectory
{
    public static IReadOnlyList<string> FindInputs(string dir)
    {
        var files = Directory.EnumerateFiles(dir).Order(StringComparer.Ordinal).ToList();
        var kernel = files.Where(f => IsTraceDat(Path.GetFileName(f))).ToList();
        var qemuLogs = files.Where(f => IsQemuLogName(Path.GetFileName(f))).ToList();
        if (kernel.Count > 1)
        {
            // trace.dat and trace.dat.xz side by side are the same recording: prefer the plain file.
            var plain = kernel.Where(f => !f.EndsWith(".xz", StringComparison.OrdinalIgnoreCase)).ToList();
            kernel = plain.Count > 0 ? plain : kernel;
        }
        return [.. kernel, .. qemuLogs];
    }

    private static bool IsTraceDat(string name) =>
        name.EndsWith(".dat", StringComparison.OrdinalIgnoreCase) || name.EndsWith(".dat.xz", StringComparison.OrdinalIgnoreCase);

    private static bool IsQemuLogName(string name) =>
        name.StartsWith("qemu", StringComparison.OrdinalIgnoreCase)
        && (name.EndsWith(".log", StringComparison.OrdinalIgnoreCase) || name.EndsWith(".log.xz", StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// The agent's inventory (<c>vmmap.json</c>) beside an input or one directory up, else null.
    /// <c>vmtrace analyze</c> and the replaying agent look in the same places.
    /// </summary>
    public static string? FindInventory(IReadOnlyList<string> inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        foreach (var input in inputs)
        {
            string? dir = Directory.Exists(input) ? input : Path.GetDirectoryName(Path.GetFullPath(input));
            for (int up = 0; dir is not null && up < 2; up++, dir = Path.GetDirectoryName(dir))
            {
                string candidate = Path.Combine(dir, "vmmap.json");
                if (File.Exists(candidate))
                    return candidate;
            }
        }
        return null;
    }

    /// <summary>The host name when none is given: the name of the directory holding the trace.</summary>
    public static string DefaultHostName(string input)
    {
        ArgumentNullException.ThrowIfNull(input);
        string full = Path.GetFullPath(input).TrimEnd(Path.DirectorySeparatorChar);
        string? dir = Directory.Exists(full) ? full : Path.GetDirectoryName(full);
        string name = dir is null ? "" : Path.GetFileName(dir);
        return name.Length > 0 ? name : "host";
    }
}
