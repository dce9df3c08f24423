using System.Text.Json;
using Vmtrace.Analysis;
using EpisodeLayout = Vmtrace.Analysis.MetricSchema.EpisodeJson;
using Layout = Vmtrace.Analysis.MetricSchema.Json;

namespace Vmtrace.Cli;

/// <summary><c>--format json</c>: the total over the range, every window, the counters and the interference episodes; times in ns. Fields as <see cref="MetricSchema.Json"/> lays them out.</summary>
internal static class AnalysisJson
{
    public static void Write(TextWriter o, AnalysisReport r)
    {
        using var stream = new MemoryStream();
        using (var j = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            j.WriteStartObject();
            j.WriteString("trace", r.Trace);
            j.WriteString("host", r.Host);
            if (r.Inventory is not null)
                j.WriteString("inventory", r.Inventory);
            j.WriteNumber("events", r.Events);
            j.WriteNumber("first_event_ns", r.FirstNs);
            j.WriteNumber("last_event_ns", r.LastNs);
            j.WriteNumber("window_ns", r.WindowNs);
            if (r.InCycles)
                j.WriteString("time_unit", "tsc_cycles");
            Object(j, Layout.Counters, new AnalysisCounterSources(r.Counters, r.Diagnostics));
            j.WriteStartArray("notes");
            foreach (var note in AnalysisNotes.Of(r.Counters))
                j.WriteStringValue(note);
            j.WriteEndArray();
            var model = WorkloadModel.Shipped;
            var dominant = WorkloadSummary.Dominant(r.Windows, model);
            j.WritePropertyName("total");
            Window(j, r.Total, vm => dominant.TryGetValue(vm.Vm, out var c) ? c : model.Classify(r.Total, vm));
            j.WriteStartArray("windows");
            foreach (var w in r.Windows)
                Window(j, w, vm => model.Classify(w, vm));
            j.WriteEndArray();
            if (r.Guests is { } guests)
                Guests(j, guests);
            j.WriteStartArray(EpisodeLayout.Episode.Property);
            foreach (var e in r.Episodes.OrderBy(e => e.StartNs).ThenBy(e => e.Vm, StringComparer.Ordinal).ThenBy(e => e.Resource, StringComparer.Ordinal))
                Episode(j, e);
            j.WriteEndArray();
            j.WriteEndObject();
        }
        o.Write(System.Text.Encoding.UTF8.GetString(stream.ToArray()));
        o.WriteLine();
    }

    private static void Window(Utf8JsonWriter j, WindowMetrics w, Func<VmMetrics, WorkloadClass> workload)
    {
        var fields = new JsonFields(j);
        j.WriteStartObject();
        Layout.Window.Write(fields, w);
        j.WriteStartArray("vms");
        foreach (var vm in w.Vms)
        {
            j.WriteStartObject();
            Layout.Vm.Write(fields, vm);
            Object(j, Layout.VmTimes, vm.VcpuTimes);
            j.WriteStartArray(Layout.Vcpu.Property);
            foreach (var v in vm.Vcpus)
            {
                j.WriteStartObject();
                Layout.Vcpu.Write(fields, v);
                Object(j, Layout.VcpuTimes, v.Times);
                Array(j, Layout.VcpuExits, v.Exits);
                Object(j, Layout.VcpuWaitCauses, v.WaitCauses);
                Object(j, Layout.VcpuGuestModes, v.GuestModes);
                j.WriteEndObject();
            }
            j.WriteEndArray();
            Array(j, Layout.VmExits, vm.Exits);
            Disk(j, Layout.QemuDisk, Layout.QemuDiskLatency, vm.QemuDisk);
            Disk(j, Layout.BlockDisk, Layout.BlockDiskLatency, vm.BlockDisk);
            Object(j, Layout.Network, vm.Network);
            Array(j, Layout.PreemptedBy, vm.Interferers);
            Object(j, Layout.VmWaitCauses, vm.WaitCauses);
            Object(j, Layout.Workload, workload(vm));
            Object(j, Layout.VmGuestModes, vm.GuestModes);
            Array(j, Layout.GuestSpaces, vm.GuestSpaces);
            Nested(j, vm.Nested);
            j.WriteEndObject();
        }
        j.WriteEndArray();
        j.WriteEndObject();
    }

