namespace Vmtrace.Wire;

/// <summary>Encodes and decodes the <c>Inventory</c> message. Rare (once per change or period): allocation is fine here.</summary>
internal static class InventoryCodec
{
    private const int MaxItems = 1 << 20;

    public static void Encode(WireInventory inventory, ProtoBuffer b)
    {
        ArgumentNullException.ThrowIfNull(inventory);
        var vm = new ProtoBuffer();
        var item = new ProtoBuffer();
        foreach (var v in inventory.Vms)
        {
            vm.Clear();
            vm.WriteStringField(WireSchema.VmName, v.Name);
            vm.WriteInt32Field(WireSchema.VmPid, v.Pid);
            vm.WriteStringField(WireSchema.VmUuid, v.Uuid);
            foreach (var tap in v.TapDevices)
            {
                vm.WriteTag(WireSchema.VmTapDevices, WireType.LengthDelimited);
                var bytes = System.Text.Encoding.UTF8.GetBytes(tap);
                vm.WriteVarint((ulong)bytes.Length);
                vm.WriteRaw(bytes);
            }
            foreach (var t in v.Threads)
            {
                item.Clear();
                item.WriteInt32Field(WireSchema.VmThreadTid, t.Tid);
                item.WriteStringField(WireSchema.VmThreadComm, t.Comm);
                item.WriteSignedField(WireSchema.VmThreadVcpuIndex, t.VcpuIndex);
                vm.WriteBytesField(WireSchema.VmThreads, item.Written, omitEmpty: false);
            }
            vm.WriteStringField(WireSchema.VmIdentity, v.Identity);
            vm.WriteStringField(WireSchema.VmEvidence, v.Evidence);
            b.WriteBytesField(WireSchema.InventoryVms, vm.Written, omitEmpty: false);
        }
        foreach (var n in inventory.ThreadNames)
        {
            item.Clear();
            item.WriteInt32Field(WireSchema.ThreadNameTid, n.Tid);
            item.WriteStringField(WireSchema.ThreadNameComm, n.Comm);
            b.WriteBytesField(WireSchema.InventoryThreadNames, item.Written, omitEmpty: false);
        }
        b.WriteSignedField(WireSchema.InventorySampledAt, inventory.SampledAtNs);
        var guest = new ProtoBuffer();
        foreach (var g in inventory.Guests)
        {
            guest.Clear();
            guest.WriteStringField(WireSchema.GuestName, g.Name);
            foreach (var c in g.Cpus)
            {
                item.Clear();
                item.WriteInt32Field(WireSchema.GuestCpuCpu, c.Cpu);
                item.WriteInt32Field(WireSchema.GuestCpuHostTid, c.HostTid);
                guest.WriteBytesField(WireSchema.GuestCpus, item.Written, omitEmpty: false);
            }
            foreach (var n in g.ThreadNames)
            {
                item.Clear();
                item.WriteInt32Field(WireSchema.ThreadNameTid, n.Tid);
                item.WriteStringField(WireSchema.ThreadNameComm, n.Comm);
                guest.WriteBytesField(WireSchema.GuestThreadNames, item.Written, omitEmpty: false);
            }
            b.WriteBytesField(WireSchema.InventoryGuests, guest.Written, omitEmpty: false);
        }
    }

    public static WireInventory Decode(byte[] data, int start, int end)
    {
        var vms = new List<WireVm>();
        var names = new List<WireThreadName>();
        var guests = new List<WireGuest>();
        long sampledAt = 0;
        var r = new ProtoReader(data, start, end, "Inventory");
        while (r.TryReadTag(out int field, out var type))
        {
            switch (field)
            {
                case WireSchema.InventoryVms:
                    var (s, e) = r.ReadLengthDelimited(type, "vms");
                    Limit(vms.Count, r.FieldStart, "vms");
                    vms.Add(DecodeVm(data, s, e));
                    break;
                case WireSchema.InventoryThreadNames:
                    var (ns, ne) = r.ReadLengthDelimited(type, "thread_names");
                    Limit(names.Count, r.FieldStart, "thread_names");
                    names.Add(DecodeThreadName(data, ns, ne));
                    break;
                case WireSchema.InventorySampledAt:
                    sampledAt = r.ReadSigned(type, "sampled_at_ns");
                    break;
                case WireSchema.InventoryGuests:
                    var (gs, ge) = r.ReadLengthDelimited(type, "guests");
                    Limit(guests.Count, r.FieldStart, "guests");
                    guests.Add(DecodeGuest(data, gs, ge));
                    break;
                default:
                    r.Skip(type);
                    break;
            }
        }
        return new WireInventory(vms, names, sampledAt) { Guests = guests };
    }

