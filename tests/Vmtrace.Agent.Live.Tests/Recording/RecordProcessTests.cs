using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Vmtrace.Agent.Live.Native;
using Vmtrace.Agent.Live.Tests.Qemu;

namespace Vmtrace.Agent.Live.Tests.Recording;

/// <summary><c>vmtrace record</c> as a real child process: options, Ctrl-C, and a recording of real TCG guests analysed.</summary>
[Collection(nameof(RecordProcessTests))]
public sealed class RecordProcessTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("vmtrace-record-test-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>A running vmtrace child with its output collected.</summary>
    private sealed class Child : IDisposable
    {
        private readonly StringBuilder _stdout = new();
        private readonly StringBuilder _stderr = new();

        public Child(params string[] args)
        {
            var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "vmtrace.dll"));
            foreach (var a in args)
                psi.ArgumentList.Add(a);
            Process = System.Diagnostics.Process.Start(psi)!;
            Process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_stdout) _stdout.AppendLine(e.Data); };
            Process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_stderr) _stderr.AppendLine(e.Data); };
            Process.BeginOutputReadLine();
            Process.BeginErrorReadLine();
        }

        public Process Process { get; }

        public string Stdout { get { lock (_stdout) return _stdout.ToString(); } }

        public string Stderr { get { lock (_stderr) return _stderr.ToString(); } }

        public int Wait(TimeSpan timeout)
        {
            if (!Process.WaitForExit(timeout))
            {
                Process.Kill(entireProcessTree: true);
                Assert.Fail($"vmtrace did not exit within {timeout}:\n{Stdout}\n{Stderr}");
            }
            Process.WaitForExit(); // drains the output
            return Process.ExitCode;
        }

        public void WaitFor(string text, TimeSpan timeout)
        {
            var sw = Stopwatch.StartNew();
            while (!Stderr.Contains(text, StringComparison.Ordinal))
            {
                Assert.False(Process.HasExited, $"vmtrace exited ({(Process.HasExited ? Process.ExitCode : 0)}) before '{text}':\n{Stdout}\n{Stderr}");
                Assert.True(sw.Elapsed < timeout, $"no '{text}' within {timeout}:\n{Stderr}");
                Thread.Sleep(50);
            }
        }

        public void Dispose()
        {
            if (!Process.HasExited)
                Process.Kill(entireProcessTree: true);
            Process.Dispose();
        }
    }

    [Theory]
    [InlineData("--bogus", "unknown option '--bogus'")]
    [InlineData("--duration 5", "-o DIR is required")]
    [InlineData("-o DIR --duration soon", "--duration expects a duration")]
    [InlineData("-o DIR --clock mono", "unknown option '--clock'")]
    [InlineData("-o DIR --buffer-kb 1", "buffer size 1 KiB is below one page")]
    [InlineData("-o DIR extra", "unexpected argument 'extra'")]
    public void Record_BadOptions_OneLineExit2(string args, string expected)
    {
        using var child = new Child(["record", .. args.Replace("DIR", _dir, StringComparison.Ordinal).Split(' ')]);
        Assert.Equal(2, child.Wait(TimeSpan.FromSeconds(60)));
        string line = Assert.Single(child.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("vmtrace record: ", line, StringComparison.Ordinal);
        Assert.Contains(expected, line, StringComparison.Ordinal);
        Assert.Empty(child.Stdout);
        Assert.Empty(Directory.EnumerateFileSystemEntries(_dir));
    }

    /// <summary>Ctrl-C (SIGINT to vmtrace alone) ends an open-ended recording with exit 0, a complete trace and map, and no ftrace instance left.</summary>
    [LiveHostFact]
    public void Record_Sigint_StopsCleanlyTraceCompleteInstanceRemoved()
    {
        string output = Path.Combine(_dir, "rec");
        using var child = new Child("record", "-o", output, "--events", "sched:sched_switch,sched:sched_wakeup", "--buffer-kb", "1024");
        string instance = "/sys/kernel/tracing/instances/vmtrace-record-" + child.Process.Id;
        child.WaitFor("recording into", TimeSpan.FromSeconds(90));
        Assert.True(Directory.Exists(instance), "the recorder's instance exists while it records");
        Thread.Sleep(1000);
        Assert.Equal(0, LibC.Kill(child.Process.Id, LibC.SigInt));
        Assert.Equal(0, child.Wait(TimeSpan.FromSeconds(120)));
        Assert.False(Directory.Exists(instance), "the ftrace instance was removed");
        Assert.Contains("recorded ", child.Stdout, StringComparison.Ordinal);

        using var map = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "vmmap.json")));
        long start = map.RootElement.GetProperty("start_realtime_ns").GetInt64();
        long end = map.RootElement.GetProperty("end_realtime_ns").GetInt64();
        Assert.True(end - start >= 1_000_000_000, $"recorded {end - start} ns, slept 1 s");
        Assert.Equal(JsonValueKind.Number, map.RootElement.GetProperty("trace").GetProperty("lost_events").ValueKind);

        using var dump = new Child("dump", output, "--stats");
        Assert.Equal(0, dump.Wait(TimeSpan.FromSeconds(120)));
        var events = dump.Stdout.Split('\n').Single(l => l.StartsWith("events: ", StringComparison.Ordinal));
        Assert.True(long.Parse(events["events: ".Length..].Trim(), System.Globalization.CultureInfo.InvariantCulture) > 0, dump.Stdout);
        // The offset to realtime is in the file: the first event lies within the recording's realtime bounds (±2 s for trace-cmd's start-up).
        var first = dump.Stdout.Split('\n').Single(l => l.StartsWith("first: ", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
        long firstNs = (long)(decimal.Parse(first, System.Globalization.CultureInfo.InvariantCulture) * 1_000_000_000m);
        Assert.InRange(firstNs, start - 2_000_000_000, end + 2_000_000_000);
    }

    /// <summary>
    /// Without trace-cmd (<c>--writer tracefs</c>): vmtrace writes trace.dat itself from the raw ring-buffer pages. Lines
    /// written into the instance's trace_marker while it records come back, as many and in order, through vmtrace's
    /// reader and through trace-cmd's own (the reference reader of the format), with realtime timestamps.
    /// </summary>
    [LiveHostFact]
    public void Record_TracefsWriter_TraceDatReadByVmtraceAndTraceCmd()
    {
        string output = Path.Combine(_dir, "raw");
        using (var child = new Child("record", "-o", output, "--writer", "tracefs", "--duration", "4s", "--events", "sched:sched_switch,sched:sched_process_exec", "--buffer-kb", "1024"))
        {
            string marker = $"/sys/kernel/tracing/instances/vmtrace-record-{child.Process.Id}/trace_marker";
            child.WaitFor("recording into", TimeSpan.FromSeconds(90));
            for (int i = 0; i < 50; i++)
                File.AppendAllText(marker, $"vmtrace-raw-test {i}");
            Assert.True(child.Wait(TimeSpan.FromMinutes(2)) == 0, child.Stderr);
            Assert.False(Directory.Exists(Path.GetDirectoryName(marker)), "the ftrace instance was removed");
        }
        Assert.Empty(Directory.EnumerateFiles(output, ".cpu*"));
        using var map = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "vmmap.json")));
        long start = map.RootElement.GetProperty("start_realtime_ns").GetInt64();
        long end = map.RootElement.GetProperty("end_realtime_ns").GetInt64();
        Assert.StartsWith("vmtrace", map.RootElement.GetProperty("trace").GetProperty("writer").GetString(), StringComparison.Ordinal);

        using var dump = new Child("dump", Path.Combine(output, "trace.dat"));
        Assert.True(dump.Wait(TimeSpan.FromMinutes(2)) == 0, dump.Stderr);
        var ours = dump.Stdout.Split('\n').Where(l => l.Contains("vmtrace-raw-test ", StringComparison.Ordinal)).ToList();
        Assert.Equal(Enumerable.Range(0, 50), ours.Select(l => int.Parse(System.Text.RegularExpressions.Regex.Match(l, @"vmtrace-raw-test (\d+)").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)));
        Assert.Contains(dump.Stdout.Split('\n'), l => l.Contains(" sched_switch: ", StringComparison.Ordinal));
        long firstNs = (long)(decimal.Parse(ours[0].Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture) * 1_000_000_000m);
        Assert.InRange(firstNs, start, end);

        string report = TcgLab.Run("trace-cmd", $"report -i {Path.Combine(output, "trace.dat")}", TimeSpan.FromMinutes(2));
        Assert.Equal(50, report.Split('\n').Count(l => l.Contains("vmtrace-raw-test ", StringComparison.Ordinal)));
        Assert.Contains(report.Split('\n'), l => l.Contains("sched_switch:", StringComparison.Ordinal));
    }

    /// <summary>
    /// Two real TCG guests (web: 2 vCPUs busy, db: 1 vCPU doing O_DIRECT disk I/O through qemu's thread pool, traced by
    /// qemu's log backend), recorded for 3 s by the real <c>vmtrace record</c> and analysed: each VM once, named, with
    /// all its vCPUs; no thread of theirs blamed as a host process; db's qemu log copied and merged (pool requests).
    /// </summary>
    [QemuFact]
    [Trait("Category", "LiveRecord")]
    public void Record_TcgGuests_AnalysisFindsEachVmWithAllVcpusAndItsQemuLog()
    {
        using var lab = new TcgLab();
        string suffix = Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var web = lab.Launch("recweb" + suffix, 2, "cpu", 40);
        var db = lab.Launch("recdb" + suffix, 1, "disk", 40, "vmtrace_pause=0.05");
        lab.WaitForWorkloads(TimeSpan.FromMinutes(3));

        string output = Path.Combine(_dir, "rec");
        using (var child = new Child("record", "-o", output, "--duration", "3s"))
        {
            Assert.True(child.Wait(TimeSpan.FromMinutes(3)) == 0, child.Stderr);
        }
        Assert.False(Directory.EnumerateDirectories("/sys/kernel/tracing/instances", "vmtrace-record-*").Any(d => !Directory.Exists("/proc/" + Path.GetFileName(d)["vmtrace-record-".Length..])),
            "no instance of a finished recorder is left");
        Assert.True(File.Exists(Path.Combine(output, $"qemu-{db.Name}.log")), "db's qemu log was copied");

        using var analyze = new Child("analyze", output, "--format", "json", "--no-progress");
        Assert.True(analyze.Wait(TimeSpan.FromMinutes(3)) == 0, analyze.Stderr);
        using var doc = JsonDocument.Parse(analyze.Stdout);
        var vms = doc.RootElement.GetProperty("total").GetProperty("vms").EnumerateArray().ToList();
        foreach (var (vm, vcpus) in new[] { (web, 2), (db, 1) })
        {
            var found = Assert.Single(vms, v => v.GetProperty("vm").GetString() == vm.Name);
            Assert.Equal(TcgLab.QemuPid(vm), found.GetProperty("pid").GetInt32());
            Assert.Equal("vmmap", found.GetProperty("identity").GetString());
            Assert.Equal(Enumerable.Range(0, vcpus).ToArray(), found.GetProperty("vcpus").EnumerateArray().Select(c => c.GetProperty("vcpu").GetInt32()).Order().ToArray());
        }
        var dbVm = vms.Single(v => v.GetProperty("vm").GetString() == db.Name);
        Assert.True(dbVm.GetProperty("qemu_disk").GetProperty("submitted").GetInt64() > 0, "thread-pool requests from db's copied qemu log");

        // No qemu thread counted as a host process: every culprit "host:COMM" is a comm no qemu thread had.
        using var map = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "vmmap.json")));
        var qemuComms = map.RootElement.GetProperty("vms").EnumerateArray()
            .SelectMany(v => v.GetProperty("threads").EnumerateArray()).Select(t => t.GetProperty("comm").GetString()).ToHashSet();
        Assert.Contains("CPU 0/TCG", qemuComms);
        var culprits = vms.SelectMany(v => v.GetProperty("preempted_by").EnumerateArray()).Select(c => c.GetProperty("culprit").GetString()!).ToList();
        Assert.Contains(culprits, c => c == web.Name || c == db.Name);
        Assert.DoesNotContain(culprits, c => c.StartsWith("host:", StringComparison.Ordinal) && qemuComms.Contains(c["host:".Length..]));
    }
}

/// <summary>
/// Alone, after the other tests: with the recorder's trace-cmd running beside them, another test's removal of its
/// ftrace instance once answered EBUSY (cause not pinned down; trace-cmd leaves other instances' tracing on).
/// </summary>
[CollectionDefinition(nameof(RecordProcessTests), DisableParallelization = true)]
public sealed class RecordProcessCollection;
