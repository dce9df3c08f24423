using Vmtrace.Decoding.Ftrace;

namespace Vmtrace.Decoding.Tests.Ftrace;

public class FtraceTimestampConverterTests
{
    [Fact]
    public void ToNanoseconds_NoOptions_KeepsRawTicks()
    {
        var converter = new FtraceTimestampConverter(null, null, 0);

        Assert.Equal(303280081900681L, converter.ToNanoseconds(303280081900681UL, 5));
    }

    [Fact]
    public void ToNanoseconds_Tsc2Nsec_MultipliesAndShiftsWithoutOverflow()
    {
        // mult 735842807, shift 31 are the hip24 host's values (≈ 2.918 GHz TSC). 6.46e13 ticks × 7.4e8 overflows 64 bits,
        // so the product must be taken on 128 bits: (6.46e13 × 735842807) >> 31 computed by hand with BigInteger below.
        var converter = new FtraceTimestampConverter(new TscConversion(735842807, 31, 0), null, 0);
        ulong ticks = 64_640_000_000_000UL;

        long expected = (long)((System.Numerics.BigInteger)ticks * 735842807 >> 31);

        Assert.Equal(expected, converter.ToNanoseconds(ticks, 0));
        Assert.InRange(expected, 22_149_000_000_000L, 22_151_000_000_000L);
    }

    [Fact]
    public void ToNanoseconds_Tsc2NsecOffsetAndTimeOffset_AreAddedAfterConversion()
    {
        var converter = new FtraceTimestampConverter(new TscConversion(1u << 31, 30, 1_000), null, -10);

        Assert.Equal(2 * 500 + 1_000 - 10, converter.ToNanoseconds(500, 0));
    }

    [Fact]
    public void ToNanoseconds_TimeShiftOneSample_AddsItsOffset()
    {
        var shift = new TimeShift(1, 0, [[new TimeShiftSample(100, 5_000, 1, 0)]]);

        Assert.Equal(5_050, new FtraceTimestampConverter(null, shift, 0).ToNanoseconds(50, 0));
    }

    [Fact]
    public void ToNanoseconds_TimeShiftInterpolated_UsesTheSamplesAroundTheTime()
    {
        // Offsets 1000 at t=0, 2000 at t=1000, 4000 at t=2000: at t=1500 the offset is halfway, 3000.
        var samples = new[] { new TimeShiftSample(0, 1000, 1, 0), new TimeShiftSample(1000, 2000, 1, 0), new TimeShiftSample(2000, 4000, 1, 0) };
        var converter = new FtraceTimestampConverter(null, new TimeShift(1, TimeShift.InterpolateFlag, [samples]), 0);

        Assert.Equal(1500 + 3000, converter.ToNanoseconds(1500, 0));
        Assert.Equal(250 + 1250, converter.ToNanoseconds(250, 0));
        Assert.Equal(3000 + 6000, converter.ToNanoseconds(3000, 0)); // past the last sample: the last pair extrapolates
    }

    [Fact]
    public void ToNanoseconds_TimeShiftWithoutInterpolation_UsesTheEarlierSampleOffset()
    {
        var samples = new[] { new TimeShiftSample(0, 1000, 1, 0), new TimeShiftSample(1000, 2000, 1, 0), new TimeShiftSample(2000, 4000, 1, 0) };
        var converter = new FtraceTimestampConverter(null, new TimeShift(1, 0, [samples]), 0);

        Assert.Equal(1500 + 2000, converter.ToNanoseconds(1500, 0));
    }

    [Fact]
    public void ToNanoseconds_TimeShiftThenTsc2Nsec_ConvertsTheHostTicks()
    {
        // A guest's TSC is first moved to the host's TSC, then converted with the host's TSC2NSEC.
        var shift = new TimeShift(1, 0, [[new TimeShiftSample(0, 1000, 1, 0), new TimeShiftSample(10, 1000, 1, 0)]]);
        var converter = new FtraceTimestampConverter(new TscConversion(1u << 30, 31, 0), shift, 0);

        Assert.Equal((500 + 1000) / 2, converter.ToNanoseconds(500, 0));
    }

    [Fact]
    public void ToNanoseconds_CpuWithoutTimeShiftSamples_IsLeftAsIs()
    {
        var shift = new TimeShift(1, 0, [[new TimeShiftSample(0, 1000, 1, 0)]]);

        Assert.Equal(77, new FtraceTimestampConverter(null, shift, 0).ToNanoseconds(77, 3));
    }
}
