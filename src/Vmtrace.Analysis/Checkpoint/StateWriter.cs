using System.Collections;
using System.Reflection;
using System.Runtime.CompilerServices;

namespace Vmtrace.Analysis.Checkpoint;

/// <summary>
/// Writes an object graph of analysis state (see <see cref="StateShape"/>): each object once, shared
/// references and cycles kept (a thread is in the thread table, a CPU's current slot and a preempted
/// list at once), each type's field layout once so a reader of another shape refuses it.
/// Collections are written by content, in enumeration order, and rebuilt on restore.
/// </summary>
internal sealed class StateWriter
{
    /// <summary>Reference markers: null, a new object, or (value - 2) = index of an object already written.</summary>
    internal const int NullRef = 0;
    internal const int NewRef = 1;

    private readonly BinaryWriter _out;
    private readonly Dictionary<object, int> _objects = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<Type, int> _types = [];
    private readonly Stack<string> _path = new();

    public StateWriter(BinaryWriter output)
    {
        _out = output;
    }

    public void WriteRoot(object root)
    {
        _path.Push(root.GetType().Name);
        WriteReference(root);
        _path.Pop();
    }

    private void WriteValue(Type declared, object? value)
    {
        if (StateShape.IsInline(declared))
        {
            WriteInline(declared, value);
            return;
        }
        if (declared.IsValueType)
        {
            WriteType(declared);
            WriteFields(declared, value!);
            return;
        }
        WriteReference(value);
    }

    private void WriteInline(Type t, object? value)
    {
        if (Nullable.GetUnderlyingType(t) is { } inner)
        {
            _out.Write(value is not null);
            if (value is not null)
                WriteInline(inner, value);
            return;
        }
        if (t == typeof(string))
        {
            _out.Write(value is not null);
            if (value is not null)
                _out.Write((string)value);
            return;
        }
        if (t.IsEnum)
        {
            _out.Write(Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture));
            return;
        }
        switch (value)
        {
            case bool b: _out.Write(b); break;
            case byte b: _out.Write(b); break;
            case sbyte b: _out.Write(b); break;
            case short s: _out.Write(s); break;
            case ushort s: _out.Write(s); break;
            case char c: _out.Write((ushort)c); break;
            case int i: _out.Write(i); break;
            case uint i: _out.Write(i); break;
            case long l: _out.Write(l); break;
            case ulong l: _out.Write(l); break;
            case float f: _out.Write(f); break;
            case double d: _out.Write(d); break;
            case decimal m: _out.Write(m); break;
            default: throw Unsupported(t);
        }
    }

    private void WriteReference(object? value)
    {
        if (value is null)
        {
            _out.Write7BitEncodedInt(NullRef);
            return;
        }
        if (_objects.TryGetValue(value, out int index))
        {
            _out.Write7BitEncodedInt(index + 2);
            return;
        }
        var type = value.GetType();
        if (type == typeof(string))
        {
            // A string behind an object-typed field: written by value.
            _out.Write7BitEncodedInt(NewRef);
            WriteType(type);
            _out.Write((string)value);
            return;
        }
        _objects.Add(value, _objects.Count);
        _out.Write7BitEncodedInt(NewRef);
        WriteType(type);
        if (type.IsArray)
        {
            var array = (Array)value;
            if (array.Rank != 1)
                throw Unsupported(type);
            var element = type.GetElementType()!;
            _out.Write7BitEncodedInt(array.Length);
            if (element == typeof(byte))
                _out.Write((byte[])value);
            else if (element == typeof(long))
                foreach (long l in (long[])value) _out.Write(l);
            else
                for (int i = 0; i < array.Length; i++) WriteItem(element, array.GetValue(i), i);
            return;
        }
        if (StateShape.IsCollection(type, out var generic))
        {
            var args = type.GetGenericArguments();
            if (generic == typeof(Dictionary<,>))
            {
                var dict = (IDictionary)value;
                _out.Write7BitEncodedInt(dict.Count);
                int i = 0;
                foreach (DictionaryEntry entry in dict)
                {
                    WriteItem(args[0], entry.Key, i);
                    WriteItem(args[1], entry.Value, i++);
                }
            }
            else
            {
                var items = ((IEnumerable)value).Cast<object?>().ToList();
                _out.Write7BitEncodedInt(items.Count);
                for (int i = 0; i < items.Count; i++)
                    WriteItem(args[0], items[i], i);
            }
            return;
        }
        if (!StateShape.HasFields(type) || type.IsValueType || typeof(Delegate).IsAssignableFrom(type))
            throw Unsupported(type);
        WriteFields(type, value);
    }

    private void WriteItem(Type declared, object? value, int index)
    {
        _path.Push("[" + index.ToString(System.Globalization.CultureInfo.InvariantCulture) + "]");
        WriteValue(declared, value);
        _path.Pop();
    }

    private void WriteFields(Type type, object value)
    {
        if (!StateShape.HasFields(type))
            throw Unsupported(type);
        foreach (var f in StateShape.FieldsOf(type))
        {
            _path.Push(f.Name);
            WriteValue(f.FieldType, f.GetValue(value));
            _path.Pop();
        }
    }

    private void WriteType(Type type)
    {
        if (_types.TryGetValue(type, out int id))
        {
            _out.Write7BitEncodedInt(id);
            return;
        }
        id = _types.Count;
        _types.Add(type, id);
        _out.Write7BitEncodedInt(id);
        _out.Write(StateShape.TypeName(type));
        _out.Write(StateShape.HasFields(type) ? StateShape.LayoutOf(type) : "");
    }

    private NotSupportedException Unsupported(Type type) => new(
        $"analysis checkpoint: cannot save a {type.FullName} at {string.Join('.', _path.Reverse())}; " +
        "state must be made of the analysis's own types, primitives, strings, arrays, lists, dictionaries and sets");

    internal static object New(Type type) => RuntimeHelpers.GetUninitializedObject(type);

    internal static FieldInfo[] Fields(Type type) => StateShape.FieldsOf(type);
}
