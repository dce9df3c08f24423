namespace Vmtrace.Analysis;

/// <summary>The virtualisation extension of a kvm_exit, as its <c>isa</c> field gives it (the kernel's KVM_ISA_VMX / KVM_ISA_SVM).</summary>
public enum ExitIsa
{
    /// <summary>The trace does not say (no <c>isa</c> field): reason numbers are shown without a name.</summary>
    Unknown = 0,
    /// <summary>Intel VMX: basic exit reasons (SDM vol. 3, appendix C).</summary>
    Vmx = 1,
    /// <summary>AMD SVM: exit codes (the kernel's arch/x86/include/uapi/asm/svm.h).</summary>
    Svm = 2,
}
