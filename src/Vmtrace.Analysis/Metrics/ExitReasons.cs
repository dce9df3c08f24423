using System.Collections.Frozen;
using System.Globalization;

namespace Vmtrace.Analysis;

/// <summary>Names of exit reasons by ISA: the same number means different exits on Intel and AMD (12 is HLT on VMX, 0x78 on SVM).</summary>
public static class ExitReasons
{
    private static readonly FrozenDictionary<int, string> Vmx = new Dictionary<int, string>
    {
        [0] = "EXCEPTION_NMI", [1] = "EXTERNAL_INTERRUPT", [2] = "TRIPLE_FAULT", [3] = "INIT_SIGNAL", [4] = "SIPI_SIGNAL",
        [7] = "INTERRUPT_WINDOW", [8] = "NMI_WINDOW", [9] = "TASK_SWITCH", [10] = "CPUID", [12] = "HLT", [13] = "INVD",
        [14] = "INVLPG", [15] = "RDPMC", [16] = "RDTSC", [18] = "VMCALL", [19] = "VMCLEAR", [20] = "VMLAUNCH", [21] = "VMPTRLD",
        [22] = "VMPTRST", [23] = "VMREAD", [24] = "VMRESUME", [25] = "VMWRITE", [26] = "VMOFF", [27] = "VMON",
        [28] = "CR_ACCESS", [29] = "DR_ACCESS", [30] = "IO_INSTRUCTION", [31] = "MSR_READ", [32] = "MSR_WRITE",
        [33] = "INVALID_STATE", [34] = "MSR_LOAD_FAIL", [36] = "MWAIT_INSTRUCTION", [37] = "MONITOR_TRAP_FLAG",
        [39] = "MONITOR_INSTRUCTION", [40] = "PAUSE_INSTRUCTION", [41] = "MCE_DURING_VMENTRY", [43] = "TPR_BELOW_THRESHOLD",
        [44] = "APIC_ACCESS", [45] = "EOI_INDUCED", [46] = "GDTR_IDTR", [47] = "LDTR_TR", [48] = "EPT_VIOLATION",
        [49] = "EPT_MISCONFIG", [50] = "INVEPT", [51] = "RDTSCP", [52] = "PREEMPTION_TIMER", [53] = "INVVPID", [54] = "WBINVD",
        [55] = "XSETBV", [56] = "APIC_WRITE", [57] = "RDRAND", [58] = "INVPCID", [59] = "VMFUNC", [60] = "ENCLS", [61] = "RDSEED",
        [62] = "PML_FULL", [63] = "XSAVES", [64] = "XRSTORS", [67] = "UMWAIT", [68] = "TPAUSE", [74] = "BUS_LOCK", [75] = "NOTIFY",
    }.ToFrozenDictionary();

    private static readonly FrozenDictionary<int, string> Svm = BuildSvm();

    private static FrozenDictionary<int, string> BuildSvm()
    {
        var names = new Dictionary<int, string>
        {
            [0x060] = "INTR", [0x061] = "NMI", [0x062] = "SMI", [0x063] = "INIT", [0x064] = "VINTR", [0x065] = "CR0_SEL_WRITE",
            [0x066] = "IDTR_READ", [0x067] = "GDTR_READ", [0x068] = "LDTR_READ", [0x069] = "TR_READ", [0x06a] = "IDTR_WRITE",
            [0x06b] = "GDTR_WRITE", [0x06c] = "LDTR_WRITE", [0x06d] = "TR_WRITE", [0x06e] = "RDTSC", [0x06f] = "RDPMC",
            [0x070] = "PUSHF", [0x071] = "POPF", [0x072] = "CPUID", [0x073] = "RSM", [0x074] = "IRET", [0x075] = "SWINT",
            [0x076] = "INVD", [0x077] = "PAUSE", [0x078] = "HLT", [0x079] = "INVLPG", [0x07a] = "INVLPGA", [0x07b] = "IOIO",
            [0x07c] = "MSR", [0x07d] = "TASK_SWITCH", [0x07e] = "FERR_FREEZE", [0x07f] = "SHUTDOWN", [0x080] = "VMRUN",
            [0x081] = "VMMCALL", [0x082] = "VMLOAD", [0x083] = "VMSAVE", [0x084] = "STGI", [0x085] = "CLGI", [0x086] = "SKINIT",
            [0x087] = "RDTSCP", [0x088] = "ICEBP", [0x089] = "WBINVD", [0x08a] = "MONITOR", [0x08b] = "MWAIT", [0x08c] = "MWAIT_COND",
            [0x08d] = "XSETBV", [0x08e] = "RDPRU", [0x400] = "NPF", [0x401] = "AVIC_INCOMPLETE_IPI", [0x402] = "AVIC_UNACCELERATED_ACCESS",
        };
        foreach (int cr in (int[])[0, 2, 3, 4, 8])
        {
            names[0x000 + cr] = $"READ_CR{cr}";
            names[0x010 + cr] = $"WRITE_CR{cr}";
        }
        for (int dr = 0; dr < 8; dr++)
        {
            names[0x020 + dr] = $"READ_DR{dr}";
            names[0x030 + dr] = $"WRITE_DR{dr}";
        }
        // Exceptions: SVM_EXIT_EXCP_BASE (0x40) + vector, the vectors svm.h names.
        string[] vectors = ["DE", "DB", "", "BP", "OF", "BR", "UD", "NM", "DF", "", "TS", "NP", "SS", "GP", "PF", "", "MF", "AC", "MC", "XM"];
        for (int v = 0; v < vectors.Length; v++)
        {
            if (vectors[v].Length > 0)
                names[0x040 + v] = "EXCP_" + vectors[v];
        }
        return names.ToFrozenDictionary();
    }

    public static string? Name(ExitIsa isa, int reason) => isa switch
    {
        ExitIsa.Vmx => Vmx.GetValueOrDefault(reason),
        ExitIsa.Svm => Svm.GetValueOrDefault(reason),
        _ => null,
    };

    /// <summary>
    /// The reason as people look it up: VMX in decimal like the SDM, SVM in hex like the APM and svm.h,
    /// followed by its name when known ("48 EPT_VIOLATION", "0x400 NPF"); the bare decimal number when the ISA is unknown.
    /// </summary>
    public static string Describe(ExitIsa isa, int reason)
    {
        string number = isa == ExitIsa.Svm ? "0x" + reason.ToString("x", CultureInfo.InvariantCulture) : reason.ToString(CultureInfo.InvariantCulture);
        return Name(isa, reason) is { } name ? $"{number} {name}" : number;
    }

    /// <summary>The lower-case tag value of an ISA ("vmx", "svm"), or null when unknown.</summary>
    public static string? Tag(ExitIsa isa) => isa switch
    {
        ExitIsa.Vmx => "vmx",
        ExitIsa.Svm => "svm",
        _ => null,
    };
}
