using System.Globalization;
using System.Text;
using System.Text.Json;
using Vmtrace.Agent.Live.Discovery;

namespace Vmtrace.Agent.Live.Recording;

/// <summary>A thread of a VM: "vcpu" (with its index), "vhost" (the kernel's vhost worker for this qemu), "main" (tid = pid) or "other".</summary>
public sealed record RecordedThread(int Tid, string Comm, string Role, int Vcpu);

/// <summary>One qemu process of the recording, as /proc showed it (plus threads seen only at the end).</summary>
public sealed class RecordedVm
{
    public required string Name { get; init; }
    public required int Pid { get; init; }
    public string Uuid { get; init; } = "";
    public string? LibvirtDomain { get; init; }
    public string Cmdline { get; init; } = "";
    public List<string> Taps { get; init; } = [];
    public List<RecordedThread> Threads { get; init; } = [];

    /// <summary>True when the VM ran when recording started; false for one first seen at the end.</summary>
    public bool SeenAtStart { get; init; }

    /// <summary>qemu's log-backend file (-D), as qemu was given it.</summary>
    public string? QemuLogSource { get; init; }

    /// <summary>Its length when recording started: the copy begins there.</summary>
    public long QemuLogStartOffset { get; init; }

    /// <summary>The copy in the recording directory (a file name), once made.</summary>
    public string? QemuLog { get; set; }
}

/// <summary>How the trace's timestamps relate to CLOCK_REALTIME, the clock of qemu's log lines.</summary>
public sealed record RecordedClock(string TraceClock, long RealtimeMinusTraceClockNs, bool OffsetStoredInTrace);

/// <summary>What <c>vmtrace record</c> writes as <c>vmmap.json</c> (format: docs/recording.md, schema: docs/vmmap.schema.json).</summary>
public sealed class VmMap
{
    public const string FormatName = "vmtrace-vmmap/1";

    public string Host { get; init; } = "";
    public string Kernel { get; init; } = "";
    public int Cpus { get; init; }
    public long StartRealtimeNs { get; init; }
    public long? EndRealtimeNs { get; set; }
    public required RecordedClock Clock { get; init; }
    public string TraceFile { get; init; } = "trace.dat";
    public string TraceWriter { get; init; } = "";
    public string Instance { get; init; } = "";
    public int BufferSizeKb { get; init; }
    public List<string> Events { get; init; } = [];
    public List<string> MissingEvents { get; init; } = [];

    /// <summary>Events the kernel lost in the instance (overwritten before read, or dropped), from its per-CPU stats at the stop; null while recording.</summary>
    public long? LostEvents { get; set; }

    public List<RecordedVm> Vms { get; init; } = [];

    /// <summary>The VMs /proc shows now: qemu processes, their threads, taps, command lines, and the kernel's vhost workers for them.</summary>
    public static List<RecordedVm> ScanVms(string proc, bool atStart)
    {
        var found = new QemuProcessScanner(proc).Scan();
        var vhost = VhostWorkers(proc, found.Select(v => v.Pid).ToHashSet());
        var vms = new List<RecordedVm>(found.Count);
        foreach (var vm in found)
        {
            var threads = vm.Threads.Select(t => new RecordedThread(t.Tid, t.Comm, Role(t, vm.Pid), t.VcpuIndex)).ToList();
            if (vhost.TryGetValue(vm.Pid, out var workers))
            {
                foreach (var (tid, comm) in workers)
                {
                    if (!threads.Exists(t => t.Tid == tid))
                        threads.Add(new RecordedThread(tid, comm, "vhost", -1));
                }
            }
            threads.Sort((a, b) => a.Tid.CompareTo(b.Tid));
            string? log = vm.TraceLogFile is { Length: > 0 } l ? Path.GetFullPath(l, CwdOf(proc, vm.Pid)) : null;
            vms.Add(new RecordedVm
            {
                Name = vm.Name,
                Pid = vm.Pid,
                Uuid = vm.Uuid,
                LibvirtDomain = vm.LibvirtDomain,
                Cmdline = ReadCmdline(proc, vm.Pid),
                Taps = [.. vm.TapDevices],
                Threads = threads,
                SeenAtStart = atStart,
                QemuLogSource = log,
                QemuLogStartOffset = log is not null && File.Exists(log) ? new FileInfo(log).Length : 0,
            });
        }
        return vms;
    }

    /// <summary>Adds threads and VMs seen in a later scan (a VM by pid; a thread by tid, first name kept).</summary>
    public void Merge(IEnumerable<RecordedVm> later)
    {
        foreach (var vm in later)
        {
            var known = Vms.Find(v => v.Pid == vm.Pid);
            if (known is null)
            {
                Vms.Add(vm);
                continue;
            }
            foreach (var t in vm.Threads.Where(t => !known.Threads.Exists(k => k.Tid == t.Tid)))
                known.Threads.Add(t);
            known.Threads.Sort((a, b) => a.Tid.CompareTo(b.Tid));
        }
        Vms.Sort((a, b) => a.Pid.CompareTo(b.Pid));
    }

    private static string Role(DiscoveredThread t, int pid) =>
        t.VcpuIndex >= 0 ? "vcpu" : t.Comm.StartsWith("vhost-", StringComparison.Ordinal) ? "vhost" : t.Tid == pid ? "main" : "other";

