namespace Vmtrace.InfluxDb.Tests.FakeServer;

public sealed class PartialWriteAnswerTests
{
    [Fact]
    public void Match_TypeConflict_NamesOnlyLinesOfThatMeasurementFieldAndType()
    {
        string[] batch = ["m v=1i 1", "m v=1.5 2", "m,t=a w=2,v=3 3", "m\\ x v=1.5 4", "n v=1.5 5"];
        string answer = "partial write: field type conflict: input field \"v\" on measurement \"m\" is type float, already exists as type integer dropped=2";

        var (rejected, unidentified) = PartialWriteAnswer.Match(answer, batch);

        Assert.Equal([batch[1], batch[2]], rejected.Select(r => r.Line));
        Assert.Equal(0, unidentified);
        Assert.StartsWith("field type conflict", rejected[0].Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Match_MoreDroppedThanNamed_CountsTheRestAsUnidentified()
    {
        string[] batch = ["m v=1.5 1", "k s=1.5 2"];
        string answer = "partial write: field type conflict: input field \"v\" on measurement \"m\" is type float, already exists as type integer dropped=2";

        var (rejected, unidentified) = PartialWriteAnswer.Match(answer, batch);

        Assert.Single(rejected);
        Assert.Equal(1, unidentified);
    }

    [Theory]
    [InlineData("partial write: unable to parse 'x': bad dropped=0", true)]
    [InlineData("unable to parse 'x': bad", true)]
    [InlineData("database not found: \"db\"", false)]
    [InlineData("bad timestamp", false)]
    public void IsPartialWrite_Answer_RecognisesOnlyRejectedLines(string answer, bool expected) =>
        Assert.Equal(expected, PartialWriteAnswer.IsPartialWrite(answer));
}
