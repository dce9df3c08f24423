using System.Globalization;
using System.Runtime.InteropServices;
using Vmtrace.Decoding;

namespace Vmtrace.Analysis;

/// <summary>
/// Finds the VMs of a host trace from the trace alone, for when no vmmap.json says which thread is whose: a
/// pass over the events (fed in time order with <see cref="OnEvent"/>) that yields an inventory
/// (<see cref="Result"/>) to give <see cref="HostAnalysis.AddInventory"/> before the analysis proper, so
/// <c>vmtrace analyze</c> and the agent's replay (which sends it as its inventory record) start from the same one.
/// <para>
/// Evidence, strongest first: thread-group ids (LTTng statedump, fork events' child_pid) → <see cref="VmIdentity.Tgid"/>;
/// creation events (task_newtask clone flags, sched_process_fork without a later exec) → <see cref="VmIdentity.Fork"/>;
/// <c>vhost-PID</c> names → <see cref="VmIdentity.Names"/>. Threads of qemu (named <c>qemu-system-*</c>,
/// <c>CPU n/KVM|TCG</c>, <c>IO …</c>, <c>worker</c>, or running kvm events) that none of these places are grouped by
/// who wakes whom → <see cref="VmIdentity.Guess"/>: a VM's main loop and vCPU threads kick each other hundreds of
/// times a second, while a wake-up between two VMs only happens when an interrupt lands while the other VM runs, so
/// an edge counts only when it is well above that background (see <see cref="IsStrongEdge"/>).
/// </para>
/// <para>
/// Pure and deterministic: same events, same inventory. Threads never seen with another qemu thread stay out
/// (the analysis then names a vCPU among them after its thread, as before).
/// </para>
/// </summary>
public sealed class IdentityInference
{
    private const long CloneThread = 0x00010000;

    /// <summary>Fewest wake-ups between two threads to link them (below, too few to tell from chance).</summary>
    internal const int MinEdgeWakeups = 8;

    /// <summary>How many times the background rate of interrupt-time wake-ups an edge must reach (real traces: noise 0.2-0.7, a VM's own edges 2.6-8).</summary>
    internal const double EdgeOverBackground = 1.0;

    /// <summary>Least share of one of its threads' strongest edge an edge needs to link them.</summary>
    internal const double EdgeOfStrongest = 0.25;

    /// <summary>A vCPU without a name or kvm event (TCG, no debug-threads) runs at least this share of its VM's busiest thread.</summary>
    internal const double VcpuRuntimeShare = 0.25;

    private readonly Dictionary<int, Node> _nodes = [];
    private readonly Dictionary<long, int> _wakings = [];
    private readonly Dictionary<long, int> _wakeups = [];
    private readonly Dictionary<int, long> _wokenByWaking = [];
    private readonly Dictionary<int, long> _wokenByWakeup = [];
    private (int Tid, long Since)[] _onCpu = [];
    private long _runTotal;
    private int _lastNewTask = -1;

    private sealed class Node(int tid)
    {
        public int Tid { get; } = tid;
        public string Comm { get; set; } = "";
        public bool QemuNamed { get; set; }
        public bool QemuHelperNamed { get; set; }
        public int NamedVcpu { get; set; } = -1;
        public int KvmVcpu { get; set; } = -1;
        public bool RanKvm { get; set; }
        public int VhostOwner { get; set; } = -1;
        /// <summary>Thread-group id the trace states, -1 when it does not.</summary>
        public int Tgid { get; set; } = -1;
        /// <summary>True when <see cref="Tgid"/> comes from a creation event rather than a tgid record.</summary>
        public bool TgidFromFork { get; set; }
        /// <summary>The thread that created this one when the trace saw it (ftrace fork: thread or process unknown).</summary>
        public int Parent { get; set; } = -1;
        public bool Execed { get; set; }
        public long RunNs { get; set; }
    }

