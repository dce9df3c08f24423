using Vmtrace.TestSupport;

namespace Vmtrace.InfluxDb.Tests.RealServer;

/// <summary>
/// Names from traces written with <see cref="LineProtocolWriter.NameTag"/> (as every host, VM and thread name vmtrace
/// writes): every point is stored, each name in a series of its own, and each name comes back exactly.
/// </summary>
public sealed class HostileNamesTests(InfluxServer server) : IClassFixture<InfluxServer>
{
    private const long T0 = 1_700_000_000_000_000_000;

    /// <summary>
    /// Names line protocol 1.x cannot carry as they are in a tag value (a final backslash would escape the delimiter
    /// after it; a line feed or carriage return ends the line) are stored encoded (<see cref="LineProtocolWriter.EncodeTagValue"/>);
    /// decoding the stored value gives the name back. The others are stored as they are. U+FFFD stands for bytes that
    /// were not UTF-8 (the decoders' replacement).
    /// </summary>
    [InfluxFact]
    public async Task NameTag_HostileNames_EveryPointStoredEachInItsOwnSeriesAndReadBackExactly()
    {
        string[] names =
        [
            "ends\\", "C:\\vms\\", "\\", "\\\\", "line\nfeed", "line feed", "cr\rret", "\n", "crlf\r\n",
            "x\u29F5n", "x\n", "\u29F5", "\u29F5\u29F5", "web,host=evil", "vm=x y", "a b,c=d \"e\" f\\g\\",
            "tab\tin", "nul\0in", "bad \uFFFD utf8", "\"quoted\"", "trailing space ", "back\\ space\\", "kworker/0:1 ,=\\",
        ];
        var deadLetters = new InMemoryDeadLetterSink();
        using var client = await RealInflux.NewDatabaseAsync(server, deadLetters: deadLetters);
        var lines = names.Select((name, i) => RealInflux.Line(w => w.Begin("m").NameTag("vm", name).Tag("host", "h1").Field("v", (long)i).End(T0))).ToArray();

        var result = await client.WriteAsync(lines);

        Assert.Equal(new InfluxWriteResult(names.Length, 0, 0), result);
        Assert.Empty(deadLetters.Letters);
        var stored = await client.QueryAsync("SELECT v FROM m GROUP BY vm");
        var byName = stored.Series.ToDictionary(s => LineProtocolWriter.DecodeTagValue(s.Tags["vm"]), s => Assert.Single(s.Values)[1].GetInt64(), StringComparer.Ordinal);
        Assert.Equal(names.Length, byName.Count);
        for (int i = 0; i < names.Length; i++)
            Assert.True(byName.TryGetValue(names[i], out long v) && v == i, $"name {i} '{names[i]}' did not come back with its own point");
        var tags = await client.QueryAsync("SHOW TAG KEYS FROM m");
        Assert.Equal(["host", "vm"], Assert.Single(tags.Series).Column("tagKey").Select(k => k.GetString()!).ToArray());
        foreach (var plain in new[] { "line feed", "web,host=evil", "vm=x y", "tab\tin", "back\\ space", "\"quoted\"" })
            Assert.Equal(plain, LineProtocolWriter.EncodeTagValue(plain));
    }

    /// <summary>A lone UTF-16 surrogate (a JSON \ud800 escape in a vmmap.json) cannot be sent in UTF-8: it is stored as U+FFFD, as the encoder says.</summary>
    [InfluxFact]
    public async Task NameTag_LoneSurrogate_StoredAsReplacementCharacter()
    {
        using var client = await RealInflux.NewDatabaseAsync(server);

        await client.WriteAsync([RealInflux.Line(w => w.Begin("m").NameTag("vm", "a\uD800b").Field("v", 1L).End(T0))]);

        var vm = await client.QueryAsync("SHOW TAG VALUES FROM m WITH KEY = \"vm\"");
        Assert.Equal("a\uFFFDb", Assert.Single(Assert.Single(vm.Series).Column("value")).GetString());
        Assert.Equal("a\uFFFDb", LineProtocolWriter.EncodeTagValue("a\uD800b"));
    }
}