    /// <summary>Kernel threads named "vhost-PID" (before Linux 6.4 they are not in the qemu's own task list).</summary>
    private static Dictionary<int, List<(int Tid, string Comm)>> VhostWorkers(string proc, HashSet<int> qemuPids)
    {
        var map = new Dictionary<int, List<(int, string)>>();
        if (qemuPids.Count == 0)
            return map;
        foreach (var dir in Directory.EnumerateDirectories(proc))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out int tid))
                continue;
            try
            {
                string comm = File.ReadAllText(Path.Combine(dir, "comm")).TrimEnd('\n');
                if (comm.StartsWith("vhost-", StringComparison.Ordinal)
                    && int.TryParse(comm.AsSpan(6), NumberStyles.None, CultureInfo.InvariantCulture, out int owner) && qemuPids.Contains(owner))
                {
                    if (!map.TryGetValue(owner, out var list))
                        map[owner] = list = [];
                    list.Add((tid, comm));
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Exited while we looked.
            }
        }
        return map;
    }

    private static string ReadCmdline(string proc, int pid)
    {
        try
        {
            return File.ReadAllText(Path.Combine(proc, pid.ToString(CultureInfo.InvariantCulture), "cmdline")).TrimEnd('\0').Replace('\0', ' ');
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return "";
        }
    }

    /// <summary>qemu resolves a relative -D path against its own working directory.</summary>
    private static string CwdOf(string proc, int pid)
    {
        try
        {
            var target = Directory.ResolveLinkTarget(Path.Combine(proc, pid.ToString(CultureInfo.InvariantCulture), "cwd"), returnFinalTarget: false);
            return target?.FullName ?? "/";
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return "/";
        }
    }

    public string ToJson()
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("format", FormatName);
            w.WriteString("recorded_by", "vmtrace record");
            w.WriteStartObject("host");
            w.WriteString("hostname", Host);
            w.WriteString("kernel", Kernel);
            w.WriteNumber("cpus", Cpus);
            w.WriteEndObject();
            w.WriteNumber("start_realtime_ns", StartRealtimeNs);
            if (EndRealtimeNs is { } end)
                w.WriteNumber("end_realtime_ns", end);
            else
                w.WriteNull("end_realtime_ns");
            w.WriteStartObject("clock");
            w.WriteString("trace_clock", Clock.TraceClock);
            w.WriteNumber("realtime_minus_trace_clock_ns", Clock.RealtimeMinusTraceClockNs);
            w.WriteBoolean("offset_stored_in_trace", Clock.OffsetStoredInTrace);
            w.WriteString("qemu_log_clock", "realtime");
            w.WriteEndObject();
            w.WriteStartObject("trace");
            w.WriteString("file", TraceFile);
            w.WriteString("writer", TraceWriter);
            w.WriteString("instance", Instance);
            w.WriteNumber("buffer_size_kb", BufferSizeKb);
            WriteStrings(w, "events", Events);
            WriteStrings(w, "missing_events", MissingEvents);
            if (LostEvents is { } lost)
                w.WriteNumber("lost_events", lost);
            else
                w.WriteNull("lost_events");
            w.WriteEndObject();
            w.WriteStartArray("vms");
            foreach (var vm in Vms)
                WriteVm(w, vm);
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }

    private static void WriteVm(Utf8JsonWriter w, RecordedVm vm)
    {
        w.WriteStartObject();
        w.WriteString("name", vm.Name);
        w.WriteNumber("pid", vm.Pid);
        w.WriteString("uuid", vm.Uuid);
        if (vm.LibvirtDomain is null)
            w.WriteNull("libvirt_domain");
        else
            w.WriteString("libvirt_domain", vm.LibvirtDomain);
        w.WriteString("cmdline", vm.Cmdline);
        if (vm.Taps.Count > 0)
            w.WriteString("netns_tap", vm.Taps[0]);
        else
            w.WriteNull("netns_tap");
        WriteStrings(w, "taps", vm.Taps);
        w.WriteNumber("vcpus", vm.Threads.Count(t => t.Role == "vcpu"));
        w.WriteStartArray("threads");
        foreach (var t in vm.Threads)
        {
            w.WriteStartObject();
            w.WriteNumber("tid", t.Tid);
            w.WriteString("comm", t.Comm);
            w.WriteString("role", t.Role);
            if (t.Vcpu >= 0)
                w.WriteNumber("vcpu", t.Vcpu);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteBoolean("seen_at_start", vm.SeenAtStart);
        if (vm.QemuLog is null)
            w.WriteNull("qemu_log");
        else
            w.WriteString("qemu_log", vm.QemuLog);
        if (vm.QemuLogSource is null)
            w.WriteNull("qemu_log_source");
        else
            w.WriteString("qemu_log_source", vm.QemuLogSource);
        w.WriteEndObject();
    }

    private static void WriteStrings(Utf8JsonWriter w, string name, IEnumerable<string> values)
    {
        w.WriteStartArray(name);
        foreach (var v in values)
            w.WriteStringValue(v);
        w.WriteEndArray();
    }
}
