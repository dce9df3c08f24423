namespace Vmtrace.Decoding;

/// <summary>
/// Inputs read as one host that cannot be: traces of two machines, or clocks that cannot be aligned. Names both
/// inputs and says what to do instead, in one line.
/// </summary>
public sealed class InconsistentInputsException : Exception
{
    public InconsistentInputsException(string message)
        : base(message)
    {
    }

    public InconsistentInputsException()
        : this("inputs cannot be read together")
    {
    }

    public InconsistentInputsException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// Checks, before merging, that the inputs are one machine's recordings on one clock. Merging a guest's trace
/// into its host's mixes two machines' CPUs and threads; merging a monotonic trace with qemu's realtime log
/// puts decades between them. Both are refused rather than analysed wrongly.
/// </summary>
public static class InputConsistency
{
    public const string HowToRecord =
        "record the kernel trace on qemu's clock with `trace-cmd record -C tai` (tai is realtime when the host's TAI offset is 0) or add `--date`, or use `vmtrace record`";

    /// <summary>Throws <see cref="InconsistentInputsException"/> when two inputs are different machines or on clocks that cannot be aligned.</summary>
    public static void Check(IReadOnlyList<EventSource> inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        for (int i = 0; i < inputs.Count; i++)
        {
            for (int j = i + 1; j < inputs.Count; j++)
                CheckMachines(inputs[i], inputs[j]);
        }
        for (int i = 0; i < inputs.Count; i++)
        {
            if (inputs.Count > 1 && inputs[i].RecordedInGuest)
                throw new InconsistentInputsException(
                    $"{inputs[i].Description} was recorded inside a guest, which vmtrace does not merge with other inputs: "
                    + $"analyze the host's trace and give this one as --guest NAME={inputs[i].Description} (NAME: the VM)");
        }
        for (int i = 1; i < inputs.Count; i++)
            CheckClocks(inputs[0], inputs[i]);
    }

    private static void CheckMachines(EventSource a, EventSource b)
    {
        if (a.Machine is not { } ma || b.Machine is not { } mb || !ma.DiffersFrom(mb))
            return;
        throw new InconsistentInputsException(
            $"{a.Description} ({ma}) and {b.Description} ({mb}) are traces of two machines, which vmtrace does not merge: "
            + "analyze the host's trace (with its qemu logs) and give a guest's trace as --guest NAME=GUEST_TRACE (NAME: the VM)");
    }

    /// <summary>Throws <see cref="InconsistentInputsException"/> when the two inputs' timestamps cannot be compared.</summary>
    public static void CheckClocks(EventSource a, EventSource b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (Domain(a) == Domain(b))
            return;
        throw new InconsistentInputsException(
            $"{a.Description} is on clock '{a.ClockName}' and {b.Description} on clock '{b.ClockName}', which vmtrace cannot align: {HowToRecord}");
    }

    /// <summary>Sources whose timestamps can be compared share a domain: realtime, monotonic, or the same named clock.</summary>
    private static string Domain(EventSource s) => s.Clock switch
    {
        TraceClockKind.Realtime => "realtime",
        TraceClockKind.Monotonic => "monotonic",
        _ => s.Clock + ":" + s.ClockName,
    };
}
