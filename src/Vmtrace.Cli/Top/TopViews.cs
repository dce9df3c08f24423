using System.Globalization;
using System.Text;
using System.Text.Json;
using Spectre.Console;
using Vmtrace.Analysis;

namespace Vmtrace.Cli;

/// <summary>
/// How <c>vmtrace top</c> shows its refreshes: <see cref="Run"/> is handed the feed (which calls its argument once per
/// closed window) and shows each frame as it comes.
/// </summary>
internal abstract class TopView
{
    public abstract void Run(Action<Action<TopFrame>> feed);

    public static TopView For(string format, bool once, bool liveTable, string host, TextWriter stdout) => format switch
    {
        "json" => new TopJsonView(stdout, host, once),
        "csv" => new TopCsvView(stdout, host),
        _ => liveTable ? new TopLiveTableView(stdout, host) : new TopPlainTableView(stdout, host),
    };

    internal static string Rate(double bytesPerSecond) => Units.Bytes((long)Math.Round(bytesPerSecond)) + "/s";

    internal static string Percent(double percent) => percent.ToString("0.0", CultureInfo.InvariantCulture);

    internal static string ExitsList(TopRow r) =>
        string.Join(' ', r.TopExits.Select(x => $"{x.Name ?? x.Reason.ToString(CultureInfo.InvariantCulture)}:{x.Latency.Count}"));

    internal static string Heading(string host, TopFrame f) =>
        $"vmtrace top: {host}   window {Units.Seconds(f.StartNs)} .. {Units.Seconds(f.EndNs)} ({Units.Duration(f.LengthNs)})   pCPUs {f.CpuCount}   VMs {f.Rows.Count}";

    internal static readonly string[] Columns =
        ["VM", "CPU%", "guest%", "host%", "preempt%", "steal%", "exits/s", "top exits", "disk rd", "disk wr", "net rx", "net tx", "last episode"];

    /// <summary>The columns read as text (left-aligned); the others are figures.</summary>
    internal static bool IsText(string column) => column is "VM" or "top exits" or "last episode";

    /// <summary>A VM's latest closed episode in short: resource, severity, main culprit, when it ended.</summary>
    internal static string EpisodeCell(Episode? e) => e is null ? "" :
        $"{e.Resource} {e.Severity.ToString("0.00", CultureInfo.InvariantCulture)}" + (e.TopCulprit is { } c ? $" by {c.Name}" : "") +
        $" (ended {Units.Seconds(e.EndNs)})";

    /// <summary>One line per episode: who lost what, how badly, when, to whom, and the advice.</summary>
    internal static string EpisodeLine(Episode e)
    {
        string culprits = e.Culprits.Count == 0 ? "no culprit named"
            : string.Join(", ", e.Culprits.Take(3).Select(c => $"{c.Name} ({c.Kind}) {Units.Percent(c.Share)}"));
        return $"episode: {e.Vm} {e.Resource}  severity {e.Severity.ToString("0.00", CultureInfo.InvariantCulture)}  " +
               $"{Units.Seconds(e.StartNs)} .. {Units.Seconds(e.EndNs)} ({Units.Duration(e.DurationNs)})  by {culprits}: {e.Advice}";
    }

    internal static string[] Cells(TopRow r) =>
    [
        r.Vm, Percent(r.CpuPercent), Percent(r.GuestPercent), Percent(r.HostPercent), Percent(r.PreemptedPercent), Percent(r.StealPercent),
        r.ExitsPerSecond.ToString("0", CultureInfo.InvariantCulture), ExitsList(r),
        Rate(r.DiskReadBytesPerSecond), Rate(r.DiskWriteBytesPerSecond), Rate(r.NetRxBytesPerSecond), Rate(r.NetTxBytesPerSecond),
        EpisodeCell(r.LastEpisode),
    ];
}

/// <summary>Plain text, one block per refresh (--once, or stdout not a terminal): what <c>top -b</c> does.</summary>
internal sealed class TopPlainTableView(TextWriter o, string host) : TopView
{
    public override void Run(Action<Action<TopFrame>> feed) => feed(Show);

    private void Show(TopFrame f)
    {
        o.WriteLine(Heading(host, f));
        var rows = f.Rows.Select(Cells).Prepend(Columns).ToList();
        int[] widths = [.. Enumerable.Range(0, Columns.Length).Select(c => rows.Max(r => r[c].Length))];
        foreach (var row in rows)
        {
            var line = new StringBuilder();
            for (int c = 0; c < row.Length; c++)
            {
                // Names, the exit list and the episode read left-aligned, figures right-aligned.
                bool text = IsText(Columns[c]);
                line.Append(text ? row[c].PadRight(widths[c]) : row[c].PadLeft(widths[c]));
                line.Append("  ");
            }
            o.WriteLine(line.ToString().TrimEnd());
        }
        o.WriteLine();
        o.Flush();
    }
}

