using System.Text.Json;
using Vmtrace.TestSupport;

namespace Vmtrace.InfluxDb.Tests.RealServer;

/// <summary>
/// VM names are free text (libvirt allows almost anything): every one of them must come back from InfluxDB exactly
/// as a tag value, a string field value and a measurement name, written by <see cref="LineProtocolWriter"/>.
/// </summary>
public sealed class AwkwardNamesTests(InfluxServer server) : IClassFixture<InfluxServer>
{
    private const long T0 = 1_700_000_000_000_000_000;

    private static readonly string[] s_names =
    [
        "web 01",
        "db,primary",
        "key=value",
        "say \"hi\"",
        "back\\slash",
        "C:\\vms\\win 10",
        "Überprüfung-ü-日本-🚀",
        "all of them: a b,c=d \"e\" f\\g ä",
        "'single quoted'",
        "trailing space ",
        "=leading equals",
    ];

    public static TheoryData<string> Names() => [.. s_names];

    /// <summary>
    /// A backslash right before a comma, space or equals sign comes back exactly in tag values and string fields
    /// (where the VM name goes). In measurement names and keys InfluxDB 1.x does not keep it; vmtrace's measurement
    /// names and keys are fixed identifiers, so those are only tested with <see cref="Names"/>.
    /// </summary>
    public static TheoryData<string> VmNames()
    {
        var names = new TheoryData<string>();
        foreach (string name in s_names)
            names.Add(name);
        names.Add("a\\,b");
        names.Add("a\\ b");
        names.Add("a\\=b");
        names.Add("two\\\\ backslashes");
        return names;
    }

    [InfluxTheory]
    [MemberData(nameof(VmNames))]
    public async Task TagValue_AwkwardVmName_ShowTagValuesReturnsItExactly(string name)
    {
        using var client = await RealInflux.NewDatabaseAsync(server);

        await client.WriteAsync([RealInflux.Line(w => w.Begin("vmtrace_vm").Tag("vm", name).Field("guest_ns", 1L).End(T0))]);

        var answer = await client.QueryAsync("SHOW TAG VALUES FROM vmtrace_vm WITH KEY = \"vm\"");
        var value = Assert.Single(Assert.Single(answer.Series).Column("value"));
        Assert.Equal(name, value.GetString());
        var selected = await client.QueryAsync($"SELECT guest_ns FROM vmtrace_vm WHERE vm = {InfluxQl.StringLiteral(name)}");
        Assert.Equal(1, Assert.Single(Assert.Single(selected.Series).Values)[1].GetInt64());
    }

    [InfluxTheory]
    [MemberData(nameof(VmNames))]
    public async Task FieldString_AwkwardVmName_SelectReturnsItExactly(string name)
    {
        using var client = await RealInflux.NewDatabaseAsync(server);

        await client.WriteAsync([RealInflux.Line(w => w.Begin("m").Field("vm_name", name).End(T0))]);

        var answer = await client.QueryAsync("SELECT vm_name FROM m");
        Assert.Equal(name, Assert.Single(Assert.Single(answer.Series).Values)[1].GetString());
    }

    [InfluxTheory]
    [MemberData(nameof(Names))]
    public async Task Measurement_AwkwardName_ShowMeasurementsReturnsItExactly(string name)
    {
        using var client = await RealInflux.NewDatabaseAsync(server);

        await client.WriteAsync([RealInflux.Line(w => w.Begin(name).Field("v", 1L).End(T0))]);

        var answer = await client.QueryAsync("SHOW MEASUREMENTS");
        Assert.Equal(name, Assert.Single(Assert.Single(answer.Series).Column("name")).GetString());
        var selected = await client.QueryAsync($"SELECT v FROM {InfluxQl.Identifier(name)}");
        Assert.Equal(JsonValueKind.Number, Assert.Single(Assert.Single(selected.Series).Values)[1].ValueKind);
    }

    [InfluxTheory]
    [MemberData(nameof(Names))]
    public async Task TagKeyAndFieldKey_AwkwardName_ComeBackExactly(string name)
    {
        using var client = await RealInflux.NewDatabaseAsync(server);

        await client.WriteAsync([RealInflux.Line(w => w.Begin("m").Tag(name, "x").Field(name + "_f", 1L).End(T0))]);

        var tagKeys = await client.QueryAsync("SHOW TAG KEYS FROM m");
        Assert.Equal(name, Assert.Single(Assert.Single(tagKeys.Series).Column("tagKey")).GetString());
        var fieldKeys = await client.QueryAsync("SHOW FIELD KEYS FROM m");
        Assert.Equal(name + "_f", Assert.Single(Assert.Single(fieldKeys.Series).Column("fieldKey")).GetString());
    }

    /// <summary>
    /// Line protocol 1.x cannot end a tag value (or key, or measurement) with a backslash: it would escape the
    /// delimiter after it, and InfluxDB rejects the line ("invalid tag format"). Such a point cannot be stored; it
    /// must be dead-lettered and counted, and the other points of the batch stored.
    /// </summary>
    [InfluxTheory]
    [InlineData("ends\\")]
    [InlineData("C:\\vms\\")]
    public async Task TagValue_TrailingBackslash_PointDeadLetteredOthersStored(string name)
    {
        var deadLetters = new InMemoryDeadLetterSink();
        using var client = await RealInflux.NewDatabaseAsync(server, deadLetters: deadLetters);
        string bad = RealInflux.Line(w => w.Begin("m").Tag("vm", name).Tag("x_host", "h1").Field("v", 1L).End(T0));
        string good = RealInflux.Line(w => w.Begin("m").Tag("vm", "fine").Tag("x_host", "h1").Field("v", 2L).End(T0));

        var result = await client.WriteAsync([bad, good]);

        Assert.Equal(new InfluxWriteResult(1, 1, 0), result);
        Assert.Equal(bad, Assert.Single(deadLetters.Letters).Line);
        var vm = await client.QueryAsync("SHOW TAG VALUES FROM m WITH KEY = \"vm\"");
        Assert.Equal("fine", Assert.Single(Assert.Single(vm.Series).Column("value")).GetString());
    }
}
