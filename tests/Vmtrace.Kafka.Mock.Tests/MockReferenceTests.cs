using System.Xml.Linq;
using Vmtrace.TestSupport;

namespace Vmtrace.Kafka.Mock.Tests;

/// <summary>
/// The mock cluster stays out of what runs in production: no project the agent or the worker is built from reaches
/// Vmtrace.Kafka.Mock through its project references; the CLI does (for <c>vmtrace dev-kafka</c>).
/// </summary>
public class MockReferenceTests
{
    private const string Mock = "Vmtrace.Kafka.Mock";

    /// <summary>Every project reachable from src/<paramref name="project"/> through ProjectReference items.</summary>
    private static HashSet<string> Reachable(string project)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Stack<string>([Path.Combine(Corpus.RepoRoot, "src", project, project + ".csproj")]);
        while (pending.Count > 0)
        {
            string file = Path.GetFullPath(pending.Pop());
            Assert.True(File.Exists(file), $"project file {file} is missing");
            foreach (var reference in XDocument.Load(file).Descendants("ProjectReference"))
            {
                string include = ((string?)reference.Attribute("Include") ?? "").Replace('\\', '/');
                string path = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(file)!, include));
                if (seen.Add(Path.GetFileNameWithoutExtension(path)))
                    pending.Push(path);
            }
        }
        return seen;
    }

    [Theory]
    [InlineData("Vmtrace.Agent")]
    [InlineData("Vmtrace.Agent.Live")]
    [InlineData("Vmtrace.Worker")]
    [InlineData("Vmtrace.Kafka")]
    public void ProductionProject_DoesNotReachTheMockCluster(string project) =>
        Assert.DoesNotContain(Mock, Reachable(project));

    [Fact]
    public void Cli_ReachesTheMockClusterForDevKafka() =>
        Assert.Contains(Mock, Reachable("Vmtrace.Cli"));
}