/// <summary>
/// A Spectre.Console table redrawn in place at every refresh (a terminal, without --once); its caption lists the latest
/// interference episodes that closed, newest first.
/// </summary>
internal sealed class TopLiveTableView(TextWriter o, string host) : TopView
{
    private const int EpisodesShown = 5;

    public override void Run(Action<Action<TopFrame>> feed)
    {
        var latest = new List<Episode>();
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(o) });
        var table = new Table().Border(TableBorder.Simple);
        foreach (string c in Columns)
            table.AddColumn(IsText(c) ? new TableColumn(c).NoWrap() : new TableColumn(c).NoWrap().RightAligned());
        table.Title = new TableTitle("vmtrace top: " + Markup.Escape(host) + ": waiting for the first window…");
        console.Live(table).Start(ctx => feed(f =>
        {
            table.Title = new TableTitle(Markup.Escape(Heading(host, f)));
            table.Rows.Clear();
            foreach (var r in f.Rows)
                table.AddRow(Cells(r).Select(Markup.Escape).ToArray());
            latest.InsertRange(0, f.Episodes);
            if (latest.Count > EpisodesShown)
                latest.RemoveRange(EpisodesShown, latest.Count - EpisodesShown);
            table.Caption = latest.Count == 0 ? new TableTitle("no interference episode so far")
                : new TableTitle(string.Join('\n', latest.Select(e => Markup.Escape(EpisodeLine(e)))), new Style(foreground: Color.Orange1));
            ctx.Refresh();
        }));
    }
}

/// <summary>
/// JSON: with --once one document holding every refresh ("windows"); otherwise one compact object per refresh and line.
/// Times in ns; each VM's figures are the analysis core's for the window (as <c>analyze --format json</c>), plus rates; the
/// episodes that closed with the window are its "interference" (as analyze's).
/// </summary>
internal sealed class TopJsonView(TextWriter o, string host, bool once) : TopView
{
    public override void Run(Action<Action<TopFrame>> feed)
    {
        if (!once)
        {
            feed(f => WriteDocument(w => Frame(w, f), indented: false));
            return;
        }
        var frames = new List<TopFrame>();
        feed(frames.Add);
        WriteDocument(w =>
        {
            w.WriteStartObject();
            w.WriteString("host", host);
            w.WriteStartArray("windows");
            foreach (var f in frames)
                Frame(w, f);
            w.WriteEndArray();
            w.WriteEndObject();
        }, indented: true);
    }

