using System.Globalization;
using System.Net;
using System.Text.Json;

namespace Vmtrace.Observability.Tests;

/// <summary>What a scrape of <c>/metrics</c> and a request to <c>/healthz</c> answered.</summary>
internal static class Scrape
{
    private static readonly HttpClient s_http = new() { Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>Every sample of the Prometheus text answer: "name{labels}" (labels as the exporter wrote them) → value.</summary>
    public static async Task<Dictionary<string, double>> MetricsAsync(Uri endpoint)
    {
        using var response = await s_http.GetAsync(new Uri(endpoint, "/metrics"));
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"/metrics answered {(int)response.StatusCode}: {text}");
        var samples = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (string line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.StartsWith('#'))
                continue;
            // name{labels} value [timestamp]; label values here hold no spaces.
            int end = line.IndexOf('}', StringComparison.Ordinal);
            int space = line.IndexOf(' ', end < 0 ? 0 : end);
            string key = line[..space];
            if (key.EndsWith("{}", StringComparison.Ordinal))
                key = key[..^2]; // the exporter writes "name{}" for a sample without labels
            string value = line[(space + 1)..].Split(' ')[0];
            samples[key] = double.Parse(value, CultureInfo.InvariantCulture);
        }
        return samples;
    }

    /// <summary>The sample named exactly (labels included), failing with the names present when it is missing.</summary>
    public static long Value(Dictionary<string, double> samples, string key)
    {
        Assert.True(samples.TryGetValue(key, out double v), $"no sample {key} in /metrics; present: {string.Join(", ", samples.Keys.Order(StringComparer.Ordinal))}");
        return checked((long)v);
    }

    /// <summary>Samples of one metric (any labels), keyed by the value of <paramref name="label"/>.</summary>
    public static Dictionary<string, long> ByLabel(Dictionary<string, double> samples, string metric, string label)
    {
        var result = new Dictionary<string, long>(StringComparer.Ordinal);
        string prefix = metric + "{";
        foreach (var (key, value) in samples)
        {
            if (!key.StartsWith(prefix, StringComparison.Ordinal))
                continue;
            int at = key.IndexOf(label + "=\"", StringComparison.Ordinal);
            Assert.True(at >= 0, $"{key} has no label {label}");
            int start = at + label.Length + 2;
            result[key[start..key.IndexOf('"', start)]] = checked((long)value);
        }
        return result;
    }

    public sealed record Health(HttpStatusCode Code, string Status, Dictionary<string, (string Status, string Description)> Checks, string Body);

    public static async Task<Health> HealthAsync(Uri endpoint)
    {
        using var response = await s_http.GetAsync(new Uri(endpoint, "/healthz"));
        string body = await response.Content.ReadAsStringAsync();
        using var doc = JsonDocument.Parse(body);
        var checks = new Dictionary<string, (string, string)>(StringComparer.Ordinal);
        foreach (var c in doc.RootElement.GetProperty("checks").EnumerateArray())
            checks[c.GetProperty("name").GetString()!] = (c.GetProperty("status").GetString()!, c.GetProperty("description").GetString()!);
        return new Health(response.StatusCode, doc.RootElement.GetProperty("status").GetString()!, checks, body);
    }

    /// <summary>Asks <c>/healthz</c> until <paramref name="done"/> holds (or <paramref name="limit"/> passed); returns the last answer.</summary>
    public static async Task<Health> HealthUntilAsync(Uri endpoint, Func<Health, bool> done, TimeSpan limit)
    {
        var until = DateTime.UtcNow + limit;
        Health h;
        do
        {
            h = await HealthAsync(endpoint);
            if (done(h))
                return h;
            await Task.Delay(250);
        }
        while (DateTime.UtcNow < until);
        return h;
    }
}
