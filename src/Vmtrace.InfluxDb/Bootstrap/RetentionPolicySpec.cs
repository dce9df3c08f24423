namespace Vmtrace.InfluxDb.Bootstrap;

/// <summary>A retention policy the database should have. <see cref="Duration"/> zero means keep forever.</summary>
public sealed record RetentionPolicySpec(string Name, TimeSpan Duration, bool IsDefault = false);
