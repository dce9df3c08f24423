using System.Text.Json.Nodes;
using Vmtrace.TestSupport;

namespace Vmtrace.Dashboards.Tests;

/// <summary>The provisioned dashboards (grafana/dashboards/*.json) as JSON, with their panels and InfluxQL targets.</summary>
internal static class Dashboards
{
    public const string DatasourceUid = "vmtrace-influxdb";

    public static string Directory => Path.Combine(Corpus.RepoRoot, "grafana", "dashboards");

    public static IReadOnlyList<(string File, JsonObject Json)> All() =>
        System.IO.Directory.GetFiles(Directory, "*.json").Order(StringComparer.Ordinal)
            .Select(f => (Path.GetFileName(f), JsonNode.Parse(File.ReadAllText(f))!.AsObject())).ToList();

    public static IEnumerable<JsonObject> Panels(JsonObject dashboard) =>
        dashboard["panels"]!.AsArray().Select(p => p!.AsObject())
            .SelectMany(p => p["panels"] is JsonArray inner ? inner.Select(i => i!.AsObject()).Prepend(p) : [p]);

    public static IEnumerable<JsonObject> Variables(JsonObject dashboard) =>
        dashboard["templating"]?["list"]?.AsArray().Select(v => v!.AsObject()) ?? [];

    public sealed record Target(string Dashboard, string Panel, string RefId, string Query, string? Interval)
    {
        public override string ToString() => $"{Dashboard} / {Panel} / {RefId}";
    }

    public static IEnumerable<Target> Targets() =>
        from d in All()
        from p in Panels(d.Json)
        where p["targets"] is JsonArray
        from t in p["targets"]!.AsArray()
        select new Target(d.File, (string)p["title"]!, (string)t!["refId"]!, (string)t["query"]!, (string?)p["interval"]);

    /// <summary>
    /// An InfluxQL annotation query of a dashboard and its field mappings: the columns giving each annotation's text, its tags,
    /// the end of its region (ms since the epoch) and its title.
    /// </summary>
    public sealed record Annotation(string Dashboard, string Name, string Query, string TextColumn, IReadOnlyList<string> TagColumns,
        string TimeEndColumn, string TitleColumn)
    {
        public override string ToString() => $"{Dashboard} / annotation {Name}";
    }

    public static IEnumerable<Annotation> Annotations() =>
        from d in All()
        from a in d.Json["annotations"]?["list"]?.AsArray() ?? []
        let t = a!["target"]!
        select new Annotation(d.File, (string)a["name"]!, (string)t["query"]!, (string?)t["textColumn"] ?? "",
            ((string?)t["tagsColumn"] ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
            (string?)t["timeEndColumn"] ?? "", (string?)t["titleColumn"] ?? "");
}
