using System.Runtime.InteropServices;

namespace Vmtrace.Bench;

/// <summary>What the figures were measured on: in-process throughput is a property of the CPU as much as of the code.</summary>
internal static class MachineDescription
{
    /// <summary>The CPU's model as /proc/cpuinfo names it (with family and model numbers), or the architecture elsewhere.</summary>
    public static string Cpu()
    {
        const string CpuInfo = "/proc/cpuinfo";
        if (!File.Exists(CpuInfo))
            return RuntimeInformation.ProcessArchitecture.ToString();
        string? name = null, family = null, model = null;
        foreach (var line in File.ReadLines(CpuInfo))
        {
            int colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon < 0)
            {
                if (name is not null)
                    break;
                continue;
            }
            string key = line[..colon].Trim();
            string value = line[(colon + 1)..].Trim();
            if (key == "model name")
                name ??= value;
            else if (key == "cpu family")
                family ??= value;
            else if (key == "model")
                model ??= value;
        }
        if (name is null)
            return RuntimeInformation.ProcessArchitecture.ToString();
        return family is null || model is null ? name : $"{name} (family {family}, model {model})";
    }
}
