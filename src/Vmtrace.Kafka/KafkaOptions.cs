namespace Vmtrace.Kafka;

/// <summary>
/// Where Kafka is (section <c>Kafka</c>, env <c>VMTRACE__KAFKA__BOOTSTRAPSERVERS</c> or <c>KAFKA_BOOTSTRAP_SERVERS</c>,
/// which the CLI reads as environment settings: a <c>--Kafka:BootstrapServers</c> argument beats them) and the topic
/// names. Extra librdkafka properties go in <see cref="Properties"/>.
/// </summary>
public sealed class KafkaOptions
{
    public const string Section = "Kafka";

    public string BootstrapServers { get; set; } = "";

    public string EventsTopic { get; set; } = KafkaTopics.Events;

    public string StateTopic { get; set; } = KafkaTopics.State;

    public string DeadLetterTopic { get; set; } = KafkaTopics.DeadLetter;

    /// <summary>Extra librdkafka client properties (security.protocol, sasl.*, …), applied to every client.</summary>
    public Dictionary<string, string> Properties { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The bootstrap servers to use: <see cref="BootstrapServers"/>, or <c>KAFKA_BOOTSTRAP_SERVERS</c> when that is empty.</summary>
    public string EffectiveBootstrapServers =>
        BootstrapServers is { Length: > 0 } set ? set : Environment.GetEnvironmentVariable("KAFKA_BOOTSTRAP_SERVERS") ?? "";

    /// <summary>Problems with these options, empty when usable.</summary>
    public IEnumerable<string> Problems()
    {
        if (string.IsNullOrWhiteSpace(EffectiveBootstrapServers))
            yield return "Kafka:BootstrapServers is empty (set it in appsettings.json, VMTRACE__KAFKA__BOOTSTRAPSERVERS or KAFKA_BOOTSTRAP_SERVERS; `vmtrace dev-kafka` prints one)";
        foreach (var (name, topic) in new[] { ("EventsTopic", EventsTopic), ("StateTopic", StateTopic), ("DeadLetterTopic", DeadLetterTopic) })
        {
            if (string.IsNullOrWhiteSpace(topic) || topic.Length > 249 || topic.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-')))
                yield return $"Kafka:{name} '{topic}' is not a valid topic name (ASCII letters, digits, '.', '_', '-', at most 249)";
        }
    }

    /// <summary>Applies the bootstrap servers and extra properties to a client config.</summary>
    public T Apply<T>(T config)
        where T : Confluent.Kafka.ClientConfig
    {
        ArgumentNullException.ThrowIfNull(config);
        KafkaNative.EnsureLoaded();
        config.BootstrapServers = EffectiveBootstrapServers;
        foreach (var (k, v) in Properties)
            config.Set(k, v);
        return config;
    }
}
