using Vmtrace.TestSupport;

namespace Vmtrace.InfluxDb.Tests.RealServer;

public sealed class InfluxServerTests
{
    [InfluxFact]
    public async Task Url_TwoServersAtOnce_EachAnswersOnItsOwnPortAndDirectory()
    {
        using var first = new InfluxServer();
        using var second = new InfluxServer();

        string a = first.Url, b = second.Url;

        Assert.NotEqual(a, b);
        Assert.NotEqual(first.Directory, second.Directory);
        Assert.Contains("bind-address = \"127.0.0.1:", await File.ReadAllTextAsync(Path.Combine(first.Directory!, "influxdb.conf")));
        using var http = new HttpClient();
        Assert.Equal(System.Net.HttpStatusCode.NoContent, (await http.GetAsync(a + "/ping")).StatusCode);
        Assert.Equal(System.Net.HttpStatusCode.NoContent, (await http.GetAsync(b + "/ping")).StatusCode);
    }

    [InfluxFact]
    public async Task Dispose_RunningServer_StopsItAndDeletesItsDirectory()
    {
        var server = new InfluxServer();
        string url = server.Url;
        string directory = server.Directory!;
        Assert.True(System.IO.Directory.Exists(Path.Combine(directory, "meta")));

        server.Dispose();

        Assert.False(System.IO.Directory.Exists(directory));
        using var http = new HttpClient();
        await Assert.ThrowsAsync<HttpRequestException>(() => http.GetAsync(url + "/ping"));
    }
}
