using System.Diagnostics;
using System.Globalization;
using Vmtrace.TestSupport;

namespace Vmtrace.Agent.Live.Tests.Qemu;

/// <summary>One guest of the lab: name, vCPUs, workload (cpu|disk|net) and its qemu process.</summary>
public sealed record TcgVm(string Name, int Vcpus, string Workload, Process Process, string SerialLog, string QemuLog);

/// <summary>
/// Boots tiny Debian-kernel + busybox guests under QEMU/TCG (no KVM here) with the guest that
/// scripts/tcg-lab/build-guest.sh builds (cached in /var/tmp/vmtrace-tcg-lab). A net guest sits on a tap in
/// a private network namespace with a busybox httpd serving a blob and a TCP sink that counts what it got.
/// Everything it starts is killed and removed on dispose. The guest kernel gets no_timer_check: under TCG on
/// a loaded host its IO-APIC timer check can time out and panic the boot ("IO-APIC + timer doesn't work").
/// </summary>
public sealed class TcgLab : IDisposable
{
    public const string Cache = "/var/tmp/vmtrace-tcg-lab";
    private readonly List<Process> _helpers = [];
    private string? _netns;

    public TcgLab()
    {
        Work = Directory.CreateTempSubdirectory("vmtrace-live-").FullName;
        string script = Path.Combine(Corpus.RepoRoot, "scripts", "tcg-lab", "build-guest.sh");
        Run("bash", $"{script} {Cache}", TimeSpan.FromMinutes(10));
        var env = File.ReadAllLines(Path.Combine(Cache, "guest.env"))
            .Select(l => l.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1].Trim('"'));
        Kernel = env["GUEST_KERNEL"];
        Initrd = env["GUEST_INITRD"];
        string help = Run("qemu-system-x86_64", "-trace help", TimeSpan.FromSeconds(30));
        var wanted = new[] { "thread_pool_submit", "thread_pool_complete", "thread_pool_cancel", "virtio_blk_handle_read",
            "virtio_blk_handle_write", "virtio_blk_rw_complete", "virtio_blk_req_complete", "bdrv_co_io_em" };
        var known = help.Split('\n').Select(l => l.Trim()).ToHashSet();
        File.WriteAllLines(Path.Combine(Work, "qemu-events.txt"), wanted.Where(known.Contains));
    }

    public string Work { get; }
    public string Kernel { get; }
    public string Initrd { get; }
    public List<TcgVm> Vms { get; } = [];
    public string? SinkCountFile { get; private set; }
    public long BlobBytes { get; private set; }

    /// <summary>The network namespace with tap0 (10.77.0.1), an httpd on :8000 and a counting sink on :9000.</summary>
    public void StartNetwork(int blobMiB)
    {
        _netns = "vmtlive" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        Run("ip", $"netns del {_netns}", TimeSpan.FromSeconds(10), check: false);
        Run("ip", $"netns add {_netns}", TimeSpan.FromSeconds(10));
        Run("ip", $"-n {_netns} link set lo up", TimeSpan.FromSeconds(10));
        Run("ip", $"-n {_netns} tuntap add dev tap0 mode tap", TimeSpan.FromSeconds(10));
        Run("ip", $"-n {_netns} addr add 10.77.0.1/24 dev tap0", TimeSpan.FromSeconds(10));
        Run("ip", $"-n {_netns} link set tap0 up", TimeSpan.FromSeconds(10));
        string www = Path.Combine(Work, "www");
        Directory.CreateDirectory(www);
        var blob = new byte[blobMiB << 20];
        Random.Shared.NextBytes(blob);
        File.WriteAllBytes(Path.Combine(www, "blob"), blob);
        BlobBytes = blob.Length;
        SinkCountFile = Path.Combine(Work, "sink-bytes");
        string sink = Path.Combine(Work, "sink.py");
        File.WriteAllText(sink, $$"""
            import socket, threading
            total = [0]; lock = threading.Lock()
            s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("10.77.0.1", 9000)); s.listen(8)
            def drain(c):
                with c:
                    while True:
                        b = c.recv(65536)
                        if not b: break
                        with lock:
                            total[0] += len(b)
                            open("{{SinkCountFile}}", "w").write(str(total[0]))
            while True:
                c, _ = s.accept()
                threading.Thread(target=drain, args=(c,), daemon=True).start()
            """);
        _helpers.Add(Start("ip", ["netns", "exec", _netns, "busybox", "httpd", "-f", "-p", "10.77.0.1:8000", "-h", www]));
        _helpers.Add(Start("ip", ["netns", "exec", _netns, "python3", sink]));
        Thread.Sleep(500);
    }

    /// <summary>Boots a guest running <paramref name="workload"/> for <paramref name="seconds"/> then powering off.</summary>
    public TcgVm Launch(string name, int vcpus, string workload, int seconds, string extraAppend = "")
    {
        string serial = Path.Combine(Work, $"serial-{name}.log");
        string log = Path.Combine(Work, $"qemu-{name}.log");
        var args = new List<string>();
        if (workload == "net")
            args.AddRange(["netns", "exec", _netns ?? throw new InvalidOperationException("StartNetwork first"), "qemu-system-x86_64"]);
        args.AddRange(["-name", $"{name},debug-threads=on", "-uuid", Guid.NewGuid().ToString(), "-machine", "pc", "-accel", "tcg,thread=multi",
            "-m", "192", "-smp", vcpus.ToString(CultureInfo.InvariantCulture), "-nodefaults", "-display", "none", "-no-reboot", "-monitor", "none",
            "-kernel", Kernel, "-initrd", Initrd,
            "-append", $"console=ttyS0 quiet panic=-1 no_timer_check vmtrace_wl={workload} vmtrace_dur={seconds} {extraAppend}".Trim(),
            "-serial", "file:" + serial, "-trace", "events=" + Path.Combine(Work, "qemu-events.txt"), "-D", log, "-msg", "timestamp=on"]);
        if (workload == "disk")
        {
            string image = Path.Combine(Work, $"{name}.img");
            using (var f = File.Create(image))
                f.SetLength(32 << 20);
            args.AddRange(["-drive", $"file={image},if=virtio,format=raw,aio=threads,cache=none"]);
        }
        if (workload == "net")
            args.AddRange(["-netdev", "tap,id=n0,ifname=tap0,script=no,downscript=no,vhost=off", "-device", "virtio-net-pci,netdev=n0"]);
        var p = Start(workload == "net" ? "ip" : "qemu-system-x86_64", args);
        var vm = new TcgVm(name, vcpus, workload, p, serial, log);
        Vms.Add(vm);
        return vm;
    }

    /// <summary>The pid of the qemu process of a VM (for a net VM: the child `ip netns exec` became).</summary>
    public static int QemuPid(TcgVm vm) => vm.Process.Id; // ip netns exec execs qemu in place

    /// <summary>Waits until every guest printed "VMTRACE_WL start" on its console.</summary>
    public void WaitForWorkloads(TimeSpan timeout)
    {
        var sw = Stopwatch.StartNew();
        while (!Vms.All(v => File.Exists(v.SerialLog) && File.ReadAllText(v.SerialLog).Contains("VMTRACE_WL start", StringComparison.Ordinal)))
        {
            if (sw.Elapsed > timeout)
                throw new TimeoutException("guests did not start their workload: " + string.Join(", ", Vms.Select(v => v.Name + "=" + (File.Exists(v.SerialLog) ? File.ReadAllText(v.SerialLog).Length : -1))));
            foreach (var v in Vms.Where(v => v.Process.HasExited))
                throw new InvalidOperationException($"qemu of {v.Name} exited early ({v.Process.ExitCode}): {v.Process.StandardError.ReadToEnd()} console: {string.Join(" | ", File.ReadLines(v.SerialLog).TakeLast(3))}");
            Thread.Sleep(100);
        }
    }

    public void WaitForPowerOff(TimeSpan timeout)
    {
        foreach (var v in Vms)
        {
            if (!v.Process.WaitForExit(timeout))
                throw new TimeoutException($"{v.Name} did not power off");
        }
    }

    /// <summary>(rx, tx) bytes of tap0 as the kernel counts them.</summary>
    public (long Rx, long Tx) TapCounters()
    {
        long Read(string what) => long.Parse(Run("ip", $"netns exec {_netns} cat /sys/class/net/tap0/statistics/{what}_bytes", TimeSpan.FromSeconds(10)).Trim(), CultureInfo.InvariantCulture);
        return (Read("rx"), Read("tx"));
    }

    private static Process Start(string file, IEnumerable<string> args)
    {
        var psi = new ProcessStartInfo(file) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        return Process.Start(psi) ?? throw new InvalidOperationException("cannot start " + file);
    }

    public static string Run(string file, string args, TimeSpan timeout, bool check = true)
    {
        var psi = new ProcessStartInfo(file, args) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("cannot start " + file);
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeout))
        {
            p.Kill(true);
            throw new TimeoutException($"{file} {args} did not finish in {timeout}");
        }
        if (check && p.ExitCode != 0)
            throw new InvalidOperationException($"{file} {args} failed ({p.ExitCode}): {stderr.Result}");
        return stdout.Result;
    }

    public void Dispose()
    {
        foreach (var p in Vms.Select(v => v.Process).Concat(_helpers))
        {
            try
            {
                if (!p.HasExited)
                    p.Kill(entireProcessTree: true);
                p.WaitForExit(5000);
            }
            catch (InvalidOperationException)
            {
            }
            p.Dispose();
        }
        if (_netns is not null)
            Run("ip", $"netns del {_netns}", TimeSpan.FromSeconds(10), check: false);
        if (Environment.GetEnvironmentVariable("VMTRACE_KEEP_LAB") != "1")
            Directory.Delete(Work, recursive: true);
    }
}
