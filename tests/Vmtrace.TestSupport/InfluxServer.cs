using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Vmtrace.TestSupport;

/// <summary>
/// A real InfluxDB 1.x (<c>influxd</c>, Debian package "influxdb") on 127.0.0.1 for tests: a temporary directory
/// holds its config, meta, data and WAL; the HTTP API and the RPC bind address both get free ports, so several
/// servers (parallel test classes, other helpers' runs) never clash. Usable as an xunit class or collection
/// fixture: the server starts on first use of <see cref="Url"/> (so a class whose tests are all skipped
/// never starts one) and is stopped and deleted on dispose.
/// </summary>
public sealed class InfluxServer : IDisposable
{
    /// <summary>Where the Debian package puts the daemon; $VMTRACE_INFLUXD overrides it.</summary>
    public static string Executable =>
        Environment.GetEnvironmentVariable("VMTRACE_INFLUXD") is { Length: > 0 } path ? path : "/usr/bin/influxd";

    public static bool IsInstalled => File.Exists(Executable);

    private static readonly TimeSpan s_startTimeout = TimeSpan.FromSeconds(60);

    private readonly Lazy<string> _url;
    private readonly StringBuilder _log = new();
    private Process? _process;
    private string? _directory;
    private string? _config;

    public InfluxServer()
    {
        _url = new Lazy<string>(Start, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>The HTTP base address, e.g. <c>http://127.0.0.1:41234</c>; starts the server on first use.</summary>
    public string Url => _url.Value;

    /// <summary>The temporary directory holding config, meta, data and WAL while the server runs; null before and after.</summary>
    public string? Directory => _directory;

    /// <summary>The server's output so far (for failure messages).</summary>
    public string Log
    {
        get
        {
            lock (_log)
                return _log.ToString();
        }
    }

    private string Start()
    {
        if (!IsInstalled)
            throw new InvalidOperationException($"influxd is not installed at {Executable} (apt-get install influxdb, see scripts/install-deps.sh)");
        // A free port can be taken by someone else between probing and binding: try a few times.
        Exception? last = null;
        for (int attempt = 0; attempt < 3; attempt++)
        {
            try
            {
                return StartOnce();
            }
            catch (InfluxServerStartException ex)
            {
                last = ex;
                StopAndDelete();
            }
        }
        throw new InvalidOperationException("influxd did not start after 3 attempts", last);
    }

    private string StartOnce()
    {
        _directory = System.IO.Directory.CreateTempSubdirectory("vmtrace-influxd-").FullName;
        int httpPort = FreePort();
        int rpcPort = FreePort();
        string config = System.IO.Path.Combine(_directory, "influxdb.conf");
        File.WriteAllText(config, Config(_directory, httpPort, rpcPort));
        _config = config;
        return Launch(config, $"http://127.0.0.1:{httpPort}");
    }

    /// <summary>
    /// Kills influxd (SIGKILL: no shutdown of its own, like a crash or an OOM kill) and keeps its directory and
    /// ports, so that <see cref="Restart"/> brings the same databases back on the same address.
    /// </summary>
    public void Kill()
    {
        _ = Url;
        var p = _process ?? throw new InvalidOperationException("influxd is not running");
        p.Kill(entireProcessTree: true);
        p.WaitForExit(10_000);
        p.Dispose();
        _process = null;
    }

    /// <summary>SIGSTOP: influxd keeps its connections and listening socket but answers nothing (a hung server) until <see cref="Resume"/>.</summary>
    public void Pause() => Signal("STOP");

    /// <summary>SIGCONT after <see cref="Pause"/>.</summary>
    public void Resume() => Signal("CONT");

    private void Signal(string signal)
    {
        _ = Url;
        var p = _process ?? throw new InvalidOperationException("influxd is not running");
        using var kill = Process.Start("kill", ["-" + signal, p.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]) ?? throw new InvalidOperationException("cannot run kill");
        kill.WaitForExit();
        if (kill.ExitCode != 0)
            throw new InvalidOperationException($"kill -{signal} {p.Id} exited {kill.ExitCode}");
    }

    /// <summary>Starts influxd again after <see cref="Kill"/>, on the same data directory and ports; returns once it answers /ping.</summary>
    public void Restart()
    {
        if (_process is not null)
            throw new InvalidOperationException("influxd is still running: Kill() it first");
        Launch(_config ?? throw new InvalidOperationException("influxd was never started"), Url);
    }

    private string Launch(string config, string url)
    {
        var psi = new ProcessStartInfo(Executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add("-config");
        psi.ArgumentList.Add(config);
        _process = Process.Start(psi) ?? throw new InfluxServerStartException($"cannot start {Executable}");
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < s_startTimeout)
        {
            if (_process.HasExited)
                throw new InfluxServerStartException($"influxd exited with {_process.ExitCode} before answering /ping: {Log}");
            try
            {
                using var response = http.GetAsync(url + "/ping").GetAwaiter().GetResult();
                if (response.StatusCode == HttpStatusCode.NoContent)
                    return url;
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }
            catch (TaskCanceledException)
            {
                // slow start
            }
            Thread.Sleep(50);
        }
        throw new InfluxServerStartException($"influxd did not answer {url}/ping within {s_startTimeout.TotalSeconds} s: {Log}");
    }

    private static string Config(string dir, int httpPort, int rpcPort) => $"""
        reporting-disabled = true
        bind-address = "127.0.0.1:{rpcPort}"

        [meta]
          dir = "{dir}/meta"
          logging-enabled = false

        [data]
          dir = "{dir}/data"
          wal-dir = "{dir}/wal"
          query-log-enabled = false

        [monitor]
          store-enabled = false

        [http]
          enabled = true
          bind-address = "127.0.0.1:{httpPort}"
          log-enabled = false

        [continuous_queries]
          log-enabled = false

        [logging]
          level = "error"
          suppress-logo = true
        """;

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private void Append(string? line)
    {
        if (line is null)
            return;
        lock (_log)
        {
            if (_log.Length < 64 * 1024)
                _log.AppendLine(line);
        }
    }

    public void Dispose() => StopAndDelete();

    private void StopAndDelete()
    {
        if (_process is { } p)
        {
            try
            {
                if (!p.HasExited)
                {
                    p.Kill(entireProcessTree: true);
                    p.WaitForExit(10_000);
                }
            }
            catch (InvalidOperationException)
            {
                // already gone
            }
            p.Dispose();
            _process = null;
        }
        if (_directory is { } dir)
        {
            try
            {
                System.IO.Directory.Delete(dir, recursive: true);
            }
            catch (IOException)
            {
                // a file still held open: the temp directory is cleaned by the system
            }
            _directory = null;
            _config = null;
        }
    }

    private sealed class InfluxServerStartException(string message) : Exception(message);
}
