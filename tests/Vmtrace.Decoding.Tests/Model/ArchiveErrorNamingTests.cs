using System.Text;

namespace Vmtrace.Decoding.Tests.Model;

public class ArchiveErrorNamingTests
{
    [Fact]
    public void DiagnosticsOf_BadLineInsideXzLog_NamesTheXzFileNotTheTempCopy()
    {
        // A qemu log with one garbage line between two good ones, compressed with the xz tool.
        var dir = Directory.CreateTempSubdirectory("vmtrace-xzname-");
        try
        {
            string log = Path.Combine(dir.FullName, "qemu-vm.log");
            File.WriteAllText(log,
                "100@1700000000.000001:thread_pool_submit pool 0x1 req 0x2 opaque 0x3\n" +
                "this is not a qemu trace line\n" +
                "100@1700000000.000002:thread_pool_complete pool 0x1 req 0x2 opaque 0x3 ret 0\n", Encoding.ASCII);
            TestSupport.Tools.Run("xz", "-k", log);
            string xz = log + ".xz";
            using var source = TraceOpener.Open(xz);
            int n = 0;
            while (source.MoveNext()) n++;
            var diag = TraceOpener.DiagnosticsOf(source);
            Assert.Equal(2, n);
            var error = Assert.Single(diag.Errors);
            Assert.Equal(xz, error.File);
            Assert.DoesNotContain("vmtrace-", error.Message.Replace(dir.FullName, "", StringComparison.Ordinal), StringComparison.Ordinal);
        }
        finally
        {
            dir.Delete(true);
        }
    }
}
