using System.Reflection;
using System.Runtime.InteropServices;

namespace Vmtrace.Kafka;

/// <summary>
/// Loads librdkafka once for Confluent.Kafka and for the P/Invoke of the mock cluster (Vmtrace.Kafka.Mock). The default
/// glibc build of librdkafka.redist needs libsasl2.so.3, which Debian 12 does not have (it ships .so.2); the
/// package's self-contained "centos8" build needs nothing beyond glibc, so it is used when the default does not load.
/// </summary>
public static class KafkaNative
{
    private static readonly object s_lock = new();
    private static IntPtr s_handle;
    private static string? s_path;

    /// <summary>The librdkafka file in use, after <see cref="EnsureLoaded"/>.</summary>
    public static string? LoadedPath => s_path;

    public static void EnsureLoaded()
    {
        lock (s_lock)
        {
            if (s_handle != IntPtr.Zero)
                return;
            var errors = new List<string>();
            foreach (var candidate in Candidates())
            {
                if (!File.Exists(candidate))
                    continue;
                if (NativeLibrary.TryLoad(candidate, out var handle))
                {
                    // Confluent.Kafka picks its own build (it falls back to the centos8 one when the default
                    // does not load); Library.Load(path) would need libdl.so, which glibc 2.34+ no longer has.
                    _ = Confluent.Kafka.Library.Version;
                    s_handle = handle;
                    s_path = candidate;
                    NativeLibrary.SetDllImportResolver(typeof(KafkaNative).Assembly, Resolve);
                    return;
                }
                errors.Add(candidate);
            }
            throw new DllNotFoundException("cannot load librdkafka (tried: " + (errors.Count == 0 ? "no file found" : string.Join(", ", errors)) +
                "); the default build needs libsasl2.so.3");
        }
    }

    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? path) =>
        name == "librdkafka" ? s_handle : IntPtr.Zero;

    private static IEnumerable<string> Candidates()
    {
        string rid = RuntimeInformation.ProcessArchitecture switch
        {
            Architecture.Arm64 => "linux-arm64",
            _ => "linux-x64",
        };
        foreach (var dir in new[] { AppContext.BaseDirectory, Path.GetDirectoryName(typeof(Confluent.Kafka.Library).Assembly.Location) ?? "" })
        {
            string native = Path.Combine(dir, "runtimes", rid, "native");
            yield return Path.Combine(native, "librdkafka.so");
            yield return Path.Combine(native, "centos8-librdkafka.so");
            yield return Path.Combine(dir, "librdkafka.so");
        }
    }
}
