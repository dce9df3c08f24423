using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Vmtrace.Agent.Live.Recording;

namespace Vmtrace.Bench;

/// <summary>
/// <c>synth-host</c>: writes a trace-cmd v6 <c>trace.dat</c> and its <c>vmmap.json</c> for a synthetic KVM host,
/// by default 256 VMs of 2 vCPUs (512 vCPU threads) on 128 pCPUs, at per-vCPU rates taken from the corpus:
/// <list type="bullet">
/// <item>kvm exits: 2,000 per vCPU-second, the busy vCPU of hip24-kvm-host-2vms-46s (94,928 entries in 46 s);
/// the exit reasons in its proportions (APIC_WRITE 51 %, HLT 27 %, EPT_MISCONFIG 10 %, MSR_WRITE 7 %,
/// EPT_VIOLATION 4 %, PREEMPTION_TIMER 1 %), every HLT exit then blocking the vCPU;</item>
/// <item>vCPU blocks (sleep, wake-up, switch in): 560 per vCPU-second, that vCPU's HLT exits (25,855 in 46 s);</item>
/// <item>disk: 100 requests per VM-second by its qemu <c>worker</c> thread (insert, issue, complete 300 µs later;
/// s3's disk VM made 800);</item>
/// <item>network: 200 packets per VM-second each way on its tap, written and read by its <c>vhost-PID</c> thread.</item>
/// </list>
/// Each pCPU runs the vCPUs pinned to it in turn (vCPU i on pCPU i mod pCPUs) and the I/O threads of the VMs
/// whose index is its number modulo pCPUs; events carry the thread the scheduler says is running, so the
/// analysis sees a consistent host. Event formats are this machine's (read from tracefs), so the file decodes as a
/// recording made here would. Deterministic for a seed.
/// </summary>
internal static partial class SyntheticHost
{
    private const int PageSize = 4096;
    private const int PageHeader = 16;

    internal sealed record Options(string OutDir, int Vms, int VcpusPerVm, int Pcpus, double Seconds, double ExitsPerVcpuSecond,
        double SleepsPerVcpuSecond, double IopsPerVm, double PacketsPerVm, int Seed);

    public static int Run(string[] args, TextWriter o)
    {
        string? outDir = null;
        int vms = 256, vcpus = 2, pcpus = 128, seed = 1;
        double seconds = 30, exits = 2000, sleeps = 560, iops = 100, packets = 200;
        for (int i = 1; i + 1 < args.Length; i += 2)
        {
            string v = args[i + 1];
            switch (args[i])
            {
                case "--out": outDir = v; break;
                case "--vms": vms = int.Parse(v, CultureInfo.InvariantCulture); break;
                case "--vcpus": vcpus = int.Parse(v, CultureInfo.InvariantCulture); break;
                case "--pcpus": pcpus = int.Parse(v, CultureInfo.InvariantCulture); break;
                case "--seconds": seconds = double.Parse(v, CultureInfo.InvariantCulture); break;
                case "--exits": exits = double.Parse(v, CultureInfo.InvariantCulture); break;
                case "--sleeps": sleeps = double.Parse(v, CultureInfo.InvariantCulture); break;
                case "--iops": iops = double.Parse(v, CultureInfo.InvariantCulture); break;
                case "--packets": packets = double.Parse(v, CultureInfo.InvariantCulture); break;
                case "--seed": seed = int.Parse(v, CultureInfo.InvariantCulture); break;
                default:
                    Console.Error.WriteLine($"unknown option '{args[i]}'");
                    return 2;
            }
        }
        if (outDir is null || vms < 1 || vcpus < 1 || pcpus < 1 || seconds <= 0 || sleeps <= 0 || exits < sleeps)
        {
            Console.Error.WriteLine("usage: Vmtrace.Bench synth-host --out DIR [--vms 256] [--vcpus 2] [--pcpus 128] [--seconds 30] [--exits 2000] [--sleeps 560] [--iops 100] [--packets 200] [--seed 1]   (exits ≥ sleeps: every sleep follows an HLT exit)");
            return 2;
        }
        var options = new Options(outDir, vms, vcpus, pcpus, seconds, exits, sleeps, iops, packets, seed);
        var (events, bytes) = Generate(options);
        o.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{Path.Combine(outDir, "trace.dat")}: {vms} VMs, {vms * vcpus} vCPUs on {pcpus} pCPUs, {seconds} s, {events:N0} events ({events / seconds:N0}/s, {(double)bytes / events:F1} B/event in the file)"));
        return 0;
    }

