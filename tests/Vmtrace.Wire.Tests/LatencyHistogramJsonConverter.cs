using System.Text.Json;
using System.Text.Json.Serialization;
using Vmtrace.Analysis;

namespace Vmtrace.Wire.Tests;

/// <summary>Writes a histogram as its bucket counts, so metrics can be compared as JSON text (write-only).</summary>
internal sealed class LatencyHistogramJsonConverter : JsonConverter<LatencyHistogram>
{
    public override LatencyHistogram Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        throw new NotSupportedException("histograms are only written, for comparison");

    public override void Write(Utf8JsonWriter writer, LatencyHistogram value, JsonSerializerOptions options)
    {
        writer.WriteStartArray();
        foreach (long c in value.Counts)
            writer.WriteNumberValue(c);
        writer.WriteEndArray();
    }
}
