using System.Globalization;
using System.IO.Compression;
using System.Text.RegularExpressions;

namespace Vmtrace.Analysis.Tests;

/// <summary>
/// An independent reference computed from trace-cmd's text export (<c>report -t -R</c>, beside the trace):
/// each kvm_exit pairs with the next kvm_entry of the same thread (handling latency), each kvm_entry with
/// the next kvm_exit of the same thread (guest time; an entry never followed by an exit runs to the last
/// event of the trace, as the analysis flushes there). That guest time is also split by the guest mode of the entry's rip
/// (kernel when bit 63 is set), and the runs whose exit's guest_rip is in the other half are counted.
/// </summary>
internal sealed partial class KvmExitReference
{
    public Dictionary<(int Tid, int Reason), (long Count, long Sum, long Min, long Max)> Exits { get; } = [];
    /// <summary>Per thread and reason, the sum of the squared latencies (exact), for standard deviations.</summary>
    public Dictionary<(int Tid, int Reason), Int128> SumSquares { get; } = [];
    public Dictionary<int, long> GuestNs { get; } = [];
    public Dictionary<int, int> VcpuIdOfThread { get; } = [];
    public Dictionary<int, long> GuestKernelNs { get; } = [];
    public Dictionary<int, long> GuestUserNs { get; } = [];
    /// <summary>Per thread, the entry → exit pairs and those whose exit RIP is in the other half than the entry's.</summary>
    public Dictionary<int, (long Runs, long Crossed)> ModeRuns { get; } = [];

    [GeneratedRegex(@"^\s*(?<comm>.*)-(?<tid>\d+)\s+\[(?<cpu>\d+)\]\s*(?<sec>\d+)(?:\.(?<frac>\d{9}))?: (?<name>\w+):\s*(?<fields>.*)$")]
    private static partial Regex Line();

    [GeneratedRegex(@"(?<key>\w+)=(?<value>\S+)")]
    private static partial Regex Field();

    public static KvmExitReference FromRawExport(string path)
    {
        var reference = new KvmExitReference();
        var pendingExit = new Dictionary<int, (long Ts, int Reason)>();
        var entryAt = new Dictionary<int, long>();
        var entryRip = new Dictionary<int, long>();
        long last = 0;
        using var stream = File.OpenRead(path);
        using Stream text = path.EndsWith(".gz", StringComparison.Ordinal) ? new GZipStream(stream, CompressionMode.Decompress) : stream;
        using var reader = new StreamReader(text);
        while (reader.ReadLine() is { } line)
        {
            var m = Line().Match(line);
            if (!m.Success)
                continue;
            long ts = long.Parse(m.Groups["sec"].Value, CultureInfo.InvariantCulture);
            if (m.Groups["frac"].Success)
                ts = ts * 1_000_000_000L + long.Parse(m.Groups["frac"].Value, CultureInfo.InvariantCulture);
            last = Math.Max(last, ts);
            int tid = int.Parse(m.Groups["tid"].Value, CultureInfo.InvariantCulture);
            string name = m.Groups["name"].Value;
            if (name == "kvm_entry")
            {
                reference.VcpuIdOfThread[tid] = (int)FieldValue(m.Groups["fields"].Value, "vcpu_id");
                if (pendingExit.Remove(tid, out var exit))
                {
                    var key = (tid, exit.Reason);
                    long lat = ts - exit.Ts;
                    reference.Exits[key] = reference.Exits.TryGetValue(key, out var s)
                        ? (s.Count + 1, s.Sum + lat, Math.Min(s.Min, lat), Math.Max(s.Max, lat))
                        : (1, lat, lat, lat);
                    reference.SumSquares[key] = reference.SumSquares.GetValueOrDefault(key) + (Int128)lat * lat;
                }
                entryAt[tid] = ts;
                entryRip[tid] = FieldValue(m.Groups["fields"].Value, "rip");
            }
            else if (name == "kvm_exit")
            {
                pendingExit[tid] = (ts, (int)FieldValue(m.Groups["fields"].Value, "exit_reason"));
                if (entryAt.Remove(tid, out long entered))
                {
                    reference.GuestNs[tid] = reference.GuestNs.GetValueOrDefault(tid) + (ts - entered);
                    long rip = entryRip[tid];
                    reference.AddModeTime(tid, rip, ts - entered);
                    bool crossed = rip < 0 != FieldValue(m.Groups["fields"].Value, "guest_rip") < 0;
                    var (runs, crossedRuns) = reference.ModeRuns.GetValueOrDefault(tid);
                    reference.ModeRuns[tid] = (runs + 1, crossedRuns + (crossed ? 1 : 0));
                }
            }
        }
        foreach (var (tid, entered) in entryAt)
        {
            reference.GuestNs[tid] = reference.GuestNs.GetValueOrDefault(tid) + (last - entered);
            reference.AddModeTime(tid, entryRip[tid], last - entered);
        }
        return reference;
    }

    private void AddModeTime(int tid, long rip, long ns)
    {
        var byMode = rip < 0 ? GuestKernelNs : GuestUserNs;
        byMode[tid] = byMode.GetValueOrDefault(tid) + ns;
    }

    private static long FieldValue(string fields, string key)
    {
        foreach (Match f in Field().Matches(fields))
        {
            if (f.Groups["key"].Value == key)
            {
                string v = f.Groups["value"].Value;
                return v.StartsWith("0x", StringComparison.Ordinal)
                    ? long.Parse(v.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture)
                    : long.Parse(v, CultureInfo.InvariantCulture);
            }
        }
        throw new InvalidDataException($"no field {key} in '{fields}'");
    }
}
