using Vmtrace.TestSupport;

namespace Vmtrace.Decoding.Tests.TraceCompassXml;

/// <summary>Trace Compass's rule (GROUND_TRUTH.md B): a trace with the guest side of vmsync was recorded in a guest.</summary>
public class GuestStubTests
{
    private const string Stub = "tracecompass-vm-xml-stubs/OneQemuKvm/";

    [CorpusFact]
    public void Open_OneQemuKvmStubs_GuestIsRecordedInGuestHostIsNot()
    {
        using var guest = TraceOpener.Open(Corpus.Path(Stub + "guest.xml"));
        using var host = TraceOpener.Open(Corpus.Path(Stub + "host.xml"));

        Assert.True(guest.RecordedInGuest);
        Assert.False(host.RecordedInGuest);
    }

    [CorpusFact]
    public void OpenAll_HostAndGuestStubs_RefusedNamingTheGuest()
    {
        string guest = Corpus.Path(Stub + "guest.xml");

        var ex = Assert.Throws<InconsistentInputsException>(() => TraceOpener.OpenAll([Corpus.Path(Stub + "host.xml"), guest]));

        Assert.StartsWith($"{guest} was recorded inside a guest", ex.Message, StringComparison.Ordinal);
    }

    [CorpusFact]
    public void Open_Hip24GuestTrace_IsRecordedInGuest()
    {
        using var guest = TraceOpener.Open(Corpus.Path("hip24-kvm-host-guest-pair/guest-Salamander4.trace.dat"));
        using var host = TraceOpener.Open(Corpus.Path("hip24-kvm-host-guest-pair/host.trace.dat"));

        Assert.True(guest.RecordedInGuest);
        Assert.False(host.RecordedInGuest);
    }
}
