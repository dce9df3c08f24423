using Vmtrace.Decoding.Ftrace;
using Vmtrace.TestSupport;

namespace Vmtrace.Decoding.Tests.Ftrace;

public class FtracePrintFormatTests
{
    [Fact]
    public void HexFields_NetDevXmitFormat_MarksThePointerOnly()
    {
        // The print fmt of net_dev_xmit in the tcg-qemu traces (trace-cmd report --events).
        const string fmt = "\"dev=%s skbaddr=%p len=%u rc=%d\", __get_str(name), REC->skbaddr, REC->len, REC->rc";

        Assert.Equal(["skbaddr"], FtracePrintFormat.HexFields(fmt));
    }

    [Fact]
    public void HexFields_LengthModifiersCastsAndStarWidths_FollowArgumentsInOrder()
    {
        const string fmt = "\"a=%*d b=%016llx c=%%x d=%lu e=0x%08x\" \" f=%s\", 8, REC->a, (unsigned long long)REC->b, REC->d, (REC->e), func(REC->f, 1)";

        Assert.Equal(["b", "e"], FtracePrintFormat.HexFields(fmt).Order());
    }

    [Fact]
    public void HexFields_NoArguments_IsEmpty()
    {
        Assert.Empty(FtracePrintFormat.HexFields("\"no args %x\""));
    }

    [CorpusFact]
    public void Open_KvmExitOfRealTrace_GuestRipShownInHexExitReasonInDecimal()
    {
        using var source = FtraceFileSource.OpenTraceDat(Corpus.Path("hip24-kvm-host-allkvm/host.trace.dat"));
        while (source.MoveNext() && source.Current.Type.Name != "kvm_exit")
        {
        }

        var type = source.Current.Type;
        Assert.Equal(16, type.Fields[type.IndexOf("guest_rip")].DisplayBase);
        Assert.Equal(16, type.Fields[type.IndexOf("info1")].DisplayBase);
        Assert.Equal(10, type.Fields[type.IndexOf("exit_reason")].DisplayBase);
    }
}
