using Vmtrace.Analysis.Checkpoint;
using Vmtrace.Decoding;

namespace Vmtrace.Analysis.Trackers;

/// <summary>
/// Disk per VM at two layers: qemu's thread pool (thread_pool_submit/complete paired on <c>req</c>; direction
/// and size from virtio_blk_handle_read/_write, blk_co_preadv/_pwritev or, in old qemu, bdrv_co_io_em) and
/// the host block layer (block_rq_issue by a VM's thread, paired with block_rq_complete on device and
/// sector, so the completion is charged to the issuing VM whatever thread the interrupt happened to run on).
/// Block requests issued by threads of no VM are the host's (<see cref="HostBlock"/>): what the disk episodes weigh a
/// VM's requests against.
/// </summary>
internal sealed class DiskTracker
{
    private readonly AnalysisCounters _counters;
    private readonly IdentityTracker _identity;
    private readonly SchedulerTracker _scheduler;

    public DiskTracker(AnalysisCounters counters, IdentityTracker identity, SchedulerTracker scheduler)
    {
        _counters = counters;
        _identity = identity;
        _scheduler = scheduler;
    }

    /// <summary>Open requests are dropped beyond this (a trace that never completes them must not grow memory without bound).</summary>
    private const int MaxOpenRequests = 1 << 20;
    private const long SectorBytes = 512;

    private readonly Dictionary<(int Vm, long Req), long> _openQemuRequests = [];
    private readonly Dictionary<(long Dev, long Sector), OpenBlockRequest> _openBlockRequests = [];

    /// <summary>Block requests issued by host threads (no VM's), this window; in flight across windows.</summary>
    public DiskLayerAccumulator HostBlock { get; } = new();

    /// <summary>An open block request; <see cref="Vm"/> null: issued by a host thread.</summary>
    private readonly record struct OpenBlockRequest(VmInfo? Vm, long IssueTime, long Bytes, int Direction);

    public void OnThreadPoolSubmit(in TraceEvent e, long now)
    {
        var vm = _identity.QemuVmOf(e);
        if (vm is null)
        {
            _counters.UnattributedQemuDiskEvents++;
            return;
        }
        if (_openQemuRequests.Count >= MaxOpenRequests)
            _openQemuRequests.Clear();
        _openQemuRequests[(vm.Index, e.Get(FieldRole.Req, 0))] = now;
        vm.Window.QemuDisk.OnSubmit(now);
    }

    public void OnThreadPoolComplete(in TraceEvent e, long now)
    {
        var vm = _identity.QemuVmOf(e);
        if (vm is null)
        {
            _counters.UnattributedQemuDiskEvents++;
            return;
        }
        if (!_openQemuRequests.Remove((vm.Index, e.Get(FieldRole.Req, 0)), out long submitted))
        {
            _counters.UnmatchedCompletions++;
            return;
        }
        vm.Window.QemuDisk.OnComplete(now, now - submitted, 0, 0);
    }

    /// <summary>bdrv_co_io_em: the direction and size of a request qemu emulates with the thread pool.</summary>
    public void OnBdrvCoIoEm(in TraceEvent e)
    {
        if (QemuDirectionVm(e, QemuDirectionSource.BdrvCoIoEm) is { } vm)
            CountQemuRequest(vm, e.Get(FieldRole.IsWrite, 0) != 0, e.Get(FieldRole.NbSectors, 0) * SectorBytes);
    }

    /// <summary>
    /// virtio_blk_handle_read/_write (nsectors) and blk_co_preadv/_pwritev (bytes): the direction and size of
    /// a request in current qemu, where the thread pool's own events carry neither.
    /// </summary>
    public void OnQemuRequestDirection(in TraceEvent e, KnownEvent known)
    {
        bool virtio = known is KnownEvent.QemuVirtioBlkHandleRead or KnownEvent.QemuVirtioBlkHandleWrite;
        if (QemuDirectionVm(e, virtio ? QemuDirectionSource.VirtioBlk : QemuDirectionSource.BlockBackend) is not { } vm)
            return;
        bool write = known is KnownEvent.QemuVirtioBlkHandleWrite or KnownEvent.QemuBlkCoPwritev;
        long bytes = virtio ? e.Get(FieldRole.NbSectors, 0) * SectorBytes : e.Get(FieldRole.Bytes, 0);
        CountQemuRequest(vm, write, bytes);
    }

    /// <summary>The VM whose qemu-layer direction this event gives: the first family seen for a VM is the one counted.</summary>
    private VmInfo? QemuDirectionVm(in TraceEvent e, QemuDirectionSource source)
    {
        var vm = _identity.QemuVmOf(e);
        if (vm is null)
        {
            _counters.UnattributedQemuDiskEvents++;
            return null;
        }
        if (vm.QemuDirectionSource == QemuDirectionSource.None)
            vm.QemuDirectionSource = source;
        return vm.QemuDirectionSource == source ? vm : null;
    }

