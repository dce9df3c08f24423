using System.Diagnostics;
using System.Globalization;

namespace Vmtrace.Fuzz;

/// <summary>Runs inputs (files, or every file under directories) through one target or all of them, in this process.</summary>
internal static class Replay
{
    public static int Run(string targetName, IEnumerable<string> paths, TextWriter output)
    {
        var targets = targetName == "all" ? FuzzTarget.All : [FuzzTarget.Find(targetName)];
        var files = paths.SelectMany(p => Directory.Exists(p)
            ? Directory.EnumerateFiles(p, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal)
            : (IEnumerable<string>)[p]).ToList();
        using var work = new Vmtrace.Decoding.Archives.TempDirectory();
        foreach (var file in files)
        {
            var input = File.ReadAllBytes(file);
            foreach (var target in targets)
            {
                var clock = Stopwatch.StartNew();
                var outcome = target.Run(input, work.Path);
                output.WriteLine($"{target.Name,-9} {file}: {Describe(outcome)} ({clock.Elapsed.TotalMilliseconds.ToString("F0", CultureInfo.InvariantCulture)} ms)");
            }
        }
        return 0;
    }

    public static string Describe(FuzzOutcome o) =>
        o.Refused is { } e ? "refused: " + e.Message
        : string.Create(CultureInfo.InvariantCulture,
            $"{o.Events} events, {o.Windows} windows, {o.Diagnostics?.ErrorCount ?? 0} errors, {o.Diagnostics?.SkippedBytes ?? 0} bytes skipped")
            + (o.Analysis is { } a ? string.Create(CultureInfo.InvariantCulture, $", {a.OutOfOrderEvents} out of order") : "");
}
