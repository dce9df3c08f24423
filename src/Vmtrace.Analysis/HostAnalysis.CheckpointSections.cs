using System.Globalization;
using Vmtrace.Analysis.Checkpoint;

namespace Vmtrace.Analysis;

public sealed partial class HostAnalysis
{
    private void WriteIdentitySection(SectionWriter w, CheckpointRefs refs)
    {
        w.Count(_culpritNames.Count);
        foreach (var name in _culpritNames)
            w.String(name);
        w.Count(_initialNames.Count);
        foreach (var (tid, comm) in _initialNames)
        {
            w.Int32(tid);
            w.String(comm);
        }
        w.Count(_vms.Count);
        foreach (var vm in _vms)
        {
            w.String(vm.Name);
            w.Int32(vm.Pid);
            w.Int32(vm.CulpritId);
            w.String(vm.Origin);
            w.String(vm.Identity);
            w.Count(vm.TapDevices.Count);
            foreach (var tap in vm.TapDevices)
                w.String(tap);
            w.Count(vm.Vcpus.Count);
            foreach (var v in vm.Vcpus)
            {
                w.Int32(v.VcpuId);
                w.Int32(v.Tid);
            }
        }
        w.Count(refs.Threads.Count);
        for (int i = 0; i < refs.Threads.Count; i++)
        {
            var t = refs.Threads[i];
            w.Bool(refs.InTable[i]);
            w.Int32(t.Tid);
            w.Int32(t.Pid);
            w.Bytes(t.CommUtf8);
            w.Int32(t.Vm?.Index ?? -1);
            w.Byte((byte)t.Role);
            w.Int32(t.Vcpu?.Vm.Index ?? -1);
            w.Int32(t.Vcpu is { } vcpu ? vcpu.Vm.Vcpus.IndexOf(vcpu) : -1);
            w.Int32(t.CulpritId);
        }
        w.Count(_vmThreads.Count);
        foreach (var t in _vmThreads)
            w.Int32(refs.Id(t));
        w.Count(_inventoryThreads.Count);
        foreach (var (tid, (vm, vcpuIndex)) in _inventoryThreads)
        {
            w.Int32(tid);
            w.Int32(vm.Index);
            w.Int32(vcpuIndex);
        }
        w.Int32(_lastNewTask);
    }

    private void ReadIdentitySection(SectionReader r, List<ThreadInfo> threads)
    {
        _culpritNames.Clear();
        _culpritIds.Clear();
        int culprits = r.Count();
        for (int i = 0; i < culprits; i++)
        {
            string name = r.String();
            if (!_culpritIds.TryAdd(name, i))
                throw r.Damaged("culprit name \"" + name + "\" twice");
            _culpritNames.Add(name);
        }
        if (culprits < 2 || _culpritNames[IdleCulprit] != "idle" || _culpritNames[UnknownCulprit] != "unknown")
            throw r.Damaged("culprit names without idle and unknown first");
        int names = r.Count(5);
        for (int i = 0; i < names; i++)
            _initialNames[r.Int32()] = r.String();
        int vms = r.Count(12);
        for (int i = 0; i < vms; i++)
        {
            var vm = new VmInfo(i, r.String(), r.Int32(), Culprit(r, culprits))
            {
                Origin = r.String(),
                Identity = r.String(),
            };
            int taps = r.Count();
            for (int k = 0; k < taps; k++)
                vm.TapDevices.Add(r.String());
            int vcpus = r.Count(8);
            for (int k = 0; k < vcpus; k++)
            {
                int vcpuId = r.Int32();
                vm.Vcpus.Add(new VcpuInfo(vm, vcpuId, r.Int32()));
            }
            _vms.Add(vm);
            if (vm.Pid >= 0 && !_vmsByPid.TryAdd(vm.Pid, vm))
                throw r.Damaged("two VMs of pid " + vm.Pid.ToString(CultureInfo.InvariantCulture));
        }
        int count = r.Count(23);
        for (int i = 0; i < count; i++)
        {
            bool inTable = r.Bool();
            var t = new ThreadInfo(r.Int32()) { Pid = r.Int32() };
            t.SetComm(r.Bytes());
            int vm = r.Reference("VM", _vms.Count);
            t.Vm = vm < 0 ? null : _vms[vm];
            t.Role = (ThreadRole)r.Enum("thread role", (byte)ThreadRole.Vhost);
            int vcpuVm = r.Reference("VM", _vms.Count);
            int vcpu = r.Reference("vCPU", vcpuVm < 0 ? 0 : _vms[vcpuVm].Vcpus.Count);
            if ((vcpuVm < 0) != (vcpu < 0))
                throw r.Damaged("a vCPU reference without its VM");
            t.Vcpu = vcpuVm < 0 ? null : _vms[vcpuVm].Vcpus[vcpu];
            t.CulpritId = Culprit(r, culprits);
            threads.Add(t);
            if (inTable && !_threads.TryAdd(t.Tid, t))
                throw r.Damaged("thread " + t.Tid.ToString(CultureInfo.InvariantCulture) + " twice in the thread table");
        }
        int vmThreads = r.Count(4);
        for (int i = 0; i < vmThreads; i++)
            _vmThreads.Add(ThreadRef(r, threads, nullable: false)!);
        int inventory = r.Count(12);
        for (int i = 0; i < inventory; i++)
        {
            int tid = r.Int32();
            int vm = r.Reference("VM", _vms.Count);
            if (vm < 0)
                throw r.Damaged("an inventory thread without its VM");
            _inventoryThreads[tid] = (_vms[vm], r.Int32());
        }
        _lastNewTask = r.Int32();
    }

