using System.Globalization;
using System.Text;
using Vmtrace.Agent.Live.Tracefs;

namespace Vmtrace.Agent.Live.Recording;

/// <summary>
/// Writes a trace-cmd <c>trace.dat</c>, version 6 (trace-cmd.dat.v6(5)), from an ftrace instance's formats and
/// the raw ring-buffer pages read from its <c>per_cpu/cpuN/trace_pipe_raw</c>: initial format, header_page,
/// header_event, the ftrace and event formats, no kallsyms or printk formats (nothing here needs them), the
/// saved command lines, the CPU count, options (trace clock, OFFSET to realtime, uname, per-CPU stats) and the
/// flyrecord table with each CPU's pages, page-aligned. Little-endian hosts only (what x86-64 and arm64 KVM hosts are).
/// </summary>
public static class TraceDatWriter
{
    private static readonly byte[] Magic = [0x17, 0x08, 0x44, (byte)'t', (byte)'r', (byte)'a', (byte)'c', (byte)'i', (byte)'n', (byte)'g'];

    private const ushort OptionCpuStat = 2;
    private const ushort OptionTraceClock = 4;
    private const ushort OptionUname = 5;
    private const ushort OptionOffset = 7;

    /// <summary>Metadata read from tracefs, enough to write the file's header.</summary>
    public sealed record Metadata(int PageSize, string HeaderPage, string HeaderEvent, IReadOnlyList<string> FtraceFormats,
        IReadOnlyList<(string System, IReadOnlyList<string> Formats)> EventFormats, string Cmdlines, string TraceClock,
        IReadOnlyList<string> CpuStats, string Uname);

    /// <summary>Reads the metadata of <paramref name="instance"/>: its enabled events' formats, the ftrace formats, saved command lines, clock, per-CPU stats.</summary>
    public static Metadata ReadMetadata(TracefsInstance instance)
    {
        string Read(string path) => File.ReadAllText(path);
        var ftrace = new List<string>();
        string ftraceDir = Path.Combine(instance.Root, "events", "ftrace");
        if (Directory.Exists(ftraceDir))
        {
            foreach (var dir in Directory.EnumerateDirectories(ftraceDir).Order(StringComparer.Ordinal))
            {
                string format = Path.Combine(dir, "format");
                if (File.Exists(format))
                    ftrace.Add(Read(format));
            }
        }
        var systems = new List<(string, IReadOnlyList<string>)>();
        foreach (var group in instance.EnabledEvents.Select(e => e.Split(':', 2)).GroupBy(p => p[0], StringComparer.Ordinal))
            systems.Add((group.Key, group.Select(p => Read(Path.Combine(instance.InstancePath, "events", p[0], p[1], "format"))).ToList()));
        var stats = new List<string>();
        for (int cpu = 0; cpu < instance.CpuCount; cpu++)
            stats.Add($"CPU: {cpu.ToString(CultureInfo.InvariantCulture)}\n" + (File.Exists(instance.PerCpu(cpu, "stats")) ? Read(instance.PerCpu(cpu, "stats")) : ""));
        string cmdlines = File.Exists(Path.Combine(instance.Root, "saved_cmdlines")) ? Read(Path.Combine(instance.Root, "saved_cmdlines")) : "";
        // As trace-cmd writes it, "sysname nodename release machine": readers take the node name as the host.
        string machine = System.Runtime.InteropServices.RuntimeInformation.OSArchitecture switch
        {
            System.Runtime.InteropServices.Architecture.X64 => "x86_64",
            System.Runtime.InteropServices.Architecture.Arm64 => "aarch64",
            var other => other.ToString().ToLowerInvariant(),
        };
        string uname = $"Linux {Environment.MachineName} {ReadOr("/proc/sys/kernel/osrelease")} {machine}";
        return new Metadata(instance.PageSize, Read(Path.Combine(instance.Root, "events", "header_page")), Read(Path.Combine(instance.Root, "events", "header_event")),
            ftrace, systems, cmdlines, Read(Path.Combine(instance.InstancePath, "trace_clock")).Trim(), stats, uname);
    }

    private static string ReadOr(string path)
    {
        try
        {
            return File.ReadAllText(path).Trim();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return "";
        }
    }

    /// <summary>Writes the file: <paramref name="cpuPages"/>[cpu] holds that CPU's pages as read, back to back.</summary>
    public static void Write(string path, Metadata meta, long offsetNs, IReadOnlyList<string> cpuPages)
    {
        if (!BitConverter.IsLittleEndian)
            throw new RecordException("writing trace.dat without trace-cmd is implemented for little-endian hosts only");
        using var f = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite);
        var w = new BinaryWriter(f, Encoding.UTF8, leaveOpen: true);
        w.Write(Magic);
        w.Write("6\0"u8);
        w.Write((byte)0); // little endian
        w.Write((byte)IntPtr.Size);
        w.Write((uint)meta.PageSize);

        w.Write("header_page\0"u8);
        Block64(w, meta.HeaderPage);
        w.Write("header_event\0"u8);
        Block64(w, meta.HeaderEvent);

        w.Write((uint)meta.FtraceFormats.Count);
        foreach (var format in meta.FtraceFormats)
            Block64(w, format);
        w.Write((uint)meta.EventFormats.Count);
        foreach (var (system, formats) in meta.EventFormats)
        {
            CString(w, system);
            w.Write((uint)formats.Count);
            foreach (var format in formats)
                Block64(w, format);
        }
        w.Write(0u); // kallsyms
        w.Write(0u); // trace_printk formats
        Block64(w, meta.Cmdlines);
        w.Write((uint)cpuPages.Count);

        w.Write("options  \0"u8);
        Option(w, OptionTraceClock, meta.TraceClock + "\n");
        Option(w, OptionOffset, offsetNs.ToString(CultureInfo.InvariantCulture));
        Option(w, OptionUname, meta.Uname);
        foreach (var stat in meta.CpuStats)
            Option(w, OptionCpuStat, stat);
        w.Write((ushort)0);

        w.Write("flyrecord\0"u8);
        long table = f.Position;
        long dataStart = Align(table + 16L * cpuPages.Count, meta.PageSize);
        var sizes = cpuPages.Select(p => new FileInfo(p).Length).ToArray();
        long at = dataStart;
        for (int cpu = 0; cpu < cpuPages.Count; cpu++)
        {
            w.Write((ulong)(sizes[cpu] == 0 ? 0 : at));
            w.Write((ulong)sizes[cpu]);
            at = Align(at + sizes[cpu], meta.PageSize);
        }
        w.Flush();
        at = dataStart;
        for (int cpu = 0; cpu < cpuPages.Count; cpu++)
        {
            f.SetLength(at);
            f.Position = at;
            using (var pages = File.OpenRead(cpuPages[cpu]))
                pages.CopyTo(f);
            at = Align(at + sizes[cpu], meta.PageSize);
        }
    }

    private static long Align(long value, int page) => (value + page - 1) / page * page;

    private static void Block64(BinaryWriter w, string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        w.Write((ulong)bytes.Length);
        w.Write(bytes);
    }

    private static void CString(BinaryWriter w, string text)
    {
        w.Write(Encoding.UTF8.GetBytes(text));
        w.Write((byte)0);
    }

    private static void Option(BinaryWriter w, ushort id, string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text + "\0");
        w.Write(id);
        w.Write((uint)bytes.Length);
        w.Write(bytes);
    }
}
