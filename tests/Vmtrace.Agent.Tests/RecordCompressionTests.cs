using Confluent.Kafka;

namespace Vmtrace.Agent.Tests;

/// <summary><c>Agent:Compression</c>: codec and level as librdkafka takes them, and one line naming the setting otherwise.</summary>
public class RecordCompressionTests
{
    [Theory]
    [InlineData("zstd-1", CompressionType.Zstd, 1)]
    [InlineData("zstd-3", CompressionType.Zstd, 3)]
    [InlineData("ZSTD", CompressionType.Zstd, null)]
    [InlineData("lz4", CompressionType.Lz4, null)]
    [InlineData("lz4-12", CompressionType.Lz4, 12)]
    [InlineData("gzip-0", CompressionType.Gzip, 0)]
    [InlineData("snappy", CompressionType.Snappy, null)]
    [InlineData("none", CompressionType.None, null)]
    public void TryParse_KnownCodec_SetsTheProducersCodecAndLevel(string text, CompressionType codec, int? level)
    {
        Assert.True(RecordCompression.TryParse(text, out var compression, out string? problem));
        Assert.Null(problem);
        var config = new ProducerConfig();
        compression.ApplyTo(config);

        Assert.Equal(codec, config.CompressionType);
        Assert.Equal(level, config.CompressionLevel);
    }

    [Theory]
    [InlineData("brotli", "is not one of")]
    [InlineData("", "is not one of")]
    [InlineData("zstd-0", "the zstd level must be 1..22")]
    [InlineData("zstd-23", "the zstd level must be 1..22")]
    [InlineData("gzip-10", "the gzip level must be 0..9")]
    [InlineData("zstd-x", "is not a whole number")]
    [InlineData("zstd--1", "is not a whole number")]
    [InlineData("none-1", "none has no level")]
    public void TryParse_BadValue_IsOneLineNamingTheSetting(string text, string reason)
    {
        Assert.False(RecordCompression.TryParse(text, out _, out string? problem));
        Assert.StartsWith($"Agent:Compression '{text}'", problem, StringComparison.Ordinal);
        Assert.Contains(reason, problem, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', problem!);
    }

    [Fact]
    public void Problems_BadCompression_IsReportedAndTheDefaultIsNot()
    {
        string input = Path.GetTempPath();

        Assert.Contains(new AgentOptions { Inputs = [input], Compression = "zstd-99" }.Problems(),
            p => p.StartsWith("Agent:Compression 'zstd-99'", StringComparison.Ordinal));
        Assert.DoesNotContain(new AgentOptions { Inputs = [input] }.Problems(), p => p.StartsWith("Agent:Compression", StringComparison.Ordinal));
        Assert.Equal("zstd-1", new AgentOptions().Compression);
    }
}