    private void WriteDocument(Action<Utf8JsonWriter> write, bool indented)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = indented }))
            write(w);
        o.WriteLine(Encoding.UTF8.GetString(stream.ToArray()));
        o.Flush();
    }

    private void Frame(Utf8JsonWriter w, TopFrame f)
    {
        w.WriteStartObject();
        if (!once)
            w.WriteString("host", host);
        w.WriteNumber("start_ns", f.StartNs);
        w.WriteNumber("end_ns", f.EndNs);
        w.WriteNumber("cpus", f.CpuCount);
        w.WriteStartArray("vms");
        foreach (var r in f.Rows)
            Row(w, r);
        w.WriteEndArray();
        // The episodes that closed with this window, as analyze's interference[] writes them.
        w.WriteStartArray("interference");
        foreach (var e in f.Episodes)
            AnalysisJson.Episode(w, e);
        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void Row(Utf8JsonWriter w, TopRow r)
    {
        var t = r.Times;
        w.WriteStartObject();
        w.WriteString("vm", r.Vm);
        w.WriteNumber("pid", r.Pid);
        w.WriteNumber("vcpus", r.Vcpus);
        w.WriteNumber("pcpu_share", r.Metrics.PcpuShare);
        w.WriteNumber("cpu_pct", r.CpuPercent);
        w.WriteNumber("threads_on_cpu_ns", r.Metrics.ThreadsOnCpuNs);
        w.WriteNumber("guest_ns", t.GuestNs);
        w.WriteNumber("host_ns", t.HostNs);
        w.WriteNumber("preempted_ns", t.PreemptedNs);
        w.WriteNumber("wait_ns", t.WaitNs);
        w.WriteNumber("blocked_queued_ns", t.BlockedQueuedNs);
        w.WriteNumber("steal_ns", r.StealNs);
        w.WriteNumber("guest_pct", r.GuestPercent);
        w.WriteNumber("host_pct", r.HostPercent);
        w.WriteNumber("preempted_pct", r.PreemptedPercent);
        w.WriteNumber("steal_pct", r.StealPercent);
        w.WriteNumber("exits", r.Exits);
        w.WriteNumber("exits_per_s", r.ExitsPerSecond);
        w.WriteStartArray("top_exits");
        foreach (var x in r.TopExits)
        {
            w.WriteStartObject();
            w.WriteNumber("reason", x.Reason);
            if (x.Name is { } name)
                w.WriteString("name", name);
            w.WriteNumber("count", x.Latency.Count);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteString("disk_layer", r.DiskLayer);
        w.WriteNumber("disk_completed", r.Disk.Completed);
        w.WriteNumber("disk_read_bytes", r.Disk.ReadBytes);
        w.WriteNumber("disk_write_bytes", r.Disk.WriteBytes);
        w.WriteNumber("disk_read_bytes_per_s", r.DiskReadBytesPerSecond);
        w.WriteNumber("disk_write_bytes_per_s", r.DiskWriteBytesPerSecond);
        w.WriteNumber("net_rx_packets", r.Network.RxPackets);
        w.WriteNumber("net_rx_bytes", r.Network.RxBytes);
        w.WriteNumber("net_tx_packets", r.Network.TxPackets);
        w.WriteNumber("net_tx_bytes", r.Network.TxBytes);
        w.WriteNumber("net_rx_bytes_per_s", r.NetRxBytesPerSecond);
        w.WriteNumber("net_tx_bytes_per_s", r.NetTxBytesPerSecond);
        w.WriteEndObject();
    }
}

/// <summary>CSV (RFC 4180): one row per refresh and VM, the figures of the JSON; top exits as "NAME:count" separated by spaces.</summary>
internal sealed class TopCsvView(TextWriter o, string host) : TopView
{
    public static readonly string[] Header =
    [
        "host", "start_ns", "end_ns", "vm", "pid", "vcpus", "pcpu_share", "cpu_pct", "threads_on_cpu_ns", "guest_ns", "host_ns",
        "preempted_ns", "wait_ns", "blocked_queued_ns", "steal_ns", "guest_pct", "host_pct", "preempted_pct", "steal_pct",
        "exits", "exits_per_s", "top_exits", "disk_layer", "disk_completed", "disk_read_bytes", "disk_write_bytes",
        "disk_read_bytes_per_s", "disk_write_bytes_per_s", "net_rx_packets", "net_rx_bytes", "net_tx_packets", "net_tx_bytes",
        "net_rx_bytes_per_s", "net_tx_bytes_per_s",
    ];

    public override void Run(Action<Action<TopFrame>> feed)
    {
        o.WriteLine(string.Join(',', Header));
        feed(Show);
    }

    private void Show(TopFrame f)
    {
        foreach (var r in f.Rows)
        {
            var t = r.Times;
            o.WriteLine(string.Join(',',
                AnalysisCsv.Quote(host), I(f.StartNs), I(f.EndNs), AnalysisCsv.Quote(r.Vm), I(r.Pid), I(r.Vcpus), F(r.Metrics.PcpuShare),
                F(r.CpuPercent), I(r.Metrics.ThreadsOnCpuNs), I(t.GuestNs), I(t.HostNs), I(t.PreemptedNs), I(t.WaitNs),
                I(t.BlockedQueuedNs), I(r.StealNs), F(r.GuestPercent), F(r.HostPercent), F(r.PreemptedPercent), F(r.StealPercent),
                I(r.Exits), F(r.ExitsPerSecond), AnalysisCsv.Quote(ExitsList(r)), r.DiskLayer, I(r.Disk.Completed),
                I(r.Disk.ReadBytes), I(r.Disk.WriteBytes), F(r.DiskReadBytesPerSecond), F(r.DiskWriteBytesPerSecond),
                I(r.Network.RxPackets), I(r.Network.RxBytes), I(r.Network.TxPackets), I(r.Network.TxBytes),
                F(r.NetRxBytesPerSecond), F(r.NetTxBytesPerSecond)));
        }
        o.Flush();
    }

    private static string I(long v) => v.ToString(CultureInfo.InvariantCulture);

    private static string F(double v) => v.ToString("R", CultureInfo.InvariantCulture);
}
