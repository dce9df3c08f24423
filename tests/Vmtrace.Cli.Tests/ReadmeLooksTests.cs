using Vmtrace.TestSupport;

namespace Vmtrace.Cli.Tests;

/// <summary>
/// The README's examples are real output: the main command's excerpt is cut from what that command prints now, the
/// <c>vmtrace top</c> block (scripts/screenshots.sh makes it) is one refresh of the command it shows, run here as
/// written; the HTML report's picture is a PNG small enough for a README.
/// </summary>
public sealed class ReadmeLooksTests
{
    private static string Readme => File.ReadAllText(Path.Combine(Corpus.RepoRoot, "README.md"));

    /// <summary>The lines of the fenced block between the README's <c>&lt;!-- name --&gt;</c> and <c>&lt;!-- /name --&gt;</c>.</summary>
    private static List<string> CodeBlockBetweenMarkers(string name)
    {
        string readme = Readme;
        int start = readme.IndexOf($"<!-- {name} -->", StringComparison.Ordinal);
        int end = readme.IndexOf($"<!-- /{name} -->", StringComparison.Ordinal);
        Assert.True(start >= 0 && end > start, $"README.md has no {name} between its markers");
        return readme[start..end].Split('\n').SkipWhile(l => !l.StartsWith("```", StringComparison.Ordinal)).Skip(1)
            .TakeWhile(l => !l.StartsWith("```", StringComparison.Ordinal)).ToList();
    }

    [Fact]
    public async Task ReadmeTopBlock_IsOneRefreshOfTheCommandItShows()
    {
        var lines = CodeBlockBetweenMarkers("top-example");
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
    public async Task ReadmeAnalyzeExcerpt_IsCutFromWhatTheMainCommandPrints()
    {
        var shown = CodeBlockBetweenMarkers("analyze-example");
        Assert.Contains(shown, l => l.StartsWith("VM db ", StringComparison.Ordinal));

        var run = await VmtraceProcess.RunAsync(["analyze", "samples/tcg-3vms"], workingDirectory: Corpus.RepoRoot);
        Assert.Equal(0, run.ExitCode);
        var printed = run.Stdout.Replace("\r", "", StringComparison.Ordinal).Split('\n');
        // An excerpt line is a printed line whole, or its start where it ends in "…"; a line of "…" alone stands for
        // lines left out. Printed lines appear in the excerpt in the order printed.
        int at = 0;
        foreach (string line in shown.Where(l => l.Trim() != "…"))
        {
            bool cut = line.EndsWith(" …", StringComparison.Ordinal);
            string text = cut ? line[..^2] : line;
            int found = Array.FindIndex(printed, at, p => cut ? p.StartsWith(text, StringComparison.Ordinal) : p == text);
            Assert.True(found >= 0, $"README's analyze excerpt line is not printed (in this order) by `vmtrace analyze samples/tcg-3vms`: {line}");
            at = found + 1;
        }
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
