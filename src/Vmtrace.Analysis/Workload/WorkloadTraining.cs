using System.Collections.Immutable;

namespace Vmtrace.Analysis;

/// <summary>One training window: the class the guest ran (from its console markers) and its <see cref="WorkloadFeatures"/>.</summary>
public sealed record LabelledWindow(string Class, double[] Features);

/// <summary>
/// Builds a <see cref="WorkloadModel"/> from labelled windows. Every training window has its label, so each class's
/// centroid is the mean of its windows in scaled space: the point k-means with one cluster per class settles on when its
/// clusters are the classes, found without k-means' random start or a cluster → label vote. Features are scaled by the
/// training windows' mean and standard deviation (a feature that never varies keeps scale 1). Deterministic: the same
/// windows in the same order give the same model, rounded to 6 significant digits.
/// </summary>
public static class WorkloadTraining
{
    public const double DefaultIdleMaxPcpu = 0.05;
    public const double DefaultMixedBelow = 0.1;

    public static WorkloadModel Train(IReadOnlyList<LabelledWindow> windows, IEnumerable<string> trainedOn,
        double idleMaxPcpu = DefaultIdleMaxPcpu, double mixedBelow = DefaultMixedBelow)
    {
        if (windows.Count == 0)
            throw new ArgumentException("no labelled windows to train on", nameof(windows));
        int n = WorkloadFeatures.Names.Length;
        var mean = new double[n];
        var scale = new double[n];
        for (int i = 0; i < n; i++)
        {
            double m = windows.Average(w => w.Features[i]);
            double variance = windows.Sum(w => (w.Features[i] - m) * (w.Features[i] - m)) / windows.Count;
            mean[i] = WorkloadModel.Significant(m);
            double sd = WorkloadModel.Significant(Math.Sqrt(variance));
            scale[i] = sd > 1e-9 ? sd : 1;
        }
        var classes = windows.GroupBy(w => w.Class).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g =>
        {
            var centroid = new double[n];
            for (int i = 0; i < n; i++)
                centroid[i] = WorkloadModel.Significant(g.Average(w => (w.Features[i] - mean[i]) / scale[i]));
            return new WorkloadCentroid(g.Key, [.. centroid], g.Count());
        }).ToImmutableArray();
        return new WorkloadModel(WorkloadFeatures.Names, [.. mean], [.. scale], classes, idleMaxPcpu, mixedBelow, [.. trainedOn]);
    }
}
