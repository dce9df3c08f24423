using Vmtrace.TestSupport;

namespace Vmtrace.Cli.Tests;

/// <summary>
/// The README's "What it looks like" is real output (scripts/screenshots.sh makes it): the <c>vmtrace top</c> block is one
/// refresh of the command it shows, run here as written; the HTML report's picture is a PNG small enough for a README.
/// </summary>
public sealed class ReadmeLooksTests
{
    private static string Readme => File.ReadAllText(Path.Combine(Corpus.RepoRoot, "README.md"));

    [Fact]
    public async Task ReadmeTopBlock_IsOneRefreshOfTheCommandItShows()
    {
        string readme = Readme;
        int start = readme.IndexOf("<!-- top-example -->", StringComparison.Ordinal);
        int end = readme.IndexOf("<!-- /top-example -->", StringComparison.Ordinal);
        Assert.True(start >= 0 && end > start, "README.md has no top example between its markers");
        var lines = readme[start..end].Split('\n').SkipWhile(l => !l.StartsWith("```", StringComparison.Ordinal)).Skip(1)
            .TakeWhile(l => !l.StartsWith("```", StringComparison.Ordinal)).ToList();
        string command = lines[0];
        Assert.StartsWith("$ vmtrace ", command, StringComparison.Ordinal);
        string[] args = command[2..].Split('#')[0].Split(' ', StringSplitOptions.RemoveEmptyEntries)[1..];
        string shown = string.Join('\n', lines.Skip(1));

        var run = await VmtraceProcess.RunAsync(args, workingDirectory: Corpus.RepoRoot);
        Assert.Equal(0, run.ExitCode);
        var refreshes = run.Stdout.Replace("\r", "", StringComparison.Ordinal).Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Select(b => b.TrimEnd('\n'));
        Assert.Contains(shown, refreshes);
        Assert.Contains("vmtrace top: tcg-3vms   window ", shown, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadmeHtmlReportPicture_IsAPngUnder300KB()
    {
        Assert.Contains("](docs/img/html-report.png)", Readme, StringComparison.Ordinal);
        byte[] png = File.ReadAllBytes(Path.Combine(Corpus.RepoRoot, "docs", "img", "html-report.png"));
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, png[..4]);
        Assert.InRange(png.Length, 10_000, 300_000);
    }
}
