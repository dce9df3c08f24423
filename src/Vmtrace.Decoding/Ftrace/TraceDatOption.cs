namespace Vmtrace.Decoding.Ftrace;

/// <summary>Option ids of trace.dat (trace-cmd.dat.v6(5), trace-cmd.dat.v7(5)); v7 section ids reuse them.</summary>
internal enum TraceDatOption : ushort
{
    Done = 0,
    Date = 1,
    CpuStat = 2,
    Buffer = 3,
    TraceClock = 4,
    Uname = 5,
    Hook = 6,
    Offset = 7,
    CpuCount = 8,
    Version = 9,
    ProcMaps = 10,
    TraceId = 11,
    TimeShift = 12,
    Guest = 13,
    Tsc2Nsec = 14,
    Strings = 15,
    HeaderInfo = 16,
    FtraceEvents = 17,
    EventFormats = 18,
    Kallsyms = 19,
    Printk = 20,
    Cmdlines = 21,
    BufferText = 22,
}