    /// <summary>Thread names known before the first event (saved_cmdlines, statedump).</summary>
    public void AddThreadNames(IReadOnlyDictionary<int, string> names)
    {
        ArgumentNullException.ThrowIfNull(names);
        foreach (var (tid, comm) in names.OrderBy(kv => kv.Key))
            Name(NodeOf(tid), comm);
    }

    public void OnEvent(in TraceEvent e)
    {
        switch (e.Known)
        {
            case KnownEvent.SchedSwitch: OnSwitch(e); break;
            case KnownEvent.SchedWaking: Wake(e, _wakings, _wokenByWaking); break;
            case KnownEvent.SchedWakeup:
            case KnownEvent.SchedWakeupNew: Wake(e, _wakeups, _wokenByWakeup); break;
            case KnownEvent.TaskNewtask: OnNewTask(e); break;
            case KnownEvent.SchedProcessFork: OnFork(e); break;
            case KnownEvent.SchedProcessExec: OnExec(e); break;
            case KnownEvent.TaskRename:
            {
                int tid = (int)e.Get(FieldRole.Tid, e.Tid);
                if (tid > 0)
                    Name(NodeOf(tid), Text(e, FieldRole.NewComm));
                break;
            }
            case KnownEvent.StatedumpProcessState: OnStatedump(e); break;
            case KnownEvent.KvmEntry:
            case KnownEvent.KvmExit:
                if (e.Tid > 0)
                {
                    var n = NodeOf(e.Tid);
                    n.RanKvm = true;
                    if (n.KvmVcpu < 0 && e.Has(FieldRole.VcpuId))
                        n.KvmVcpu = (int)e.Get(FieldRole.VcpuId, -1);
                }
                break;
            default: break;
        }
    }

    private void OnSwitch(in TraceEvent e)
    {
        int prev = (int)e.Get(FieldRole.PrevTid, -1);
        int next = (int)e.Get(FieldRole.NextTid, -1);
        if (prev > 0 && e.Has(FieldRole.PrevComm))
            NameIfChanged(NodeOf(prev), e.GetText(FieldRole.PrevComm));
        if (next > 0 && e.Has(FieldRole.NextComm))
            NameIfChanged(NodeOf(next), e.GetText(FieldRole.NextComm));
        int cpu = e.Cpu;
        if (cpu is < 0 or >= 65536)
            return;
        if (cpu >= _onCpu.Length)
            Array.Resize(ref _onCpu, Math.Max(cpu + 1, _onCpu.Length * 2));
        var (running, since) = _onCpu[cpu];
        if (running > 0 && running == prev && since > 0 && e.Timestamp > since)
        {
            long ran = e.Timestamp - since;
            NodeOf(prev).RunNs += ran;
            _runTotal += ran;
        }
        else if (since > 0 && e.Timestamp > since)
        {
            _runTotal += e.Timestamp - since;
        }
        _onCpu[cpu] = (next, e.Timestamp);
    }

    /// <summary>A wake-up from a task (the event's thread) to another. Swapper (tid 0) wakes from interrupts only: not counted.</summary>
    private void Wake(in TraceEvent e, Dictionary<long, int> edges, Dictionary<int, long> woken)
    {
        int target = (int)e.Get(FieldRole.Tid, -1);
        if (target <= 0)
            return;
        if (e.Has(FieldRole.Comm))
            NameIfChanged(NodeOf(target), e.GetText(FieldRole.Comm));
        CollectionsMarshal.GetValueRefOrAddDefault(woken, target, out _)++;
        if (e.Tid <= 0 || e.Tid == target)
            return;
        CollectionsMarshal.GetValueRefOrAddDefault(edges, Key(e.Tid, target), out _)++;
    }

    private void OnNewTask(in TraceEvent e)
    {
        int child = (int)e.Get(FieldRole.Tid, -1);
        if (child <= 0 || e.Tid <= 0)
            return;
        var node = NodeOf(child);
        if ((e.Get(FieldRole.CloneFlags, 0) & CloneThread) != 0)
        {
            node.Parent = e.Tid;
        }
        else
        {
            node.Tgid = child;
            node.TgidFromFork = true;
        }
        if (e.Has(FieldRole.Comm))
            Name(node, Text(e, FieldRole.Comm));
        _lastNewTask = child;
    }

