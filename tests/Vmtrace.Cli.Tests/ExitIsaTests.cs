using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Vmtrace.Cli.Tests;

/// <summary>
/// Exit reasons named by the trace's ISA (kvm_exit's isa field: 1 VMX, 2 SVM). The corpus holds no AMD
/// trace, so the traces are built here: a Trace Compass XML trace of one vCPU thread entering and leaving
/// the guest, the same layout as the corpus's OneQemuKvm stub.
/// </summary>
public sealed class ExitIsaTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("vmtrace-isa-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>One vCPU thread (tid 31) switched in, then an entry, and per reason an exit followed 10 ns later by the next entry.</summary>
    private string Trace(string name, int? isa, params int[] reasons)
    {
        var x = new StringBuilder("<trace>\n");
        x.Append("<event timestamp=\"1\" name=\"sched_switch\"><field name=\"cpu\" value=\"0\" type=\"int\" />")
         .Append("<field name=\"prev_comm\" value=\"any\" type=\"string\" /><field name=\"prev_tid\" value=\"30\" type=\"long\" />")
         .Append("<field name=\"prev_prio\" value=\"20\" type=\"long\" /><field name=\"prev_state\" value=\"0\" type=\"long\" />")
         .Append("<field name=\"next_comm\" value=\"CPU 0/KVM\" type=\"string\" /><field name=\"next_tid\" value=\"31\" type=\"long\" />")
         .Append("<field name=\"next_prio\" value=\"20\" type=\"long\" /></event>\n");
        long t = 5;
        void Entry() => x.Append(CultureInfo.InvariantCulture, $"<event timestamp=\"{t}\" name=\"kvm_entry\"><field name=\"cpu\" value=\"0\" type=\"int\" /><field name=\"vcpu_id\" value=\"0\" type=\"long\" /></event>\n");
        Entry();
        foreach (int reason in reasons)
        {
            t += 40;
            x.Append(CultureInfo.InvariantCulture, $"<event timestamp=\"{t}\" name=\"kvm_exit\"><field name=\"cpu\" value=\"0\" type=\"int\" /><field name=\"exit_reason\" value=\"{reason}\" type=\"long\" />");
            if (isa is { } i)
                x.Append(CultureInfo.InvariantCulture, $"<field name=\"isa\" value=\"{i}\" type=\"int\" />");
            x.Append("</event>\n");
            t += 10;
            Entry();
        }
        x.Append("</trace>\n");
        string path = Path.Combine(_dir, name + ".xml");
        File.WriteAllText(path, x.ToString());
        return path;
    }

    private static JsonElement[] JsonExits(string stdout)
    {
        using var doc = JsonDocument.Parse(stdout);
        var vm = doc.RootElement.GetProperty("total").GetProperty("vms")[0];
        return vm.GetProperty("exits").EnumerateArray().Select(e => e.Clone()).ToArray();
    }

    [Fact]
    public async Task Analyze_SvmTrace_NamesReasonsFromTheSvmTable()
    {
        // SVM: 0x78 = 120 HLT, 0x400 = 1024 NPF (arch/x86/include/uapi/asm/svm.h). On VMX, 120 has no name and 12 would be HLT.
        string trace = Trace("svm", 2, 120, 120, 120, 1024, 1024);
        var table = await CliRun.RunAsync("analyze", trace, "--no-progress", "--no-inventory");
        Assert.Equal(0, table.ExitCode);
        var hlt = Assert.Single(table.StdoutLines, l => l.TrimStart().StartsWith("0x78 HLT ", StringComparison.Ordinal));
        Assert.Equal("3", hlt.Split(' ', StringSplitOptions.RemoveEmptyEntries)[2]);
        var npf = Assert.Single(table.StdoutLines, l => l.TrimStart().StartsWith("0x400 NPF ", StringComparison.Ordinal));
        Assert.Equal("2", npf.Split(' ', StringSplitOptions.RemoveEmptyEntries)[2]);

        var json = await CliRun.RunAsync("analyze", trace, "--no-progress", "--no-inventory", "--format", "json");
        var exits = JsonExits(json.Stdout);
        Assert.Equal([(120, "svm", "HLT", 3L), (1024, "svm", "NPF", 2L)],
            exits.Select(e => (e.GetProperty("reason").GetInt32(), e.GetProperty("isa").GetString(), e.GetProperty("name").GetString(), e.GetProperty("count").GetInt64())));

        var lines = await CliRun.RunAsync("analyze", trace, "--no-progress", "--no-inventory", "--format", "line-protocol");
        Assert.Contains(lines.StdoutLines, l => l.StartsWith("vmtrace_exit,", StringComparison.Ordinal) && l.Contains(",reason=120,isa=svm,reason_name=HLT count=3i,", StringComparison.Ordinal));
        Assert.Contains(lines.StdoutLines, l => l.StartsWith("vmtrace_exit,", StringComparison.Ordinal) && l.Contains(",reason=1024,isa=svm,reason_name=NPF count=2i,", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Analyze_VmxTrace_SameNumbersNamedFromTheVmxTable()
    {
        string trace = Trace("vmx", 1, 12, 120);
        var table = await CliRun.RunAsync("analyze", trace, "--no-progress", "--no-inventory");
        Assert.Single(table.StdoutLines, l => l.TrimStart().StartsWith("12 HLT ", StringComparison.Ordinal));
        // 120 is no VMX basic exit reason: the number alone, never SVM's HLT.
        Assert.Single(table.StdoutLines, l => l.TrimStart().StartsWith("120 ", StringComparison.Ordinal));
        Assert.DoesNotContain(table.StdoutLines, l => l.Contains("0x78", StringComparison.Ordinal));

        var json = await CliRun.RunAsync("analyze", trace, "--no-progress", "--no-inventory", "--format", "json");
        var exits = JsonExits(json.Stdout);
        Assert.Equal("HLT", exits.Single(e => e.GetProperty("reason").GetInt32() == 12).GetProperty("name").GetString());
        var unnamed = exits.Single(e => e.GetProperty("reason").GetInt32() == 120);
        Assert.Equal("vmx", unnamed.GetProperty("isa").GetString());
        Assert.False(unnamed.TryGetProperty("name", out _));
    }

    [Fact]
    public async Task Analyze_TraceWithoutIsa_BareNumbersNoGuessedName()
    {
        string trace = Trace("no-isa", null, 12);
        var table = await CliRun.RunAsync("analyze", trace, "--no-progress", "--no-inventory");
        var row = Assert.Single(table.StdoutLines, l => l.TrimStart().StartsWith("12 ", StringComparison.Ordinal));
        Assert.DoesNotContain("HLT", row, StringComparison.Ordinal);
        var lines = await CliRun.RunAsync("analyze", trace, "--no-progress", "--no-inventory", "--format", "line-protocol");
        var exit = Assert.Single(lines.StdoutLines, l => l.StartsWith("vmtrace_exit,", StringComparison.Ordinal));
        Assert.Contains(",reason=12 count=1i,", exit, StringComparison.Ordinal);
    }
}
