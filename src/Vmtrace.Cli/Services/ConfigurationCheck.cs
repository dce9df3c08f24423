using System.ComponentModel;
using System.Globalization;
using System.Reflection;
using Microsoft.Extensions.Configuration;
using Vmtrace.Agent;
using Vmtrace.Agent.Live;
using Vmtrace.InfluxDb;
using Vmtrace.Kafka;
using Vmtrace.Observability;
using Vmtrace.Worker;

namespace Vmtrace.Cli;

/// <summary>
/// Checks the service settings before the host is built: under the sections <c>Agent</c>, <c>Live</c>, <c>Worker</c>,
/// <c>Kafka</c>, <c>Influx</c> and <c>Observability</c> every key must be a setting of its options class and every value must convert to the
/// setting's type. Each problem is one line naming the setting, the value and what is allowed. (Whether a value makes
/// sense, e.g. a positive interval, is checked by each options class at start.)
/// </summary>
internal static class ConfigurationCheck
{
    /// <summary>The configuration sections of the services and the options class each binds to.</summary>
    public static readonly IReadOnlyList<(string Section, Type Type)> Sections =
    [
        (AgentOptions.Section, typeof(AgentOptions)),
        (LiveOptions.Section, typeof(LiveOptions)),
        (WorkerOptions.Section, typeof(WorkerOptions)),
        (KafkaOptions.Section, typeof(KafkaOptions)),
        ("Influx", typeof(InfluxOptions)),
        (ObservabilityOptions.Section, typeof(ObservabilityOptions)),
    ];

    public static List<string> Problems(IConfiguration configuration)
    {
        var problems = new List<string>();
        foreach (var (section, type) in Sections)
            CheckSection(configuration.GetSection(section), section, type, problems);
        return problems;
    }

    /// <summary>The public read-write properties the configuration binder sets.</summary>
    public static IEnumerable<PropertyInfo> Settings(Type type) =>
        type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanRead && p.CanWrite && p.SetMethod!.IsPublic);

    /// <summary>True for a setting holding one value (not a section of its own).</summary>
    public static bool IsScalar(Type type)
    {
        var t = Nullable.GetUnderlyingType(type) ?? type;
        return t.IsPrimitive || t.IsEnum || t == typeof(string) || t == typeof(TimeSpan) || t == typeof(Uri) || t == typeof(decimal);
    }

    /// <summary>What a value of <paramref name="type"/> must look like.</summary>
    public static string Allowed(Type type)
    {
        var t = Nullable.GetUnderlyingType(type) ?? type;
        if (t == typeof(TimeSpan))
            return "a duration [d.]hh:mm:ss[.fff], e.g. 00:00:05 for 5 s or 7.00:00:00 for 7 days";
        if (t == typeof(bool))
            return "true or false";
        if (t == typeof(int) || t == typeof(long))
            return "a whole number";
        if (t == typeof(double) || t == typeof(decimal))
            return "a number, e.g. 1 or 0.5";
        if (t == typeof(Uri))
            return "a URL, e.g. http://127.0.0.1:8086";
        if (t.IsEnum)
            return "one of " + string.Join(", ", Enum.GetNames(t));
        return "text";
    }

    private static void CheckSection(IConfigurationSection section, string path, Type type, List<string> problems)
    {
        var settings = Settings(type).ToDictionary(p => p.Name, StringComparer.OrdinalIgnoreCase);
        foreach (var child in section.GetChildren())
        {
            if (!settings.TryGetValue(child.Key, out var property))
            {
                problems.Add($"unknown setting {path}:{child.Key} (the settings of {path}: {string.Join(", ", settings.Keys)}; see docs/configuration.md)");
                continue;
            }
            CheckValue(child, path + ":" + property.Name, property.PropertyType, problems);
        }
    }

    private static void CheckValue(IConfigurationSection section, string path, Type type, List<string> problems)
    {
        bool hasChildren = section.GetChildren().Any();
        if (IsScalar(type))
        {
            if (hasChildren)
                problems.Add($"{path} takes one value ({Allowed(type)}), not a section");
            else if (!string.IsNullOrEmpty(section.Value) && !Converts(section.Value, type))
                problems.Add($"{path} = '{section.Value}' is not valid: expected {Allowed(type)}");
            return;
        }
        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(Dictionary<,>))
            return; // free keys (Kafka:Properties: librdkafka's own settings)
        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(List<>))
        {
            var item = type.GetGenericArguments()[0];
            foreach (var child in section.GetChildren())
            {
                if (!int.TryParse(child.Key, NumberStyles.None, CultureInfo.InvariantCulture, out _))
                    problems.Add($"{path}:{child.Key}: {path} is a list, its entries are {path}:0, {path}:1, …");
                else
                    CheckValue(child, $"{path}:{child.Key}", item, problems);
            }
            if (!hasChildren && !string.IsNullOrEmpty(section.Value))
                problems.Add($"{path} = '{section.Value}' is not valid: it is a list, give its entries as {path}:0, {path}:1, …");
            return;
        }
        if (!hasChildren && !string.IsNullOrEmpty(section.Value))
            problems.Add($"{path} = '{section.Value}' is not valid: it is a section, give its settings as {path}:Name");
        else
            CheckSection(section, path, type, problems);
    }

    private static bool Converts(string value, Type type)
    {
        var t = Nullable.GetUnderlyingType(type) ?? type;
        try
        {
            return TypeDescriptor.GetConverter(t).ConvertFromInvariantString(value) is not null;
        }
        catch (Exception ex) when (ex is FormatException or NotSupportedException or ArgumentException or OverflowException || ex.InnerException is FormatException or OverflowException)
        {
            return false;
        }
    }
}
