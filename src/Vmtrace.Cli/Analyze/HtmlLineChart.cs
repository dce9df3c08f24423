using System.Text;
using static Vmtrace.Cli.HtmlSvg;

namespace Vmtrace.Cli;

/// <summary>A small inline-SVG line chart: one polyline per VM over the report's time axis, a y axis with its unit.</summary>
internal static class HtmlLineChart
{
    private const double Left = 70, Width = 520, Height = 160, Top = 10, Bottom = 24;

    public sealed record Series(string Name, string Colour, IReadOnlyList<(long Ns, double Value)> Points);

    public static string Svg(string axisUnit, string title, long t0, long t1, IReadOnlyList<Series> series, Func<double, string> format)
    {
        var sb = new StringBuilder();
        sb.Append("<figure class=\"chart\"><figcaption>").Append(E(title)).Append("</figcaption>");
        var drawn = series.Where(s => s.Points.Any(p => p.Value > 0)).ToList();
        if (drawn.Count == 0)
        {
            sb.Append("<p class=\"empty\">nothing in this trace</p></figure>");
            return sb.ToString();
        }
        double span = Math.Max(1, t1 - t0);
        double max = drawn.Max(s => s.Points.Max(p => p.Value));
        double X(long ns) => Left + (ns - t0) / span * Width;
        double Y(double v) => Top + Height - v / max * Height;
        sb.Append("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"").Append(N(Left + Width + 10)).Append("\" height=\"")
          .Append(N(Top + Height + Bottom)).Append("\">");
        for (int i = 0; i <= 4; i++)
        {
            double v = max * i / 4, y = Y(v);
            sb.Append("<line x1=\"").Append(N(Left)).Append("\" x2=\"").Append(N(Left + Width)).Append("\" y1=\"").Append(N(y))
              .Append("\" y2=\"").Append(N(y)).Append("\" stroke=\"#eee\"/>");
            Text(sb, Left - 4, y + 4, format(v), " text-anchor=\"end\" class=\"tick\"");
        }
        foreach (double s in Ticks(span / 1e9, 6))
            Text(sb, Left + s * 1e9 / span * Width, Top + Height + 16, N(s) + axisUnit, " text-anchor=\"middle\" class=\"tick\"");
        foreach (var s in drawn)
        {
            sb.Append("<polyline fill=\"none\" stroke-width=\"1.5\" stroke=\"").Append(s.Colour).Append("\" points=\"");
            foreach (var (ns, v) in s.Points)
                sb.Append(N(X(ns))).Append(',').Append(N(Y(v))).Append(' ');
            sb.Append("\"><title>").Append(E(s.Name)).Append("</title></polyline>");
        }
        sb.Append("</svg>");
        sb.Append(Legend(drawn.Select(s => (s.Name, s.Colour))));
        sb.Append("</figure>");
        return sb.ToString();
    }
}
