using System.Globalization;
using Vmtrace.InfluxDb;
using Vmtrace.InfluxDb.Bootstrap;

namespace Vmtrace.Cli;

/// <summary><c>vmtrace influx init</c>: creates vmtrace's database, retention policies and rollup CQs (docs/influxdb.md).</summary>
internal static class InfluxCommand
{
    public const string Usage = """
          influx init [--url http://127.0.0.1:8086] [--db vmtrace] [--token T | --user U --password P]
                      [--raw 7d] [--rollup-1m 90d] [--rollup-1h 3y] [--force]
              create the database, retention policies raw (default), rollup_1m, rollup_1h and the continuous
              queries filling the rollups; idempotent. A policy or query that exists with another definition
              is a conflict (exit 1) unless --force, which alters it. Durations: N followed by s, m, h, d, w or y.
        """;

    private static readonly HashSet<string> s_flags = ["--force"];
    private static readonly HashSet<string> s_valued = ["--url", "--db", "--token", "--user", "--password", "--raw", "--rollup-1m", "--rollup-1h"];

    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr)
    {
        if (args.Length == 0 || args[0] != "init")
            throw new UsageException(args.Length == 0 ? "influx needs a subcommand: init" : $"unknown influx subcommand '{args[0]}'");
        var options = new Options(args[1..], s_flags, s_valued);
        if (options.Positional.Count > 0)
            throw new UsageException($"influx init takes no positional arguments ('{options.Positional[0]}')");
        string url = options.Value("--url") ?? "http://127.0.0.1:8086";
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            throw new UsageException($"--url must be an http(s) address, not '{url}'");
        var bootstrap = new BootstrapOptions
        {
            Database = options.Value("--db") ?? "vmtrace",
            Force = options.Flag("--force"),
        };
        bootstrap.RawDuration = Duration(options, "--raw") ?? bootstrap.RawDuration;
        bootstrap.Rollup1mDuration = Duration(options, "--rollup-1m") ?? bootstrap.Rollup1mDuration;
        bootstrap.Rollup1hDuration = Duration(options, "--rollup-1h") ?? bootstrap.Rollup1hDuration;

        using var client = new InfluxClient(new InfluxOptions
        {
            Url = uri,
            Database = bootstrap.Database,
            Token = options.Value("--token"),
            Username = options.Value("--user"),
            Password = options.Value("--password"),
            MaxRetries = 2,
        });
        try
        {
            foreach (string line in await new InfluxBootstrap(client).RunAsync(bootstrap).ConfigureAwait(false))
                await stdout.WriteLineAsync(line).ConfigureAwait(false);
            return 0;
        }
        catch (InfluxException ex)
        {
            await stderr.WriteLineAsync($"vmtrace: {ex.Message}").ConfigureAwait(false);
            return 1;
        }
    }

    /// <summary>N with unit s, m, h, d, w or y (365 d); "inf" or 0 keeps forever.</summary>
    internal static TimeSpan? Duration(Options options, string name)
    {
        string? text = options.Value(name);
        if (text is null)
            return null;
        if (text is "inf" or "INF" or "0")
            return TimeSpan.Zero;
        if (text.Length < 2 || !long.TryParse(text.AsSpan(0, text.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out long n) || n <= 0)
            throw new UsageException($"{name} expects a duration such as 7d, 90d or 3y, got '{text}'");
        return text[^1] switch
        {
            's' => TimeSpan.FromSeconds(n),
            'm' => TimeSpan.FromMinutes(n),
            'h' => TimeSpan.FromHours(n),
            'd' => TimeSpan.FromDays(n),
            'w' => TimeSpan.FromDays(7 * n),
            'y' => TimeSpan.FromDays(365 * n),
            _ => throw new UsageException($"{name} expects a duration such as 7d, 90d or 3y, got '{text}'"),
        };
    }
}
