using System.Text.Json;
using System.Text.RegularExpressions;

namespace Vmtrace.Analysis;

/// <summary>
/// Reads the agent's <c>vmmap.json</c> (the format of the sample traces): <c>{"vms": [{"name", "pid",
/// "threads": [{"tid", "comm"}], "netns_tap", "cmdline"}]}</c>. Tap devices come from <c>netns_tap</c> and
/// from <c>ifname=</c> in qemu's command line; a VM without a name is named from the command line's <c>-name</c>
/// (<c>-name NAME</c> or <c>-name guest=NAME,…</c>). Parses text; the caller reads the file.
/// </summary>
public static partial class VmMapJson
{
    [GeneratedRegex(@"ifname=([^,\s]+)")]
    private static partial Regex IfName();

    [GeneratedRegex(@"(?:^|\s)--?name\s+(\S+)")]
    private static partial Regex NameOption();

    /// <summary>The VM name of a qemu command line: <c>-name NAME</c> or <c>-name guest=NAME,…</c>; null when it has none.</summary>
    public static string? NameFromCommandLine(string cmdline)
    {
        ArgumentNullException.ThrowIfNull(cmdline);
        var m = NameOption().Match(cmdline);
        if (!m.Success)
            return null;
        var parts = m.Groups[1].Value.Split(',');
        if (!parts[0].Contains('=', StringComparison.Ordinal))
            return parts[0].Length > 0 ? parts[0] : null;
        foreach (var part in parts)
        {
            if (part.StartsWith("guest=", StringComparison.Ordinal) && part.Length > 6)
                return part[6..];
        }
        return null;
    }

    public static IReadOnlyList<VmInventory> Parse(string json)
    {
        using var doc = JsonDocument.Parse(json);
        var list = new List<VmInventory>();
        if (!doc.RootElement.TryGetProperty("vms", out var vms) || vms.ValueKind != JsonValueKind.Array)
            throw new FormatException("vmmap.json: no \"vms\" array");
        foreach (var vm in vms.EnumerateArray())
        {
            string name = vm.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString()! : "";
            if (!vm.TryGetProperty("pid", out var p) || p.ValueKind != JsonValueKind.Number || !p.TryGetInt32(out int pid) || pid <= 0)
                throw new FormatException($"vmmap.json: VM '{name}' has no valid pid");
            if (name.Length == 0 && vm.TryGetProperty("cmdline", out var line) && line.ValueKind == JsonValueKind.String)
                name = NameFromCommandLine(line.GetString()!) ?? "";
            if (name.Length == 0)
                name = "qemu-" + pid.ToString(System.Globalization.CultureInfo.InvariantCulture);
            var threads = new List<InventoryThread>();
            if (vm.TryGetProperty("threads", out var ths) && ths.ValueKind == JsonValueKind.Array)
            {
                foreach (var th in ths.EnumerateArray())
                {
                    if (th.TryGetProperty("tid", out var t) && t.ValueKind == JsonValueKind.Number && t.TryGetInt32(out int tid) && tid > 0)
                    {
                        string comm = th.TryGetProperty("comm", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString()! : "";
                        threads.Add(new InventoryThread(tid, comm));
                    }
                }
            }
            var taps = new List<string>();
            if (vm.TryGetProperty("netns_tap", out var tap) && tap.ValueKind == JsonValueKind.String && tap.GetString() is { Length: > 0 } tapName)
                taps.Add(tapName);
            if (vm.TryGetProperty("cmdline", out var cmd) && cmd.ValueKind == JsonValueKind.String)
            {
                foreach (Match m in IfName().Matches(cmd.GetString()!))
                {
                    if (!taps.Contains(m.Groups[1].Value))
                        taps.Add(m.Groups[1].Value);
                }
            }
            list.Add(new VmInventory(name, pid, threads, taps));
        }
        return list;
    }
}
