namespace Vmtrace.Decoding.TraceCompassXml;

// PLACEHOLDER: replaced by the real reader.
public static class TraceCompassXmlSource
{
    public static EventSource Open(string path) => throw new NotSupportedException("TraceCompassXmlSource is not written yet: " + path);
}
