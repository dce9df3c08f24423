namespace Vmtrace.Analysis.Checkpoint;

/// <summary>Closed windows not yet taken, written figure by figure (they are results, not state, but a restored analysis must hand them out).</summary>
internal static class WindowCodec
{
    public static void Write(SectionWriter w, WindowMetrics window)
    {
        w.Int64(window.StartNs);
        w.Int64(window.EndNs);
        w.Int32(window.CpuCount);
        w.Count(window.Vms.Count);
        foreach (var vm in window.Vms)
        {
            w.String(vm.Vm);
            w.Int32(vm.Pid);
            w.String(vm.Origin);
            w.String(vm.Identity);
            WriteTimes(w, vm.VcpuTimes);
            w.Int64(vm.ThreadsOnCpuNs);
            w.Double(vm.PcpuShare);
            w.Int32(vm.ActiveVcpus);
            w.Count(vm.Vcpus.Count);
            foreach (var v in vm.Vcpus)
            {
                w.Int32(v.VcpuId);
                w.Int32(v.Tid);
                WriteTimes(w, v.Times);
                WriteExits(w, v.Exits);
                WriteWaitCauses(w, v.WaitCauses);
                WriteGuestModes(w, v.GuestModes);
            }
            WriteExits(w, vm.Exits);
            WriteDisk(w, vm.QemuDisk);
            WriteDisk(w, vm.BlockDisk);
            var n = vm.Network;
            w.Int64(n.RxPackets);
            w.Int64(n.RxBytes);
            w.Int64(n.TxPackets);
            w.Int64(n.TxBytes);
            w.Int64(n.VhostBusyNs);
            w.Int64(n.VhostWaitNs);
            n.RxGaps.WriteTo(w);
            n.TxGaps.WriteTo(w);
            vm.PreemptedIntervals.WriteTo(w);
            WriteNested(w, vm.Nested);
            w.Count(vm.Interferers.Count);
            foreach (var i in vm.Interferers)
            {
                w.String(i.Culprit);
                w.Int64(i.PreemptedNs);
            }
            w.Count(vm.GuestSpaces.Count);
            foreach (var g in vm.GuestSpaces)
            {
                w.String(g.Cr3);
                w.Int64(g.GuestNs);
            }
        }
        WriteDisk(w, window.HostBlockDisk);
    }

    public static WindowMetrics Read(SectionReader r)
    {
        long start = r.Int64();
        long end = r.Int64();
        int cpus = r.Int32();
        int count = r.Count(8);
        var vms = new List<VmMetrics>(count);
        for (int k = 0; k < count; k++)
        {
            string name = r.String();
            int pid = r.Int32();
            string origin = r.String();
            string identity = r.String();
            var times = ReadTimes(r);
            long onCpu = r.Int64();
            double share = r.Double();
            int active = r.Int32();
            int vcpuCount = r.Count(8);
            var vcpus = new List<VcpuMetrics>(vcpuCount);
            for (int i = 0; i < vcpuCount; i++)
                vcpus.Add(new VcpuMetrics(r.Int32(), r.Int32(), ReadTimes(r), ReadExits(r)) { WaitCauses = ReadWaitCauses(r), GuestModes = ReadGuestModes(r) });
            var exits = ReadExits(r);
            var qemuDisk = ReadDisk(r);
            var blockDisk = ReadDisk(r);
            var network = new NetworkMetrics(r.Int64(), r.Int64(), r.Int64(), r.Int64(), r.Int64(), r.Int64())
            {
                RxGaps = DurationSpread.ReadFrom(r),
                TxGaps = DurationSpread.ReadFrom(r),
            };
            var preempted = DurationSpread.ReadFrom(r);
            var nested = ReadNested(r);
            int interfererCount = r.Count(9);
            var interferers = new List<Interference>(interfererCount);
            for (int i = 0; i < interfererCount; i++)
                interferers.Add(new Interference(r.String(), r.Int64()));
            int spaceCount = r.Count(9);
            var spaces = new List<GuestSpace>(spaceCount);
            for (int i = 0; i < spaceCount; i++)
                spaces.Add(new GuestSpace(r.String(), r.Int64()));
            vms.Add(new VmMetrics(name, pid, origin, times, onCpu, share, active, vcpus, exits, qemuDisk, blockDisk, network, interferers)
            {
                Identity = identity,
                PreemptedIntervals = preempted,
                WaitCauses = vcpus.Aggregate(default(WaitCauses), (acc, v) => acc.Add(v.WaitCauses)),
                GuestModes = vcpus.Aggregate(default(GuestModes), (acc, v) => acc.Add(v.GuestModes)),
                GuestSpaces = spaces,
                Nested = nested,
            });
        }
        return new WindowMetrics(start, end, cpus, vms) { HostBlockDisk = ReadDisk(r) };
    }

