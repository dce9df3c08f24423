using Vmtrace.Agent;

namespace Vmtrace.Cli;

/// <summary><c>vmtrace agent</c>: replays traces into Kafka as one host's record stream.</summary>
internal static class AgentCommand
{
    public const string Usage = """
          agent <trace…> [--config appsettings.json] [--Section:Key=value…]
              replay traces (as fast as possible, or --Agent:Speed=1 for recorded speed) into the events
              topic: batches keyed by host, inventory (vmmap.json beside the trace), watermark heartbeats.
              --Agent:Replay:ShiftToNow=true moves the events to the present (--Agent:Replay:Loop=true with a
              Speed repeats them), --Agent:Replay:Shift=-7.00:00:00 by a fixed amount (multiples of
              --Agent:Replay:Align, default 1 s = the worker's default window).
              Settings: Kafka:*, Agent:* (env VMTRACE__AGENT__…).
        """;

    public static async Task<int> RunAsync(string[] args, TextWriter stderr)
    {
        var builder = ServiceHost.Builder(args, out var positional);
        for (int i = 0; i < positional.Count; i++)
            builder.Configuration[$"{AgentOptions.Section}:Inputs:{i}"] = positional[i];
        builder.Services.AddVmtraceAgent(builder.Configuration);
        return await ServiceHost.RunAsync(builder.Build(), stderr).ConfigureAwait(false);
    }
}
