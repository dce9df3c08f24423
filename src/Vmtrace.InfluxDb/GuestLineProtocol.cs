using System.Globalization;
using Vmtrace.Analysis;
using Layout = Vmtrace.Analysis.MetricSchema.LineProtocol;

namespace Vmtrace.InfluxDb;

/// <summary>
/// The <c>vmtrace_guest_thread</c> points of the fused host+guest analysis (docs/schema.md): one per guest thread with
/// run time, the same text from <c>vmtrace analyze --guest … --format line-protocol</c> and from the worker. The
/// figures are totals over the range analysed, so the points carry the range's end.
/// </summary>
public static class GuestLineProtocol
{
    public static void Write(LineProtocolWriter w, GuestMetrics guest, string host, long endNs)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(guest);
        var fields = new LineFields(w);
        foreach (var t in guest.Threads)
        {
            w.Begin(Layout.GuestThread.Name).NameTag(MetricSchema.Tags.Host.Name, host).NameTag(MetricSchema.Tags.Vm.Name, guest.Vm)
                .NameTag(MetricSchema.Tags.Guest.Name, guest.Name).Tag(MetricSchema.Tags.Tid.Name, t.Tid.ToString(CultureInfo.InvariantCulture))
                .NameTag(MetricSchema.Tags.Comm.Name, t.Comm);
            Layout.GuestThread.Write(fields, new GuestThreadRow(host, guest, t));
            w.End(endNs);
        }
    }
}
