namespace Vmtrace.Decoding.Ftrace;

/// <summary>Where one CPU's ring-buffer pages are in the file (v7: possibly as compressed chunks).</summary>
public sealed record TraceDatCpuData(int Cpu, long Offset, long Size);

/// <summary>One trace instance's per-CPU data (the top instance has the name "").</summary>
public sealed record TraceDatBuffer(string Name, string? Clock, int PageSize, bool Compressed, IReadOnlyList<TraceDatCpuData> Cpus);

/// <summary>A traced guest (GUEST option): guest CPU → host thread running that vCPU.</summary>
public sealed record TraceDatGuest(string Name, ulong TraceId, IReadOnlyDictionary<int, int> HostTidByGuestCpu);

/// <summary>TSC2NSEC option: ns = offset + (ticks × mult) >> shift.</summary>
public sealed record TscConversion(uint Multiplier, uint Shift, ulong Offset);

/// <summary>One TIME_SHIFT sample: from guest time <c>Time</c> on, host = (guest × Scaling) >> Fraction + Offset.</summary>
public readonly record struct TimeShiftSample(ulong Time, long Offset, ulong Scaling, int Fraction);

/// <summary>TIME_SHIFT option of a guest trace: per-CPU corrections to the peer's (host's) clock.</summary>
public sealed record TimeShift(ulong PeerTraceId, uint Flags, IReadOnlyList<TimeShiftSample[]> SamplesByCpu)
{
    /// <summary>Flag bit: interpolate the offset between samples.</summary>
    public const uint InterpolateFlag = 1;
}

/// <summary>Everything a trace.dat says besides the events themselves.</summary>
public sealed class TraceDatMetadata
{
    public required string Path { get; init; }
    public int Version { get; set; }
    public bool BigEndian { get; set; }
    public int LongSize { get; set; }
    public int PageSize { get; set; }
    public string CompressionName { get; set; } = "none";
    public string CompressionVersion { get; set; } = "";
    public RingBufferPageLayout PageLayout { get; set; }
    public List<FtraceEventFormat> Formats { get; } = [];
    public Dictionary<int, string> Cmdlines { get; } = [];
    /// <summary>CPUs the header counts (v6) or the CPUCOUNT option says.</summary>
    public int CpuCount { get; set; }
    /// <summary>The selected clock of the TRACECLOCK option ("[tai]" → "tai").</summary>
    public string? TraceClock { get; set; }
    public List<TraceDatBuffer> Buffers { get; } = [];
    public TscConversion? Tsc2Nsec { get; set; }
    /// <summary>Sum of the OFFSET and DATE options, ns added to every timestamp.</summary>
    public long TimeOffset { get; set; }
    /// <summary>
    /// True when a DATE option (<c>trace-cmd record --date</c>) maps the trace clock to gettimeofday:
    /// timestamps plus <see cref="TimeOffset"/> are then realtime, whatever the clock.
    /// </summary>
    public bool HasDate { get; set; }
    public TimeShift? TimeShift { get; set; }
    public List<TraceDatGuest> Guests { get; } = [];
    public ulong? TraceId { get; set; }
    public string? Uname { get; set; }
    public string? TracerVersion { get; set; }
    /// <summary>Problems met in optional metadata (skipped, the rest was read).</summary>
    public List<(TraceFormatException Error, long SkippedBytes)> Problems { get; } = [];
}
