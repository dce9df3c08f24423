using System.Globalization;
using System.Text;
using Vmtrace.Analysis;
using Layout = Vmtrace.Analysis.MetricSchema.LineProtocol;

namespace Vmtrace.InfluxDb;

/// <summary>
/// The points vmtrace writes for one closed window (docs/schema.md, <see cref="MetricSchema.LineProtocol"/>): the same text
/// from <c>vmtrace analyze --format line-protocol</c> and from the worker's InfluxDB sink. Timestamp = window start.
/// Tags are bounded: host, vm, vcpu, reason (exit reason number), layer (qemu|block), culprit (top N per VM), cr3 (top 8
/// per VM and window, plus other and unknown: new guest processes make new values over time). The workload
/// class of each VM and window comes from the shipped <see cref="WorkloadModel"/>. Names
/// (host, vm, culprit) are written with <see cref="LineProtocolWriter.NameTag"/>: whatever a trace calls a VM or thread,
/// every point is stored in its own series.
/// </summary>
public static class MetricsLineProtocol
{
    /// <summary>Every point of the window: the measured ones (<see cref="Write"/>), then each VM's workload class (<see cref="WriteWorkload"/>).</summary>
    public static void WriteWindow(LineProtocolWriter w, WindowMetrics window, string host)
    {
        Write(w, window, host);
        WriteWorkload(w, window, host, WorkloadModel.Shipped);
    }

    /// <summary>One <c>vmtrace_workload</c> point per VM of the window: its class by <paramref name="model"/>.</summary>
    public static void WriteWorkload(LineProtocolWriter w, WindowMetrics window, string host, WorkloadModel model)
    {
        var fields = new LineFields(w);
        foreach (var vm in window.Vms)
        {
            Point(w, Layout.Workload, host, vm.Vm);
            Layout.Workload.Write(fields, model.Classify(window, vm));
            w.End(window.StartNs);
        }
    }

    /// <summary>The measured points of the window (every measurement but the derived <c>vmtrace_workload</c>).</summary>
    public static void Write(LineProtocolWriter w, WindowMetrics window, string host)
    {
        long ts = window.StartNs;
        var fields = new LineFields(w);
        foreach (var vm in window.Vms)
        {
            Point(w, Layout.Vm, host, vm.Vm);
            Layout.Vm.Write(fields, new VmRow(host, window, vm));
            w.End(ts);
            foreach (var v in vm.Vcpus)
            {
                Point(w, Layout.Vcpu, host, vm.Vm).Tag(MetricSchema.Tags.Vcpu.Name, Int(v.VcpuId));
                Layout.Vcpu.Write(fields, v);
                w.End(ts);
            }
            foreach (var x in vm.Exits)
            {
                // isa and reason_name only when the trace says which ISA it is (a null tag is left out).
                Point(w, Layout.Exit, host, vm.Vm).Tag(MetricSchema.Tags.Reason.Name, Int(x.Reason))
                    .Tag(MetricSchema.Tags.Isa.Name, ExitReasons.Tag(x.Isa)).Tag(MetricSchema.Tags.ReasonName.Name, x.Name);
                Layout.Exit.Write(fields, x);
                w.End(ts);
            }
            Disk(w, host, vm.Vm, "qemu", vm.QemuDisk, ts);
            Disk(w, host, vm.Vm, "block", vm.BlockDisk, ts);
            if (!vm.Network.IsEmpty)
            {
                Point(w, Layout.Network, host, vm.Vm);
                Layout.Network.Write(fields, vm.Network);
                w.End(ts);
            }
            foreach (var i in vm.Interferers)
            {
                Point(w, Layout.Interference, host, vm.Vm).NameTag(MetricSchema.Tags.Culprit.Name, i.Culprit);
                Layout.Interference.Write(fields, i);
                w.End(ts);
            }
            if (vm.WaitCauses.TotalNs != 0)
            {
                Point(w, Layout.VmWait, host, vm.Vm);
                Layout.VmWait.Write(fields, vm.WaitCauses);
                w.End(ts);
            }
            foreach (var v in vm.Vcpus)
            {
                if (v.WaitCauses.TotalNs == 0)
                    continue;
                Point(w, Layout.VcpuWait, host, vm.Vm).Tag(MetricSchema.Tags.Vcpu.Name, Int(v.VcpuId));
                Layout.VcpuWait.Write(fields, v.WaitCauses);
                w.End(ts);
            }
            if (!vm.GuestModes.IsEmpty)
            {
                Point(w, Layout.VmGuest, host, vm.Vm);
                Layout.VmGuest.Write(fields, vm.GuestModes);
                w.End(ts);
            }
            foreach (var v in vm.Vcpus)
            {
                if (v.GuestModes.IsEmpty)
                    continue;
                Point(w, Layout.VcpuGuest, host, vm.Vm).Tag(MetricSchema.Tags.Vcpu.Name, Int(v.VcpuId));
                Layout.VcpuGuest.Write(fields, v.GuestModes);
                w.End(ts);
            }
            foreach (var g in vm.GuestSpaces)
            {
                Point(w, Layout.GuestSpaces, host, vm.Vm).Tag(MetricSchema.Tags.Cr3.Name, g.Cr3);
                Layout.GuestSpaces.Write(fields, g);
                w.End(ts);
            }
            foreach (var g in vm.Nested)
            {
                foreach (var v in g.Vcpus)
                {
                    Point(w, MetricSchema.NestedOutput.LineProtocol, host, vm.Vm).NameTag(MetricSchema.Tags.L2.Name, g.L2)
                        .Tag(MetricSchema.Tags.L2Vcpu.Name, Int(v.Vcpu));
                    MetricSchema.NestedOutput.LineProtocol.Write(fields, v);
                    w.End(ts);
                }
            }
        }
    }

    /// <summary>The measured points of the window as text (<see cref="Write"/>).</summary>
    public static string Format(WindowMetrics window, string host)
    {
        var sb = new StringBuilder();
        Write(new LineProtocolWriter(sb), window, host);
        return sb.ToString();
    }

    private static void Disk(LineProtocolWriter w, string host, string vm, string layer, DiskLayerMetrics d, long ts)
    {
        if (d.IsEmpty)
            return;
        Point(w, Layout.Disk, host, vm).Tag(MetricSchema.Tags.Layer.Name, layer);
        Layout.Disk.Write(new LineFields(w), d);
        w.End(ts);
    }

    /// <summary>A point of <paramref name="group"/> begun with the host and vm tags every measurement of a window starts with.</summary>
    private static LineProtocolWriter Point(LineProtocolWriter w, MetricGroup group, string host, string vm) =>
        w.Begin(group.Name).NameTag(MetricSchema.Tags.Host.Name, host).NameTag(MetricSchema.Tags.Vm.Name, vm);

    private static string Int(int v) => v.ToString(CultureInfo.InvariantCulture);
}

/// <summary>A figure as a line protocol field; a text figure that does not apply (null) is left out.</summary>
internal readonly struct LineFields(LineProtocolWriter w) : IMetricWriter
{
    public void Integer(string name, long value) => w.Field(name, value);

    public void Float(string name, double value) => w.Field(name, value);

    public void Text(string name, string? value)
    {
        if (value is not null)
            w.Field(name, value);
    }
}
