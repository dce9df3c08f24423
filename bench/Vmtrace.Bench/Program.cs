using System.Globalization;
using Vmtrace.Bench;

// vmtrace-bench decode [--traces DIR] [--runs N]
const string Usage = "usage: Vmtrace.Bench decode [--traces DIR] [--runs N]   (DIR defaults to ../shared/traces beside the repository)";

if (args.Length > 0 && args[0] == "analyze")
    return AnalyzeBenchmark.Run(args.Length > 2 && args[1] == "--traces" ? args[2] : BenchPaths.DefaultTracesDirectory(), 5, Console.Out);
if (args.Length > 0 && args[0] == "pipeline")
    return PipelineBenchmark.Run(args.Length > 2 && args[1] == "--traces" ? args[2] : BenchPaths.DefaultTracesDirectory(), Console.Out);
if (args.Length > 0 && args[0] == "wire")
    return WireBenchmark.Run(args.Length > 2 && args[1] == "--traces" ? args[2] : BenchPaths.DefaultTracesDirectory(), 5, Console.Out);
if (args.Length == 0 || args[0] != "decode")
{
    Console.Error.WriteLine(Usage);
    return 2;
}
string? traces = null;
int runs = 5;
for (int i = 1; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--traces" when i + 1 < args.Length:
            traces = args[++i];
            break;
        case "--runs" when i + 1 < args.Length && int.TryParse(args[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n > 0:
            runs = n;
            i++;
            break;
        default:
            Console.Error.WriteLine($"unknown or incomplete option '{args[i]}'");
            Console.Error.WriteLine(Usage);
            return 2;
    }
}
traces ??= BenchPaths.DefaultTracesDirectory();
return DecodeBenchmark.Run(traces, runs, Console.Out);
