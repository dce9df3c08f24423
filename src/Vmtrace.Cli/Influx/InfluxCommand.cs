using System.CommandLine;
using System.Globalization;
using Vmtrace.InfluxDb;
using Vmtrace.InfluxDb.Bootstrap;

namespace Vmtrace.Cli;

/// <summary><c>vmtrace influx init</c>: creates vmtrace's database, retention policies and rollup CQs (docs/influxdb.md).</summary>
internal static class InfluxCommand
{
    public const string Usage = """
          influx init [--url http://127.0.0.1:8086] [--database vmtrace] [--token T | --username U --password P]
                      [--raw 7d] [--rollup-1m 90d] [--rollup-1h 3y] [--force]
              create the database, retention policies raw (default), rollup_1m, rollup_1h and the continuous
              queries filling the rollups; idempotent. A policy or query that exists with another definition
              is a conflict (exit 1) unless --force, which alters it. Durations: N followed by s, m, h, d, w or y.
              --database and --username are also --db and --user.
        """;

    public static Command Build()
    {
        var url = OptionValues.Text("--url", "URL", "the InfluxDB 1.x HTTP address (default http://127.0.0.1:8086), as Influx:Url");
        var database = OptionValues.Text("--database", "NAME", "the database (default vmtrace), as Influx:Database", "--db");
        var token = OptionValues.Text("--token", "T", "an InfluxDB token, as Influx:Token");
        var username = OptionValues.Text("--username", "U", "a user name, as Influx:Username", "--user");
        var password = OptionValues.Text("--password", "P", "the user's password, as Influx:Password");
        var raw = RetentionOption("--raw", "how long the raw policy keeps points (default 7d)");
        var rollup1m = RetentionOption("--rollup-1m", "how long the 1-minute rollups are kept (default 90d)");
        var rollup1h = RetentionOption("--rollup-1h", "how long the 1-hour rollups are kept (default 3y)");
        var force = OptionValues.Flag("--force", "alter a policy or query that exists with another definition");
        var init = new UsageCommand("init", Usage) { url, database, token, username, password, raw, rollup1m, rollup1h, force };
        init.SetAction(async (parseResult, _) =>
        {
            string urlText = parseResult.GetValue(url) ?? "http://127.0.0.1:8086";
            if (!Uri.TryCreate(urlText, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
                throw new UsageException($"--url must be an http(s) address, not '{urlText}'");
            var bootstrap = new BootstrapOptions
            {
                Database = parseResult.GetValue(database) ?? "vmtrace",
                Force = parseResult.GetValue(force),
            };
            bootstrap.RawDuration = parseResult.GetValue(raw) ?? bootstrap.RawDuration;
            bootstrap.Rollup1mDuration = parseResult.GetValue(rollup1m) ?? bootstrap.Rollup1mDuration;
            bootstrap.Rollup1hDuration = parseResult.GetValue(rollup1h) ?? bootstrap.Rollup1hDuration;
            return await RunAsync(uri, bootstrap, parseResult.GetValue(token), parseResult.GetValue(username), parseResult.GetValue(password),
                parseResult.InvocationConfiguration.Output, parseResult.InvocationConfiguration.Error).ConfigureAwait(false);
        });
        return new UsageCommand("influx", Usage) { init };
    }

    private static Option<TimeSpan?> RetentionOption(string name, string description) =>
        new(name)
        {
            Description = description + "; inf or 0 keeps forever",
            HelpName = "DURATION",
            CustomParser = r => OptionValues.Parse(r, name, text => Duration(name, text)),
        };

    private static async Task<int> RunAsync(Uri uri, BootstrapOptions bootstrap, string? token, string? username, string? password,
        TextWriter stdout, TextWriter stderr)
    {
        using var client = new InfluxClient(new InfluxOptions
        {
            Url = uri,
            Database = bootstrap.Database,
            Token = token,
            Username = username,
            Password = password,
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
    internal static TimeSpan Duration(string name, string text)
    {
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
