namespace Vmtrace.Decoding.Ftrace;

// PLACEHOLDER: replaced by the real reader.
public static class FtraceFileSource
{
    public static EventSource Open(string path) => throw new NotSupportedException("FtraceFileSource is not written yet: " + path);
}
