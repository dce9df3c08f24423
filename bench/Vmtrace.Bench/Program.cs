using System.Globalization;
using Vmtrace.Bench;

// vmtrace-bench decode|analyze [--traces DIR] [--runs N] [--scenario TEXT]
const string Usage = "usage: Vmtrace.Bench decode|analyze [--traces DIR] [--runs N] [--scenario TEXT (analyze only)]   (DIR defaults to ../shared/traces beside the repository)";

if (args.Length > 0 && args[0] == "pipeline")
{
    // pipeline [--traces DIR] [--rate EVENTS_PER_S] [--seconds S] [--lag-only] [--lag-csv FILE]: the lag runs pace at recorded
    // speed, rate/2 and rate, S each; --lag-only runs only the lag run at rate (a sustained stream: S as long as wanted);
    // --lag-csv writes every window's lag of the (last) lag run; --steady-only RUNS [--loops N] runs only the as-fast-as-possible
    // steady stream (the trace looped N times from memory, 10 by default), RUNS times.
    string dir = BenchPaths.DefaultTracesDirectory();
    double rate = 1_000_000, seconds = 10;
    bool lagOnly = false;
    string? lagCsv = null;
    int steadyRuns = 0, loops = 10;
    for (int i = 1; i < args.Length; i += 2)
    {
        if (args[i] == "--lag-only")
        {
            lagOnly = true;
            i--;
            continue;
        }
        if (i + 1 >= args.Length)
        {
            Console.Error.WriteLine($"option '{args[i]}' needs a value");
            return 2;
        }
        switch (args[i])
        {
            case "--traces": dir = args[i + 1]; break;
            case "--rate": rate = double.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
            case "--seconds": seconds = double.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
            case "--lag-csv": lagCsv = args[i + 1]; break;
            case "--steady-only": steadyRuns = int.Parse(args[i + 1], CultureInfo.InvariantCulture); lagOnly = true; break;
            case "--loops": loops = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
            default: Console.Error.WriteLine($"unknown option '{args[i]}'"); return 2;
        }
    }
    return PipelineBenchmark.Run(dir, rate, seconds, Console.Out, lagOnly, lagCsv, steadyRuns, loops);
}
if (args.Length > 0 && args[0] == "synth-host")
    return SyntheticHost.Run(args, Console.Out);
if (args.Length > 0 && args[0] == "wire")
    return WireBenchmark.Run(args.Length > 2 && args[1] == "--traces" ? args[2] : BenchPaths.DefaultTracesDirectory(), 5, Console.Out);
if (args.Length == 0 || args[0] is not ("decode" or "analyze"))
{
    Console.Error.WriteLine(Usage);
    return 2;
}
string? traces = null;
string? scenario = null;
int runs = 5;
for (int i = 1; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--traces" when i + 1 < args.Length:
            traces = args[++i];
            break;
        case "--scenario" when args[0] == "analyze" && i + 1 < args.Length:
            scenario = args[++i];
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
return args[0] == "analyze" ? AnalyzeBenchmark.Run(traces, runs, scenario, Console.Out) : DecodeBenchmark.Run(traces, runs, Console.Out);
