namespace Vmtrace.Analysis;

/// <summary>
/// Preempted time of a VM's vCPUs spent while <see cref="Culprit"/> ran on the pCPU they were preempted
/// from: another VM's name (or the VM's own name), <c>host:&lt;comm&gt;</c> for a host process,
/// <c>idle</c> when the pCPU sat idle (a sign of lost events), <c>other</c> for the sum beyond the top N.
/// </summary>
public sealed record Interference(string Culprit, long PreemptedNs);
