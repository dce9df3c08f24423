namespace Vmtrace.Wire;

/// <summary>Encodes and decodes the <c>AgentHealth</c> message (one every few seconds: allocation is fine here).</summary>
internal static class AgentHealthCodec
{
    public static void Encode(WireAgentHealth health, ProtoBuffer b)
    {
        ArgumentNullException.ThrowIfNull(health);
        b.WriteSignedField(WireSchema.HealthSampledAt, health.SampledAtUnixNs);
        b.WriteVarintField(WireSchema.HealthEventsRead, Counter(health.EventsRead));
        b.WriteVarintField(WireSchema.HealthEventsSent, Counter(health.EventsSent));
        b.WriteVarintField(WireSchema.HealthEventsSkipped, Counter(health.EventsSkipped));
        b.WriteVarintField(WireSchema.HealthTracerLost, Counter(health.TracerLostEvents));
        b.WriteVarintField(WireSchema.HealthBatches, Counter(health.Batches));
        b.WriteVarintField(WireSchema.HealthBatchBytes, Counter(health.BatchBytes));
        b.WriteVarintField(WireSchema.HealthRecordsProduced, Counter(health.RecordsProduced));
        b.WriteVarintField(WireSchema.HealthRecordsDelivered, Counter(health.RecordsDelivered));
        b.WriteVarintField(WireSchema.HealthDeliveryErrors, Counter(health.DeliveryErrors));
        b.WriteVarintField(WireSchema.HealthBufferedRecords, Counter(health.BufferedRecords));
        b.WriteVarintField(WireSchema.HealthBufferedBytes, Counter(health.BufferedBytes));
        b.WriteVarintField(WireSchema.HealthBufferedBytesPeak, Counter(health.BufferedBytesPeak));
        b.WriteVarintField(WireSchema.HealthBufferCapacity, Counter(health.BufferCapacityBytes));
        b.WriteVarintField(WireSchema.HealthBufferFullWaits, Counter(health.BufferFullWaits));
        b.WriteVarintField(WireSchema.HealthBufferFullWaitNs, Counter(health.BufferFullWaitNs));
        b.WriteVarintField(WireSchema.HealthDecodeErrors, Counter(health.DecodeErrors));
    }

    public static WireAgentHealth Decode(byte[] data, int start, int end)
    {
        var h = new WireAgentHealth();
        var r = new ProtoReader(data, start, end, "AgentHealth");
        while (r.TryReadTag(out int field, out var type))
        {
            h = field switch
            {
                WireSchema.HealthSampledAt => h with { SampledAtUnixNs = r.ReadSigned(type, "sampled_at_unix_ns") },
                WireSchema.HealthEventsRead => h with { EventsRead = Read(ref r, type, "events_read") },
                WireSchema.HealthEventsSent => h with { EventsSent = Read(ref r, type, "events_sent") },
                WireSchema.HealthEventsSkipped => h with { EventsSkipped = Read(ref r, type, "events_skipped") },
                WireSchema.HealthTracerLost => h with { TracerLostEvents = Read(ref r, type, "tracer_lost_events") },
                WireSchema.HealthBatches => h with { Batches = Read(ref r, type, "batches") },
                WireSchema.HealthBatchBytes => h with { BatchBytes = Read(ref r, type, "batch_bytes") },
                WireSchema.HealthRecordsProduced => h with { RecordsProduced = Read(ref r, type, "records_produced") },
                WireSchema.HealthRecordsDelivered => h with { RecordsDelivered = Read(ref r, type, "records_delivered") },
                WireSchema.HealthDeliveryErrors => h with { DeliveryErrors = Read(ref r, type, "delivery_errors") },
                WireSchema.HealthBufferedRecords => h with { BufferedRecords = Read(ref r, type, "buffered_records") },
                WireSchema.HealthBufferedBytes => h with { BufferedBytes = Read(ref r, type, "buffered_bytes") },
                WireSchema.HealthBufferedBytesPeak => h with { BufferedBytesPeak = Read(ref r, type, "buffered_bytes_peak") },
                WireSchema.HealthBufferCapacity => h with { BufferCapacityBytes = Read(ref r, type, "buffer_capacity_bytes") },
                WireSchema.HealthBufferFullWaits => h with { BufferFullWaits = Read(ref r, type, "buffer_full_waits") },
                WireSchema.HealthBufferFullWaitNs => h with { BufferFullWaitNs = Read(ref r, type, "buffer_full_wait_ns") },
                WireSchema.HealthDecodeErrors => h with { DecodeErrors = Read(ref r, type, "decode_errors") },
                _ => Skip(ref r, type, h),
            };
        }
        return h;
    }

    // Counters never go below 0; a negative one would be a bug upstream, sent as 0 rather than as 2^64 - n.
    private static ulong Counter(long value) => value < 0 ? 0 : (ulong)value;

    private static long Read(ref ProtoReader r, WireType type, string field)
    {
        int at = r.FieldStart;
        ulong v = r.ReadVarint(type, field);
        return v <= long.MaxValue ? (long)v : throw new WireFormatException(at, $"AgentHealth.{field}: {v} is out of range");
    }

    private static WireAgentHealth Skip(ref ProtoReader r, WireType type, WireAgentHealth h)
    {
        r.Skip(type);
        return h;
    }
}