    private void OnFork(in TraceEvent e)
    {
        int child = (int)e.Get(FieldRole.ChildTid, -1);
        int parent = (int)e.Get(FieldRole.ParentTid, e.Tid);
        if (child <= 0)
            return;
        var node = NodeOf(child);
        int childPid = (int)e.Get(FieldRole.ChildPid, -1);
        if (childPid > 0)
        {
            node.Tgid = childPid;
            node.TgidFromFork = true;
        }
        else if (child != _lastNewTask && parent > 0 && parent != child)
        {
            node.Parent = parent; // ftrace: a thread or a process; an exec later says which
        }
        _lastNewTask = -1;
        if (e.Has(FieldRole.ChildComm))
            Name(node, Text(e, FieldRole.ChildComm));
    }

    private void OnExec(in TraceEvent e)
    {
        int tid = (int)e.Get(FieldRole.Tid, e.Tid);
        if (tid <= 0)
            return;
        var node = NodeOf(tid);
        node.Execed = true;
        int pid = (int)e.Get(FieldRole.Pid, -1);
        node.Tgid = pid > 0 ? pid : tid;
        node.TgidFromFork = true;
        // A new program: what the task was named before (a qemu helper's child, say) no longer says anything.
        node.QemuNamed = false;
        node.QemuHelperNamed = false;
        node.NamedVcpu = -1;
        if (e.Has(FieldRole.Filename))
        {
            string file = Text(e, FieldRole.Filename);
            string name = file[(file.LastIndexOf('/') + 1)..];
            Name(node, name.Length > 15 ? name[..15] : name);
        }
    }

    private void OnStatedump(in TraceEvent e)
    {
        int tid = (int)e.Get(FieldRole.Tid, -1);
        if (tid <= 0)
            return;
        var node = NodeOf(tid);
        int pid = (int)e.Get(FieldRole.Pid, -1);
        if (pid > 0)
        {
            node.Tgid = pid;
            node.TgidFromFork = false;
        }
        int nameSlot = e.Type.IndexOf("name");
        if (nameSlot >= 0 && e.Type.Fields[nameSlot].Kind == FieldKind.String)
            Name(node, e.GetString(nameSlot));
    }

    private Node NodeOf(int tid)
    {
        ref var node = ref CollectionsMarshal.GetValueRefOrAddDefault(_nodes, tid, out bool exists);
        if (!exists)
            node = new Node(tid);
        return node!;
    }

    private static string Text(in TraceEvent e, FieldRole role) => System.Text.Encoding.UTF8.GetString(e.GetText(role));

    /// <summary>Names from switch and wake-up events: a string is built only when the name changes.</summary>
    private static void NameIfChanged(Node node, ReadOnlySpan<byte> utf8)
    {
        if (utf8.IsEmpty)
            return;
        Span<char> chars = stackalloc char[64];
        if (utf8.Length > chars.Length)
            return;
        int n = System.Text.Encoding.UTF8.GetChars(utf8, chars);
        if (chars[..n].SequenceEqual(node.Comm))
            return;
        Name(node, new string(chars[..n]));
    }

    private static void Name(Node node, string comm)
    {
        if (comm.Length == 0)
            return;
        node.Comm = comm;
        if (Trackers.IdentityTracker.IsQemuName(comm))
            node.QemuNamed = true;
        if (Trackers.IdentityTracker.TryParseVcpuName(comm, out int vcpu))
            node.NamedVcpu = vcpu;
        if (comm == "worker" || comm.StartsWith("IO ", StringComparison.Ordinal))
            node.QemuHelperNamed = true;
        if (comm.StartsWith("vhost-", StringComparison.Ordinal)
            && int.TryParse(comm.AsSpan(6), NumberStyles.None, CultureInfo.InvariantCulture, out int owner) && owner > 0)
            node.VhostOwner = owner;
    }

