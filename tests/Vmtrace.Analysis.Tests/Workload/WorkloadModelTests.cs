using Vmtrace.TestSupport;
using Xunit.Abstractions;

namespace Vmtrace.Analysis.Tests;

/// <summary>
/// The shipped workload model: it is what training on the labelled corpus recordings (s2, s3, s4) writes, and it classifies
/// the windows of a recording it was not trained on (samples/tcg-3vms) as their guests' console markers label them.
/// Training: <c>VMTRACE_WRITE_WORKLOAD_MODEL=1 dotnet test tests/Vmtrace.Analysis.Tests --filter WorkloadModelTests</c>.
/// </summary>
public class WorkloadModelTests(ITestOutputHelper output)
{
    private static readonly string[] TrainingScenarios = ["s2-cpu-contention", "s3-disk-vs-cpu", "s4-net"];
    private const string HeldOutSample = "tcg-3vms";

    private static string ModelPath => Path.Combine(Corpus.RepoRoot, "src", "Vmtrace.Analysis", "Workload", "workload-model.json");

    internal static WorkloadModel TrainOnCorpus()
    {
        var recordings = TrainingScenarios.Select(LabelledRecording.Corpus).ToList();
        var windows = recordings.SelectMany(r => r.Windows).Select(w => new LabelledWindow(w.Label, WorkloadFeatures.Of(w.Metrics, w.VmMetrics))).ToList();
        return WorkloadTraining.Train(windows, recordings.Select(r => r.Name));
    }

    [CorpusFact]
    public void ShippedModel_IsWhatTrainingOnTheCorpusWrites()
    {
        string trained = TrainOnCorpus().ToJson();
        if (Environment.GetEnvironmentVariable("VMTRACE_WRITE_WORKLOAD_MODEL") == "1")
            File.WriteAllText(ModelPath, trained);
        Assert.Equal(trained, File.ReadAllText(ModelPath).ReplaceLineEndings("\n"));
        Assert.Equal(trained, WorkloadModel.Shipped.ToJson());
    }

    [CorpusFact]
    public void ShippedModel_ClassifiesTheHeldOutRecordingsWindowsAsLabelled()
    {
        var model = WorkloadModel.Shipped;
        Assert.DoesNotContain(model.TrainedOn, r => r.Contains(HeldOutSample, StringComparison.Ordinal));
        var heldOut = LabelledRecording.Sample(HeldOutSample);
        Assert.Equal(["cpu", "disk", "net"], heldOut.Windows.Select(w => w.Label).Distinct().Order(StringComparer.Ordinal));

        int right = 0;
        foreach (var byClass in heldOut.Windows.GroupBy(w => w.Label).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            int classRight = 0;
            foreach (var w in byClass)
            {
                var got = model.Classify(w.Metrics, w.VmMetrics);
                output.WriteLine($"{w.Vm} [{w.Metrics.StartNs}] label {w.Label} → {got.Class} {got.Confidence:0.000}");
                if (got.Class == w.Label)
                    classRight++;
            }
            output.WriteLine($"class {byClass.Key}: {classRight}/{byClass.Count()}");
            right += classRight;
        }
        output.WriteLine($"all: {right}/{heldOut.Windows.Count}");
        Assert.True(right >= 0.9 * heldOut.Windows.Count, $"{right} of {heldOut.Windows.Count} held-out windows classified as labelled (< 90 %)");
    }
}
