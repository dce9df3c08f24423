using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Vmtrace.Decoding;

namespace Vmtrace.Analysis.Tests;

/// <summary>
/// A recording of scripts/tcg-lab (trace.dat.xz, qemu logs, vmmap.json, serial-VM.log) analysed in 1-s windows, each VM's
/// windows labelled with the workload its guest ran. The guest console gives the workload's start and end in guest uptime
/// ("TCGWL start … uptime=S", "TCGWL end uptime=E", and VMTRACE_WL the same) and "[ T] reboot: Power down" its power-off;
/// the host trace gives the qemu process's exit (sched_process_exit of its pid), which follows the power-off. So uptime 0
/// is at most exit − T on the trace clock, and a window is labelled when it lies wholly inside
/// [exit − T + S, exit − T + E − <see cref="EndMarginNs"/>]: the margin covers the time from the power-off line to the exit.
/// Windows outside (boot, shutdown) are left out: the guest is busy booting then, not idle nor running its workload.
/// The recording also keeps every window, the episodes, each VM's qemu launch time (vmmap.json launched_realtime, on the
/// trace's clock: tai = realtime on the recording host) and the host busy loops the recorder ran (vmmap.json host_hogs).
/// </summary>
internal sealed partial record LabelledRecording(
    string Name, IReadOnlyList<LabelledRecording.Window> Windows, IReadOnlyList<LabelledRecording.Vm> Vms,
    IReadOnlyList<LabelledRecording.Hog> Hogs, IReadOnlyList<WindowMetrics> AllWindows, IReadOnlyList<Episode> Episodes)
{
    public const long EndMarginNs = 500_000_000;

    public sealed record Window(string Vm, string Label, WindowMetrics Metrics, VmMetrics VmMetrics);

    /// <summary>A VM: its workload label, its qemu's launch, and the interval its labelled windows lie in.</summary>
    public sealed record Vm(string Name, int Pid, string Workload, long LaunchedNs, long WorkloadFromNs, long WorkloadToNs);

    /// <summary>A host busy loop the recorder ran: its comm, pid, start and stop (trace clock, ns).</summary>
    public sealed record Hog(string Comm, int Pid, long StartNs, long StopNs);

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, Lazy<LabelledRecording>> s_loaded = new();

    [GeneratedRegex(@"(?:TCGWL|VMTRACE_WL) start wl=(\w+).* uptime=([0-9.]+)")]
    private static partial Regex StartMarker();

    [GeneratedRegex(@"(?:TCGWL|VMTRACE_WL) end uptime=([0-9.]+)")]
    private static partial Regex EndMarker();

    [GeneratedRegex(@"\[\s*([0-9.]+)\] reboot: Power down")]
    private static partial Regex PowerDown();

    /// <summary>The trace corpus's tcg-qemu scenario <paramref name="scenario"/>.</summary>
    public static LabelledRecording Corpus(string scenario) => Load("tcg-qemu/" + scenario, TestSupport.Corpus.Path("tcg-qemu/" + scenario));

    /// <summary>The repository's sample <paramref name="sample"/>.</summary>
    public static LabelledRecording Sample(string sample) =>
        s_loaded.GetOrAdd(sample, s => new Lazy<LabelledRecording>(() => Load("samples/" + s, Path.Combine(TestSupport.Corpus.RepoRoot, "samples", s)))).Value;

    private static LabelledRecording Load(string name, string dir)
    {
        using var vmmap = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "vmmap.json")));
        var vms = vmmap.RootElement.GetProperty("vms").EnumerateArray()
            .Select(v => (Name: v.GetProperty("name").GetString()!, Pid: v.GetProperty("pid").GetInt32(), Workload: v.GetProperty("workload").GetString()!,
                Launched: Ns(v.GetProperty("launched_realtime").GetDouble())))
            .ToList();
        var hogs = new List<Hog>();
        if (vmmap.RootElement.TryGetProperty("host_hogs", out var hogList))
        {
            foreach (var h in hogList.EnumerateArray())
            {
                hogs.Add(new Hog(h.GetProperty("comm").GetString()!, h.GetProperty("pid").GetInt32(), Ns(h.GetProperty("started_realtime").GetDouble()),
                    Ns(h.GetProperty("stopped_realtime").GetDouble())));
            }
        }
        var inputs = new List<string> { Path.Combine(dir, "trace.dat.xz") };
        inputs.AddRange(Directory.GetFiles(dir, "qemu-*.log*").Order(StringComparer.Ordinal));
        var exits = new Dictionary<int, long>();
        using var source = TraceOpener.OpenAll(inputs);
        var (windows, _, analysis) = AnalysisRun.Of(source, inventory: VmMapJson.Parse(File.ReadAllText(Path.Combine(dir, "vmmap.json"))),
            observer: (in TraceEvent e) =>
            {
                if (e.Known != KnownEvent.SchedProcessExit)
                    return;
                int tid = (int)e.Get(FieldRole.Tid);
                if (vms.Exists(v => v.Pid == tid))
                    exits[tid] = e.Timestamp;
            });
        var labelled = new List<Window>();
        var labelledVms = new List<Vm>();
        foreach (var vm in vms)
        {
            string serial = File.ReadAllText(Path.Combine(dir, $"serial-{vm.Name}.log"));
            var start = StartMarker().Match(serial);
            var end = EndMarker().Match(serial);
            var off = PowerDown().Match(serial);
            Assert.True(start.Success && end.Success && off.Success, $"{dir}/serial-{vm.Name}.log: workload markers or power-off line missing");
            Assert.Equal(vm.Workload, start.Groups[1].Value);
            long uptimeZero = exits[vm.Pid] - Ns(off.Groups[1].Value);
            long from = uptimeZero + Ns(start.Groups[2].Value);
            long to = uptimeZero + Ns(end.Groups[1].Value) - EndMarginNs;
            labelledVms.Add(new Vm(vm.Name, vm.Pid, vm.Workload, vm.Launched, from, to));
            foreach (var w in windows)
            {
                var m = w.Vms.FirstOrDefault(x => x.Vm == vm.Name);
                if (m is not null && w.StartNs >= from && w.EndNs <= to)
                    labelled.Add(new Window(vm.Name, vm.Workload, w, m));
            }
        }
        return new LabelledRecording(name, labelled, labelledVms, hogs, windows, analysis.TakeClosedEpisodes());
    }

    private static long Ns(string seconds) => Ns(double.Parse(seconds, CultureInfo.InvariantCulture));

    private static long Ns(double seconds) => (long)Math.Round(seconds * 1e9);
}
