using System.Globalization;

namespace Vmtrace.Agent.Live.Discovery;

/// <summary>
/// Finds the qemu processes of the host in /proc: command line (name, uuid, taps, -D log), threads and
/// their names, tap devices the process holds open (fdinfo "iff:"), libvirt domain from libvirt's pid files.
/// A process that exits during the scan is left out.
/// </summary>
public sealed class QemuProcessScanner
{
    private readonly string _proc;
    private readonly string _libvirtRun;

    public QemuProcessScanner(string proc = "/proc", string libvirtRun = "/run/libvirt/qemu")
    {
        _proc = proc;
        _libvirtRun = libvirtRun;
    }

    public List<DiscoveredVm> Scan()
    {
        var domains = LibvirtDomainsByPid();
        var vms = new List<DiscoveredVm>();
        foreach (var dir in Directory.EnumerateDirectories(_proc))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out int pid))
                continue;
            try
            {
                var vm = Inspect(dir, pid, domains);
                if (vm is not null)
                    vms.Add(vm);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Exited while we looked.
            }
        }
        vms.Sort((a, b) => a.Pid.CompareTo(b.Pid));
        return vms;
    }

    /// <summary>True for a qemu system emulator: comm or argv[0] says qemu-system-* / qemu-kvm.</summary>
    public static bool IsQemu(string comm, string? argv0)
    {
        if (comm.StartsWith("qemu-system", StringComparison.Ordinal) || comm.StartsWith("qemu-kvm", StringComparison.Ordinal))
            return true;
        string exe = argv0 is null ? "" : Path.GetFileName(argv0);
        return exe.StartsWith("qemu-system", StringComparison.Ordinal) || exe == "qemu-kvm";
    }

    private DiscoveredVm? Inspect(string dir, int pid, Dictionary<int, string> domains)
    {
        string comm = File.ReadAllText(Path.Combine(dir, "comm")).TrimEnd('\n');
        var argv = File.ReadAllText(Path.Combine(dir, "cmdline")).Split('\0', StringSplitOptions.None).ToList();
        if (argv.Count > 0 && argv[^1].Length == 0)
            argv.RemoveAt(argv.Count - 1);
        if (argv.Count == 0 || !IsQemu(comm, argv[0]))
            return null;
        var cmd = QemuCommandLine.Parse(argv);
        domains.TryGetValue(pid, out var domain);
        string name = cmd.Name ?? domain ?? "qemu-" + pid.ToString(CultureInfo.InvariantCulture);

        var threads = new List<DiscoveredThread>();
        foreach (var task in Directory.EnumerateDirectories(Path.Combine(dir, "task")))
        {
            if (!int.TryParse(Path.GetFileName(task), NumberStyles.None, CultureInfo.InvariantCulture, out int tid))
                continue;
            try
            {
                string tcomm = File.ReadAllText(Path.Combine(task, "comm")).TrimEnd('\n');
                threads.Add(new DiscoveredThread(tid, tcomm, VcpuIndex(tcomm)));
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
            }
        }
        threads.Sort((a, b) => a.Tid.CompareTo(b.Tid));

        var taps = new List<string>(TapsHeldOpen(dir));
        foreach (var t in cmd.TapNames)
        {
            if (!taps.Contains(t))
                taps.Add(t);
        }
        return new DiscoveredVm(name, pid, cmd.Uuid ?? "", domain, threads, taps, cmd.LogFile);
    }

    /// <summary>"CPU 3/KVM" → 3; other names → -1.</summary>
    public static int VcpuIndex(string comm)
    {
        if (!comm.StartsWith("CPU ", StringComparison.Ordinal))
            return -1;
        int slash = comm.IndexOf('/', StringComparison.Ordinal);
        return slash > 4 && int.TryParse(comm.AsSpan(4, slash - 4), NumberStyles.None, CultureInfo.InvariantCulture, out int n) ? n : -1;
    }

    /// <summary>The tun/tap devices the process has open: /proc/PID/fdinfo/N carries "iff:\tNAME" for a tun file.</summary>
    private static IEnumerable<string> TapsHeldOpen(string dir)
    {
        var found = new List<string>();
        string fdinfo = Path.Combine(dir, "fdinfo");
        if (!Directory.Exists(fdinfo))
            return found;
        foreach (var f in Directory.EnumerateFiles(fdinfo))
        {
            try
            {
                foreach (var line in File.ReadLines(f))
                {
                    if (line.StartsWith("iff:", StringComparison.Ordinal))
                    {
                        string ifname = line[4..].Trim();
                        if (ifname.Length > 0 && !found.Contains(ifname))
                            found.Add(ifname);
                    }
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
            }
        }
        return found;
    }

    /// <summary>libvirt writes /run/libvirt/qemu/DOMAIN.pid for each running domain.</summary>
    private Dictionary<int, string> LibvirtDomainsByPid()
    {
        var map = new Dictionary<int, string>();
        if (!Directory.Exists(_libvirtRun))
            return map;
        foreach (var f in Directory.EnumerateFiles(_libvirtRun, "*.pid"))
        {
            try
            {
                if (int.TryParse(File.ReadAllText(f).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int pid))
                    map[pid] = Path.GetFileNameWithoutExtension(f);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
            }
        }
        return map;
    }
}
