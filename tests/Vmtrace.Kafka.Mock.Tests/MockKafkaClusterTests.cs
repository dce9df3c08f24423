using Confluent.Kafka;

namespace Vmtrace.Kafka.Mock.Tests;

/// <summary>The librdkafka mock cluster speaks real Kafka over TCP: an idempotent producer and a group consumer work against it.</summary>
public class MockKafkaClusterTests
{
    [Fact]
    public void MockCluster_ProduceIdempotentThenConsumeInGroup_RecordsComeBackInOrder()
    {
        using var cluster = new MockKafkaCluster();
        Assert.Matches(@"^127\.0\.0\.1:\d+", cluster.BootstrapServers);
        cluster.CreateTopic("t", 2);
        var kafka = new KafkaOptions { BootstrapServers = cluster.BootstrapServers };
        using (var producer = new ProducerBuilder<string, byte[]>(kafka.Apply(new ProducerConfig { EnableIdempotence = true, Acks = Acks.All, CompressionType = CompressionType.Zstd })).Build())
        {
            for (int i = 0; i < 100; i++)
                producer.Produce("t", new Message<string, byte[]> { Key = "host-a", Value = [(byte)i] });
            Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(30)));
        }
        using var consumer = new ConsumerBuilder<string, byte[]>(kafka.Apply(new ConsumerConfig
        {
            GroupId = "g",
            AutoOffsetReset = AutoOffsetReset.Earliest,
            PartitionAssignmentStrategy = PartitionAssignmentStrategy.CooperativeSticky,
        })).Build();
        consumer.Subscribe("t");
        var got = new List<byte>();
        var until = DateTime.UtcNow.AddSeconds(60);
        while (got.Count < 100 && DateTime.UtcNow < until)
        {
            var cr = consumer.Consume(TimeSpan.FromMilliseconds(200));
            if (cr is not null)
                got.Add(cr.Message.Value[0]);
        }
        consumer.Close();
        Assert.Equal(Enumerable.Range(0, 100).Select(i => (byte)i), got);
    }
}
