namespace Vmtrace.Decoding.Ctf;

/// <summary>How one event class of one stream class decodes: its type and program (contexts + payload).</summary>
internal sealed class EventClassLayout(EventType type, DecodeProgram program, int tidRegister, int cpuRegister)
{
    public EventType Type { get; } = type;
    public DecodeProgram Program { get; } = program;
    /// <summary>Register of the context field tid (LTTng) or perf_tid (perf), or -1.</summary>
    public int TidRegister { get; } = tidRegister;
    /// <summary>Register of perf_cpu, used when the packet context has no cpu_id; -1 when absent.</summary>
    public int CpuRegister { get; } = cpuRegister;
}
