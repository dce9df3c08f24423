using System.Text;
using Vmtrace.TestSupport;

namespace Vmtrace.InfluxDb.Tests.RealServer;

/// <summary>Clients for a real influxd, each test on a database of its own so tests need no order.</summary>
internal static class RealInflux
{
    private static int s_next;

    public static string NewDatabase() => $"t{Environment.ProcessId}_{Interlocked.Increment(ref s_next)}";

    public static InfluxClient Client(InfluxServer server, string database, bool gzip = true, IDeadLetterSink? deadLetters = null) =>
        new(new InfluxOptions
        {
            Url = new Uri(server.Url),
            Database = database,
            RetentionPolicy = null,
            Gzip = gzip,
            MaxRetries = 1,
            RetryBaseDelay = TimeSpan.FromMilliseconds(10),
        }, deadLetters: deadLetters);

    /// <summary>Creates the database (default policy autogen, infinite, so any timestamp is kept).</summary>
    public static async Task<InfluxClient> NewDatabaseAsync(InfluxServer server, bool gzip = true, IDeadLetterSink? deadLetters = null)
    {
        string db = NewDatabase();
        var client = Client(server, db, gzip, deadLetters);
        await client.QueryAsync($"CREATE DATABASE {InfluxQl.Identifier(db)}");
        return client;
    }

    public static string Line(Action<LineProtocolWriter> build)
    {
        var sb = new StringBuilder();
        build(new LineProtocolWriter(sb));
        return sb.ToString().TrimEnd('\n');
    }
}
