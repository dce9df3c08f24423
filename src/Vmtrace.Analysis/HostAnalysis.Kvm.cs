using Vmtrace.Decoding;

namespace Vmtrace.Analysis;

/// <summary>Guest mode and VM exits: kvm_entry / kvm_exit (ftrace and LTTng names).</summary>
public sealed partial class HostAnalysis
{
    /// <summary>The thread an event ran in: its own tid, else the CPU's current thread (XML stubs, LTTng without a tid context).</summary>
    private ThreadInfo? ThreadOf(in TraceEvent e)
    {
        if (e.Tid > 0)
            return Thread(e.Tid);
        int cpu = ValidCpu(e.Cpu);
        return cpu >= 0 && e.Tid < 0 ? _cpus[cpu].Current : null;
    }

    private void OnKvmEntry(in TraceEvent e, long now)
    {
        var t = ThreadOf(e);
        if (t is null)
        {
            Counters.KvmEventsWithoutThread++;
            return;
        }
        BecomeVcpu(t, (int)e.Get(FieldRole.VcpuId, -1));
        Charge(t, now);
        if (t.PendingExitTime >= 0)
        {
            t.Vcpu!.Window.Exit(t.PendingExitReason)?.Add(now - t.PendingExitTime);
            t.PendingExitTime = -1;
        }
        t.InGuest = true;
    }

    private void OnKvmExit(in TraceEvent e, long now)
    {
        var t = ThreadOf(e);
        if (t is null)
        {
            Counters.KvmEventsWithoutThread++;
            return;
        }
        // LTTng's kvm_x86_exit has no vcpu_id: the thread's vCPU (from its last entry) is used.
        BecomeVcpu(t, (int)e.Get(FieldRole.VcpuId, -1));
        Charge(t, now);
        t.InGuest = false;
        if (t.PendingExitTime >= 0)
            Counters.UnfinishedExits++;
        t.PendingExitTime = now;
        t.PendingExitReason = (int)e.Get(FieldRole.ExitReason, -1);
    }
}
