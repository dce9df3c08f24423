using System.Text;
using System.Text.Json;
using Vmtrace.Analysis;
using Vmtrace.TestSupport;

namespace Vmtrace.Cli.Tests;

/// <summary>
/// The metric table (<see cref="MetricSchema"/>) against what the outputs really write on real traces, and docs/schema.md
/// against the table.
/// </summary>
public sealed class MetricSchemaTests
{
    private static string SchemaDoc => Path.Combine(Corpus.RepoRoot, "docs", "schema.md");

    /// <summary>
    /// docs/schema.md is generated from the table, its example from the OneQemuKvm stub's real output. With
    /// VMTRACE_WRITE_SCHEMA=1 the test writes the file (the generator) before comparing.
    /// </summary>
    [CorpusFact]
    public async Task SchemaDoc_GeneratedFromTheTable_IsDocsSchemaMd()
    {
        var example = await CliRun.RunAsync("analyze", Corpus.Path("tracecompass-vm-xml-stubs/OneQemuKvm/host.xml"),
            "--format", "line-protocol", "--host", "lab", "--no-progress");
        Assert.Equal(0, example.ExitCode);
        string expected = MetricSchemaMarkdown.Render(example.Stdout);
        if (Environment.GetEnvironmentVariable("VMTRACE_WRITE_SCHEMA") == "1")
            await File.WriteAllTextAsync(SchemaDoc, expected);
        string actual = (await File.ReadAllTextAsync(SchemaDoc)).ReplaceLineEndings("\n");
        Assert.True(expected == actual,
            "docs/schema.md differs from the metric table: VMTRACE_WRITE_SCHEMA=1 dotnet test tests/Vmtrace.Cli.Tests --filter SchemaDoc rewrites it.\n"
            + FirstDifference(expected, actual));
    }

    /// <summary>
    /// Every point of the window measurements that analyze writes for the repository's TCG sample (disk and network) and
    /// hip24 (KVM exits with their ISA) has the measurement's fields of the table, in its order and of its type, and
    /// only tags of the table; every measurement and field of the table is written by one of them.
    /// </summary>
    [CorpusFact]
    public async Task LineProtocol_RealTraces_PointsAreTheTablesMeasurementsTagsAndFields()
    {
        var windowGroups = MetricSchema.LineProtocol.All.Where(g => g.Name != MetricSchema.LineProtocol.Health).ToDictionary(g => g.Name);
        var seen = new HashSet<string>();
        foreach (var args in new[] { TcgSample(), ["analyze", Corpus.Path("hip24-kvm-host-2vms-46s/host.trace.dat")] })
        {
            var r = await CliRun.RunAsync([.. args, "--format", "line-protocol", "--no-progress"]);
            Assert.Equal(0, r.ExitCode);
            foreach (var line in r.StdoutLines)
            {
                var point = ParsePoint(line);
                Assert.True(windowGroups.TryGetValue(point.Measurement, out var group), $"measurement not in the table: {line}");
                Assert.Equal(group.Fields.Select(f => (f.Name, f.Type)), point.Fields);
                var tags = group.Tags.Select(t => t.Name).ToList();
                Assert.All(point.Tags, t => Assert.Contains(t, tags));
                Assert.Equal(tags.Where(point.Tags.Contains), point.Tags);
                seen.Add(point.Measurement);
                if (point.Measurement == "vmtrace_exit")
                    seen.UnionWith(point.Tags.Select(t => "vmtrace_exit," + t));
            }
        }
        Assert.Equal(windowGroups.Keys.Order(StringComparer.Ordinal), seen.Where(s => !s.Contains(',', StringComparison.Ordinal)).Order(StringComparer.Ordinal));
        Assert.Contains("vmtrace_exit,isa", seen);
        Assert.Contains("vmtrace_exit,reason_name", seen);
    }

