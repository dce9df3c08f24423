using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Vmtrace.Worker;

namespace Vmtrace.Observability.Tests;

/// <summary>The endpoints are off unless Observability:Port is set; a port in use or a bad setting is one line at start.</summary>
public sealed class EndpointOptionsTests
{
    [Fact]
    public void NoPort_NoListenerNoMeterProvider()
    {
        using var host = ServiceEndpointsTests.Build(new() { ["Kafka:BootstrapServers"] = "127.0.0.1:1" }, (s, c) => s.AddVmtraceWorker(c));

        Assert.Null(host.Services.GetService<EndpointServer>());
        Assert.Null(host.Services.GetService<OpenTelemetry.Metrics.MeterProvider>());
        Assert.DoesNotContain(host.Services.GetServices<IHostedService>(), s => s is EndpointServer);
    }

    [Fact]
    public async Task Worker_PortInUse_Exit2OneLineNamingThePort()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        int port = ((IPEndPoint)taken.LocalEndpoint).Port;
        var stdout = new StringWriter();
        var stderr = new StringWriter();

        int rc = await Vmtrace.Cli.CommandLine.RunAsync(
            ["worker", "--Kafka:BootstrapServers=127.0.0.1:1", $"--Observability:Port={port}", "--Observability:Address=127.0.0.1"], stdout, stderr);

        Assert.Equal(2, rc);
        string line = Assert.Single(stderr.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal($"vmtrace: invalid configuration: Observability:Port {port} on 127.0.0.1: address already in use "
            + "(another program listens there: choose another port, or leave Observability:Port unset)", line);
    }

    [Theory]
    [InlineData("Observability:Port", "70000", "Observability:Port 70000 is not a TCP port")]
    [InlineData("Observability:Address", "everywhere", "Observability:Address 'everywhere' is not an IP address")]
    [InlineData("Observability:MaxWatermarkLag", "00:00:00", "Observability:MaxWatermarkLag 00:00:00 must be positive")]
    public async Task Agent_BadSetting_Exit2OneLine(string key, string value, string expected)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        string trace = Path.Combine(Vmtrace.TestSupport.Corpus.RepoRoot, "samples/queued-sleep/trace.dat.xz");

        int rc = await Vmtrace.Cli.CommandLine.RunAsync(["agent", trace, "--Kafka:BootstrapServers=127.0.0.1:1", $"--{key}={value}"], stdout, stderr);

        Assert.Equal(2, rc);
        string line = Assert.Single(stderr.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("vmtrace: invalid configuration: " + expected, line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Worker_UnknownObservabilitySetting_Exit2OneLine()
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();

        int rc = await Vmtrace.Cli.CommandLine.RunAsync(["worker", "--Kafka:BootstrapServers=127.0.0.1:1", "--Observability:Prot=9464"], stdout, stderr);

        Assert.Equal(2, rc);
        Assert.Contains("unknown setting Observability:Prot", Assert.Single(stderr.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries)), StringComparison.Ordinal);
    }
}
