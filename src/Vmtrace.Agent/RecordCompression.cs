using System.Globalization;
using Confluent.Kafka;

namespace Vmtrace.Agent;

/// <summary>
/// How the producer compresses records (<c>Agent:Compression</c>): <c>CODEC</c> or <c>CODEC-LEVEL</c>, e.g.
/// <c>zstd-1</c> (the default), <c>zstd-3</c>, <c>lz4</c>, <c>gzip-6</c>, <c>snappy</c>, <c>none</c>. The trade is the
/// agent's CPU against the bytes into Kafka (docs/capacity.md, "Agent" and "Wire bytes per event"); the worker
/// reads every codec.
/// </summary>
public readonly record struct RecordCompression(CompressionType Codec, int? Level)
{
    public const string Default = "zstd-1";

    /// <summary>
    /// Parses <paramref name="text"/>; false with a one-line <paramref name="problem"/> naming the setting when it is not
    /// a codec librdkafka has, or its level is outside the codec's range.
    /// </summary>
    public static bool TryParse(string? text, out RecordCompression compression, out string? problem)
    {
        compression = default;
        problem = null;
        string value = (text ?? "").Trim().ToLowerInvariant();
        int dash = value.IndexOf('-', StringComparison.Ordinal);
        string codec = dash < 0 ? value : value[..dash];
        int? level = null;
        if (dash >= 0)
        {
            if (!int.TryParse(value.AsSpan(dash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int l))
            {
                problem = $"Agent:Compression '{text}': the level after '-' is not a whole number (e.g. zstd-1, zstd-3, lz4, none)";
                return false;
            }
            level = l;
        }
        (CompressionType type, int min, int max)? known = codec switch
        {
            "zstd" => (CompressionType.Zstd, 1, 22),
            "lz4" => (CompressionType.Lz4, 0, 12),
            "gzip" => (CompressionType.Gzip, 0, 9),
            "snappy" => (CompressionType.Snappy, 0, 0),
            "none" => (CompressionType.None, 0, 0),
            _ => null,
        };
        if (known is not { } k)
        {
            problem = $"Agent:Compression '{text}' is not one of zstd[-1..22], lz4[-0..12], gzip[-0..9], snappy, none";
            return false;
        }
        if (level is { } lv && (lv < k.min || lv > k.max || k.type is CompressionType.Snappy or CompressionType.None))
        {
            problem = k.type is CompressionType.Snappy or CompressionType.None
                ? $"Agent:Compression '{text}': {codec} has no level"
                : $"Agent:Compression '{text}': the {codec} level must be {k.min}..{k.max}";
            return false;
        }
        compression = new RecordCompression(k.type, level);
        return true;
    }

    /// <summary>Sets the codec and level on a producer config (no level: librdkafka's default for the codec).</summary>
    public void ApplyTo(ProducerConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.CompressionType = Codec;
        if (Level is { } level)
            config.CompressionLevel = level;
    }
}
