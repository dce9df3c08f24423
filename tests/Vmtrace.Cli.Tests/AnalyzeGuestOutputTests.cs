using System.Text;
using System.Text.Json;
using Vmtrace.Analysis;
using Vmtrace.InfluxDb;
using Vmtrace.TestSupport;

namespace Vmtrace.Cli.Tests;

/// <summary><c>analyze HOST --guest NAME=GUEST</c> as line protocol (<c>vmtrace_guest_thread</c>) and CSV (the guest table after the VM rows).</summary>
public class AnalyzeGuestOutputTests
{
    private const string Stub = "tracecompass-vm-xml-stubs/OneQemuKvm/";
    private const string Pair = "hip24-kvm-host-guest-pair/";

    /// <summary>GROUND_TRUTH.md A.4: guest thread 130 runs 190 ns, 100 in guest, 40 with its vCPU in VMM, 50 preempted; at the range's end.</summary>
    [CorpusFact]
    public async Task LineProtocol_StubWithGuest_Thread130PointAtTheRangesEnd()
    {
        string[] args = ["analyze", Corpus.Path(Stub + "host.xml"), "--guest", "qemu-t31=" + Corpus.Path(Stub + "guest.xml"), "--host", "lab", "--no-progress"];
        var json = await CliRun.RunAsync([.. args, "--format", "json"]);
        var lp = await CliRun.RunAsync([.. args, "--format", "line-protocol"]);

        Assert.Equal((0, 0), (json.ExitCode, lp.ExitCode));
        Assert.DoesNotContain("guest", lp.Stderr, StringComparison.Ordinal);
        using var doc = JsonDocument.Parse(json.Stdout);
        long end = doc.RootElement.GetProperty("total").GetProperty("end_ns").GetInt64();
        Assert.Equal(doc.RootElement.GetProperty("last_event_ns").GetInt64(), end);
        Assert.Contains($"vmtrace_guest_thread,host=lab,vm=qemu-t31,guest=qemu-t31,tid=130,comm=any run_ns=190i,in_guest_ns=100i,hypervisor_ns=40i,preempted_ns=50i,unknown_ns=0i {end}",
            lp.StdoutLines);
        // The guest points come last, one per guest thread of the JSON.
        int threads = doc.RootElement.GetProperty("guests")[0].GetProperty("threads").GetArrayLength();
        Assert.All(lp.StdoutLines[^threads..], l => Assert.StartsWith("vmtrace_guest_thread,", l, StringComparison.Ordinal));
        Assert.Equal(threads, lp.StdoutLines.Count(l => l.StartsWith("vmtrace_guest_thread,", StringComparison.Ordinal)));
    }

    [CorpusFact]
    public async Task Csv_StubWithGuest_GuestTableFollowsTheVmRowsAfterAnEmptyLine()
    {
        var r = await CliRun.RunAsync("analyze", Corpus.Path(Stub + "host.xml"), "--guest", "qemu-t31=" + Corpus.Path(Stub + "guest.xml"),
            "--host", "lab", "--format", "csv", "--no-progress");

        Assert.Equal(0, r.ExitCode);
        var lines = r.Stdout.ReplaceLineEndings("\n").Split('\n');
        int blank = Array.IndexOf(lines, "");
        Assert.Equal(string.Join(',', MetricSchema.Csv.Row.Fields.Select(f => f.Name)), lines[0]);
        Assert.True(blank > 1, "no VM row before the guest table");
        Assert.Equal("host,guest,vm,tid,comm,run_ns,in_guest_ns,hypervisor_ns,preempted_ns,unknown_ns", lines[blank + 1]);
        Assert.Contains("lab,qemu-t31,qemu-t31,130,any,190,100,40,50,0", lines[(blank + 2)..]);
    }

