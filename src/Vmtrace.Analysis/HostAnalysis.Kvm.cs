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
        return e.Tid < 0 ? CurrentThreadOn(e.Cpu, out _) : null;
    }

    /// <summary>
    /// The thread the model has on that CPU (from sched_switch), for events that carry no tid; null while idle.
    /// <paramref name="known"/> is false when nothing says who runs there (no sched_switch yet, or lost events since).
    /// </summary>
    private ThreadInfo? CurrentThreadOn(int cpu, out bool known)
    {
        cpu = ValidCpu(cpu);
        known = cpu >= 0 && _cpus[cpu].Known;
        return cpu >= 0 ? _cpus[cpu].Current : null;
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
        t.GuestSinceEntryNs = 0;
    }

    /// <summary>
    /// The thread shows host activity (or moved CPU) while the model has it in guest: its kvm_exit was lost.
    /// When the guest run really ended is unknown, so the guest time charged since its entry (in the open
    /// window) is taken back and the time since is not counted, like a reference that pairs each entry
    /// with the next exit only.
    /// </summary>
    private void LoseExit(ThreadInfo t, long now)
    {
        Counters.LostExits++;
        if (t.Vcpu is { } vcpu && t.Vm is { } vm)
        {
            vcpu.Window.GuestNs -= t.GuestSinceEntryNs;
            if (!t.ReportsRuntime)
            {
                // Counted from switches (Charge): taken back there too.
                vm.Window.ThreadsOnCpuNs -= t.GuestSinceEntryNs;
                t.StintSwitchOnCpuNs = Math.Max(0, t.StintSwitchOnCpuNs - t.GuestSinceEntryNs);
            }
        }
        t.GuestSinceEntryNs = 0;
        t.InGuest = false;
        t.Since = Math.Max(t.Since, now);
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
        if (e.Get(FieldRole.Isa, 0) is var isa and ((long)ExitIsa.Vmx or (long)ExitIsa.Svm))
            t.Vcpu!.Window.Isa = (ExitIsa)isa;
    }
}
