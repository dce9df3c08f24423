using Xunit;

namespace Vmtrace.TestSupport.Wire;

/// <summary>The real traces of the corpus that open today, by format, for the wire round-trip and size tests and the wire benchmark.</summary>
public static class WireCorpus
{
    public static readonly string[] Traces =
    [
        "tcg-qemu/s2-cpu-contention/trace.dat.xz",
        "tcg-qemu/s3-disk-vs-cpu/trace.dat.xz",
        "tcg-qemu/s4-net/trace.dat.xz",
        "tcg-qemu/s2-cpu-contention/perf-ctf.tar.xz",
        "tcg-qemu/s3-disk-vs-cpu/perf-ctf.tar.xz",
        "tcg-qemu/s4-net/perf-ctf.tar.xz",
        "tcg-qemu/s2-cpu-contention/qemu-vmA.log",
        "tcg-qemu/s3-disk-vs-cpu/qemu-vmD.log.xz",
        "tcg-qemu/s4-net/qemu-vmN.log.xz",
        "hip24-kvm-host-guest-pair/host.trace.dat",
        "hip24-kvm-host-guest-pair/guest-Salamander4.trace.dat",
        "hip24-kvm-host-allkvm/host.trace.dat",
        "hip24-kvm-host-2vms-46s/host.trace.dat",
        "tracecompass-test-traces-ctf/flipping-endianness",
        "tracecompass-test-traces-ctf/synctraces/scp_src",
        "tracecompass-test-traces-ctf/synctraces/scp_dest",
        "tracecompass-test-traces-ctf/bug446190",
        "tracecompass-test-traces-ctf/many-threads",
        "tracecompass-vm-xml-stubs/OneQemuKvm/host.xml",
    ];

    public static TheoryData<string> All()
    {
        var data = new TheoryData<string>();
        foreach (var t in Traces)
            data.Add(t);
        return data;
    }
}
