using System.Text;
using Vmtrace.Analysis;

namespace Vmtrace.InfluxDb.Tests;

/// <summary>Expected lines follow the escaping table of the InfluxDB line-protocol reference.</summary>
public class LineProtocolWriterTests
{
    private static string Write(Action<LineProtocolWriter> build)
    {
        var sb = new StringBuilder();
        build(new LineProtocolWriter(sb));
        return sb.ToString();
    }

    [Fact]
    public void End_IntegerFloatBoolString_FormatsEachType() =>
        Assert.Equal("m,host=h i=42i,f=0.5,b=true,s=\"x\" 1700000000000000000\n",
            Write(w => w.Begin("m").Tag("host", "h").Field("i", 42L).Field("f", 0.5).Field("b", true).Field("s", "x").End(1_700_000_000_000_000_000)));

    [Fact]
    public void Begin_MeasurementWithCommaSpaceEquals_EscapesCommaAndSpaceOnly() =>
        Assert.Equal("my\\ m\\,x=y v=1i 0\n", Write(w => w.Begin("my m,x=y").Field("v", 1L).End(0)));

    [Fact]
    public void Tag_KeyAndValueWithSpecials_EscapesCommaEqualsSpace() =>
        Assert.Equal("m,a\\ b\\=c=CPU\\ 0/TCG\\,x\\=1 v=1i 5\n",
            Write(w => w.Begin("m").Tag("a b=c", "CPU 0/TCG,x=1").Field("v", 1L).End(5)));

    [Fact]
    public void Field_StringWithQuotesAndBackslash_EscapesThem() =>
        Assert.Equal("m k\\ 1=\"say \\\"hi\\\" \\\\o/\" 1\n", Write(w => w.Begin("m").Field("k 1", "say \"hi\" \\o/").End(1)));

    [Fact]
    public void Tag_EmptyValueAndNewline_OmittedAndReplaced() =>
        Assert.Equal("m,b=x\\ y v=-3i 2\n", Write(w => w.Begin("m").Tag("a", "").Tag("b", "x\ny").Field("v", -3L).End(2)));

    [Fact]
    public void End_NoUsableField_DropsThePoint() =>
        Assert.Equal("", Write(w => w.Begin("m").Tag("a", "b").Field("nan", double.NaN).End(1)));

    [Fact]
    public void Tag_AfterField_Throws() =>
        Assert.Throws<InvalidOperationException>(() => Write(w => w.Begin("m").Field("v", 1L).Tag("a", "b")));

    [Fact]
    public void Format_Window_WritesVmVcpuExitAndInterferencePoints()
    {
        var latency = new LatencyMetrics(2, 30, 10, 20, new LatencyHistogram());
        var vcpu = new VcpuMetrics(0, 31, new CpuTimes(100, 20, 5, 0, 0, 0), [new ExitMetrics(12, latency)]);
        var vm = new VmMetrics("vm A", 7, "inventory", vcpu.Times, 120, 0.12, 1, [vcpu], [new ExitMetrics(12, latency)],
            DiskLayerMetrics.Empty, DiskLayerMetrics.Empty, NetworkMetrics.Empty, [new Interference("host:bash", 5)]);
        var text = MetricsLineProtocol.Format(new WindowMetrics(1000, 2000, 1, [vm]), "h1");
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(4, lines.Length);
        Assert.StartsWith("vmtrace_vm,host=h1,vm=vm\\ A window_ns=1000i,threads_cpu_ns=120i,pcpu_share=0.12,active_vcpus=1i,guest_ns=100i,", lines[0], StringComparison.Ordinal);
        Assert.Equal("vmtrace_vcpu,host=h1,vm=vm\\ A,vcpu=0 tid=31i,guest_ns=100i,host_ns=20i,preempted_ns=5i,wait_ns=0i,blocked_ns=0i,blocked_queued_ns=0i,exits=2i 1000", lines[1]);
        Assert.StartsWith("vmtrace_exit,host=h1,vm=vm\\ A,reason=12 count=2i,latency_sum_ns=30i,latency_min_ns=10i,latency_max_ns=20i,", lines[2], StringComparison.Ordinal);
        Assert.Equal("vmtrace_interference,host=h1,vm=vm\\ A,culprit=host:bash preempted_ns=5i 1000", lines[3]);
    }
}
