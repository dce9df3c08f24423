namespace Vmtrace.Analysis;

/// <summary>The guest's privilege level as its instruction pointer tells it (docs/metrics.md, "Guest address spaces and modes").</summary>
internal enum GuestMode : byte
{
    Unknown,
    Kernel,
    User,
}