    /// <summary>
    /// The hip24 pair (a real trace-cmd host+guest recording): every guest thread of the JSON is one point and one CSV row
    /// with the same figures, the point's fields those of the table in its order.
    /// </summary>
    [CorpusFact]
    public async Task LineProtocolAndCsv_Hip24Pair_HoldTheJsonsGuestThreads()
    {
        string[] args = ["analyze", Corpus.Path(Pair + "host.trace.dat"), "--guest", "Salamander4=" + Corpus.Path(Pair + "guest-Salamander4.trace.dat"),
            "--host", "pair", "--no-progress"];
        var json = await CliRun.RunAsync([.. args, "--format", "json"]);
        var lp = await CliRun.RunAsync([.. args, "--format", "line-protocol"]);
        var csv = await CliRun.RunAsync([.. args, "--format", "csv"]);
        Assert.Equal((0, 0, 0), (json.ExitCode, lp.ExitCode, csv.ExitCode));

        using var doc = JsonDocument.Parse(json.Stdout);
        var g = doc.RootElement.GetProperty("guests")[0];
        // Not cut (no --to): the range ends at the last event, host's or guest's.
        long end = doc.RootElement.GetProperty("last_event_ns").GetInt64();
        var expected = g.GetProperty("threads").EnumerateArray().Select(t =>
            $"{t.GetProperty("tid").GetInt32()}|{t.GetProperty("comm").GetString()}|{t.GetProperty("run_ns").GetInt64()}|{t.GetProperty("in_guest_ns").GetInt64()}|"
            + $"{t.GetProperty("hypervisor_ns").GetInt64()}|{t.GetProperty("preempted_ns").GetInt64()}|{t.GetProperty("unknown_ns").GetInt64()}").Order(StringComparer.Ordinal).ToList();
        Assert.True(expected.Count > 10, $"{expected.Count} guest threads");

        var fieldNames = MetricSchema.LineProtocol.GuestThread.Fields.Select(f => f.Name).ToList();
        var points = lp.StdoutLines.Where(l => l.StartsWith("vmtrace_guest_thread,", StringComparison.Ordinal)).Select(l =>
        {
            var parts = Split(l, ' ');
            Assert.Equal(3, parts.Count);
            Assert.Equal(end.ToString(System.Globalization.CultureInfo.InvariantCulture), parts[2]);
            var tags = Split(parts[0], ',').Skip(1).Select(t => Split(t, '=')).ToDictionary(kv => kv[0], kv => LineProtocolWriter.DecodeTagValue(Unescape(kv[1])));
            Assert.Equal(("pair", "qemu-t483882", "Salamander4"), (tags["host"], tags["vm"], tags["guest"]));
            var fields = Split(parts[1], ',').Select(f => Split(f, '=')).ToList();
            Assert.Equal(fieldNames, fields.Select(f => f[0]));
            return $"{tags["tid"]}|{tags.GetValueOrDefault("comm", "")}|" + string.Join('|', fields.Select(f => f[1].TrimEnd('i')));
        }).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(expected, points);

        var lines = csv.Stdout.ReplaceLineEndings("\n").Split('\n', StringSplitOptions.None);
        int blank = Array.IndexOf(lines, "");
        var rows = lines[(blank + 2)..].Where(l => l.Length > 0).Select(l =>
        {
            var cells = Csv.Cells(l);
            Assert.Equal(("pair", "Salamander4", "qemu-t483882"), (cells[0], cells[1], cells[2]));
            return string.Join('|', cells.Skip(3));
        }).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(expected, rows);
    }

    private static string Unescape(string s) => s.Replace("\\ ", " ", StringComparison.Ordinal).Replace("\\,", ",", StringComparison.Ordinal)
        .Replace("\\=", "=", StringComparison.Ordinal).Replace("\\\\", "\\", StringComparison.Ordinal);

    /// <summary>Splits at <paramref name="separator"/> where it is not backslash-escaped (line protocol).</summary>
    private static List<string> Split(string s, char separator)
    {
        var parts = new List<string>();
        var current = new StringBuilder();
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            if (c == '\\' && i + 1 < s.Length)
            {
                current.Append(c).Append(s[++i]);
                continue;
            }
            if (c == separator)
            {
                parts.Add(current.ToString());
                current.Clear();
                continue;
            }
            current.Append(c);
        }
        parts.Add(current.ToString());
        return parts;
    }
}
