namespace Vmtrace.Cli;

/// <summary>Intel VMX basic exit reasons (SDM vol. 3, appendix C), for display only; AMD SVM codes differ.</summary>
internal static class ExitReasonNames
{
    private static readonly Dictionary<int, string> Vmx = new()
    {
        [0] = "EXCEPTION_NMI", [1] = "EXTERNAL_INTERRUPT", [2] = "TRIPLE_FAULT", [7] = "INTERRUPT_WINDOW", [8] = "NMI_WINDOW",
        [9] = "TASK_SWITCH", [10] = "CPUID", [12] = "HLT", [13] = "INVD", [14] = "INVLPG", [15] = "RDPMC", [16] = "RDTSC",
        [18] = "VMCALL", [28] = "CR_ACCESS", [29] = "DR_ACCESS", [30] = "IO_INSTRUCTION", [31] = "MSR_READ", [32] = "MSR_WRITE",
        [33] = "INVALID_STATE", [36] = "MWAIT_INSTRUCTION", [39] = "MONITOR_INSTRUCTION", [40] = "PAUSE_INSTRUCTION",
        [41] = "MCE_DURING_VMENTRY", [43] = "TPR_BELOW_THRESHOLD", [44] = "APIC_ACCESS", [45] = "EOI_INDUCED", [46] = "GDTR_IDTR",
        [47] = "LDTR_TR", [48] = "EPT_VIOLATION", [49] = "EPT_MISCONFIG", [50] = "INVEPT", [51] = "RDTSCP",
        [52] = "PREEMPTION_TIMER", [53] = "INVVPID", [54] = "WBINVD", [55] = "XSETBV", [56] = "APIC_WRITE", [57] = "RDRAND",
        [58] = "INVPCID", [59] = "VMFUNC", [60] = "ENCLS", [61] = "RDSEED", [62] = "PML_FULL", [63] = "XSAVES", [64] = "XRSTORS",
        [67] = "UMWAIT", [68] = "TPAUSE", [74] = "BUS_LOCK", [75] = "NOTIFY",
    };

    public static string Describe(int reason) =>
        Vmx.TryGetValue(reason, out var name) ? $"{reason} {name}" : reason.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
