using System.Reflection;

namespace Vmtrace.Analysis.Checkpoint;

/// <summary>
/// What the checkpoint knows how to save: the instance fields of the analysis's own classes and structs,
/// strings, primitives, enums, nullables, arrays, <see cref="List{T}"/>, <see cref="Dictionary{TKey,TValue}"/>,
/// <see cref="HashSet{T}"/> and value tuples. Anything else reachable from the state (a delegate, a
/// stream, a clock) is refused when saving, naming the field, so it cannot be silently left out.
/// </summary>
internal static class StateShape
{
    private const BindingFlags InstanceFields = BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly;

    internal static readonly Assembly AnalysisAssembly = typeof(HostAnalysis).Assembly;

    public static bool IsInline(Type t) =>
        t.IsPrimitive || t.IsEnum || t == typeof(string) || t == typeof(decimal) || Nullable.GetUnderlyingType(t) is not null;

    public static bool IsOwnType(Type t) => t.Assembly == AnalysisAssembly && !t.IsGenericTypeDefinition;

    public static bool IsValueTuple(Type t) =>
        t.IsValueType && t.IsGenericType && t.FullName is { } n && n.StartsWith("System.ValueTuple`", StringComparison.Ordinal);

    public static bool IsCollection(Type t, out Type generic)
    {
        generic = t.IsGenericType ? t.GetGenericTypeDefinition() : typeof(void);
        return generic == typeof(List<>) || generic == typeof(Dictionary<,>) || generic == typeof(HashSet<>);
    }

    /// <summary>True for the types whose fields are saved one by one.</summary>
    public static bool HasFields(Type t) => (IsOwnType(t) && !t.IsEnum) || IsValueTuple(t);

    private static readonly Dictionary<Type, FieldInfo[]> s_fields = [];

    /// <summary>Every instance field of the type and its bases, in a stable order (declaring type, then name).</summary>
    public static FieldInfo[] FieldsOf(Type t)
    {
        lock (s_fields)
        {
            if (s_fields.TryGetValue(t, out var cached))
                return cached;
            var list = new List<FieldInfo>();
            for (var c = t; c is not null && c != typeof(object) && c != typeof(ValueType); c = c.BaseType)
                list.AddRange(c.GetFields(InstanceFields).OrderBy(f => f.Name, StringComparer.Ordinal));
            var fields = list.ToArray();
            s_fields[t] = fields;
            return fields;
        }
    }

    /// <summary>One line per field, "name:type", compared at restore time to refuse a checkpoint of another shape.</summary>
    public static string LayoutOf(Type t) =>
        string.Join(';', FieldsOf(t).Select(f => f.DeclaringType!.Name + "." + f.Name + ":" + TypeName(f.FieldType)));

    public static string TypeName(Type t) => t.AssemblyQualifiedName ?? t.FullName ?? t.Name;
}
