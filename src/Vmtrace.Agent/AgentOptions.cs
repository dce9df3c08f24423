namespace Vmtrace.Agent;

/// <summary>Settings of <c>vmtrace agent</c> (section <c>Agent</c>; env <c>VMTRACE__AGENT__…</c>).</summary>
public sealed class AgentOptions
{
    public const string Section = "Agent";

    /// <summary>The host id (Kafka key and InfluxDB <c>host</c> tag). Default: the name of the directory holding the first input, as <c>vmtrace analyze</c> does.</summary>
    public string? HostId { get; set; }

    /// <summary>
    /// Trace this host (sources in section <c>Live</c>, <c>vmtrace agent --live</c>) instead of replaying
    /// <see cref="Inputs"/>. The agent then runs until stopped.
    /// </summary>
    public bool Live { get; set; }

    /// <summary>Trace files or directories to replay (a trace.dat and the qemu logs beside it are merged by time).</summary>
    public List<string> Inputs { get; set; } = [];

    /// <summary>
    /// Guest traces to stream with the host's (<c>Agent:Guests:NAME=PATH</c>, <c>vmtrace agent --guest NAME=PATH</c>): a trace
    /// recorded inside VM NAME on the host's clock, as <c>vmtrace analyze --guest</c> reads it; the worker writes the guest
    /// threads' <c>vmtrace_guest_thread</c> points at the session's end. Replays only.
    /// </summary>
    public Dictionary<string, string> Guests { get; set; } = new(StringComparer.Ordinal);

    /// <summary>vmmap.json to send as the inventory; default: one beside the first input, if any.</summary>
    public string? Inventory { get; set; }

    /// <summary>
    /// Send a replayed trace whose timestamps are raw TSC cycles (x86-tsc without TSC2NSEC) all the same: its
    /// <c>*_ns</c> fields then hold cycles, and the worker must accept them too (<c>Worker:AcceptRawCycles</c>).
    /// Off: such a trace is refused before anything is sent.
    /// </summary>
    public bool SendRawCycles { get; set; }

    /// <summary>Replay speed: 0 = as fast as possible, 1 = recorded speed, 2 = twice as fast, …</summary>
    public double Speed { get; set; }

    /// <summary>Where the replay lands in time: recorded times (default), shifted to now, shifted by a fixed amount, looped.</summary>
    public ReplayTimingOptions Replay { get; set; } = new();

    /// <summary>Events per record at most.</summary>
    public int BatchMaxEvents { get; set; } = 32_768;

    /// <summary>Event-time span of a record at most: a worker sees a quiet host's events at least this often.</summary>
    public TimeSpan BatchMaxSpan { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Wall time a record is held at most while its events come in: bounds how late a slow host's events reach the worker.</summary>
    public TimeSpan BatchMaxDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>How often (wall clock) a watermark heartbeat is sent.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How often (wall clock) the inventory is sent again, so a worker starting mid-stream learns it.</summary>
    public TimeSpan InventoryInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often (wall clock) a live agent rescans the host for VMs: a changed inventory is sent at once.</summary>
    public TimeSpan InventoryCheckInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Bounded in-memory buffer: records produced but not yet acknowledged by Kafka, in KiB. When full the source waits (nothing is dropped).</summary>
    public int MaxBufferedKiB { get; set; } = 64 * 1024;

    /// <summary>
    /// The producer's compression, <c>CODEC</c> or <c>CODEC-LEVEL</c> (<see cref="RecordCompression"/>): the agent's CPU
    /// against the bytes into Kafka.
    /// </summary>
    public string Compression { get; set; } = RecordCompression.Default;

    /// <summary>How long a shutdown waits for the buffer to drain.</summary>
    public TimeSpan ShutdownFlushTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Stop the application once the replay is over (the CLI's <c>vmtrace agent</c> does).</summary>
    public bool StopWhenDone { get; set; } = true;

    /// <summary>How often the agent's counters are logged and sent in the stream as an agent health record (the worker writes it to pipeline_health).</summary>
    public TimeSpan HealthInterval { get; set; } = TimeSpan.FromSeconds(10);

    public IEnumerable<string> Problems()
    {
        if (Live)
        {
            if (Inputs.Count > 0)
                yield return "Agent:Inputs must be empty when Agent:Live is set: a live agent traces this host (section Live), it replays nothing";
            if (Speed != 0)
                yield return "Agent:Speed applies to replays only: leave it 0 with Agent:Live";
            if (Guests.Count > 0)
                yield return "Agent:Guests applies to replays only: a live agent streams no guest trace";
        }
        else if (Inputs.Count == 0)
        {
            yield return "Agent:Inputs is empty: give at least one trace file or directory to replay, or trace this host with Agent:Live=true (vmtrace agent --live)";
        }
        foreach (var input in Inputs)
        {
            if (!File.Exists(input) && !Directory.Exists(input))
                yield return $"Agent:Inputs: '{input}' does not exist";
        }
        foreach (var (name, path) in Guests)
        {
            if (string.IsNullOrWhiteSpace(name))
                yield return "Agent:Guests: a guest's NAME is blank";
            else if (!File.Exists(path) && !Directory.Exists(path))
                yield return $"Agent:Guests:{name}: '{path}' does not exist";
        }
        if (Inventory is not null && !File.Exists(Inventory))
            yield return $"Agent:Inventory: '{Inventory}' does not exist";
        if (HostId is not null && string.IsNullOrWhiteSpace(HostId))
            yield return "Agent:HostId is blank";
        if (Speed < 0 || double.IsNaN(Speed) || double.IsInfinity(Speed))
            yield return $"Agent:Speed must be 0 (as fast as possible) or positive, not {Speed}";
        foreach (var problem in Replay.Problems(Speed))
            yield return problem;
        if (BatchMaxEvents < 1)
            yield return "Agent:BatchMaxEvents must be at least 1";
        if (BatchMaxSpan <= TimeSpan.Zero)
            yield return "Agent:BatchMaxSpan must be positive";
        if (BatchMaxDelay <= TimeSpan.Zero)
            yield return "Agent:BatchMaxDelay must be positive";
        if (HeartbeatInterval <= TimeSpan.Zero)
            yield return "Agent:HeartbeatInterval must be positive";
        if (InventoryInterval <= TimeSpan.Zero)
            yield return "Agent:InventoryInterval must be positive";
        if (InventoryCheckInterval <= TimeSpan.Zero)
            yield return "Agent:InventoryCheckInterval must be positive";
        if (MaxBufferedKiB < 1024)
            yield return "Agent:MaxBufferedKiB must be at least 1024 (one record can be 1 MiB)";
        if (!RecordCompression.TryParse(Compression, out _, out string? compressionProblem))
            yield return compressionProblem!;
        if (ShutdownFlushTimeout <= TimeSpan.Zero)
            yield return "Agent:ShutdownFlushTimeout must be positive";
        if (HealthInterval <= TimeSpan.Zero)
            yield return "Agent:HealthInterval must be positive";
    }
}