    private static WireGuest DecodeGuest(byte[] data, int start, int end)
    {
        string name = "";
        var cpus = new List<WireGuestCpu>();
        var names = new List<WireThreadName>();
        var r = new ProtoReader(data, start, end, "Guest");
        while (r.TryReadTag(out int field, out var type))
        {
            switch (field)
            {
                case WireSchema.GuestName: name = r.ReadString(type, "name"); break;
                case WireSchema.GuestCpus:
                    var (cs, ce) = r.ReadLengthDelimited(type, "cpus");
                    Limit(cpus.Count, r.FieldStart, "guest cpus");
                    cpus.Add(DecodeGuestCpu(data, cs, ce));
                    break;
                case WireSchema.GuestThreadNames:
                    var (ns, ne) = r.ReadLengthDelimited(type, "thread_names");
                    Limit(names.Count, r.FieldStart, "guest thread_names");
                    names.Add(DecodeThreadName(data, ns, ne));
                    break;
                default: r.Skip(type); break;
            }
        }
        return new WireGuest(name, cpus, names);
    }

    private static WireGuestCpu DecodeGuestCpu(byte[] data, int start, int end)
    {
        int cpu = 0, tid = 0;
        var r = new ProtoReader(data, start, end, "GuestCpu");
        while (r.TryReadTag(out int field, out var type))
        {
            switch (field)
            {
                case WireSchema.GuestCpuCpu: cpu = r.ReadInt32(type, "cpu"); break;
                case WireSchema.GuestCpuHostTid: tid = r.ReadInt32(type, "host_tid"); break;
                default: r.Skip(type); break;
            }
        }
        return new WireGuestCpu(cpu, tid);
    }

    private static WireVm DecodeVm(byte[] data, int start, int end)
    {
        string name = "", uuid = "", identity = "", evidence = "";
        int pid = 0;
        var taps = new List<string>();
        var threads = new List<WireVmThread>();
        var r = new ProtoReader(data, start, end, "Vm");
        while (r.TryReadTag(out int field, out var type))
        {
            switch (field)
            {
                case WireSchema.VmName: name = r.ReadString(type, "name"); break;
                case WireSchema.VmPid: pid = r.ReadInt32(type, "pid"); break;
                case WireSchema.VmUuid: uuid = r.ReadString(type, "uuid"); break;
                case WireSchema.VmIdentity: identity = r.ReadString(type, "identity"); break;
                case WireSchema.VmEvidence: evidence = r.ReadString(type, "evidence"); break;
                case WireSchema.VmTapDevices:
                    Limit(taps.Count, r.FieldStart, "tap_devices");
                    taps.Add(r.ReadString(type, "tap_devices"));
                    break;
                case WireSchema.VmThreads:
                    var (s, e) = r.ReadLengthDelimited(type, "threads");
                    Limit(threads.Count, r.FieldStart, "threads");
                    threads.Add(DecodeVmThread(data, s, e));
                    break;
                default: r.Skip(type); break;
            }
        }
        return new WireVm(name, pid, uuid, taps, threads, identity, evidence);
    }

    private static WireVmThread DecodeVmThread(byte[] data, int start, int end)
    {
        int tid = 0, vcpu = 0;
        string comm = "";
        var r = new ProtoReader(data, start, end, "VmThread");
        while (r.TryReadTag(out int field, out var type))
        {
            switch (field)
            {
                case WireSchema.VmThreadTid: tid = r.ReadInt32(type, "tid"); break;
                case WireSchema.VmThreadComm: comm = r.ReadString(type, "comm"); break;
                case WireSchema.VmThreadVcpuIndex:
                    long v = r.ReadSigned(type, "vcpu_index");
                    vcpu = v is >= int.MinValue and <= int.MaxValue ? (int)v : throw new WireFormatException(r.FieldStart, $"VmThread.vcpu_index: {v} does not fit in int32");
                    break;
                default: r.Skip(type); break;
            }
        }
        return new WireVmThread(tid, comm, vcpu);
    }

    private static WireThreadName DecodeThreadName(byte[] data, int start, int end)
    {
        int tid = 0;
        string comm = "";
        var r = new ProtoReader(data, start, end, "ThreadName");
        while (r.TryReadTag(out int field, out var type))
        {
            switch (field)
            {
                case WireSchema.ThreadNameTid: tid = r.ReadInt32(type, "tid"); break;
                case WireSchema.ThreadNameComm: comm = r.ReadString(type, "comm"); break;
                default: r.Skip(type); break;
            }
        }
        return new WireThreadName(tid, comm);
    }

    private static void Limit(int count, int offset, string what)
    {
        if (count >= MaxItems)
            throw new WireFormatException(offset, $"Inventory: more than {MaxItems} {what}");
    }
}
