using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Vmtrace.Analysis;

/// <summary>One labelled centroid of a <see cref="WorkloadModel"/>, in scaled feature space.</summary>
public sealed record WorkloadCentroid(string Class, ImmutableArray<double> Centroid, int TrainingWindows);

/// <summary>
/// A nearest-centroid workload classifier: each feature is scaled ((x − mean) / scale, from the training windows), the window
/// goes to the class of the nearest centroid (Euclidean), and the confidence is how much nearer that centroid is than the
/// second one, (d₂ − d₁) / (d₂ + d₁). Below <see cref="MixedBelow"/> no class dominates and the window is
/// <see cref="WorkloadClasses.Mixed"/>. A VM whose threads used less than <see cref="IdleMaxPcpu"/> of a pCPU and moved no
/// disk or network data is <see cref="WorkloadClasses.Idle"/>, by that rule rather than by a centroid: no recording
/// labels a guest as idle. Pure and deterministic.
/// </summary>
public sealed record WorkloadModel(
    ImmutableArray<string> Features, ImmutableArray<double> Mean, ImmutableArray<double> Scale, ImmutableArray<WorkloadCentroid> Classes,
    double IdleMaxPcpu, double MixedBelow, ImmutableArray<string> TrainedOn)
{
    private const string ResourceName = "Vmtrace.Analysis.Workload.workload-model.json";

    private static readonly Lazy<WorkloadModel> s_shipped = new(LoadShipped);

    /// <summary>The model shipped with vmtrace (src/Vmtrace.Analysis/Workload/workload-model.json).</summary>
    public static WorkloadModel Shipped => s_shipped.Value;

    public WorkloadClass Classify(WindowMetrics window, VmMetrics vm)
    {
        var features = WorkloadFeatures.Of(window, vm);
        bool movesData = features[4] > 0 || features[6] > 0;
        double pcpu = WorkloadFeatures.ThreadsPcpu(window, vm);
        if (!movesData && pcpu < IdleMaxPcpu)
            return new WorkloadClass(WorkloadClasses.Idle, Round(1 - pcpu / IdleMaxPcpu));
        return Classify(features);
    }

    /// <summary>The class of a feature vector (<see cref="WorkloadFeatures.Of"/>) among the centroids; no idle rule.</summary>
    public WorkloadClass Classify(ReadOnlySpan<double> features)
    {
        if (features.Length != Features.Length)
            throw new ArgumentException($"expected {Features.Length} features, got {features.Length}", nameof(features));
        double nearest = double.PositiveInfinity, second = double.PositiveInfinity;
        string nearestClass = WorkloadClasses.Mixed;
        foreach (var c in Classes)
        {
            double d = Distance(features, c.Centroid);
            if (d < nearest)
            {
                second = nearest;
                nearest = d;
                nearestClass = c.Class;
            }
            else if (d < second)
            {
                second = d;
            }
        }
        double sum = nearest + second;
        double confidence = double.IsPositiveInfinity(second) ? 1 : sum == 0 ? 0 : (second - nearest) / sum;
        return new WorkloadClass(confidence < MixedBelow ? WorkloadClasses.Mixed : nearestClass, Round(confidence));
    }

    private double Distance(ReadOnlySpan<double> features, ImmutableArray<double> centroid)
    {
        double sum = 0;
        for (int i = 0; i < features.Length; i++)
        {
            double d = (features[i] - Mean[i]) / Scale[i] - centroid[i];
            sum += d * d;
        }
        return Math.Sqrt(sum);
    }

    // Confidence to 4 decimals: the written figure does not depend on the last bits of a sum's order.
    private static double Round(double v) => Math.Round(Math.Clamp(v, 0, 1), 4, MidpointRounding.ToEven);

    /// <summary>The model file's text: indented JSON, numbers with 6 significant digits, so training writes the same bytes every time.</summary>
    public string ToJson()
    {
        using var stream = new MemoryStream();
        using (var j = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            j.WriteStartObject();
            j.WriteString("kind", "nearest-centroid");
            Strings(j, "features", Features);
            Numbers(j, "mean", Mean);
            Numbers(j, "scale", Scale);
            j.WriteStartArray("classes");
            foreach (var c in Classes)
            {
                j.WriteStartObject();
                j.WriteString("class", c.Class);
                j.WriteNumber("training_windows", c.TrainingWindows);
                Numbers(j, "centroid", c.Centroid);
                j.WriteEndObject();
            }
            j.WriteEndArray();
            j.WriteNumber("idle_max_pcpu", IdleMaxPcpu);
            j.WriteNumber("mixed_below", MixedBelow);
            Strings(j, "trained_on", TrainedOn);
            j.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray()).ReplaceLineEndings("\n") + "\n";
    }

    public static WorkloadModel Parse(string json)
    {
        using var doc = JsonDocument.Parse(json);
        var root = doc.RootElement;
        var features = root.GetProperty("features").EnumerateArray().Select(e => e.GetString()!).ToImmutableArray();
        var classes = root.GetProperty("classes").EnumerateArray()
            .Select(c => new WorkloadCentroid(c.GetProperty("class").GetString()!, DoubleArray(c.GetProperty("centroid")),
                c.GetProperty("training_windows").GetInt32()))
            .ToImmutableArray();
        var model = new WorkloadModel(features, DoubleArray(root.GetProperty("mean")), DoubleArray(root.GetProperty("scale")), classes,
            root.GetProperty("idle_max_pcpu").GetDouble(), root.GetProperty("mixed_below").GetDouble(),
            root.GetProperty("trained_on").EnumerateArray().Select(e => e.GetString()!).ToImmutableArray());
        if (!features.SequenceEqual(WorkloadFeatures.Names) || model.Mean.Length != features.Length || model.Scale.Length != features.Length
            || classes.Any(c => c.Centroid.Length != features.Length) || model.Scale.Any(s => s <= 0))
            throw new FormatException("workload model: its features, scales or centroids do not match " + string.Join(",", WorkloadFeatures.Names));
        return model;
    }

    /// <summary>A number as the model file writes it: 6 significant digits.</summary>
    public static double Significant(double v) => v == 0 ? 0 : double.Parse(v.ToString("G6", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);

    private static ImmutableArray<double> DoubleArray(JsonElement e) => [.. e.EnumerateArray().Select(x => x.GetDouble())];

    private static void Numbers(Utf8JsonWriter j, string name, ImmutableArray<double> values)
    {
        j.WriteStartArray(name);
        foreach (var v in values)
            j.WriteNumberValue(v);
        j.WriteEndArray();
    }

    private static void Strings(Utf8JsonWriter j, string name, ImmutableArray<string> values)
    {
        j.WriteStartArray(name);
        foreach (var v in values)
            j.WriteStringValue(v);
        j.WriteEndArray();
    }

    private static WorkloadModel LoadShipped()
    {
        using var stream = typeof(WorkloadModel).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException("the workload model resource " + ResourceName + " is missing from the build");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return Parse(reader.ReadToEnd());
    }
}
