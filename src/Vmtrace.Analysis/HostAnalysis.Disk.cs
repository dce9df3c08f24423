using Vmtrace.Decoding;

namespace Vmtrace.Analysis;

/// <summary>
/// Disk per VM at two layers: qemu's thread pool (thread_pool_submit/complete paired on <c>req</c>; direction
/// and size from virtio_blk_handle_read/_write, blk_co_preadv/_pwritev or, in old qemu, bdrv_co_io_em) and
/// the host block layer (block_rq_issue by a VM's thread, paired with block_rq_complete on device and
/// sector, so the completion is charged to the issuing VM whatever thread the interrupt happened to run on).
/// </summary>
public sealed partial class HostAnalysis
{
    /// <summary>Open requests are dropped beyond this (a trace that never completes them must not grow memory without bound).</summary>
    private const int MaxOpenRequests = 1 << 20;
    private const long SectorBytes = 512;

    private readonly Dictionary<(int Vm, long Req), long> _openQemuRequests = [];
    private readonly Dictionary<(long Dev, long Sector), OpenBlockRequest> _openBlockRequests = [];

    private readonly record struct OpenBlockRequest(VmInfo Vm, long IssueTime, long Bytes, int Direction);

    /// <summary>
    /// The VM of a qemu trace event. qemu's own events come from qemu threads only: a thread of no known
    /// process is taken to be its process's main loop (thread_pool_submit/complete run there), so tid = pid.
    /// </summary>
    private VmInfo? QemuVmOf(in TraceEvent e)
    {
        if (e.Tid <= 0)
            return null;
        var t = Thread(e.Tid);
        if (t.Vm is null && t.Pid < 0)
        {
            t.Pid = t.Tid;
            _ = VmOfPid(t.Tid, "process: emits qemu trace events", VmIdentity.Guess);
            Reclassify(t);
        }
        return t.Vm;
    }

    private void OnThreadPoolSubmit(in TraceEvent e, long now)
    {
        var vm = QemuVmOf(e);
        if (vm is null)
        {
            Counters.UnattributedQemuDiskEvents++;
            return;
        }
        if (_openQemuRequests.Count >= MaxOpenRequests)
            _openQemuRequests.Clear();
        _openQemuRequests[(vm.Index, e.Get(FieldRole.Req, 0))] = now;
        vm.Window.QemuDisk.OnSubmit(now);
    }

    private void OnThreadPoolComplete(in TraceEvent e, long now)
    {
        var vm = QemuVmOf(e);
        if (vm is null)
        {
            Counters.UnattributedQemuDiskEvents++;
            return;
        }
        if (!_openQemuRequests.Remove((vm.Index, e.Get(FieldRole.Req, 0)), out long submitted))
        {
            Counters.UnmatchedCompletions++;
            return;
        }
        vm.Window.QemuDisk.OnComplete(now, now - submitted, 0, 0);
    }

    /// <summary>bdrv_co_io_em: the direction and size of a request qemu emulates with the thread pool.</summary>
    private void OnBdrvCoIoEm(in TraceEvent e)
    {
        if (QemuDirectionVm(e, QemuDirectionSource.BdrvCoIoEm) is { } vm)
            CountQemuRequest(vm, e.Get(FieldRole.IsWrite, 0) != 0, e.Get(FieldRole.NbSectors, 0) * SectorBytes);
    }

    /// <summary>
    /// virtio_blk_handle_read/_write (nsectors) and blk_co_preadv/_pwritev (bytes): the direction and size of
    /// a request in current qemu, where the thread pool's own events carry neither.
    /// </summary>
    private void OnQemuRequestDirection(in TraceEvent e, KnownEvent known)
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
        var vm = QemuVmOf(e);
        if (vm is null)
        {
            Counters.UnattributedQemuDiskEvents++;
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

    private void OnBlockIssue(in TraceEvent e, long now)
    {
        ThreadInfo? t = null;
        if (e.Tid > 0)
            _ = TryGetThread(e.Tid, out t);
        else if (e.Tid < 0)
        {
            t = CurrentThreadOn(e.Cpu, out bool known);
            if (!known)
                Counters.BlockIssuesWithoutThread++; // no tid context and no sched_switch on that CPU yet
        }
        if (t?.Vm is not { } vm)
            return;
        long bytes = e.Has(FieldRole.Bytes) ? e.Get(FieldRole.Bytes, 0) : e.Get(FieldRole.NrSector, 0) * SectorBytes;
        if (_openBlockRequests.Count >= MaxOpenRequests)
            _openBlockRequests.Clear();
        _openBlockRequests[(e.Get(FieldRole.Dev, 0), e.Get(FieldRole.Sector, 0))] = new OpenBlockRequest(vm, now, bytes, DirectionOf(e));
        vm.Window.BlockDisk.OnSubmit(now);
    }

    private void OnBlockComplete(in TraceEvent e, long now)
    {
        if (_openBlockRequests.Count == 0)
            return;
        if (!_openBlockRequests.Remove((e.Get(FieldRole.Dev, 0), e.Get(FieldRole.Sector, 0)), out var open))
            return; // a host (non-VM) request, or one issued before the trace started
        open.Vm.Window.BlockDisk.OnComplete(now, now - open.IssueTime, open.Direction, open.Bytes);
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
}
