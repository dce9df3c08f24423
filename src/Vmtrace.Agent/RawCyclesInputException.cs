using Vmtrace.Decoding;

namespace Vmtrace.Agent;

/// <summary>
/// A replay input whose timestamps are raw TSC cycles (x86-tsc without TSC2NSEC): the pipeline stores every time
/// and duration as nanoseconds (the <c>*_ns</c> fields), so the agent refuses it rather than send cycles as ns.
/// </summary>
public sealed class RawCyclesInputException : Exception
{
    public RawCyclesInputException(string message)
        : base(message)
    {
    }

    public RawCyclesInputException()
        : this("the input's timestamps are raw TSC cycles")
    {
    }

    public RawCyclesInputException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Throws when <paramref name="source"/> counts raw cycles; the message names it, its clock and what to do instead.</summary>
    public static void ThrowIfCycles(EventSource source)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (source.Clock != TraceClockKind.Cycles)
            return;
        throw new RawCyclesInputException(
            $"{source.Description}: clock '{source.ClockName}' counts raw TSC cycles (no TSC2NSEC conversion in the trace) and the pipeline stores nanoseconds, "
            + "so the agent does not send it: `vmtrace analyze` shows this trace in cycles; for the pipeline record with a nanosecond clock "
            + "(`trace-cmd record -C tai`, x86-tsc with TSC2NSEC, or `vmtrace record`)");
    }
}