    private static int Culprit(SectionReader r, int culprits)
    {
        int id = r.Int32();
        return id >= -1 && id < culprits ? id : throw r.Damaged("culprit " + id.ToString(CultureInfo.InvariantCulture));
    }

    private static ThreadInfo? ThreadRef(SectionReader r, List<ThreadInfo> threads, bool nullable)
    {
        int id = r.Reference("thread", threads.Count);
        if (id < 0 && !nullable)
            throw r.Damaged("a missing thread reference");
        return id < 0 ? null : threads[id];
    }

    private void WriteSchedulerSection(SectionWriter w, CheckpointRefs refs)
    {
        w.Bool(_schedulerSeen);
        w.Bool(_wakingSeen);
        w.Int32(_maxCpu);
        for (int i = 0; i <= _maxCpu; i++)
        {
            var c = _cpus[i];
            w.Int32(refs.Id(c.Current));
            w.Bool(c.Known);
            w.Int64(c.SwitchTime);
            w.Int64(c.AttributedUntil);
            w.Count(c.Preempted.Count);
            foreach (var p in c.Preempted)
                w.Int32(refs.Id(p));
        }
        foreach (var t in refs.Threads)
        {
            w.Byte((byte)t.State);
            w.Int64(t.StateStart);
            w.Int64(t.Since);
            w.Int32(t.Cpu);
            w.Int64(t.WakeTime);
            w.Int32(t.WakeCpu);
            w.Bool(t.ReportsRuntime);
            w.Int64(t.KernelRunStart);
            w.Int64(t.StintRuntimeNs);
            w.Int64(t.StintSwitchOnCpuNs);
            w.Int64(t.RunDelaySince);
        }
    }

    private void ReadSchedulerSection(SectionReader r, List<ThreadInfo> threads)
    {
        _schedulerSeen = r.Bool();
        _wakingSeen = r.Bool();
        int maxCpu = r.Int32();
        if (maxCpu < -1 || maxCpu >= 65536)
            throw r.Damaged("highest CPU " + maxCpu.ToString(CultureInfo.InvariantCulture));
        _cpus = new CpuInfo[Math.Max(8, maxCpu + 1)];
        _maxCpu = maxCpu;
        for (int i = 0; i <= maxCpu; i++)
        {
            var c = new CpuInfo
            {
                Current = ThreadRef(r, threads, nullable: true),
                Known = r.Bool(),
                SwitchTime = r.Int64(),
                AttributedUntil = r.Int64(),
            };
            int preempted = r.Count(4);
            for (int k = 0; k < preempted; k++)
                c.Preempted.Add(ThreadRef(r, threads, nullable: false)!);
            _cpus[i] = c;
        }
        foreach (var t in threads)
        {
            t.State = (RunState)r.Enum("run state", (byte)RunState.BlockedQueued);
            t.StateStart = r.Int64();
            t.Since = r.Int64();
            t.Cpu = r.Int32();
            t.WakeTime = r.Int64();
            t.WakeCpu = r.Int32();
            t.ReportsRuntime = r.Bool();
            t.KernelRunStart = r.Int64();
            t.StintRuntimeNs = r.Int64();
            t.StintSwitchOnCpuNs = r.Int64();
            t.RunDelaySince = r.Int64();
            if (t.Cpu > maxCpu)
                throw r.Damaged($"thread {t.Tid.ToString(CultureInfo.InvariantCulture)} on CPU {t.Cpu.ToString(CultureInfo.InvariantCulture)}, beyond the highest CPU");
        }
    }