    /// <summary>
    /// The JSON of the TCG sample (disk, network) and hip24 (KVM exits): every object the table lays out holds exactly its
    /// figures (a text figure that does not apply may be left out), in order, and each is in one of them; the CSV header is
    /// the table's columns and every row has one cell per column.
    /// </summary>
    [CorpusFact]
    public async Task JsonAndCsv_RealTraces_ObjectsAndColumnsAreTheTables()
    {
        var objects = MetricSchema.Json.All.ToDictionary(g => g.Name, _ => 0);
        foreach (var args in new[] { TcgSample(), ["analyze", Corpus.Path("hip24-kvm-host-2vms-46s/host.trace.dat")] })
        {
            var json = await CliRun.RunAsync([.. args, "--format", "json", "--no-progress"]);
            Assert.Equal(0, json.ExitCode);
            using var doc = JsonDocument.Parse(json.Stdout);
            foreach (var group in MetricSchema.Json.All)
            {
                var path = group.Name.Split('.');
                var found = group.Name == "counters" ? [doc.RootElement.GetProperty("counters")]
                    : Objects(doc.RootElement.GetProperty("total"), path.Skip(1))
                        .Concat(doc.RootElement.GetProperty("windows").EnumerateArray().SelectMany(w => Objects(w, path.Skip(1))))
                        .ToList();
                var optional = group.Fields.Where(f => f.Type == MetricType.Text).Select(f => f.Name).ToHashSet();
                foreach (var o in found)
                {
                    var scalars = o.EnumerateObject().Where(p => p.Value.ValueKind is not (JsonValueKind.Object or JsonValueKind.Array))
                        .Select(p => p.Name).ToList();
                    Assert.Equal(group.Fields.Select(f => f.Name).Where(n => scalars.Contains(n) || !optional.Contains(n)), scalars);
                    objects[group.Name]++;
                }
            }

            var csv = await CliRun.RunAsync([.. args, "--format", "csv", "--no-progress"]);
            Assert.Equal(0, csv.ExitCode);
            var columns = MetricSchema.Csv.Row.Fields.Select(f => f.Name).ToList();
            Assert.Equal(string.Join(',', columns), csv.StdoutLines[0]);
            Assert.True(csv.StdoutLines.Length > 2);
            Assert.All(csv.StdoutLines.Skip(1), row => Assert.Equal(columns.Count, CsvCells(row)));
        }
        Assert.All(objects, o => Assert.True(o.Value > 0, $"{o.Key}: in neither trace's JSON"));
    }

    /// <summary>Every figure of the table has a name, a description and a place it is read from, and each group names a field once.</summary>
    [Fact]
    public void Table_EveryFigure_IsDescribedAndNamedOncePerGroup()
    {
        Assert.All(MetricSchema.Figures, f =>
        {
            Assert.Matches("^[a-z][a-z0-9_]*$", f.Name);
            Assert.False(string.IsNullOrWhiteSpace(f.Description), f.Name);
            Assert.False(string.IsNullOrWhiteSpace(f.Source), f.Name);
        });
        Assert.All(MetricSchema.Groups, g => Assert.Equal(g.Fields.Count, g.Fields.Select(f => f.Name).Distinct().Count()));
    }

    private static int CsvCells(string row) => Split(row, ',').Count;

    private static string[] TcgSample()
    {
        string dir = Path.Combine(Corpus.RepoRoot, "samples", "tcg-3vms");
        return ["analyze", Path.Combine(dir, "trace.dat.xz"), .. Directory.GetFiles(dir, "qemu-*.log.xz").Order(StringComparer.Ordinal)];
    }

    /// <summary>The objects at a JSON path below <paramref name="at"/> (<c>vms[]</c> steps into each element).</summary>
    private static IEnumerable<JsonElement> Objects(JsonElement at, IEnumerable<string> path)
    {
        IEnumerable<JsonElement> current = [at];
        foreach (var step in path)
        {
            string name = step.Replace("[]", "", StringComparison.Ordinal);
            current = step.EndsWith("[]", StringComparison.Ordinal)
                ? current.SelectMany(e => e.GetProperty(name).EnumerateArray())
                : current.Select(e => e.GetProperty(name));
        }
        return current;
    }

    private sealed record Point(string Measurement, List<string> Tags, List<(string Name, MetricType Type)> Fields);

    /// <summary>Measurement, tag keys and field keys with their types of one line (escapes and quoted strings respected).</summary>
    private static Point ParsePoint(string line)
    {
        var parts = Split(line, ' ');
        Assert.Equal(3, parts.Count);
        var series = Split(parts[0], ',');
        var tags = series.Skip(1).Select(t => Split(t, '=')[0]).ToList();
        var fields = Split(parts[1], ',').Select(f =>
        {
            var kv = Split(f, '=');
            string v = kv[1];
            var type = v.StartsWith('"') ? MetricType.Text : v.EndsWith('i') ? MetricType.Integer : MetricType.Float;
            return (kv[0], type);
        }).ToList();
        return new Point(series[0], tags, fields);
    }

    /// <summary>Splits at <paramref name="separator"/> where it is neither backslash-escaped nor inside a quoted string.</summary>
    private static List<string> Split(string s, char separator)
    {
        var parts = new List<string>();
        var current = new StringBuilder();
        bool quoted = false;
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            if (c == '\\' && i + 1 < s.Length)
            {
                current.Append(c).Append(s[++i]);
                continue;
            }
            if (c == '"')
                quoted = !quoted;
            if (c == separator && !quoted)
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

    private static string FirstDifference(string expected, string actual)
    {
        var e = expected.Split('\n');
        var a = actual.Split('\n');
        for (int i = 0; i < Math.Max(e.Length, a.Length); i++)
        {
            string el = i < e.Length ? e[i] : "(end)";
            string al = i < a.Length ? a[i] : "(end)";
            if (el != al)
                return $"line {i + 1}:\n  table: {el}\n  file:  {al}";
        }
        return "";
    }
}