    private static long Key(int from, int to) => ((long)from << 32) | (uint)to;

    /// <summary>A qemu thread by its name or by running a vCPU: what can make a group a VM.</summary>
    private static bool IsSeed(Node n) => n.QemuNamed || n.NamedVcpu >= 0 || n.RanKvm;

    private static bool IsCandidate(Node n) => IsSeed(n) || n.QemuHelperNamed;

    /// <summary>The process a thread belongs to as the trace states it, and whether a creation event (not a tgid) said so.</summary>
    private (int Pid, bool ByFork) ProcessOf(Node n)
    {
        bool byFork = false;
        for (int depth = 0; depth < 64; depth++)
        {
            if (n.Tgid > 0)
                return (n.Tgid, byFork || n.TgidFromFork);
            if (n.Parent <= 0 || n.Execed || !_nodes.TryGetValue(n.Parent, out var parent))
                return byFork ? (n.Tid, true) : (-1, false); // threads created by a task the trace saw no origin of: its process
            byFork = true;
            n = parent;
        }
        return (-1, false);
    }

    /// <summary>
    /// True when a→b wake-ups (either way) are well above what interrupts alone would give: an interrupt wakes b
    /// in whatever thread runs, so by chance a gets about b's wake-ups × a's share of all run time.
    /// </summary>
    private bool IsStrongEdge(Dictionary<long, int> edges, Dictionary<int, long> woken, Node a, Node b) =>
        IsStrong(edges, woken, a, b) || IsStrong(edges, woken, b, a);

    private bool IsStrong(Dictionary<long, int> edges, Dictionary<int, long> woken, Node from, Node to)
    {
        if (!edges.TryGetValue(Key(from.Tid, to.Tid), out int count) || count < MinEdgeWakeups)
            return false;
        double share = _runTotal > 0 ? (double)from.RunNs / _runTotal : 0;
        double background = woken.GetValueOrDefault(to.Tid) * share;
        return count >= EdgeOverBackground * background;
    }

