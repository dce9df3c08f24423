using SharpFuzz;

namespace Vmtrace.Fuzz;

/// <summary>
/// An afl++ target: afl-fuzz starts this process on the <c>sharpfuzz</c>-instrumented assemblies and hands it
/// inputs; SharpFuzz reports the branch coverage. A <see cref="Vmtrace.Decoding.TraceFormatException"/> is the
/// readers' documented refusal; any other exception is a crash afl keeps.
/// </summary>
internal static class Afl
{
    public static int Run(FuzzTarget target)
    {
        // Instrumented code (the Vmtrace assemblies) may only run inside Fuzzer.Run, where afl's coverage map
        // exists: the work directory is made with the runtime's own API.
        var work = Directory.CreateTempSubdirectory("vmtrace-afl-");
        try
        {
            var buffer = new MemoryStream();
            Fuzzer.OutOfProcess.Run(stream =>
            {
                buffer.SetLength(0);
                stream.CopyTo(buffer);
                target.Run(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), work.FullName);
            });
        }
        finally
        {
            work.Delete(recursive: true);
        }
        return 0;
    }
}
