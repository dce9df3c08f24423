using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Vmtrace.Pipeline.Tests;

/// <summary>Every log line of a host (Information and up), to count what an outage makes the services write.</summary>
internal sealed class LogCapture : ILoggerProvider
{
    private readonly ConcurrentQueue<(LogLevel Level, string Category, string Message)> _lines = new();

    public IReadOnlyList<(LogLevel Level, string Category, string Message)> Lines => _lines.ToArray();

    public int Count(string containing) => _lines.Count(l => l.Message.Contains(containing, StringComparison.Ordinal));

    /// <summary>The number of lines so far: <see cref="Since"/> then gives only what came after.</summary>
    public int Mark() => _lines.Count;

    public IReadOnlyList<(LogLevel Level, string Category, string Message)> Since(int mark) => Lines.Skip(mark).ToArray();

    public int CountSince(int mark, string containing) =>
        Since(mark).Count(l => l.Message.Contains(containing, StringComparison.Ordinal));

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(LogCapture owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
                owner._lines.Enqueue((logLevel, category, formatter(state, exception) + (exception is null ? "" : "\n" + exception)));
        }
    }
}
