using System.Text;

namespace Vmtrace.Analysis;

/// <summary>
/// docs/schema.md, made from <see cref="MetricSchema"/>: the line protocol measurements, the JSON objects, the CSV columns,
/// and every figure with its unit, kind, where it is written and how it is read. A test compares the file with this text.
/// </summary>
public static class MetricSchemaMarkdown
{
    /// <summary>The whole document; <paramref name="example"/> is the line protocol of the example trace (its points, one a line).</summary>
    public static string Render(string example)
    {
        ArgumentNullException.ThrowIfNull(example);
        var md = new StringBuilder();
        md.Append("""
            # Output schema

            <!-- Generated from the metric table (src/Vmtrace.Analysis/Metrics/MetricSchema.cs) by MetricSchemaMarkdown:
                 VMTRACE_WRITE_SCHEMA=1 dotnet test tests/Vmtrace.Cli.Tests --filter SchemaDoc rewrites it; that test fails when it differs. -->

            Every figure `vmtrace analyze` and the worker write comes from one table, `MetricSchema`: its name, unit, kind,
            where the outputs place it, and how it is read from the analysis results. Definitions and the events each needs:
            [metrics.md](metrics.md).

            ## Line protocol (InfluxDB)

            Written by `vmtrace analyze --format line-protocol` and by the worker's InfluxDB sink through the
            same code (`src/Vmtrace.InfluxDb`: `LineProtocolWriter` for the escaping, `MetricsLineProtocol` for
            the points). One set of points per closed window; the timestamp is the window start in ns. Integers
            carry the `i` suffix; floats are plain.

            Tags are kept to bounded sets; no request id or device address is a tag, and a tid only on `vmtrace_guest_thread`
            (one point per guest thread and analysis). Names (`host`, `vm`, `culprit`,
            `instance`) that line protocol 1.x cannot carry as they are (a final backslash, a line feed or carriage return)
            are stored reversibly encoded ([influxdb.md](influxdb.md#escaping-lineprotocolwriter)).


            """);
        md.Append("| tag | values |\n|---|---|\n");
        foreach (var tag in MetricSchema.LineProtocol.Measurements.SelectMany(g => g.Tags).Distinct())
            md.Append("| `").Append(tag.Name).Append("` | ").Append(tag.Description).Append(" |\n");
        md.Append("\n| measurement | tags | fields | written |\n|---|---|---|---|\n");
        foreach (var g in MetricSchema.LineProtocol.Measurements)
        {
            md.Append("| `").Append(g.Name).Append("` | ").AppendJoin(", ", g.Tags.Select(t => t.Name)).Append(" | ")
                .AppendJoin(", ", g.Fields.Select(Typed)).Append(" | ").Append(g.When ?? "every window").Append(" |\n");
        }
        md.Append("""

            The host tag is `--host`, by default the name of the directory holding the trace.

            Example (Trace Compass's OneQemuKvm stub, `--host lab`):

            ```

            """);
        md.Append(example.TrimEnd('\n')).Append("\n```\n\n");

        md.Append("""
            ## JSON (`vmtrace analyze --format json`)

            One object: `trace`, `host`, `inventory` (when one named the VMs), `events`, `first_event_ns`, `last_event_ns`,
            `window_ns`, `time_unit` (`tsc_cycles`, only when the trace clock counts cycles), `counters`, `notes` (one
            sentence per kind of counted trouble), `total` (one window over the whole range) and `windows`. Each window,
            and `total`, holds these objects (`[]`: an array of them); a text field that does not apply is left out:


            """);
        md.Append("| object | fields |\n|---|---|\n");
        foreach (var g in MetricSchema.Json.All)
            md.Append("| `").Append(g.Name).Append("` | ").AppendJoin(", ", g.Fields.Select(f => f.Name)).Append(" |\n");
        md.Append("""

            Beside `total` and `windows`, the top-level array `interference` holds the interference episodes
            ([metrics.md](metrics.md#interference-episodes)), in start order; each also has an `evidence` object, the figures
            its rule fired on (named per resource in metrics.md):


            """);
        md.Append("| object | fields |\n|---|---|\n");
        foreach (var g in MetricSchema.EpisodeJson.All)
            md.Append("| `").Append(g.Name).Append("` | ").AppendJoin(", ", g.Fields.Select(f => f.Name)).Append(" |\n");

        md.Append("""

            ## CSV (`vmtrace analyze --format csv`)

            One row per window and VM, RFC 4180 quoting, a header row with these columns in this order:


            """);
        md.AppendJoin(", ", MetricSchema.Csv.Row.Fields.Select(f => "`" + f.Name + "`")).Append('\n');
        md.Append("""

            With `--guest`, an empty line and a second table follow: one row per guest thread with run time, totals over the
            range analysed ([metrics.md](metrics.md#guest-threads-guests-with-analyze---guest-nameguest_trace)), columns:


            """);
        md.AppendJoin(", ", MetricSchema.Csv.GuestThread.Fields.Select(f => "`" + f.Name + "`")).Append('\n');

        md.Append("""

            ## Nested VMs (synthetic traces only)

            When a VM's vCPUs run L2 guests (nested virtualisation, [metrics.md](metrics.md#nested-vms)), each VM object of the
            JSON has a `nested` array and the line protocol has one more measurement. They are left out otherwise, and no real
            trace with nested KVM has been analysed: they are tested on synthetic traces only.


            """);
        md.Append("| object or measurement | tags | fields |\n|---|---|---|\n");
        foreach (var g in MetricSchema.NestedOutput.All)
        {
            md.Append("| `").Append(g.Name).Append("` | ").AppendJoin(", ", g.Tags.Select(t => "`" + t.Name + "`: " + t.Description)).Append(" | ")
                .AppendJoin(", ", g.Fields.Select(Typed)).Append(" |\n");
        }
        md.Append("""

            ## Every figure

            Unit and kind, what the value is about (level), where each output writes it (JSON path, CSV column, measurement
            and field), and where the analysis results hold it.


            """);
        md.Append("| figure | unit | type | level | written as | read from | meaning |\n|---|---|---|---|---|---|---|\n");
        foreach (var figure in MetricSchema.Figures)
        {
            var places = MetricSchema.Groups.SelectMany(g => g.Fields.Where(f => f.Figure == figure).Select(f => (Group: g, Field: f))).ToList();
            md.Append("| `").Append(figure.Name).Append("` | ").Append(figure.Unit).Append(" | ").Append(Type(figure.Type)).Append(" | ")
                .AppendJoin(", ", places.Select(p => Level(p.Group.Level)).Distinct()).Append(" | ")
                .AppendJoin("; ", places.Select(p => Place(p.Group, p.Field))).Append(" | ")
                .Append(figure.Source).Append(" | ").Append(figure.Description).Append(" |\n");
        }
        return md.ToString();
    }

    private static string Typed(Metric m) => m.Type switch
    {
        MetricType.Float => m.Name + " (float)",
        MetricType.Text => m.Name + " (string)",
        _ => m.Name,
    };

    private static string Type(MetricType t) => t switch
    {
        MetricType.Integer => "integer",
        MetricType.Float => "float",
        _ => "string",
    };

    private static string Level(MetricLevel l) => l switch
    {
        MetricLevel.Host => "host",
        MetricLevel.Window => "window",
        MetricLevel.Vm => "VM",
        MetricLevel.Vcpu => "vCPU",
        MetricLevel.ExitReason => "exit reason",
        MetricLevel.DiskLayer => "disk layer",
        MetricLevel.Episode => "episode",
        MetricLevel.GuestSpace => "guest address space",
        MetricLevel.NestedVcpu => "L2 vCPU",
        MetricLevel.GuestThread => "guest thread",
        _ => "culprit",
    };

    private static string Place(MetricGroup g, Metric f) => g.Format switch
    {
        MetricFormat.Json => $"JSON `{g.Name}.{f.Name}`",
        MetricFormat.Csv => $"CSV `{f.Name}`",
        _ => $"LP `{g.Name}.{f.Name}`",
    };
}