    private static void WriteNested(SectionWriter w, IReadOnlyList<NestedGuestMetrics> guests)
    {
        w.Count(guests.Count);
        foreach (var g in guests)
        {
            w.String(g.L2);
            w.Count(g.Vcpus.Count);
            foreach (var v in g.Vcpus)
            {
                w.Int32(v.Vcpu);
                w.String(v.Vmcs);
                w.Int32(v.L1Vcpu);
                w.Int64(v.Times.L2RunningNs);
                w.Int64(v.Times.L1RootNs);
                w.Int64(v.Times.L0RootNs);
                w.Int64(v.Times.L1PreemptedNs);
                w.Int64(v.Times.BlockedNs);
                w.Int64(v.L2Exits);
                w.Int64(v.ReflectedExits);
                w.Int64(v.L1Exits);
            }
        }
    }

    private static IReadOnlyList<NestedGuestMetrics> ReadNested(SectionReader r)
    {
        int n = r.Count(2);
        if (n == 0)
            return [];
        var guests = new List<NestedGuestMetrics>(n);
        for (int i = 0; i < n; i++)
        {
            string name = r.String();
            int count = r.Count(73);
            var vcpus = new List<NestedVcpuMetrics>(count);
            for (int k = 0; k < count; k++)
            {
                vcpus.Add(new NestedVcpuMetrics(r.Int32(), r.String(), r.Int32(),
                    new NestedTimes(r.Int64(), r.Int64(), r.Int64(), r.Int64(), r.Int64()), r.Int64(), r.Int64(), r.Int64()));
            }
            guests.Add(new NestedGuestMetrics(name, vcpus));
        }
        return guests;
    }

    private static void WriteTimes(SectionWriter w, CpuTimes t)
    {
        w.Int64(t.GuestNs);
        w.Int64(t.HostNs);
        w.Int64(t.PreemptedNs);
        w.Int64(t.WaitNs);
        w.Int64(t.BlockedNs);
        w.Int64(t.BlockedQueuedNs);
    }

    private static CpuTimes ReadTimes(SectionReader r) => new(r.Int64(), r.Int64(), r.Int64(), r.Int64(), r.Int64(), r.Int64());

    private static void WriteWaitCauses(SectionWriter w, WaitCauses c)
    {
        w.Int64(c.TimerNs);
        w.Int64(c.DiskNs);
        w.Int64(c.NetNs);
        w.Int64(c.VcpuNs);
        w.Int64(c.HostNs);
        w.Int64(c.UnknownNs);
    }

    private static WaitCauses ReadWaitCauses(SectionReader r) => new(r.Int64(), r.Int64(), r.Int64(), r.Int64(), r.Int64(), r.Int64());

    private static void WriteGuestModes(SectionWriter w, GuestModes m)
    {
        w.Int64(m.KernelNs);
        w.Int64(m.UserNs);
        w.Int64(m.Runs);
        w.Int64(m.CrossedRuns);
    }

    private static GuestModes ReadGuestModes(SectionReader r) => new(r.Int64(), r.Int64(), r.Int64(), r.Int64());

    private static void WriteExits(SectionWriter w, IReadOnlyList<ExitMetrics> exits)
    {
        w.Count(exits.Count);
        foreach (var x in exits)
        {
            w.Int32(x.Reason);
            w.Byte((byte)x.Isa);
            WriteLatency(w, x.Latency);
        }
    }

    private static List<ExitMetrics> ReadExits(SectionReader r)
    {
        int n = r.Count(5);
        var exits = new List<ExitMetrics>(n);
        for (int i = 0; i < n; i++)
        {
            int reason = r.Int32();
            var isa = (ExitIsa)r.Enum("exit ISA", (byte)ExitIsa.Svm);
            exits.Add(new ExitMetrics(reason, ReadLatency(r), isa));
        }
        return exits;
    }

    private static void WriteLatency(SectionWriter w, LatencyMetrics l)
    {
        w.Int64(l.Count);
        w.Int64(l.SumNs);
        w.Int64(l.MinNs);
        w.Int64(l.MaxNs);
        DurationSpread.WriteInt128(w, l.SumSquaresNs2);
        l.Histogram.WriteTo(w);
    }

    private static LatencyMetrics ReadLatency(SectionReader r)
    {
        long count = r.Int64(), sum = r.Int64(), min = r.Int64(), max = r.Int64();
        var sumSquares = DurationSpread.ReadInt128(r);
        return new(count, sum, min, max, LatencyHistogram.ReadFrom(r)) { SumSquaresNs2 = sumSquares };
    }

    private static void WriteDisk(SectionWriter w, DiskLayerMetrics d)
    {
        w.Int64(d.Submitted);
        w.Int64(d.Completed);
        w.Int64(d.ReadRequests);
        w.Int64(d.WriteRequests);
        w.Int64(d.ReadBytes);
        w.Int64(d.WriteBytes);
        WriteLatency(w, d.Latency);
        DiskLayerAccumulator.WriteIntervals(w, d.SubmitIntervals);
        DiskLayerAccumulator.WriteIntervals(w, d.CompleteIntervals);
        w.Int64(d.InFlight);
        w.Int64(d.MaxInFlight);
    }

    private static DiskLayerMetrics ReadDisk(SectionReader r) => new(r.Int64(), r.Int64(), r.Int64(), r.Int64(), r.Int64(), r.Int64(),
        ReadLatency(r), DiskLayerAccumulator.ReadIntervals(r), DiskLayerAccumulator.ReadIntervals(r), r.Int64(), r.Int64());
}
