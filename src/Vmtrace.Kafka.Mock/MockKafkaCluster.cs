using System.Runtime.InteropServices;
using System.Text;

namespace Vmtrace.Kafka.Mock;

/// <summary>
/// librdkafka's built-in mock cluster: real Kafka brokers (wire protocol over TCP on 127.0.0.1) inside this
/// process, for tests and <c>vmtrace dev-kafka</c> where no broker can be installed. Topics are created
/// here (the mock does not take CreateTopics) and keep only a few MB per partition, like a small retention.
/// Uses the librdkafka shipped with Confluent.Kafka.
/// </summary>
public sealed class MockKafkaCluster : IDisposable
{
    private const string Lib = "librdkafka";
    private static readonly Lazy<bool> s_loaded = new(Load);
    private IntPtr _client;
    private IntPtr _cluster;
    private readonly int _brokerCount;

    public MockKafkaCluster(int brokers = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(brokers, 1);
        _ = s_loaded.Value;
        var err = new byte[512];
        IntPtr conf = NativeMethods.rd_kafka_conf_new();
        _client = NativeMethods.rd_kafka_new(0 /* RD_KAFKA_PRODUCER */, conf, err, (UIntPtr)err.Length);
        if (_client == IntPtr.Zero)
            throw new InvalidOperationException("librdkafka: cannot create the client hosting the mock cluster: " + Text(err));
        _cluster = NativeMethods.rd_kafka_mock_cluster_new(_client, brokers);
        if (_cluster == IntPtr.Zero)
        {
            NativeMethods.rd_kafka_destroy(_client);
            _client = IntPtr.Zero;
            throw new InvalidOperationException("librdkafka: cannot create a mock cluster");
        }
        _brokerCount = brokers;
        BootstrapServers = Marshal.PtrToStringUTF8(NativeMethods.rd_kafka_mock_cluster_bootstraps(_cluster)) ?? "";
    }

    /// <summary>host:port list of the mock brokers.</summary>
    public string BootstrapServers { get; }

    /// <summary>Creates a topic (replication is capped by the broker count).</summary>
    public void CreateTopic(string topic, int partitions, int replication = 1)
    {
        ObjectDisposedException.ThrowIf(_cluster == IntPtr.Zero, this);
        int rc = NativeMethods.rd_kafka_mock_topic_create(_cluster, topic, partitions, replication);
        if (rc != 0)
            throw new InvalidOperationException($"librdkafka mock: cannot create topic {topic} ({partitions} partitions): error {rc}");
    }

    /// <summary>Broker ids of the mock run from 1 to the broker count.</summary>
    public int BrokerCount => _brokerCount;

    /// <summary>Takes every broker down (connections closed, new ones refused), as a Kafka outage; <see cref="SetAllBrokersUp"/> ends it.</summary>
    public void SetAllBrokersDown() => ForEachBroker(NativeMethods.rd_kafka_mock_broker_set_down, "down");

    public void SetAllBrokersUp() => ForEachBroker(NativeMethods.rd_kafka_mock_broker_set_up, "up");

    private void ForEachBroker(Func<IntPtr, int, int> change, string what)
    {
        ObjectDisposedException.ThrowIf(_cluster == IntPtr.Zero, this);
        for (int id = 1; id <= _brokerCount; id++)
        {
            int rc = change(_cluster, id);
            if (rc != 0)
                throw new InvalidOperationException($"librdkafka mock: cannot set broker {id} {what}: error {rc}");
        }
    }

    /// <summary>Creates the three vmtrace topics.</summary>
    public void CreateVmtraceTopics(int eventPartitions, KafkaOptions? names = null)
    {
        names ??= new KafkaOptions();
        CreateTopic(names.EventsTopic, eventPartitions);
        CreateTopic(names.StateTopic, eventPartitions);
        CreateTopic(names.DeadLetterTopic, 1);
    }

    public void Dispose()
    {
        if (_cluster != IntPtr.Zero)
        {
            NativeMethods.rd_kafka_mock_cluster_destroy(_cluster);
            _cluster = IntPtr.Zero;
        }
        if (_client != IntPtr.Zero)
        {
            NativeMethods.rd_kafka_destroy(_client);
            _client = IntPtr.Zero;
        }
    }

    /// <summary>
    /// This assembly's P/Invoke binds to the librdkafka file <see cref="KafkaNative"/> chose (its resolver covers
    /// only Vmtrace.Kafka's own imports).
    /// </summary>
    private static bool Load()
    {
        KafkaNative.EnsureLoaded();
        string path = KafkaNative.LoadedPath ?? throw new DllNotFoundException("librdkafka is not loaded");
        NativeLibrary.SetDllImportResolver(typeof(MockKafkaCluster).Assembly, (name, _, _) => name == Lib ? NativeLibrary.Load(path) : IntPtr.Zero);
        return true;
    }

    private static string Text(byte[] err)
    {
        int n = Array.IndexOf(err, (byte)0);
        return Encoding.UTF8.GetString(err, 0, n < 0 ? err.Length : n);
    }

    private static class NativeMethods
    {
#pragma warning disable SYSLIB1054 // DllImport: LibraryImport needs unsafe code, which the repository keeps off
        [DllImport(Lib)]
        public static extern IntPtr rd_kafka_conf_new();

        [DllImport(Lib)]
        public static extern IntPtr rd_kafka_new(int type, IntPtr conf, byte[] errstr, UIntPtr errstrSize);

        [DllImport(Lib)]
        public static extern void rd_kafka_destroy(IntPtr rk);

        [DllImport(Lib)]
        public static extern IntPtr rd_kafka_mock_cluster_new(IntPtr rk, int brokerCount);

        [DllImport(Lib)]
        public static extern IntPtr rd_kafka_mock_cluster_bootstraps(IntPtr mcluster);

        [DllImport(Lib)]
        public static extern void rd_kafka_mock_cluster_destroy(IntPtr mcluster);

        [DllImport(Lib, BestFitMapping = false, ThrowOnUnmappableChar = true)]
        public static extern int rd_kafka_mock_topic_create(IntPtr mcluster, [MarshalAs(UnmanagedType.LPUTF8Str)] string topic, int partitionCount, int replicationFactor);

        [DllImport(Lib)]
        public static extern int rd_kafka_mock_broker_set_down(IntPtr mcluster, int brokerId);

        [DllImport(Lib)]
        public static extern int rd_kafka_mock_broker_set_up(IntPtr mcluster, int brokerId);
#pragma warning restore SYSLIB1054
    }
}
