using System.Globalization;
using System.Net;
using System.Text;

namespace Vmtrace.Cli;

/// <summary>Small helpers for the inline SVG of the HTML report: numbers in invariant culture, escaping, colours.</summary>
internal static class HtmlSvg
{
    /// <summary>Colours of the vCPU states, in stacking order (bottom first).</summary>
    public static readonly (string Name, string Colour)[] States =
    [
        ("guest", "#2ca02c"), ("hypervisor", "#1f77b4"), ("preempted", "#d62728"), ("waiting", "#ff7f0e"), ("idle", "#d0d0d0"),
    ];

    public static readonly string[] Palette =
    [
        "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f",
    ];

    /// <summary>
    /// The disk layer the charts show for a VM: the host block layer when the VM has block requests in the whole
    /// report (direction and bytes are known there), else qemu's thread pool. Never both: they count the same I/O.
    /// </summary>
    public static bool UsesBlockLayer(Vmtrace.Analysis.VmMetrics total) => !total.BlockDisk.IsEmpty;

    public static Vmtrace.Analysis.DiskLayerMetrics Disk(Vmtrace.Analysis.VmMetrics window, bool block) => block ? window.BlockDisk : window.QemuDisk;

    public static string N(double v) => v.ToString("0.##", CultureInfo.InvariantCulture);

    public static string E(string s) => WebUtility.HtmlEncode(s);

    public static string VmColour(int index) => Palette[index % Palette.Length];

    public static void Rect(StringBuilder sb, double x, double y, double w, double h, string fill, string title)
    {
        if (w <= 0 || h <= 0)
            return;
        sb.Append("<rect x=\"").Append(N(x)).Append("\" y=\"").Append(N(y)).Append("\" width=\"").Append(N(Math.Max(w, 0.5)))
          .Append("\" height=\"").Append(N(h)).Append("\" fill=\"").Append(fill).Append("\"><title>").Append(E(title)).Append("</title></rect>");
    }

    public static void Text(StringBuilder sb, double x, double y, string text, string extra = "")
    {
        sb.Append("<text x=\"").Append(N(x)).Append("\" y=\"").Append(N(y)).Append('"').Append(extra).Append('>').Append(E(text)).Append("</text>");
    }

    /// <summary>Tick positions on [0, span] seconds: 1, 2 or 5 × a power of ten, about <paramref name="target"/> ticks.</summary>
    public static IEnumerable<double> Ticks(double span, int target = 10)
    {
        if (span <= 0)
            yield break;
        double raw = span / target;
        double pow = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        double step = raw / pow < 2 ? pow : raw / pow < 5 ? 2 * pow : 5 * pow;
        for (double t = 0; t <= span + step * 1e-9; t += step)
            yield return t;
    }

    /// <summary>A legend as HTML swatches.</summary>
    public static string Legend(IEnumerable<(string Name, string Colour)> items) =>
        "<div class=\"legend\">" + string.Concat(items.Select(i =>
            $"<span><i style=\"background:{i.Colour}\"></i>{E(i.Name)}</span>")) + "</div>";
}
