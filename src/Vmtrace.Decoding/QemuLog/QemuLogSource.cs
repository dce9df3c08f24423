namespace Vmtrace.Decoding.QemuLog;

// PLACEHOLDER: replaced by the real reader.
public static class QemuLogSource
{
    public static EventSource Open(string path) => throw new NotSupportedException("QemuLogSource is not written yet: " + path);
    public static bool LooksLikeQemuLog(string path) => false;
}
