using System.Globalization;
using System.Text;
using Vmtrace.Analysis;

namespace Vmtrace.Cli;

/// <summary>
/// <c>--format csv</c>: one row per window and VM (RFC 4180 quoting), the columns of <see cref="MetricSchema.Csv"/>; times in ns,
/// the same figures as the JSON, with the VM's workload class in the window and its dominant class over the run. With
/// <c>--guest</c>, an empty line and a second table follow: one row per guest thread, the columns of
/// <see cref="MetricSchema.Csv.GuestThread"/>.
/// </summary>
internal static class AnalysisCsv
{
    private static readonly string Header = string.Join(',', MetricSchema.Csv.Row.Entries.Select(c => c.Name));
    private static readonly string GuestHeader = string.Join(',', MetricSchema.Csv.GuestThread.Entries.Select(c => c.Name));

    public static void Write(TextWriter o, AnalysisReport r)
    {
        o.WriteLine(Header);
        var row = new List<string>(MetricSchema.Csv.Row.Entries.Length);
        var model = WorkloadModel.Shipped;
        var dominant = WorkloadSummary.Dominant(r.Windows, model);
        foreach (var w in r.Windows)
        {
            foreach (var vm in w.Vms)
            {
                row.Clear();
                MetricSchema.Csv.Row.Write(new CsvFields(row),
                    new VmRow(r.Host, w, vm) { Workload = model.Classify(w, vm), DominantWorkload = dominant[vm.Vm] });
                o.WriteLine(string.Join(',', row));
            }
        }
        if (r.Guests is not { } guests)
            return;
        o.WriteLine();
        o.WriteLine(GuestHeader);
        foreach (var (_, g) in guests)
        {
            foreach (var t in g.Threads)
            {
                row.Clear();
                MetricSchema.Csv.GuestThread.Write(new CsvFields(row), new GuestThreadRow(r.Host, g, t));
                o.WriteLine(string.Join(',', row));
            }
        }
    }

    internal static string Quote(string s)
    {
        if (s.IndexOfAny([',', '"', '\n', '\r']) < 0)
            return s;
        var sb = new StringBuilder("\"");
        sb.Append(s.Replace("\"", "\"\"", StringComparison.Ordinal)).Append('"');
        return sb.ToString();
    }

    /// <summary>A figure as a cell: numbers invariant (floats round-trip), text quoted, a figure that does not apply empty.</summary>
    private readonly struct CsvFields(List<string> row) : IMetricWriter
    {
        public void Integer(string name, long value) => row.Add(value.ToString(CultureInfo.InvariantCulture));

        public void Float(string name, double value) => row.Add(value.ToString("R", CultureInfo.InvariantCulture));

        public void Text(string name, string? value) => row.Add(Quote(value ?? ""));
    }
}
