using System.Globalization;
using Vmtrace.Decoding;
using Vmtrace.TestSupport;

namespace Vmtrace.Analysis.Tests;

/// <summary>
/// samples/plain-trace-cmd: real host traces of 1, 2 and 3 QEMU/TCG guests started without debug-threads (every
/// qemu thread named "qemu-system-x86"), recorded by scripts/tcg-lab/record-plain.sh with a plain
/// <c>trace-cmd record -e sched -e block -e net</c>, with and without <c>-O record-tgid</c>, and no vmmap.json.
/// The truth is labels.txt, written by the harness while recording: each qemu pid, its threads from /proc, and
/// which thread runs which vCPU as qemu itself said (QMP query-cpus-fast).
/// </summary>
public class PlainTraceCmdSampleTests
{
    /// <summary>
    /// Scenario, recording, identity expected: trace-cmd 3.1 keeps no tgid table even with -O record-tgid, so the
    /// guests started before the recording are a guess; started during it, fork and exec events place every thread.
    /// </summary>
    public static TheoryData<string, string, string> Recordings => new()
    {
        { "1vm", "tgid", VmIdentity.Guess }, { "1vm", "notgid", VmIdentity.Guess },
        { "2vm", "tgid", VmIdentity.Guess }, { "2vm", "notgid", VmIdentity.Guess },
        { "3vm", "tgid", VmIdentity.Guess }, { "3vm", "notgid", VmIdentity.Guess },
        { "2vm-started-during", "during", VmIdentity.Fork },
    };

    private static string Dir(string scenario) => Path.Combine(Corpus.RepoRoot, "samples", "plain-trace-cmd", scenario);

    private sealed record Guest(string Name, int Pid, HashSet<int> Threads, Dictionary<int, int> VcpuByTid);

    /// <summary>labels.txt: "vm NAME pid PID smp N", "thread PID TID COMM", "vcpu PID INDEX TID".</summary>
    private static List<Guest> Labels(string scenario)
    {
        var guests = new Dictionary<int, Guest>();
        var vcpus = new List<(int Pid, int Index, int Tid)>();
        foreach (var line in File.ReadLines(Path.Combine(Dir(scenario), "labels.txt")))
        {
            var f = line.Split(' ');
            switch (f[0])
            {
                case "vm":
                    int pid = int.Parse(f[3], CultureInfo.InvariantCulture);
                    guests.TryAdd(pid, new Guest(f[1], pid, [], []));
                    break;
                case "thread":
                    guests[int.Parse(f[1], CultureInfo.InvariantCulture)].Threads.Add(int.Parse(f[2], CultureInfo.InvariantCulture));
                    break;
                case "vcpu":
                    vcpus.Add((int.Parse(f[1], CultureInfo.InvariantCulture), int.Parse(f[2], CultureInfo.InvariantCulture), int.Parse(f[3], CultureInfo.InvariantCulture)));
                    break;
                default: break;
            }
        }
        foreach (var (pid, index, tid) in vcpus)
            guests[pid].VcpuByTid[tid] = index;
        return guests.Values.OrderBy(g => g.Pid).ToList();
    }

    /// <summary>
    /// The vCPUs the trace can show: all of them, except while the guests boot (2vm-started-during): each guest's
    /// vCPU 1 (tids 8110, 8113) then runs 6 and 7 ms of the 5 s (the guest starts its second CPU late) against
    /// vCPU 0's 507 and 561 ms (sched_stat_runtime in `trace-cmd report`), and with no name and no kvm event
    /// nothing tells it from qemu's other idle threads: it stays in its VM as one of its threads, not as a vCPU.
    /// </summary>
    private static Dictionary<int, int> Expected(Guest guest, string scenario) =>
        scenario == "2vm-started-during" ? guest.VcpuByTid.Where(kv => kv.Value == 0).ToDictionary() : guest.VcpuByTid;