    /// <summary>The VMs found, ordered by pid; each with its threads (vCPU index where known) and how it was identified.</summary>
    public IReadOnlyList<VmInventory> Result()
    {
        // sched_waking when the trace has it (one per wake-up, in the waker), else sched_wakeup.
        bool useWaking = _wakings.Count > 0;
        var edges = useWaking ? _wakings : _wakeups;
        var woken = useWaking ? _wokenByWaking : _wokenByWakeup;

        var nodes = _nodes.Values.OrderBy(n => n.Tid).ToList();
        var groups = new UnionFind(nodes.Count);
        var index = new Dictionary<int, int>(nodes.Count);
        for (int i = 0; i < nodes.Count; i++)
            index[nodes[i].Tid] = i;

        // 1. What the trace states: every thread with a known process joins it (qemu or not, filtered below).
        var statedPid = new int[nodes.Count];
        var how = new string[nodes.Count];
        var pidRoot = new Dictionary<int, int>();
        for (int i = 0; i < nodes.Count; i++)
        {
            (statedPid[i], bool byFork) = ProcessOf(nodes[i]);
            how[i] = byFork ? VmIdentity.Fork : VmIdentity.Tgid;
            if (nodes[i].VhostOwner > 0)
                (statedPid[i], how[i]) = (nodes[i].VhostOwner, VmIdentity.Names); // a kernel thread serving that qemu
        }
        for (int i = 0; i < nodes.Count; i++)
        {
            // The task threads were seen created by, with no origin of its own: the leader of that process.
            if (statedPid[i] > 0 && statedPid[i] != nodes[i].Tid && index.TryGetValue(statedPid[i], out int lead) && statedPid[lead] <= 0)
                (statedPid[lead], how[lead]) = (nodes[lead].Tid, how[i]);
        }
        for (int i = 0; i < nodes.Count; i++)
        {
            if (statedPid[i] <= 0)
                how[i] = VmIdentity.Guess;
            if (statedPid[i] <= 0)
                continue;
            if (pidRoot.TryGetValue(statedPid[i], out int first))
                groups.Union(first, i);
            else
                pidRoot[statedPid[i]] = i;
            if (index.TryGetValue(statedPid[i], out int leader))
                groups.Union(leader, i);
        }
        var knownPid = new Dictionary<int, int>(); // root → pid
        for (int i = 0; i < nodes.Count; i++)
        {
            if (statedPid[i] > 0)
                knownPid[groups.Find(i)] = statedPid[i];
        }

        // 2. qemu threads whose process the trace does not state: linked by strong wake-up edges.
        var candidates = Enumerable.Range(0, nodes.Count).Where(i => IsCandidate(nodes[i])).ToList();
        var strong = new List<(int A, int B, long Weight)>();
        foreach (var (key, _) in edges.OrderBy(kv => kv.Key))
        {
            int from = (int)(key >> 32), to = (int)key;
            if (from >= to && edges.ContainsKey(Key(to, from)))
                continue; // the pair is looked at once, from its smaller tid
            if (!index.TryGetValue(from, out int a) || !index.TryGetValue(to, out int b))
                continue;
            if (!IsCandidate(nodes[a]) || !IsCandidate(nodes[b]))
                continue;
            if (statedPid[a] > 0 && statedPid[b] > 0)
                continue; // the trace already says where both belong
            if (IsStrongEdge(edges, woken, nodes[a], nodes[b]))
                strong.Add((Math.Min(a, b), Math.Max(a, b), edges.GetValueOrDefault(key) + edges.GetValueOrDefault(Key(to, from))));
        }
        // Timers that expire together (slack) make two VMs' threads wake each other more than chance would:
        // an edge also has to matter to one of its threads, next to that thread's strongest one.
        var strongest = new long[nodes.Count];
        foreach (var (a, b, w) in strong)
        {
            strongest[a] = Math.Max(strongest[a], w);
            strongest[b] = Math.Max(strongest[b], w);
        }
        var linked = strong.Where(s => s.Weight >= EdgeOfStrongest * strongest[s.A] || s.Weight >= EdgeOfStrongest * strongest[s.B])
            .Select(s => (s.A, s.B)).Distinct().OrderBy(p => p.A).ThenBy(p => p.B).ToList();
        foreach (var (a, b) in linked)
        {
            int ra = groups.Find(a), rb = groups.Find(b);
            if (ra == rb)
                continue;
            bool ka = knownPid.TryGetValue(ra, out int pa), kb = knownPid.TryGetValue(rb, out int pb);
            if (ka && kb && pa != pb)
                continue; // never merge two processes the trace tells apart
            int root = groups.Union(ra, rb);
            if (ka || kb)
                knownPid[root] = ka ? pa : pb;
            if (statedPid[a] <= 0)
                how[a] = VmIdentity.Guess;
            if (statedPid[b] <= 0)
                how[b] = VmIdentity.Guess;
        }

        // 3. Groups holding a qemu thread become VMs.
        var members = new SortedDictionary<int, List<int>>();
        foreach (int i in candidates)
        {
            int root = groups.Find(i);
            if (!members.ContainsKey(root))
                members[root] = [];
        }
        for (int i = 0; i < nodes.Count; i++)
        {
            if (members.TryGetValue(groups.Find(i), out var list))
                list.Add(i);
        }
        var vms = new List<VmInventory>();
        foreach (var (root, list) in members)
        {
            if (!list.Any(i => IsSeed(nodes[i])))
                continue;
            bool hasPid = knownPid.TryGetValue(root, out int pid);
            if (!hasPid && list.Count < 2)
                continue; // a lone vCPU thread: the analysis names it after its tid
            if (!hasPid)
                pid = nodes[list[0]].Tid; // qemu's main thread is created first: the lowest tid
            vms.Add(Vm(pid, hasPid, list.Select(i => nodes[i]).ToList(), Weakest(list.Select(i => how[i]))));
        }
        return vms.OrderBy(v => v.Pid).ToList();
    }

