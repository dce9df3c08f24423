using Vmtrace.Analysis.Checkpoint;
using Vmtrace.Decoding;

namespace Vmtrace.Analysis.Trackers;

/// <summary>
/// Network per VM, through its tap device: a packet the host transmits on the tap (net_dev_xmit) goes
/// into the VM (VM received); a packet the host receives from the tap (netif_receive_skb) came out of
/// the VM (VM transmitted). A tap belongs to a VM by the inventory (qemu's <c>ifname=</c>) or by being
/// seen receiving in the VM's vhost thread or qemu main thread (where qemu/vhost write guest packets).
/// netif_rx is counted only in traces without netif_receive_skb: with both, a queued packet shows twice.
/// </summary>
internal sealed class NetworkTracker
{
    private readonly AnalysisCounters _counters;
    private readonly IdentityTracker _identity;
    private readonly SchedulerTracker _scheduler;

    public NetworkTracker(AnalysisCounters counters, IdentityTracker identity, SchedulerTracker scheduler)
    {
        _counters = counters;
        _identity = identity;
        _scheduler = scheduler;
    }

    /// <summary>A tap device the inventory names belongs to its VM.</summary>
    public void AttachTap(string name, VmInfo vm) => DeviceOf(System.Text.Encoding.UTF8.GetBytes(name)).Vm = vm;

    private readonly List<NetDevice> _devices = [];
    private bool _sawReceiveSkb;

    private sealed class NetDevice(byte[] name)
    {
        public byte[] Name { get; } = name;
        public bool TapLike { get; } = name.AsSpan().StartsWith("tap"u8) || name.AsSpan().StartsWith("vnet"u8) || name.AsSpan().StartsWith("macvtap"u8);
        public VmInfo? Vm { get; set; }
    }

    /// <summary>The device of that name, created on first sight; devices are few, a scan is cheap.</summary>
    private NetDevice DeviceOf(ReadOnlySpan<byte> name)
    {
        foreach (var d in _devices)
        {
            if (name.SequenceEqual(d.Name))
                return d;
        }
        var created = new NetDevice(name.ToArray());
        _devices.Add(created);
        return created;
    }

    /// <summary>
    /// The thread a packet event ran in, to tie an unknown tap to a VM: its tid, else (no tid context) the CPU's
    /// current thread; with neither, the packet's VM cannot be found and that is counted.
    /// </summary>
    private ThreadInfo? PacketThread(in TraceEvent e)
    {
        if (e.Tid > 0)
            return _identity.TryGetThread(e.Tid, out var t) ? t : null;
        if (e.Tid == 0)
            return null;
        var current = _scheduler.CurrentThreadOn(e.Cpu, out bool known);
        if (!known)
            _counters.NetEventsWithoutThread++;
        return current;
    }

    public void OnNetDevXmit(in TraceEvent e, long now)
    {
        var name = e.GetText(FieldRole.DeviceName);
        if (name.IsEmpty)
            return;
        var dev = DeviceOf(name);
        if (dev.Vm is null && dev.TapLike && PacketThread(e) is { } t && t.Role == ThreadRole.Vhost)
            dev.Vm = t.Vm;
        if (dev.Vm is not { } vm)
            return;
        vm.Window.OnRxPacket(now, e.Get(FieldRole.Len, 0));
    }

    public void OnNetifReceive(in TraceEvent e, long now)
    {
        if (e.Known == KnownEvent.NetifReceiveSkb)
            _sawReceiveSkb = true;
        else if (_sawReceiveSkb)
            return;
        var name = e.GetText(FieldRole.DeviceName);
        if (name.IsEmpty)
            return;
        var dev = DeviceOf(name);
        if (dev.Vm is null && dev.TapLike && PacketThread(e) is { Vm: not null } t && (t.Role == ThreadRole.Vhost || t.Tid == t.Vm.Pid))
            dev.Vm = t.Vm;
        if (dev.Vm is not { } vm)
            return;
        vm.Window.OnTxPacket(now, e.Get(FieldRole.Len, 0));
    }

    /// <summary>Devices tied to a VM (for tests).</summary>
    internal int DevicesOfVms
    {
        get
        {
            int n = 0;
            foreach (var d in _devices)
            {
                if (d.Vm is not null)
                    n++;
            }
            return n;
        }
    }

    public void WriteCheckpoint(SectionWriter w)
    {
        w.Bool(_sawReceiveSkb);
        w.Count(_devices.Count);
        foreach (var d in _devices)
        {
            w.Bytes(d.Name);
            w.Int32(d.Vm?.Index ?? -1);
        }
        foreach (var vm in _identity.Vms)
        {
            w.Int64(vm.Window.RxPackets);
            w.Int64(vm.Window.RxBytes);
            w.Int64(vm.Window.TxPackets);
            w.Int64(vm.Window.TxBytes);
            vm.Window.RxGaps.WriteTo(w);
            vm.Window.TxGaps.WriteTo(w);
            w.Int64(vm.Window.LastRxNs);
            w.Int64(vm.Window.LastTxNs);
        }
    }

    public void ReadCheckpoint(SectionReader r)
    {
        var vms = _identity.Vms;
        _sawReceiveSkb = r.Bool();
        int devices = r.Count(5);
        for (int i = 0; i < devices; i++)
        {
            var d = new NetDevice(r.Bytes().ToArray());
            int vm = r.Reference("VM", vms.Count);
            d.Vm = vm < 0 ? null : vms[vm];
            _devices.Add(d);
        }
        foreach (var vm in vms)
        {
            vm.Window.RxPackets = r.Int64();
            vm.Window.RxBytes = r.Int64();
            vm.Window.TxPackets = r.Int64();
            vm.Window.TxBytes = r.Int64();
            vm.Window.RxGaps = DurationSpread.ReadFrom(r);
            vm.Window.TxGaps = DurationSpread.ReadFrom(r);
            vm.Window.LastRxNs = r.Int64();
            vm.Window.LastTxNs = r.Int64();
        }
    }
}