    private static string Trace(string scenario, string kind) => Path.Combine(Dir(scenario), kind + ".dat.xz");

    [Theory]
    [MemberData(nameof(Recordings))]
    public void Infer_PlainRecording_OneVmPerGuestWithExactlyItsThreadsAndVcpus(string scenario, string kind, string identity)
    {
        var guests = Labels(scenario);
        IReadOnlyList<VmInventory> vms;
        using (var source = TraceOpener.Open(Trace(scenario, kind)))
            vms = IdentityInference.Of(source);

        Assert.Equal(guests.Select(g => g.Pid), vms.Select(v => v.Pid));
        foreach (var (guest, vm) in guests.Zip(vms))
        {
            // Every thread placed in the VM is one of that qemu's (the idle ones may not run during the recording).
            Assert.Subset(guest.Threads, vm.Threads.Select(t => t.Tid).ToHashSet());
            Assert.Contains(guest.Pid, vm.Threads.Select(t => t.Tid));
            var vcpus = vm.Threads.Where(t => t.VcpuIndex >= 0).ToDictionary(t => t.Tid, t => t.VcpuIndex);
            Assert.Equal(Expected(guest, scenario).OrderBy(kv => kv.Key), vcpus.OrderBy(kv => kv.Key));
            Assert.Equal(identity, vm.Identity);
        }
    }

    [Theory]
    [MemberData(nameof(Recordings))]
    public void Analyze_PlainRecording_VcpusUnderTheirVmAndNoQemuThreadChargedAsHost(string scenario, string kind, string identity)
    {
        var guests = Labels(scenario);
        IReadOnlyList<VmInventory> inventory;
        using (var pass = TraceOpener.Open(Trace(scenario, kind)))
            inventory = IdentityInference.Of(pass);
        using var source = TraceOpener.Open(Trace(scenario, kind));
        // Every culprit listed (not only the top 5), so a qemu thread left to the host would show.
        var (_, total, _) = AnalysisRun.Of(source, new AnalysisOptions { TopInterferers = 1000 }, inventory);

        Assert.Equal(guests.Count, total.Vms.Count);
        foreach (var guest in guests)
        {
            var vm = Assert.Single(total.Vms, v => v.Pid == guest.Pid);
            Assert.Equal(identity, vm.Identity);
            Assert.Equal(Expected(guest, scenario).OrderBy(kv => kv.Key).Select(kv => (kv.Key, kv.Value)),
                vm.Vcpus.OrderBy(v => v.Tid).Select(v => (v.Tid, v.VcpuId)));
            Assert.All(vm.Vcpus, v => Assert.True(v.Times.OnCpuNs > 0, $"vCPU {v.VcpuId} of {vm.Vm} never ran"));
        }
        var culprits = total.Vms.SelectMany(v => v.Interferers).Select(i => i.Culprit).ToList();
        Assert.DoesNotContain(culprits, c => c.StartsWith("host:qemu", StringComparison.Ordinal));
        // With several guests in their busy loops on 2 pCPUs, each is preempted by the others, under their VM
        // names (while booting, 2vm-started-during, they are preempted by the host's builds instead).
        if (guests.Count > 1 && kind != "during")
        {
            foreach (var vm in total.Vms)
                Assert.Contains(vm.Interferers, i => i.Culprit.StartsWith("qemu-", StringComparison.Ordinal) && i.Culprit != vm.Vm);
        }
    }

    [Theory]
    [MemberData(nameof(Recordings))]
    public void Analyze_PlainRecordingWithoutInference_FindsNoVm(string scenario, string kind, string identity)
    {
        // What the analysis saw before identity inference: nothing names a qemu thread, no kvm event under TCG.
        using var source = TraceOpener.Open(Trace(scenario, kind));
        var (_, total, _) = AnalysisRun.Of(source);
        Assert.Empty(total.Vms);
        Assert.NotEmpty(Labels(scenario));
        Assert.NotEmpty(identity);
    }
}
