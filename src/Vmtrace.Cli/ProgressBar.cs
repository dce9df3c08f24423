using System.Diagnostics;
using Vmtrace.Decoding;

namespace Vmtrace.Cli;

/// <summary>
/// A progress bar on stderr for long traces: redrawn at most 10 times a second, only when stderr is a
/// terminal (or when forced), and erased at the end.
/// </summary>
internal sealed class ProgressBar : IDisposable
{
    private readonly TextWriter _err;
    private readonly bool _enabled;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private long _lastDrawMs = -1000;
    private bool _drawn;

    public ProgressBar(TextWriter err, bool enabled)
    {
        _err = err;
        _enabled = enabled;
    }

    /// <summary>True when <paramref name="err"/> is the process's stderr and that is a terminal (not a pipe, file or test writer).</summary>
    public static bool IsTerminal(TextWriter err) => ReferenceEquals(err, Console.Error) && !Console.IsErrorRedirected;

    /// <summary>Cheap to call per event: allocates nothing and checks the clock only every 64k calls.</summary>
    public void Tick(long events, EventSource source)
    {
        if (!_enabled || (events & 0xFFFF) != 0)
            return;
        long now = _clock.ElapsedMilliseconds;
        if (now - _lastDrawMs < 100)
            return;
        _lastDrawMs = now;
        double f = Math.Clamp(source.Progress, 0, 1);
        int filled = (int)(f * 30);
        _err.Write($"\r[{new string('#', filled)}{new string('.', 30 - filled)}] {f,6:P1} {events:N0} events");
        _drawn = true;
    }

    public void Dispose()
    {
        if (_drawn)
            _err.Write("\r" + new string(' ', 70) + "\r");
    }
}