    /// <summary>The L2 guests the VM's vCPUs ran (left out when none: traces without nested virtualisation).</summary>
    private static void Nested(Utf8JsonWriter j, IReadOnlyList<NestedGuestMetrics> guests)
    {
        if (guests.Count == 0)
            return;
        var fields = new JsonFields(j);
        j.WriteStartArray(MetricSchema.NestedOutput.JsonGuest.Property);
        foreach (var g in guests)
        {
            j.WriteStartObject();
            MetricSchema.NestedOutput.JsonGuest.Write(fields, g);
            Array(j, MetricSchema.NestedOutput.JsonVcpu, g.Vcpus);
            j.WriteEndObject();
        }
        j.WriteEndArray();
    }

    /// <summary>The fused host+guest analysis (with --guest): per guest thread, its run time by its vCPU thread's host state.</summary>
    private static void Guests(Utf8JsonWriter j, IReadOnlyList<GuestReport> guests)
    {
        j.WriteStartArray("guests");
        foreach (var (trace, g) in guests)
        {
            j.WriteStartObject();
            j.WriteString("name", g.Name);
            if (g.Vm is not null)
                j.WriteString("vm", g.Vm);
            else
                j.WriteNull("vm");
            j.WriteString("trace", trace);
            j.WriteStartArray("threads");
            foreach (var t in g.Threads)
            {
                j.WriteStartObject();
                j.WriteNumber("tid", t.Tid);
                j.WriteString("comm", t.Comm);
                j.WriteNumber("run_ns", t.RunNs);
                j.WriteNumber("in_guest_ns", t.InGuestNs);
                j.WriteNumber("hypervisor_ns", t.HypervisorNs);
                j.WriteNumber("preempted_ns", t.PreemptedNs);
                j.WriteNumber("unknown_ns", t.UnknownNs);
                j.WriteStartArray("preempted_by");
                foreach (var (culprit, ns) in t.PreemptedBy)
                {
                    j.WriteStartObject();
                    j.WriteString("culprit", culprit);
                    j.WriteNumber("preempted_ns", ns);
                    j.WriteEndObject();
                }
                j.WriteEndArray();
                j.WriteEndObject();
            }
            j.WriteEndArray();
            j.WriteEndObject();
        }
        j.WriteEndArray();
    }

    internal static void Episode(Utf8JsonWriter j, Episode e)
    {
        j.WriteStartObject();
        EpisodeLayout.Episode.Write(new JsonFields(j), e);
        Array(j, EpisodeLayout.Culprit, e.Culprits);
        j.WriteStartObject("evidence");
        foreach (var f in e.Evidence)
            j.WriteNumber(f.Name, f.Value);
        j.WriteEndObject();
        j.WriteEndObject();
    }

    private static void Disk(Utf8JsonWriter j, MetricGroup<DiskLayerMetrics> layer, MetricGroup<LatencyMetrics> latency, DiskLayerMetrics d)
    {
        j.WriteStartObject(layer.Property);
        layer.Write(new JsonFields(j), d);
        Object(j, latency, d.Latency);
        j.WriteEndObject();
    }

    private static void Object<T>(Utf8JsonWriter j, MetricGroup<T> group, T source)
    {
        j.WriteStartObject(group.Property);
        group.Write(new JsonFields(j), source);
        j.WriteEndObject();
    }

    private static void Array<T>(Utf8JsonWriter j, MetricGroup<T> group, IReadOnlyList<T> items)
    {
        j.WriteStartArray(group.Property);
        foreach (var item in items)
        {
            j.WriteStartObject();
            group.Write(new JsonFields(j), item);
            j.WriteEndObject();
        }
        j.WriteEndArray();
    }

    /// <summary>A figure as a JSON property; one that does not apply (null) is left out.</summary>
    private readonly struct JsonFields(Utf8JsonWriter j) : IMetricWriter
    {
        public void Integer(string name, long value) => j.WriteNumber(name, value);

        public void Float(string name, double value) => j.WriteNumber(name, value);

        public void Text(string name, string? value)
        {
            if (value is not null)
                j.WriteString(name, value);
        }
    }
}
