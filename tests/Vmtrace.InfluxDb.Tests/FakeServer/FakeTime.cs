using Microsoft.Extensions.Time.Testing;

namespace Vmtrace.InfluxDb.Tests.FakeServer;

internal static class FakeTime
{
    /// <summary>
    /// Moves fake time forward in <paramref name="step"/>s until <paramref name="task"/> completes (each back-off
    /// then ends on the first step at or past its due time); fails if it never does.
    /// </summary>
    public static async Task<T> RunAsync<T>(this FakeTimeProvider time, Task<T> task, TimeSpan step, TimeSpan limit)
    {
        var end = time.GetUtcNow() + limit;
        while (!task.IsCompleted)
        {
            if (time.GetUtcNow() >= end)
                Assert.Fail($"the task did not complete within {limit} of fake time");
            // Let the continuations scheduled by the last step run before moving on.
            for (int i = 0; i < 20 && !task.IsCompleted; i++)
                await Task.Yield();
            await Task.Delay(1);
            if (!task.IsCompleted)
                time.Advance(step);
        }
        return await task;
    }
}