    /// <summary>Writes DIR/trace.dat and DIR/vmmap.json; the event count and the file's size.</summary>
    public static (long Events, long Bytes) Generate(Options opt)
    {
        Directory.CreateDirectory(opt.OutDir);
        string tracefs = Directory.Exists("/sys/kernel/tracing/events") ? "/sys/kernel/tracing" : "/sys/kernel/debug/tracing";
        if (!File.Exists(Path.Combine(tracefs, "events/header_page")))
            throw new InvalidOperationException($"synth-host: no tracefs at {tracefs}: the event formats are read from this machine's kernel");
        var names = new[]
        {
            ("sched", "sched_switch"), ("sched", "sched_waking"), ("sched", "sched_wakeup"), ("kvm", "kvm_entry"), ("kvm", "kvm_exit"),
            ("block", "block_rq_insert"), ("block", "block_rq_issue"), ("block", "block_rq_complete"), ("net", "net_dev_xmit"), ("net", "netif_receive_skb"),
        };
        var formats = names.ToDictionary(n => n.Item2, n => EventFormat.Parse(File.ReadAllText(Path.Combine(tracefs, "events", n.Item1, n.Item2, "format"))));

        var host = new HostModel(opt);
        string pagesDir = Path.Combine(opt.OutDir, "pages.tmp");
        Directory.CreateDirectory(pagesDir);
        long events = 0;
        var pageFiles = new List<string>();
        for (int cpu = 0; cpu < opt.Pcpus; cpu++)
        {
            string file = Path.Combine(pagesDir, "cpu" + cpu.ToString(CultureInfo.InvariantCulture));
            pageFiles.Add(file);
            using var pages = new PageWriter(file);
            events += new CpuTimeline(cpu, host, formats, pages, opt).Run();
        }

        var cmdlines = new StringBuilder();
        foreach (var (tid, comm) in host.Threads)
            cmdlines.Append(tid.ToString(CultureInfo.InvariantCulture)).Append(' ').Append(comm).Append('\n');
        var meta = new TraceDatWriter.Metadata(PageSize, File.ReadAllText(Path.Combine(tracefs, "events/header_page")),
            File.ReadAllText(Path.Combine(tracefs, "events/header_event")), [],
            names.GroupBy(n => n.Item1).Select(g => (g.Key, (IReadOnlyList<string>)g.Select(n => formats[n.Item2].Text).ToList())).ToList(),
            cmdlines.ToString(), "local global [mono] boot", Enumerable.Range(0, opt.Pcpus).Select(c => $"CPU: {c}\nentries: 0\noverrun: 0\n").ToList(),
            "Linux synthetic-host 6.0.0 x86_64");
        string trace = Path.Combine(opt.OutDir, "trace.dat");
        File.Delete(trace);
        TraceDatWriter.Write(trace, meta, 0, pageFiles);
        Directory.Delete(pagesDir, recursive: true);
        File.WriteAllText(Path.Combine(opt.OutDir, "vmmap.json"), host.VmMapJson());
        return (events, new FileInfo(trace).Length);
    }

    /// <summary>Thread ids and names: VM m has pid 10000 + 100·m (qemu main), vCPU k = pid + 1 + k, worker = pid + 60, vhost = pid + 61.</summary>
    private sealed class HostModel(Options opt)
    {
        public int Pid(int vm) => 10_000 + (100 * vm);
        public int VcpuTid(int vm, int k) => Pid(vm) + 1 + k;
        public int WorkerTid(int vm) => Pid(vm) + 60;
        public int VhostTid(int vm) => Pid(vm) + 61;
        public static string Tap(int vm) => "tap" + vm.ToString(CultureInfo.InvariantCulture);
        public static string VmName(int vm) => "vm" + vm.ToString("D3", CultureInfo.InvariantCulture);