    private void WriteKvmSection(SectionWriter w, CheckpointRefs refs)
    {
        foreach (var t in refs.Threads)
        {
            w.Bool(t.InGuest);
            w.Int64(t.GuestSinceEntryNs);
            w.Int64(t.PendingExitTime);
            w.Int32(t.PendingExitReason);
        }
        foreach (var vm in _vms)
        {
            foreach (var v in vm.Vcpus)
                v.Window.WriteExitsTo(w);
        }
    }

    private void ReadKvmSection(SectionReader r, List<ThreadInfo> threads)
    {
        foreach (var t in threads)
        {
            t.InGuest = r.Bool();
            t.GuestSinceEntryNs = r.Int64();
            t.PendingExitTime = r.Int64();
            t.PendingExitReason = r.Int32();
        }
        foreach (var vm in _vms)
        {
            foreach (var v in vm.Vcpus)
                v.Window.ReadExitsFrom(r);
        }
    }

    private void WriteDiskSection(SectionWriter w)
    {
        foreach (var vm in _vms)
        {
            w.Byte((byte)vm.QemuDirectionSource);
            vm.Window.QemuDisk.WriteTo(w);
            vm.Window.BlockDisk.WriteTo(w);
        }
        w.Count(_openQemuRequests.Count);
        foreach (var ((vm, req), submitted) in _openQemuRequests)
        {
            w.Int32(vm);
            w.Int64(req);
            w.Int64(submitted);
        }
        w.Count(_openBlockRequests.Count);
        foreach (var ((dev, sector), open) in _openBlockRequests)
        {
            w.Int64(dev);
            w.Int64(sector);
            w.Int32(open.Vm.Index);
            w.Int64(open.IssueTime);
            w.Int64(open.Bytes);
            w.Int32(open.Direction);
        }
    }

    private void ReadDiskSection(SectionReader r)
    {
        foreach (var vm in _vms)
        {
            vm.QemuDirectionSource = (QemuDirectionSource)r.Enum("qemu direction source", (byte)QemuDirectionSource.BlockBackend);
            vm.Window.QemuDisk.ReadFrom(r);
            vm.Window.BlockDisk.ReadFrom(r);
        }
        int qemu = r.Count(20);
        for (int i = 0; i < qemu; i++)
        {
            int vm = r.Reference("VM", _vms.Count);
            long req = r.Int64();
            _openQemuRequests.Add((vm, req), r.Int64());
        }
        int block = r.Count(40);
        for (int i = 0; i < block; i++)
        {
            long dev = r.Int64();
            long sector = r.Int64();
            int vm = r.Reference("VM", _vms.Count);
            if (vm < 0)
                throw r.Damaged("an open block request without its VM");
            _openBlockRequests.Add((dev, sector), new OpenBlockRequest(_vms[vm], r.Int64(), r.Int64(), r.Int32()));
        }
    }

    private void WriteNetworkSection(SectionWriter w)
    {
        w.Bool(_sawReceiveSkb);
        w.Count(_devices.Count);
        foreach (var d in _devices)
        {
            w.Bytes(d.Name);
            w.Int32(d.Vm?.Index ?? -1);
        }
        foreach (var vm in _vms)
        {
            w.Int64(vm.Window.RxPackets);
            w.Int64(vm.Window.RxBytes);
            w.Int64(vm.Window.TxPackets);
            w.Int64(vm.Window.TxBytes);
        }
    }

    private void ReadNetworkSection(SectionReader r)
    {
        _sawReceiveSkb = r.Bool();
        int devices = r.Count(5);
        for (int i = 0; i < devices; i++)
        {
            var d = new NetDevice(r.Bytes().ToArray());
            int vm = r.Reference("VM", _vms.Count);
            d.Vm = vm < 0 ? null : _vms[vm];
            _devices.Add(d);
        }
        foreach (var vm in _vms)
        {
            vm.Window.RxPackets = r.Int64();
            vm.Window.RxBytes = r.Int64();
            vm.Window.TxPackets = r.Int64();
            vm.Window.TxBytes = r.Int64();
        }
    }

    private void WriteWindowsSection(SectionWriter w)
    {
        foreach (var vm in _vms)
        {
            vm.Window.WriteTimesTo(w);
            foreach (var v in vm.Vcpus)
                v.Window.WriteTimesTo(w);
        }
        w.Count(_closed.Count);
        foreach (var window in _closed)
            WindowCodec.Write(w, window);
    }

    private void ReadWindowsSection(SectionReader r)
    {
        foreach (var vm in _vms)
        {
            vm.Window.ReadTimesFrom(r, _culpritNames.Count);
            foreach (var v in vm.Vcpus)
                v.Window.ReadTimesFrom(r);
        }
        int closed = r.Count(28);
        for (int i = 0; i < closed; i++)
            _closed.Add(WindowCodec.Read(r));
    }
}
