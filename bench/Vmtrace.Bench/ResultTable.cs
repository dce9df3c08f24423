using System.Globalization;
using System.Text;

namespace Vmtrace.Bench;

/// <summary>Prints the measurements as a fixed-width text table, with notes under it.</summary>
internal static class ResultTable
{
    private static readonly string[] Headers = ["input", "tool", "events", "wall s", "events/s", "cpu s", "B/event run", "B/event loop", "vs reference (wall)", "(cpu)"];

    public static string Format(IReadOnlyList<Measurement> rows)
    {
        var cells = rows.Select(Cells).ToList();
        var widths = Headers.Select((h, i) => Math.Max(h.Length, cells.Count == 0 ? 0 : cells.Max(c => c[i].Length))).ToArray();
        var sb = new StringBuilder();
        AppendRow(sb, Headers, widths);
        sb.AppendLine(string.Join("  ", widths.Select(w => new string('-', w))));
        foreach (var c in cells)
            AppendRow(sb, c, widths);
        var notes = rows.Where(r => r.Note.Length > 0).ToList();
        if (notes.Count > 0)
        {
            sb.AppendLine();
            foreach (var r in notes)
                sb.AppendLine(CultureInfo.InvariantCulture, $"note: {r.Input} / {r.Tool}: {r.Note}");
        }
        return sb.ToString();
    }

    private static string[] Cells(Measurement m) =>
    [
        m.Input,
        m.Tool,
        m.Events?.ToString("N0", CultureInfo.InvariantCulture) ?? "-",
        m.Seconds?.ToString("F3", CultureInfo.InvariantCulture) ?? "-",
        m.EventsPerSecond?.ToString("N0", CultureInfo.InvariantCulture) ?? "-",
        m.CpuSeconds?.ToString("F3", CultureInfo.InvariantCulture) ?? "-",
        m.BytesPerEvent?.ToString("F2", CultureInfo.InvariantCulture) ?? "",
        m.LoopBytesPerEvent?.ToString("F2", CultureInfo.InvariantCulture) ?? "",
        m.Ratio is double r ? string.Create(CultureInfo.InvariantCulture, $"{r:F2}x {m.Reference!.Tool}") : "",
        m.CpuRatio is double c ? string.Create(CultureInfo.InvariantCulture, $"{c:F2}x") : "",
    ];

    private static void AppendRow(StringBuilder sb, string[] cells, int[] widths)
    {
        for (int i = 0; i < cells.Length; i++)
        {
            bool numeric = i is >= 2 and <= 7 or 9;
            string cell = numeric ? cells[i].PadLeft(widths[i]) : cells[i].PadRight(widths[i]);
            sb.Append(cell);
            if (i < cells.Length - 1)
                sb.Append("  ");
        }
        while (sb.Length > 0 && sb[^1] == ' ')
            sb.Length--;
        sb.AppendLine();
    }
}
