using System.Net;
using System.Net.Sockets;

namespace Vmtrace.Pipeline.Tests;

/// <summary>
/// A TCP forwarder in front of influxd: <see cref="Stop"/> makes the server unreachable (connections refused,
/// open ones cut) exactly as a stopped influxd would, <see cref="Start"/> brings it back on the same port.
/// </summary>
internal sealed class TcpProxy : IDisposable
{
    private readonly IPEndPoint _target;
    private readonly List<TcpClient> _open = [];
    private TcpListener? _listener;
    private CancellationTokenSource? _cts;

    public TcpProxy(Uri target)
    {
        _target = new IPEndPoint(IPAddress.Loopback, target.Port);
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        Port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        Start();
    }

    public int Port { get; }

    public string Url => $"http://127.0.0.1:{Port}";

    public void Start()
    {
        _cts = new CancellationTokenSource();
        _listener = new TcpListener(IPAddress.Loopback, Port);
        _listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        _listener.Start();
        _ = AcceptAsync(_listener, _cts.Token);
    }

    public void Stop()
    {
        _cts?.Cancel();
        _listener?.Stop();
        lock (_open)
        {
            foreach (var c in _open)
                c.Dispose();
            _open.Clear();
        }
    }

    private async Task AcceptAsync(TcpListener listener, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await listener.AcceptTcpClientAsync(ct);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }
            var upstream = new TcpClient();
            try
            {
                await upstream.ConnectAsync(_target, ct);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException)
            {
                client.Dispose();
                upstream.Dispose();
                continue;
            }
            lock (_open)
            {
                _open.Add(client);
                _open.Add(upstream);
            }
            _ = PumpAsync(client.GetStream(), upstream.GetStream(), client, upstream, ct);
            _ = PumpAsync(upstream.GetStream(), client.GetStream(), client, upstream, ct);
        }
    }

    private static async Task PumpAsync(NetworkStream from, NetworkStream to, TcpClient a, TcpClient b, CancellationToken ct)
    {
        try
        {
            await from.CopyToAsync(to, ct);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException or SocketException)
        {
            // cut
        }
        a.Dispose();
        b.Dispose();
    }

    public void Dispose() => Stop();
}
