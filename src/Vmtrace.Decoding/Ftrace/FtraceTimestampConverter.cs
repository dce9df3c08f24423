using System.Runtime.CompilerServices;

namespace Vmtrace.Decoding.Ftrace;

/// <summary>
/// Turns a ring-buffer timestamp into the ns the trace reports, in trace-cmd's order: a guest's TIME_SHIFT
/// correction to the host clock (per CPU), then TSC2NSEC (ticks → ns), then the OFFSET/DATE options.
/// Without TSC2NSEC an x86-tsc trace stays in ticks.
/// </summary>
public sealed class FtraceTimestampConverter
{
    private readonly TscConversion? _tsc;
    private readonly TimeShift? _shift;
    private readonly long _offset;

    public FtraceTimestampConverter(TscConversion? tsc2nsec, TimeShift? timeShift, long offset)
    {
        _tsc = tsc2nsec is { Multiplier: > 0 } ? tsc2nsec : null;
        _shift = timeShift is { SamplesByCpu.Count: > 0 } ? timeShift : null;
        _offset = offset;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public long ToNanoseconds(ulong raw, int cpu)
    {
        if (_shift is not null)
            raw = ToHost(raw, cpu);
        if (_tsc is not null)
            raw = MultiplyShift(raw, _tsc.Multiplier, (int)_tsc.Shift) + _tsc.Offset;
        return (long)raw + _offset;
    }

    private static ulong MultiplyShift(ulong value, ulong multiplier, int shift)
    {
        ulong high = Math.BigMul(value, multiplier, out ulong low);
        return shift == 0 ? low : (low >> shift) | (high << (64 - shift));
    }

    /// <summary>TIME_SHIFT: the correction of the samples around <paramref name="ts"/> on that CPU.</summary>
    private ulong ToHost(ulong ts, int cpu)
    {
        var all = _shift!.SamplesByCpu;
        if ((uint)cpu >= (uint)all.Count)
            return ts;
        var samples = all[cpu];
        switch (samples.Length)
        {
            case 0:
                return ts;
            case 1:
                return (ulong)((long)ts + samples[0].Offset);
            case 2:
                return Correct(ts, samples[0], samples[1]);
        }
        if (ts <= samples[0].Time)
            return Correct(ts, samples[0], samples[1]);
        if (ts >= samples[^1].Time)
            return Correct(ts, samples[^2], samples[^1]);
        int lo = 0, hi = samples.Length - 1;
        while (hi - lo > 1)
        {
            int mid = (lo + hi) >>> 1;
            if (samples[mid].Time <= ts)
                lo = mid;
            else
                hi = mid;
        }
        return Correct(ts, samples[lo], samples[lo + 1]);
    }

    private ulong Correct(ulong ts, in TimeShiftSample min, in TimeShiftSample max)
    {
        long correction = min.Offset;
        if ((_shift!.Flags & TimeShift.InterpolateFlag) != 0)
        {
            long span = (long)(max.Time - min.Time);
            if (span != 0)
            {
                var scaled = (Int128)((long)ts - (long)min.Time) * (max.Offset - min.Offset);
                correction = min.Offset + (long)((scaled + span / 2) / span);
            }
        }
        ulong scaledTs = min.Scaling is 0 or 1 && min.Fraction == 0 ? ts * Math.Max(min.Scaling, 1) : MultiplyShift(ts, min.Scaling, min.Fraction);
        return (ulong)((long)scaledTs + correction);
    }
}
