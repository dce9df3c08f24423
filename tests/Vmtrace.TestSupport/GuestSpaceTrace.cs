using System.Globalization;
using System.Text;

namespace Vmtrace.TestSupport;

/// <summary>
/// A Trace Compass XML trace built for the guest address space (CR3) and guest mode figures: no real trace carries the
/// research's addons_vcpu_enter_guest tracepoint (GROUND_TRUTH.md section C), so this one is written by hand. Events have
/// no tid: each is the thread its CPU runs (as in the corpus's XML stubs). With 1,000 ns windows it gives:
/// <list type="bullet">
/// <item>VM A, thread 31 "CPU 0/KVM" (vCPU 0) on CPU 0. Kernel RIP K = 0xffffffff81000000, user RIP U = 0x401000.
///   <list type="number">
///   <item>cr3 0x1005 at 110 (PCID 5: space 0x1000); entry rip K at 120; exit (reason 1) rip U at 420: 300 ns, kernel, space 0x1000, a run that changed mode.</item>
///   <item>cr3 0x2000 at 440; entry rip U at 450; exit (reason 12) rip U at 750: 300 ns, user, space 0x2000.</item>
///   <item>no cr3; entry without rip at 760 (resumes where the last exit left: U); exit rip K at 1300: user, space unknown,
///     240 ns in window 0 and 300 ns in window 1; changed mode (counted where it ends, window 1).</item>
///   <item>cr3 0x1007 at 1310 (space 0x1000); entry rip K at 1320; switched out (runnable) at 1500 with no exit: 180 ns kernel, space 0x1000.</item>
///   <item>back on CPU 0 at 1600; cr3 0x3000 at 1605; entry rip K at 1610; exit (reason 12) rip K at 1700: 90 ns kernel, space 0x3000.</item>
///   </list>
///   Window 0: guest 840 = kernel 300 + user 540; spaces 0x1000 300, 0x2000 300, unknown 240; runs 2 (both ends known), 1 changed mode.
///   Window 1 [1000, 1700): guest 570 = kernel 270 + user 300; spaces 0x1000 180, 0x3000 90, unknown 300; runs 2, 1 changed mode.
/// </item>
/// <item>VM B, thread 41 "CPU 1/KVM" (vCPU 1) on CPU 1, all in window 0: ten runs i = 0..9, each cr3 0x10000·(i+1) at t,
///   entry without rip at t+2, exit (reason 12) rip K at t+2+d with d = 10·(i+1) ns, next t = t+2+d+8 from t = 100.
///   Guest 550; run 0 has no mode (no RIP before it): kernel 540, user 0; runs 9, none changed mode. Spaces: the eight
///   longest (0xa0000 100 … 0x30000 30), then other = 10 + 20 = 30.</item>
/// </list>
/// </summary>
public static class GuestSpaceTrace
{
    public const long WindowNs = 1_000;
    public const long KernelRip = unchecked((long)0xffff_ffff_8100_0000UL);
    public const long UserRip = 0x40_1000;

    public static string Xml()
    {
        var x = new StringBuilder("<trace>\n");
        void Event(long t, int cpu, string name, params (string Name, object Value)[] fields)
        {
            x.Append(CultureInfo.InvariantCulture, $"<event timestamp=\"{t}\" name=\"{name}\"><field name=\"cpu\" value=\"{cpu}\" type=\"int\" />");
            foreach (var (n, v) in fields)
            {
                string type = v is string ? "string" : "long";
                x.Append(CultureInfo.InvariantCulture, $"<field name=\"{n}\" value=\"{v}\" type=\"{type}\" />");
            }
            x.Append("</event>\n");
        }
        void Switch(long t, int cpu, int prev, string prevComm, int next, string nextComm) => Event(t, cpu, "sched_switch",
            ("prev_comm", prevComm), ("prev_tid", (long)prev), ("prev_prio", 20L), ("prev_state", 0L),
            ("next_comm", nextComm), ("next_tid", (long)next), ("next_prio", 20L));
        void Cr3(long t, int cpu, long cr3) => Event(t, cpu, "addons_vcpu_enter_guest", ("cr3tmp", cr3), ("sptmp", 0x7ffd_0000L + t));
        void Entry(long t, int cpu, int vcpu, long? rip)
        {
            if (rip is { } r)
                Event(t, cpu, "kvm_entry", ("vcpu_id", (long)vcpu), ("rip", r));
            else
                Event(t, cpu, "kvm_entry", ("vcpu_id", (long)vcpu));
        }
        void Exit(long t, int cpu, int reason, long rip) =>
            Event(t, cpu, "kvm_exit", ("exit_reason", (long)reason), ("guest_rip", rip), ("isa", 1L));

        var events = new List<(long T, Action Write)>();
        void At(long t, Action write) => events.Add((t, write));

        // VM A on CPU 0.
        At(100, () => Switch(100, 0, 30, "any", 31, "CPU 0/KVM"));
        At(110, () => Cr3(110, 0, 0x1005));
        At(120, () => Entry(120, 0, 0, KernelRip));
        At(420, () => Exit(420, 0, 1, UserRip));
        At(440, () => Cr3(440, 0, 0x2000));
        At(450, () => Entry(450, 0, 0, UserRip));
        At(750, () => Exit(750, 0, 12, UserRip));
        At(760, () => Entry(760, 0, 0, null));
        At(1300, () => Exit(1300, 0, 1, KernelRip));
        At(1310, () => Cr3(1310, 0, 0x1007));
        At(1320, () => Entry(1320, 0, 0, KernelRip));
        At(1500, () => Switch(1500, 0, 31, "CPU 0/KVM", 30, "any"));
        At(1600, () => Switch(1600, 0, 30, "any", 31, "CPU 0/KVM"));
        At(1605, () => Cr3(1605, 0, 0x3000));
        At(1610, () => Entry(1610, 0, 0, KernelRip));
        At(1700, () => Exit(1700, 0, 12, KernelRip));

        // VM B on CPU 1.
        At(50, () => Switch(50, 1, 40, "any", 41, "CPU 1/KVM"));
        long t = 100;
        for (int i = 0; i < 10; i++)
        {
            long start = t, d = 10 * (i + 1), cr3 = 0x10000L * (i + 1);
            At(start, () => Cr3(start, 1, cr3));
            At(start + 2, () => Entry(start + 2, 1, 1, null));
            At(start + 2 + d, () => Exit(start + 2 + d, 1, 12, KernelRip));
            t = start + 2 + d + 8;
        }

        // In time order; at equal times CPU 0's events first (the stable sort keeps the order they were added in).
        foreach (var (_, write) in events.OrderBy(e => e.T))
            write();
        x.Append("</trace>\n");
        return x.ToString();
    }

    /// <summary>Writes the trace to <paramref name="directory"/> and returns its path.</summary>
    public static string WriteTo(string directory)
    {
        string path = Path.Combine(directory, "guest-spaces.xml");
        File.WriteAllText(path, Xml());
        return path;
    }
}
