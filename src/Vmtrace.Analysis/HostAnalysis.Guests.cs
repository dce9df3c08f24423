namespace Vmtrace.Analysis;

/// <summary>The fused host+guest analysis attached to a host analysis, so that its checkpoint holds both.</summary>
public sealed partial class HostAnalysis
{
    /// <summary>The guests' analysis fed alongside this one (<see cref="AttachGuests"/>), null without guest traces.</summary>
    public FusedGuestAnalysis? Guests { get; private set; }

    /// <summary>
    /// Starts the fused analysis of <paramref name="guests"/> on this host analysis (once, before any event): the caller feeds it
    /// as <see cref="FusedGuestAnalysis"/> says, and <see cref="SaveCheckpoint()"/> saves it with the host's state.
    /// </summary>
    public FusedGuestAnalysis AttachGuests(IReadOnlyList<GuestBinding> guests, long? fromNs = null)
    {
        if (Guests is not null)
            throw new InvalidOperationException("guests are attached already");
        return Guests = new FusedGuestAnalysis(this, guests, fromNs);
    }
}