    private static void CountQemuRequest(VmInfo vm, bool write, long bytes)
    {
        var disk = vm.Window.QemuDisk;
        if (write)
        {
            disk.WriteRequests++;
            disk.WriteBytes += bytes;
        }
        else
        {
            disk.ReadRequests++;
            disk.ReadBytes += bytes;
        }
    }

    public void OnBlockIssue(in TraceEvent e, long now)
    {
        ThreadInfo? t = null;
        if (e.Tid > 0)
            _ = _identity.TryGetThread(e.Tid, out t);
        else if (e.Tid < 0)
        {
            t = _scheduler.CurrentThreadOn(e.Cpu, out bool known);
            if (!known)
                _counters.BlockIssuesWithoutThread++; // no tid context and no sched_switch on that CPU yet
        }
        if (t is null)
            return;
        var vm = t.Vm;
        long bytes = e.Has(FieldRole.Bytes) ? e.Get(FieldRole.Bytes, 0) : e.Get(FieldRole.NrSector, 0) * SectorBytes;
        if (_openBlockRequests.Count >= MaxOpenRequests)
            _openBlockRequests.Clear();
        _openBlockRequests[(e.Get(FieldRole.Dev, 0), e.Get(FieldRole.Sector, 0))] = new OpenBlockRequest(vm, now, bytes, DirectionOf(e));
        (vm is null ? HostBlock : vm.Window.BlockDisk).OnSubmit(now);
    }

    public void OnBlockComplete(in TraceEvent e, long now)
    {
        if (_openBlockRequests.Count == 0)
            return;
        if (!_openBlockRequests.Remove((e.Get(FieldRole.Dev, 0), e.Get(FieldRole.Sector, 0)), out var open))
            return; // issued before the trace started
        (open.Vm is null ? HostBlock : open.Vm.Window.BlockDisk).OnComplete(now, now - open.IssueTime, open.Direction, open.Bytes);
    }

    /// <summary>1 read, 2 write, 0 other, from rwbs: text in ftrace ("WS", "R"), a bit mask in LTTng (bit 0 = write).</summary>
    private static int DirectionOf(in TraceEvent e)
    {
        int slot = e.Type.Slot(FieldRole.Rwbs);
        if (slot < 0)
            return 0;
        if (e.Type.Fields[slot].Kind == FieldKind.String)
        {
            foreach (byte b in e.GetBytes(slot))
            {
                if (b == (byte)'W') return 2;
                if (b == (byte)'R') return 1;
                if (b is (byte)'D' or (byte)'F' or (byte)'N') return 0;
            }
            return 0;
        }
        return (e.GetInt64(slot) & 1) != 0 ? 2 : 1;
    }

    /// <summary>qemu and block requests issued and not completed yet (for tests).</summary>
    internal int OpenRequests => _openQemuRequests.Count + _openBlockRequests.Count;

    public void WriteCheckpoint(SectionWriter w)
    {
        foreach (var vm in _identity.Vms)
        {
            w.Byte((byte)vm.QemuDirectionSource);
            vm.Window.QemuDisk.WriteTo(w);
            vm.Window.BlockDisk.WriteTo(w);
        }
        HostBlock.WriteTo(w);
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
            w.Int32(open.Vm?.Index ?? -1);
            w.Int64(open.IssueTime);
            w.Int64(open.Bytes);
            w.Int32(open.Direction);
        }
    }

    public void ReadCheckpoint(SectionReader r)
    {
        var vms = _identity.Vms;
        foreach (var vm in vms)
        {
            vm.QemuDirectionSource = (QemuDirectionSource)r.Enum("qemu direction source", (byte)QemuDirectionSource.BlockBackend);
            vm.Window.QemuDisk.ReadFrom(r);
            vm.Window.BlockDisk.ReadFrom(r);
        }
        HostBlock.ReadFrom(r);
        int qemu = r.Count(20);
        for (int i = 0; i < qemu; i++)
        {
            int vm = r.Reference("VM", vms.Count);
            long req = r.Int64();
            _openQemuRequests.Add((vm, req), r.Int64());
        }
        int block = r.Count(40);
        for (int i = 0; i < block; i++)
        {
            long dev = r.Int64();
            long sector = r.Int64();
            int vm = r.Reference("VM", vms.Count);
            _openBlockRequests.Add((dev, sector), new OpenBlockRequest(vm < 0 ? null : vms[vm], r.Int64(), r.Int64(), r.Int32()));
        }
    }
}
