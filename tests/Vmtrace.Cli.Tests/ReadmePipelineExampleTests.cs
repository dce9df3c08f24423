using System.Diagnostics;
using System.Text.Json;
using Vmtrace.TestSupport;

namespace Vmtrace.Cli.Tests;

/// <summary>The README's pipeline example, run as written (bash, real vmtrace processes) against a real influxd: it stores every point <c>analyze</c> computes.</summary>
public sealed class ReadmePipelineExampleTests(InfluxServer influx) : IClassFixture<InfluxServer>, IDisposable
{
    private readonly string _tmp = Directory.CreateTempSubdirectory("vmtrace-readme-").FullName;

    public void Dispose() => Directory.Delete(_tmp, recursive: true);

    private static string Example()
    {
        string readme = File.ReadAllText(Path.Combine(Corpus.RepoRoot, "README.md"));
        int start = readme.IndexOf("<!-- pipeline-example -->", StringComparison.Ordinal);
        int end = readme.IndexOf("<!-- /pipeline-example -->", StringComparison.Ordinal);
        Assert.True(start >= 0 && end > start, "README.md has no pipeline example between its markers");
        string block = readme[start..end];
        int code = block.IndexOf("```sh\n", StringComparison.Ordinal) + "```sh\n".Length;
        return block[code..block.LastIndexOf("```", StringComparison.Ordinal)];
    }

    [InfluxFact]
    public async Task ReadmePipelineExample_RunAsWritten_StoresEveryPointAnalyzeComputes()
    {
        var analyzed = await CliRun.RunAsync("analyze", Path.Combine(Corpus.RepoRoot, "samples/tcg-3vms"), "--format", "line-protocol", "--no-progress");
        Assert.Equal(0, analyzed.ExitCode);
        int expected = analyzed.StdoutLines.Length;
        Assert.True(expected > 0);

        // `vmtrace` is the CLI built beside the tests; the InfluxDB address is the one variable the example lets one set.
        // The shell then waits for its background jobs (Kafka, worker), so that killing its process tree ends them too.
        string script = $"vmtrace() {{ dotnet '{Path.Combine(AppContext.BaseDirectory, "vmtrace.dll")}' \"$@\"; }}\n" + Example() + "\nwait\n";
        var psi = VmtraceProcess.StartInfo([], new Dictionary<string, string> { ["VMTRACE__INFLUX__URL"] = influx.Url, ["TMPDIR"] = _tmp }, Corpus.RepoRoot);
        psi.FileName = "bash";
        psi.ArgumentList.Clear();
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(script);
        using var shell = Process.Start(psi)!;
        var stderr = shell.StandardError.ReadToEndAsync();
        _ = shell.StandardOutput.ReadToEndAsync();
        try
        {
            using var http = new HttpClient();
            long stored = 0;
            var until = DateTime.UtcNow.AddMinutes(3);
            while (DateTime.UtcNow < until && stored < expected)
            {
                await Task.Delay(500);
                stored = await CountAsync(http);
            }
            Assert.True(stored == expected, $"the README example stored {stored} of {expected} points");
        }
        finally
        {
            if (!shell.HasExited)
                shell.Kill(entireProcessTree: true);
            await shell.WaitForExitAsync();
        }
        Assert.DoesNotContain("   at ", await stderr, StringComparison.Ordinal);
    }

    private async Task<long> CountAsync(HttpClient http)
    {
        var uri = $"{influx.Url}/query?db=vmtrace&q={Uri.EscapeDataString("SELECT * FROM /^vmtrace_/ GROUP BY *")}";
        using var doc = JsonDocument.Parse(await http.GetStringAsync(uri));
        var result = doc.RootElement.GetProperty("results")[0];
        if (!result.TryGetProperty("series", out var series))
            return 0;
        return series.EnumerateArray().Sum(s => (long)s.GetProperty("values").GetArrayLength());
    }
}
