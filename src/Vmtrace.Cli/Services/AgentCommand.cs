using System.CommandLine;
using Microsoft.Extensions.Configuration;
using Vmtrace.Agent;
using Vmtrace.Agent.Live;

namespace Vmtrace.Cli;

/// <summary><c>vmtrace agent</c>: replays traces, or traces this host (<c>--live</c>), into Kafka as one host's record stream.</summary>
internal static class AgentCommand
{
    public const string Usage = """
          agent <trace…> [--guest NAME=GUEST_TRACE …] [--config appsettings.json] [--Section:Key=value…]
              replay traces (as fast as possible, or --Agent:Speed=1 for recorded speed) into the events
              topic: batches keyed by host, inventory (vmmap.json beside the trace), watermark heartbeats.
              --guest streams a trace recorded inside VM NAME with the host's (Agent:Guests:NAME), as
              analyze --guest reads it: the worker writes its threads' vmtrace_guest_thread points.
              --Agent:Replay:ShiftToNow=true moves the events to the present (--Agent:Replay:Loop=true with a
              Speed repeats them), --Agent:Replay:Shift=-7.00:00:00 by a fixed amount (multiples of
              --Agent:Replay:Align, default 1 s = the worker's default window).
              Settings: Kafka:*, Agent:* (env VMTRACE__AGENT__…).
          agent --live [--config agent.json] [--Section:Key=value…]
              trace this host until SIGTERM/Ctrl-C (root): its own ftrace instance, qemu trace logs, an
              LTTng session (Live:Tracefs, Live:QemuLogs, Live:LttngSessionOutput), VMs from /proc; on stop
              the buffers are drained and sent and the instance removed. Same as Agent:Live=true.
              Settings: Kafka:*, Agent:*, Live:* (env VMTRACE__LIVE__…). See docs/live-agent.md.
        """;

    public static Command Build()
    {
        var traces = new Argument<string[]>("trace") { Arity = ArgumentArity.ZeroOrMore, Description = "the traces to replay (Agent:Inputs)" };
        var live = OptionValues.Flag("--live", "trace this host instead of replaying (Agent:Live=true)");
        var guest = new Option<string[]>("--guest")
        {
            Description = "a trace recorded inside VM NAME, on the host's clock, streamed with the host's (repeatable; Agent:Guests:NAME)",
            HelpName = "NAME=GUEST_TRACE",
        };
        var service = new ServiceArguments();
        var command = service.AddTo(new UsageCommand("agent", Usage + CommandHelp.ServiceSettings) { traces, live, guest });
        command.SetAction((parseResult, _) =>
        {
            var guests = (parseResult.GetValue(guest) ?? []).Select(GuestRequest.Parse).ToList();
            return RunAsync(service.Of(parseResult, parseResult.GetValue(traces) ?? []), parseResult.GetValue(live), guests, parseResult.InvocationConfiguration.Error);
        });
        return command;
    }

    private static async Task<int> RunAsync(string[] args, bool live, IReadOnlyList<GuestRequest> guests, TextWriter stderr)
    {
        var builder = ServiceHost.Builder(args, out var positional);
        if (live)
            builder.Configuration[$"{AgentOptions.Section}:{nameof(AgentOptions.Live)}"] = "true";
        foreach (var g in guests)
            builder.Configuration[$"{AgentOptions.Section}:{nameof(AgentOptions.Guests)}:{g.Name}"] = g.Trace;
        for (int i = 0; i < positional.Count; i++)
            builder.Configuration[$"{AgentOptions.Section}:Inputs:{i}"] = positional[i];
        builder.Services.AddVmtraceAgent(builder.Configuration);
        // The live source is chosen in configuration (appsettings, VMTRACE__AGENT__LIVE, --live); it replaces the replay source.
        live = builder.Configuration.GetValue<bool>($"{AgentOptions.Section}:{nameof(AgentOptions.Live)}");
        if (live)
            builder.Services.AddVmtraceLiveSource(builder.Configuration);
        // A replay's inputs are opened once before the agent starts: an unreadable input or one in raw TSC cycles
        // (which the pipeline would store as ns) is refused in one line, exit code 1, before anything is sent.
        Action<IServiceProvider>? checkInputs = live ? null
            : services => (services.GetService(typeof(IAgentSource)) as ReplaySource)?.CheckInputs();
        return await ServiceHost.RunAsync(builder.Build(), stderr, checkInputs).ConfigureAwait(false);
    }
}
