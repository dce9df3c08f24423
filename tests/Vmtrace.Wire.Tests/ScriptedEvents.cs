using Vmtrace.Decoding;

namespace Vmtrace.Wire.Tests;

/// <summary>A small hand-made event source: each event is a type, a time, a CPU, a tid and a way to fill its fields.</summary>
internal sealed class ScriptedEvents : EventSource
{
    private readonly List<(EventType Type, long Ts, int Cpu, int Tid, Action<EventRecordBuffer> Fill)> _events = [];
    private readonly EventRecordBuffer _buffer = new();
    private int _index = -1;

    public override string Description => "scripted";

    public ScriptedEvents Add(EventType type, long ts, int cpu, int tid, Action<EventRecordBuffer>? fill = null)
    {
        _events.Add((type, ts, cpu, tid, fill ?? (_ => { })));
        return this;
    }

    public override bool MoveNext()
    {
        if (++_index >= _events.Count)
            return false;
        var (type, _, _, _, fill) = _events[_index];
        _buffer.Reset(type);
        fill(_buffer);
        return true;
    }

    public override TraceEvent Current
    {
        get
        {
            var (type, ts, cpu, tid, _) = _events[_index];
            return _buffer.View(ts, cpu, tid, type);
        }
    }

    public static readonly EventType SchedSwitch = new("sched_switch",
    [
        new FieldDescriptor("prev_comm", FieldKind.String),
        new FieldDescriptor("prev_pid", FieldKind.Signed),
        new FieldDescriptor("prev_prio", FieldKind.Signed),
        new FieldDescriptor("prev_state", FieldKind.Signed, 16),
        new FieldDescriptor("next_comm", FieldKind.String),
        new FieldDescriptor("next_pid", FieldKind.Signed),
        new FieldDescriptor("next_prio", FieldKind.Signed),
    ], "sched");

    public static readonly EventType KvmExit = new("kvm_exit",
    [
        new FieldDescriptor("exit_reason", FieldKind.Unsigned),
        new FieldDescriptor("guest_rip", FieldKind.Unsigned, 16),
        new FieldDescriptor("vcpu_id", FieldKind.Unsigned),
    ], "kvm");

    /// <summary>An LTTng-like type whose vcpu_id sits in a CTF variant: absent in some events.</summary>
    public static readonly EventType KvmEntryOptional = new("kvm_x86_entry",
        [new FieldDescriptor("vcpu_id", FieldKind.Unsigned, optional: true)]);

    public static readonly EventType ThreadPoolSubmit = new("thread_pool_submit",
        [new FieldDescriptor("pool", FieldKind.Unsigned, 16), new FieldDescriptor("req", FieldKind.Unsigned, 16), new FieldDescriptor("opaque", FieldKind.Unsigned, 16)]);

    public static readonly EventType Unrelated = new("mm_page_alloc", [new FieldDescriptor("order", FieldKind.Signed)], "kmem");

    /// <summary>A little of everything: strings, deltas, tid-relative values, absent optional fields, unknown CPUs and tids.</summary>
    public static ScriptedEvents Mixed()
    {
        var s = new ScriptedEvents();
        s.Add(SchedSwitch, 1_700_000_000_000_000_000, 0, 100, b =>
        {
            b.SetString(0, "qemu-system-x86"u8);
            b.SetInt(1, 100);
            b.SetInt(2, 120);
            b.SetInt(3, 1);
            b.SetString(4, "CPU 0/KVM"u8);
            b.SetInt(5, 101);
            b.SetInt(6, 120);
        });
        s.Add(KvmExit, 1_700_000_000_000_000_500, 0, 101, b =>
        {
            b.SetInt(0, 48);
            b.SetInt(1, unchecked((long)0xffffffff81000000UL));
            b.SetInt(2, 0);
        });
        s.Add(KvmEntryOptional, 1_700_000_000_000_000_400, 1, 102, b => b.SetInt(0, 1)); // out of order: negative delta
        s.Add(KvmEntryOptional, 1_700_000_000_000_000_900, 1, 102);                        // vcpu_id absent
        s.Add(KvmEntryOptional, 1_700_000_000_000_001_000, 1, 102, b => b.SetInt(0, 3));
        s.Add(ThreadPoolSubmit, 1_700_000_000_000_002_000, -1, 99, b =>
        {
            b.SetInt(0, 0x5555_0000);
            b.SetInt(1, 0x5555_1234);
            b.SetInt(2, 7);
        });
        s.Add(ThreadPoolSubmit, 1_700_000_000_000_002_100, -1, 99, b =>
        {
            b.SetInt(0, 0x5555_0000);
            b.SetInt(1, 0x5555_1000);
            b.SetInt(2, 8);
        });
        s.Add(Unrelated, 1_700_000_000_000_003_000, 1, -1, b => b.SetInt(0, 3));
        s.Add(SchedSwitch, 1_700_000_000_000_004_000, 1, 102, b =>
        {
            b.SetString(0, "CPU 1/KVM"u8);
            b.SetInt(1, 102);
            b.SetInt(2, 120);
            b.SetInt(3, 0);
            b.SetString(4, "qemu-system-x86"u8);
            b.SetInt(5, 100);
            b.SetInt(6, 120);
        });
        return s;
    }
}
