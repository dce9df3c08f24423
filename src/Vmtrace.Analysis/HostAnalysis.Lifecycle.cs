using Vmtrace.Decoding;

namespace Vmtrace.Analysis;

/// <summary>Thread and process lifecycle: new tasks, forks, exits, renames, LTTng statedump.</summary>
public sealed partial class HostAnalysis
{
    private const long CloneThread = 0x00010000;
    private int _lastNewTask = -1;

    /// <summary>task_newtask runs in the parent and knows the clone flags: a CLONE_THREAD child joins the parent's process.</summary>
    private void OnNewTask(in TraceEvent e)
    {
        int childTid = (int)e.Get(FieldRole.Tid, -1);
        if (childTid <= 0 || e.Tid <= 0)
            return;
        var parent = Thread(e.Tid);
        var child = FreshThread(childTid);
        bool isThread = (e.Get(FieldRole.CloneFlags, 0) & CloneThread) != 0;
        child.Pid = isThread ? parent.Pid : childTid;
        child.SetComm(e.GetText(FieldRole.Comm));
        Reclassify(child);
        _lastNewTask = childTid;
    }

    private void OnFork(in TraceEvent e)
    {
        int childTid = (int)e.Get(FieldRole.ChildTid, -1);
        if (childTid <= 0)
            return;
        int childPid = (int)e.Get(FieldRole.ChildPid, -1);
        // task_newtask, just before, already described the child (and knew whether it is a thread).
        var child = childTid == _lastNewTask ? Thread(childTid) : FreshThread(childTid);
        _lastNewTask = -1;
        if (childPid >= 0)
            child.Pid = childPid;
        child.SetComm(e.GetText(FieldRole.ChildComm));
        Reclassify(child);
    }

    /// <summary>A tid seen being created: forget what an older thread of that tid was.</summary>
    private ThreadInfo FreshThread(int tid)
    {
        if (_threads.TryGetValue(tid, out var old))
        {
            if (old.State is RunState.Running or RunState.Preempted)
                return old; // still in use: the create event came after it ran, keep the model consistent
            Charge(old, _now);
            RemoveThread(old);
            _vmThreads.Remove(old);
        }
        return NewThread(tid, createdNow: true);
    }

    private void OnExit(in TraceEvent e, long now)
    {
        int tid = (int)e.Get(FieldRole.Tid, e.Tid);
        if (tid <= 0 || !TryGetThread(tid, out var t))
            return;
        Charge(t, now);
        t.PendingExitTime = -1;
    }

    private void OnRename(in TraceEvent e)
    {
        int tid = (int)e.Get(FieldRole.Tid, e.Tid);
        if (tid <= 0)
            return;
        Rename(Thread(tid), e.GetText(FieldRole.NewComm));
    }

    /// <summary>LTTng statedump (and Trace Compass stubs): tid, pid and name of every task at trace start.</summary>
    private void OnStatedump(in TraceEvent e)
    {
        int tid = (int)e.Get(FieldRole.Tid, -1);
        if (tid <= 0)
            return;
        var t = Thread(tid);
        int pid = (int)e.Get(FieldRole.Pid, -1);
        if (pid > 0)
            t.Pid = pid;
        int nameSlot = e.Type.IndexOf("name");
        if (nameSlot >= 0 && e.Type.Fields[nameSlot].Kind == FieldKind.String)
            t.SetComm(e.GetBytes(nameSlot));
        Reclassify(t);
    }
}
