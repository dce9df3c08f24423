using System.Net;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using Polly.Timeout;

namespace Vmtrace.InfluxDb;

/// <summary>
/// The Polly pipeline around every HTTP call: retries (jittered exponential back-off, honouring <c>Retry-After</c>)
/// outside a circuit breaker, outside a per-attempt timeout. Only 429, 5xx, timeouts and connection errors are
/// transient; any other 4xx is the caller's mistake and is never retried. An open circuit is not retried
/// either: the write fails at once with <see cref="BrokenCircuitException"/>, which the client reports.
/// </summary>
internal static class InfluxResilience
{
    public static ResiliencePipeline<HttpResponseMessage> Build(InfluxOptions options, TimeProvider time, InfluxWriteCounters counters)
    {
        var transient = new PredicateBuilder<HttpResponseMessage>()
            .Handle<HttpRequestException>()
            .Handle<TimeoutRejectedException>()
            .HandleResult(r => IsTransient(r.StatusCode));

        var builder = new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = time };
        if (options.MaxRetries > 0)
        {
            builder.AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                ShouldHandle = transient,
                MaxRetryAttempts = options.MaxRetries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.RetryBaseDelay,
                MaxDelay = options.MaxRetryDelay,
                DelayGenerator = args => ValueTask.FromResult(RetryAfter(args.Outcome.Result, time, options.MaxRetryAfter)),
                OnRetry = args =>
                {
                    counters.Retried();
                    // The answer being retried is not handed back to anyone: release its connection.
                    args.Outcome.Result?.Dispose();
                    return ValueTask.CompletedTask;
                },
            });
        }
        builder.AddCircuitBreaker(new CircuitBreakerStrategyOptions<HttpResponseMessage>
        {
            ShouldHandle = transient,
            FailureRatio = options.CircuitFailureRatio,
            MinimumThroughput = options.CircuitMinimumThroughput,
            SamplingDuration = options.CircuitSamplingDuration,
            BreakDuration = options.CircuitBreakDuration,
        });
        builder.AddTimeout(options.AttemptTimeout);
        return builder.Build();
    }

    public static bool IsTransient(HttpStatusCode status) =>
        status == HttpStatusCode.TooManyRequests || (int)status >= 500;

    /// <summary>The server's <c>Retry-After</c> (seconds or a date), clamped; null lets the back-off decide.</summary>
    internal static TimeSpan? RetryAfter(HttpResponseMessage? response, TimeProvider time, TimeSpan max)
    {
        var header = response?.Headers.RetryAfter;
        if (header is null)
            return null;
        var wait = header.Delta ?? (header.Date is { } date ? date - time.GetUtcNow() : null);
        if (wait is not { } w)
            return null;
        if (w < TimeSpan.Zero)
            return TimeSpan.Zero;
        return w > max ? max : w;
    }
}