    private static readonly string[] StrongestFirst = [VmIdentity.Tgid, VmIdentity.Fork, VmIdentity.Names, VmIdentity.Guess];

    /// <summary>
    /// A VM is identified as well as its least certain thread (a thread the trace never placed is a guess); vhost
    /// threads, placed by their name, count only when nothing else places the VM.
    /// </summary>
    private static string Weakest(IEnumerable<string> kinds)
    {
        var list = kinds.ToList();
        if (list.Any(k => k != VmIdentity.Names))
            list.RemoveAll(k => k == VmIdentity.Names);
        return StrongestFirst[list.Max(k => Array.IndexOf(StrongestFirst, k))];
    }

    private static VmInventory Vm(int pid, bool pidStated, List<Node> threads, string kind)
    {
        // vCPUs: by name (CPU n/…), else by kvm events; with neither (TCG without debug-threads) the threads
        // other than the main one that run most, numbered in tid order (qemu creates vCPU threads in order).
        var vcpu = new Dictionary<int, int>();
        foreach (var t in threads)
        {
            if (t.NamedVcpu >= 0)
                vcpu[t.Tid] = t.NamedVcpu;
            else if (t.RanKvm)
                vcpu[t.Tid] = Math.Max(0, t.KvmVcpu);
        }
        string vcpuBasis = "names or kvm events";
        if (vcpu.Count == 0)
        {
            var others = threads.Where(t => t.Tid != pid && t.VhostOwner <= 0 && t.RunNs > 0).ToList();
            long busiest = others.Count > 0 ? others.Max(t => t.RunNs) : 0;
            int next = 0;
            foreach (var t in others.Where(t => t.RunNs >= VcpuRuntimeShare * busiest).OrderBy(t => t.Tid))
                vcpu[t.Tid] = next++;
            vcpuBasis = "run time (no vCPU names, no kvm events)";
        }
        var list = threads.Select(t => new InventoryThread(t.Tid, t.Comm, vcpu.GetValueOrDefault(t.Tid, -1))).ToList();
        string pidText = pid.ToString(CultureInfo.InvariantCulture);
        string evidence = kind switch
        {
            VmIdentity.Tgid => "trace: thread-group ids",
            VmIdentity.Fork => "trace: thread creation events",
            VmIdentity.Names => "trace: thread names",
            _ => pidStated
                ? "threads joined to process " + pidText + " by wake-ups"
                : list.Count.ToString(CultureInfo.InvariantCulture) + " qemu threads grouped by wake-ups, pid taken as the lowest tid " + pidText,
        };
        return new VmInventory("qemu-" + pidText, pid, list, [])
        {
            Identity = kind,
            Evidence = evidence + "; vCPUs by " + vcpuBasis,
        };
    }

    /// <summary>Runs the pass over a whole source (after its initial thread names).</summary>
    public static IReadOnlyList<VmInventory> Of(EventSource source)
    {
        ArgumentNullException.ThrowIfNull(source);
        var inference = new IdentityInference();
        inference.AddThreadNames(source.InitialThreadNames);
        while (source.MoveNext())
            inference.OnEvent(source.Current);
        return inference.Result();
    }

    private sealed class UnionFind
    {
        private readonly int[] _parent;

        public UnionFind(int count)
        {
            _parent = new int[count];
            for (int i = 0; i < count; i++)
                _parent[i] = i;
        }

        public int Find(int i)
        {
            while (_parent[i] != i)
            {
                _parent[i] = _parent[_parent[i]];
                i = _parent[i];
            }
            return i;
        }

        /// <summary>Joins two sets; the root kept is the smaller index (deterministic).</summary>
        public int Union(int a, int b)
        {
            int ra = Find(a), rb = Find(b);
            if (ra == rb)
                return ra;
            int root = Math.Min(ra, rb);
            _parent[Math.Max(ra, rb)] = root;
            return root;
        }
    }
}
