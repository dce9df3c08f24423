using Vmtrace.TestSupport;

namespace Vmtrace.Cli.Tests;

public sealed class InfluxCommandTests(InfluxServer server) : IClassFixture<InfluxServer>
{
    [InfluxFact]
    public async Task InfluxInit_RunTwice_CreatesThenReportsEverythingExists()
    {
        var first = await CliRun.RunAsync("influx", "init", "--url", server.Url, "--db", "cli_twice");
        var second = await CliRun.RunAsync("influx", "init", "--url", server.Url, "--db", "cli_twice");

        Assert.Equal(0, first.ExitCode);
        Assert.Contains("retention policy rollup_1h: created (1095d, not default)", first.StdoutLines);
        Assert.Contains("continuous query vmtrace_rollup_1m: created (raw → rollup_1m every 1m)", first.StdoutLines);
        Assert.Equal(0, second.ExitCode);
        Assert.Equal(6, second.StdoutLines.Length);
        Assert.All(second.StdoutLines, l => Assert.Contains("exists", l, StringComparison.Ordinal));
    }

    [InfluxFact]
    public async Task InfluxInit_OtherRawDuration_Exit1NamingTheConflictUntilForce()
    {
        await CliRun.RunAsync("influx", "init", "--url", server.Url, "--db", "cli_conflict");

        var refused = await CliRun.RunAsync("influx", "init", "--url", server.Url, "--db", "cli_conflict", "--raw", "14d");
        var forced = await CliRun.RunAsync("influx", "init", "--url", server.Url, "--db", "cli_conflict", "--raw", "2w", "--force");

        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("retention policy raw on cli_conflict is 7d, default, wanted 14d, default", refused.Stderr, StringComparison.Ordinal);
        Assert.Equal(0, forced.ExitCode);
        Assert.Contains("retention policy raw on cli_conflict is 7d, default, wanted 14d, default: altered", forced.StdoutLines);
    }

    [Fact]
    public async Task InfluxInit_UnreachableServer_Exit1NamingTheUrl()
    {
        var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        probe.Start();
        int port = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();

        var result = await CliRun.RunAsync("influx", "init", "--url", $"http://127.0.0.1:{port}");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"http://127.0.0.1:{port}/query", result.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--raw", "7x")]
    [InlineData("--url", "ftp://x")]
    [InlineData("--bogus", "1")]
    public async Task InfluxInit_BadArgument_Exit2(string option, string value)
    {
        var result = await CliRun.RunAsync("influx", "init", option, value);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains(option, result.Stderr, StringComparison.Ordinal);
    }
}