        public IEnumerable<(int Tid, string Comm)> Threads
        {
            get
            {
                for (int m = 0; m < opt.Vms; m++)
                {
                    yield return (Pid(m), "qemu-system-x86");
                    for (int k = 0; k < opt.VcpusPerVm; k++)
                        yield return (VcpuTid(m, k), $"CPU {k}/KVM");
                    yield return (WorkerTid(m), "worker");
                    yield return (VhostTid(m), "vhost-" + Pid(m).ToString(CultureInfo.InvariantCulture));
                }
            }
        }

        public string VmMapJson()
        {
            var vms = Enumerable.Range(0, opt.Vms).Select(m => new Dictionary<string, object>
            {
                ["name"] = VmName(m),
                ["pid"] = Pid(m),
                ["smp"] = opt.VcpusPerVm,
                ["netns_tap"] = Tap(m),
                ["threads"] = Threads.Where(t => t.Tid >= Pid(m) && t.Tid < Pid(m) + 100).Select(t => new Dictionary<string, object> { ["tid"] = t.Tid, ["comm"] = t.Comm }).ToList(),
            }).ToList();
            return JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["scenario"] = $"synthetic host: {opt.Vms} VMs × {opt.VcpusPerVm} vCPUs on {opt.Pcpus} pCPUs, {opt.ExitsPerVcpuSecond} exits and {opt.SleepsPerVcpuSecond} sleeps per vCPU-s, {opt.IopsPerVm} IOPS and {opt.PacketsPerVm} packets/s each way per VM",
                ["host"] = new Dictionary<string, object> { ["ncpu"] = opt.Pcpus },
                ["vms"] = vms,
            });
        }
    }

    /// <summary>One pCPU's events in time order, written to its page file.</summary>
    private sealed class CpuTimeline(int cpu, HostModel host, Dictionary<string, EventFormat> formats, PageWriter pages, Options opt)
    {
        // Exit reasons (Intel VMX) other than HLT, weighted as in hip24-kvm-host-2vms-46s.
        private static readonly (uint Reason, int Weight, int HandleNs)[] Exits =
        [
            (56, 56120, 500), // APIC_WRITE
            (49, 10697, 2200), // EPT_MISCONFIG (MMIO)
            (32, 7293, 800), // MSR_WRITE
            (48, 4130, 3000), // EPT_VIOLATION
            (52, 1378, 600), // PREEMPTION_TIMER
            (1, 432, 1500), // EXTERNAL_INTERRUPT
        ];

        private const uint Hlt = 12;
        private const long SkbBase = unchecked((long)0xffff888000000000UL);
        private const long KernelText = unchecked((long)0xffffffff81000000UL);
        private readonly Random _random = new(opt.Seed * 7919 + cpu);
        private readonly byte[] _buffer = new byte[256];
        private readonly Queue<(long Due, int Vm, long Sector)> _completions = new();
        private long _now = 1_000_000_000L + (cpu * 1000L);
        private int _current; // tid on the CPU, 0 = idle
        private string _currentComm = "swapper/" + cpu.ToString(CultureInfo.InvariantCulture);
        private long _events;
        private bool _inGuest;

        public long Run()
        {
            var vcpus = new List<(int Vm, int K)>();
            for (int i = cpu; i < opt.Vms * opt.VcpusPerVm; i += opt.Pcpus)
                vcpus.Add((i / opt.VcpusPerVm, i % opt.VcpusPerVm));
            var ioVms = new List<int>();
            for (int m = cpu; m < opt.Vms; m += opt.Pcpus)
                ioVms.Add(m);
            long end = _now + (long)(opt.Seconds * 1e9);
            // A vCPU's turn: wake it, switch it in, run until its HLT exit. One turn per sleep.
            double turnNs = vcpus.Count == 0 ? 1e9 : 1e9 / (opt.SleepsPerVcpuSecond * vcpus.Count);
            double exitsPerTurn = opt.ExitsPerVcpuSecond / opt.SleepsPerVcpuSecond;
            var nextIo = ioVms.Select(_ => _now + (long)(_random.NextDouble() * 1e9 / Math.Max(opt.IopsPerVm, 1e-9))).ToArray();
            var nextNet = ioVms.Select(_ => _now + (long)(_random.NextDouble() * 1e9 / Math.Max(opt.PacketsPerVm, 1e-9))).ToArray();
            long sector = 2048L * cpu;
            int turn = 0;
            while (_now < end)
            {
                for (int i = 0; i < ioVms.Count; i++)
                {
                    int m = ioVms[i];
                    if (opt.IopsPerVm > 0 && nextIo[i] <= _now)
                    {
                        RunThread(host.WorkerTid(m), "worker", () =>
                        {
                            sector += 8;
                            Block("block_rq_insert", m, sector, withComm: true);
                            Advance(2_000);
                            Block("block_rq_issue", m, sector, withComm: true);
                            _completions.Enqueue((_now + 300_000, m, sector));
                        });
                        nextIo[i] += (long)(1e9 / opt.IopsPerVm);
                    }
                    if (opt.PacketsPerVm > 0 && nextNet[i] <= _now)
                    {
                        RunThread(host.VhostTid(m), "vhost-" + host.Pid(m).ToString(CultureInfo.InvariantCulture), () =>
                        {
                            Net("netif_receive_skb", m);
                            Advance(3_000);
                            Net("net_dev_xmit", m);
                        });
                        nextNet[i] += (long)(1e9 / opt.PacketsPerVm);
                    }
                }
                if (vcpus.Count == 0)
                {
                    Advance((long)turnNs);
                    continue;
                }
                var (vm, k) = vcpus[turn++ % vcpus.Count];
                long turnEnd = _now + (long)(turnNs * (0.5 + _random.NextDouble()));
                int exits = (int)exitsPerTurn + (_random.NextDouble() < exitsPerTurn - (int)exitsPerTurn ? 1 : 0);
                RunThread(host.VcpuTid(vm, k), $"CPU {k}/KVM", () =>
                {
                    long slice = Math.Max(1_000, (turnEnd - _now) / Math.Max(1, exits));
                    for (int e = 0; e < exits; e++)
                    {
                        Kvm("kvm_entry", k, 0);
                        // In the guest: a completion interrupt would cause an exit first; it is taken after this one.
                        _inGuest = true;
                        Advance(slice);
                        _inGuest = false;
                        int handle = 0;
                        uint reason = e == exits - 1 ? Hlt : PickExit(out handle);
                        Kvm("kvm_exit", k, reason);
                        if (reason != Hlt)
                            Advance(handle);
                    }
                }, blocks: true);
                Advance(2_000);
            }
            while (_completions.Count > 0)
                Complete();
            return _events;
        }

        private uint PickExit(out int handleNs)
        {
            int total = 0;
            foreach (var x in Exits)
                total += x.Weight;
            int r = _random.Next(total);
            foreach (var (reason, weight, handle) in Exits)
            {
                if (r < weight)
                {
                    handleNs = handle;
                    return reason;
                }
                r -= weight;
            }
            handleNs = Exits[0].HandleNs;
            return Exits[0].Reason;
        }

        /// <summary>Wakes <paramref name="tid"/> here, switches to it, runs <paramref name="body"/>, then switches back to idle (blocked: state S).</summary>
        private void RunThread(int tid, string comm, Action body, bool blocks = true)
        {
            Wake("sched_waking", tid, comm);
            Wake("sched_wakeup", tid, comm);
            Advance(1_000);
            Switch(tid, comm, 0);
            body();
            Advance(500);
            Switch(0, "swapper/" + cpu.ToString(CultureInfo.InvariantCulture), blocks ? 1 : 0);
        }

        private void Advance(long ns)
        {
            long to = _now + ns;
            while (!_inGuest && _completions.Count > 0 && _completions.Peek().Due <= to)
            {
                _now = Math.Max(_now, _completions.Peek().Due);
                Complete();
            }
            _now = Math.Max(_now, to);
        }

        private void Complete()
        {
            var (_, vm, sector) = _completions.Dequeue();
            var f = Begin("block_rq_complete", _current);
            f.Set(_buffer, "dev", Dev(vm), 4);
            f.Set(_buffer, "sector", sector, 8);
            f.Set(_buffer, "nr_sector", 8, 4);
            f.Set(_buffer, "error", 0, 4);
            f.SetText(_buffer, "rwbs", "W");
            End(f, f.SetDataLoc(_buffer, "cmd", ""));
            _now += 100;
        }

        private static long Dev(int vm) => (253L << 20) | (uint)vm;

        private void Block(string name, int vm, long sector, bool withComm)
        {
            var f = Begin(name, _current);
            f.Set(_buffer, "dev", Dev(vm), 4);
            f.Set(_buffer, "sector", sector, 8);
            f.Set(_buffer, "nr_sector", 8, 4);
            f.Set(_buffer, "bytes", 4096, 4);
            f.SetText(_buffer, "rwbs", "W");
            if (withComm)
                f.SetText(_buffer, "comm", _currentComm);
            End(f, f.SetDataLoc(_buffer, "cmd", ""));
        }

        private void Net(string name, int vm)
        {
            var f = Begin(name, _current);
            f.Set(_buffer, "skbaddr", SkbBase + (_events * 256), 8);
            f.Set(_buffer, "len", 1514, 4);
            f.Set(_buffer, "rc", 0, 4);
            End(f, f.SetDataLoc(_buffer, "name", HostModel.Tap(vm)));
        }

        private void Kvm(string name, int vcpuId, uint reason)
        {
            var f = Begin(name, _current);
            f.Set(_buffer, "vcpu_id", vcpuId, 4);
            if (name == "kvm_exit")
            {
                f.Set(_buffer, "exit_reason", reason, 4);
                f.Set(_buffer, "guest_rip", KernelText + _random.Next(1 << 20), 8);
            }
            else
            {
                f.Set(_buffer, "rip", KernelText + _random.Next(1 << 20), 8);
            }
            End(f, f.Size);
        }

        private void Wake(string name, int tid, string comm)
        {
            var f = Begin(name, _current);
            f.SetText(_buffer, "comm", comm);
            f.Set(_buffer, "pid", tid, 4);
            f.Set(_buffer, "prio", 120, 4);
            f.Set(_buffer, "target_cpu", cpu, 4);
            End(f, f.Size);
        }

        private void Switch(int next, string nextComm, long prevState)
        {
            var f = Begin("sched_switch", _current);
            f.SetText(_buffer, "prev_comm", _currentComm);
            f.Set(_buffer, "prev_pid", _current, 4);
            f.Set(_buffer, "prev_prio", 120, 4);
            f.Set(_buffer, "prev_state", _current == 0 ? 0 : prevState, 8);
            f.SetText(_buffer, "next_comm", nextComm);
            f.Set(_buffer, "next_pid", next, 4);
            f.Set(_buffer, "next_prio", 120, 4);
            End(f, f.Size);
            _current = next;
            _currentComm = nextComm;
        }

        private EventFormat Begin(string name, int pid)
        {
            var f = formats[name];
            Array.Clear(_buffer);
            BinaryPrimitives.WriteUInt16LittleEndian(_buffer, (ushort)f.Id);
            BinaryPrimitives.WriteInt32LittleEndian(_buffer.AsSpan(4), pid);
            return f;
        }

        private void End(EventFormat f, int length)
        {
            _ = f;
            pages.Write(_now, _buffer.AsSpan(0, length));
            _events++;
            _now += 50;
        }
    }

    /// <summary>An event's format as tracefs gives it: its id, size and field offsets.</summary>
    private sealed partial class EventFormat
    {
        public required string Text { get; init; }
        public required int Id { get; init; }
        public required int Size { get; init; }
        public required Dictionary<string, (int Offset, int Size)> Fields { get; init; }

        [GeneratedRegex(@"field:([^;]*?)\s*([A-Za-z_][A-Za-z0-9_]*)(\[[^\]]*\])?;\s*offset:(\d+);\s*size:(\d+);")]
        private static partial Regex FieldLine();

        public static EventFormat Parse(string text)
        {
            int id = int.Parse(Regex.Match(text, @"^ID:\s*(\d+)", RegexOptions.Multiline).Groups[1].Value, CultureInfo.InvariantCulture);
            var fields = new Dictionary<string, (int, int)>(StringComparer.Ordinal);
            int size = 0;
            foreach (Match m in FieldLine().Matches(text))
            {
                int offset = int.Parse(m.Groups[4].Value, CultureInfo.InvariantCulture), length = int.Parse(m.Groups[5].Value, CultureInfo.InvariantCulture);
                fields[m.Groups[2].Value] = (offset, length);
                size = Math.Max(size, offset + length);
            }
            return new EventFormat { Text = text, Id = id, Size = size, Fields = fields };
        }

        public void Set(byte[] buffer, string field, long value, int bytes)
        {
            if (!Fields.TryGetValue(field, out var at))
                return;
            var span = buffer.AsSpan(at.Offset, at.Size);
            switch (Math.Min(at.Size, bytes))
            {
                case 1: span[0] = (byte)value; break;
                case 2: BinaryPrimitives.WriteInt16LittleEndian(span, (short)value); break;
                case 4: BinaryPrimitives.WriteInt32LittleEndian(span, (int)value); break;
                default: BinaryPrimitives.WriteInt64LittleEndian(span, value); break;
            }
        }

        public void SetText(byte[] buffer, string field, string value)
        {
            if (!Fields.TryGetValue(field, out var at))
                return;
            int n = Math.Min(value.Length, at.Size - 1);
            Encoding.ASCII.GetBytes(value.AsSpan(0, n), buffer.AsSpan(at.Offset));
        }

        /// <summary>A <c>__data_loc</c> string placed after the fixed fields; the record's length with it.</summary>
        public int SetDataLoc(byte[] buffer, string field, string value)
        {
            if (!Fields.TryGetValue(field, out var at))
                return Size;
            int start = Size;
            int length = Encoding.ASCII.GetBytes(value, buffer.AsSpan(start)) + 1;
            buffer[start + length - 1] = 0;
            BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(at.Offset), ((uint)length << 16) | (uint)start);
            return start + length;
        }
    }

    /// <summary>Ring-buffer pages (header_page: u64 timestamp, 8-byte commit, data) of one CPU, written to a file.</summary>
    private sealed class PageWriter(string path) : IDisposable
    {
        private readonly FileStream _file = new(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        private readonly byte[] _page = new byte[PageSize];
        private int _used = -1;
        private long _last;

        public void Write(long timestamp, ReadOnlySpan<byte> data)
        {
            int padded = (data.Length + 3) & ~3;
            if (padded > 28 * 4)
                throw new InvalidOperationException($"synth-host: a {data.Length}-byte event is larger than the generator writes");
            long delta = timestamp - _last;
            if (_used < 0 || _used + 4 + padded > PageSize - PageHeader || delta >= 1L << 27 || delta < 0)
            {
                Flush();
                _used = 0;
                _last = timestamp;
                BinaryPrimitives.WriteInt64LittleEndian(_page, timestamp);
                delta = 0;
            }
            var at = _page.AsSpan(PageHeader + _used);
            BinaryPrimitives.WriteUInt32LittleEndian(at, (uint)(padded / 4) | ((uint)delta << 5));
            data.CopyTo(at[4..]);
            at.Slice(4 + data.Length, padded - data.Length).Clear();
            _used += 4 + padded;
            _last = timestamp;
        }

        private void Flush()
        {
            if (_used < 0)
                return;
            BinaryPrimitives.WriteInt64LittleEndian(_page.AsSpan(8), _used);
            _page.AsSpan(PageHeader + _used).Clear();
            _file.Write(_page);
        }

        public void Dispose()
        {
            Flush();
            _file.Dispose();
        }
    }
}
