namespace Vmtrace.Analysis;

/// <summary>
/// VM exits of one reason: how many were handled and their handling latency (exit → next entry on the same thread).
/// <paramref name="Isa"/> says which vendor's table the reason number belongs to (Intel VMX and AMD SVM number them differently).
/// </summary>
public sealed record ExitMetrics(int Reason, LatencyMetrics Latency, ExitIsa Isa = ExitIsa.Unknown)
{
    public ExitMetrics Merge(ExitMetrics other) => this with { Latency = Latency.Merge(other.Latency) };

    /// <summary>"48 EPT_VIOLATION", "0x400 NPF", or the bare number when the ISA or the code is unknown.</summary>
    public string Description => ExitReasons.Describe(Isa, Reason);

    /// <summary>The reason's name in its ISA's table, or null when the ISA or the code is unknown.</summary>
    public string? Name => ExitReasons.Name(Isa, Reason);
}
