using System.Collections;
using System.Globalization;

namespace Vmtrace.Analysis.Checkpoint;

/// <summary>Reads what <see cref="StateWriter"/> wrote into fresh objects; refuses another shape or damaged input with a <see cref="CheckpointFormatException"/>.</summary>
internal sealed class StateReader
{
    private readonly BinaryReader _in;
    private readonly List<object> _objects = [];
    private readonly List<Type> _types = [];

    public StateReader(BinaryReader input)
    {
        _in = input;
    }

    public T ReadRoot<T>()
        where T : class
    {
        var root = ReadReference(typeof(T));
        return root as T ?? throw new CheckpointFormatException($"analysis checkpoint: the root is a {root?.GetType().Name ?? "null"}, not a {typeof(T).Name}");
    }

    private object? ReadValue(Type declared)
    {
        if (StateShape.IsInline(declared))
            return ReadInline(declared);
        if (declared.IsValueType)
        {
            var type = ReadType();
            if (type != declared)
                throw Damaged($"a {type.Name} where a {declared.Name} was expected");
            var boxed = StateWriter.New(type);
            ReadFields(type, boxed);
            return boxed;
        }
        return ReadReference(declared);
    }

    private object? ReadInline(Type t)
    {
        if (Nullable.GetUnderlyingType(t) is { } inner)
            return _in.ReadBoolean() ? ReadInline(inner) : null;
        if (t == typeof(string))
            return _in.ReadBoolean() ? _in.ReadString() : null;
        if (t.IsEnum)
            return Enum.ToObject(t, _in.ReadInt64());
        return Type.GetTypeCode(t) switch
        {
            TypeCode.Boolean => _in.ReadBoolean(),
            TypeCode.Byte => _in.ReadByte(),
            TypeCode.SByte => _in.ReadSByte(),
            TypeCode.Int16 => _in.ReadInt16(),
            TypeCode.UInt16 => _in.ReadUInt16(),
            TypeCode.Char => (char)_in.ReadUInt16(),
            TypeCode.Int32 => _in.ReadInt32(),
            TypeCode.UInt32 => _in.ReadUInt32(),
            TypeCode.Int64 => _in.ReadInt64(),
            TypeCode.UInt64 => _in.ReadUInt64(),
            TypeCode.Single => _in.ReadSingle(),
            TypeCode.Double => _in.ReadDouble(),
            TypeCode.Decimal => _in.ReadDecimal(),
            _ => throw Damaged("an unsupported inline type " + t.Name),
        };
    }

    private object? ReadReference(Type declared)
    {
        int marker = _in.Read7BitEncodedInt();
        if (marker == StateWriter.NullRef)
            return null;
        if (marker >= 2)
        {
            int index = marker - 2;
            if (index >= _objects.Count)
                throw Damaged($"a reference to object {index} of {_objects.Count} read so far");
            return Check(_objects[index], declared);
        }
        if (marker != StateWriter.NewRef)
            throw Damaged($"reference marker {marker}");
        var type = ReadType();
        if (type == typeof(string))
            return Check(_in.ReadString(), declared);
        if (type.IsArray)
        {
            int length = ReadCount();
            var element = type.GetElementType()!;
            var array = Array.CreateInstance(element, length);
            _objects.Add(array);
            if (element == typeof(byte))
                _in.ReadExactly((byte[])array);
            else if (element == typeof(long))
                for (int i = 0; i < length; i++) ((long[])array)[i] = _in.ReadInt64();
            else
                for (int i = 0; i < length; i++) array.SetValue(ReadValue(element), i);
            return Check(array, declared);
        }
        if (StateShape.IsCollection(type, out var generic))
        {
            var args = type.GetGenericArguments();
            object collection = args[0] == typeof(string) && generic != typeof(List<>)
                ? Activator.CreateInstance(type, StringComparer.Ordinal)!
                : Activator.CreateInstance(type)!;
            _objects.Add(collection);
            int count = ReadCount();
            if (generic == typeof(Dictionary<,>))
            {
                var dict = (IDictionary)collection;
                for (int i = 0; i < count; i++)
                {
                    var key = ReadValue(args[0]) ?? throw Damaged("a null dictionary key");
                    dict.Add(key, ReadValue(args[1]));
                }
            }
            else if (generic == typeof(List<>))
            {
                var list = (IList)collection;
                for (int i = 0; i < count; i++)
                    list.Add(ReadValue(args[0]));
            }
            else
            {
                var add = type.GetMethod("Add")!;
                for (int i = 0; i < count; i++)
                    add.Invoke(collection, [ReadValue(args[0])]);
            }
            return Check(collection, declared);
        }
        if (!StateShape.HasFields(type) || type.IsValueType)
            throw Damaged("an object of unsupported type " + type.FullName);
        var obj = StateWriter.New(type);
        _objects.Add(obj);
        ReadFields(type, obj);
        return Check(obj, declared);
    }

    private void ReadFields(Type type, object target)
    {
        foreach (var f in StateShape.FieldsOf(type))
            f.SetValue(target, ReadValue(f.FieldType));
    }

    private Type ReadType()
    {
        int id = _in.Read7BitEncodedInt();
        if (id < _types.Count)
            return _types[id];
        if (id != _types.Count)
            throw Damaged($"type {id} before type {_types.Count}");
        string name = _in.ReadString();
        string layout = _in.ReadString();
        var type = Type.GetType(name, throwOnError: false)
            ?? throw new CheckpointFormatException($"analysis checkpoint: type {name} does not exist in this build; the checkpoint is of another version");
        if (!StateShape.IsInline(type) && !type.IsArray && !StateShape.IsCollection(type, out _) && !StateShape.HasFields(type))
            throw Damaged("an unsupported type " + type.FullName);
        string current = StateShape.HasFields(type) ? StateShape.LayoutOf(type) : "";
        if (!string.Equals(layout, current, StringComparison.Ordinal))
        {
            var saved = layout.Split(';').ToHashSet(StringComparer.Ordinal);
            var now = current.Split(';').ToHashSet(StringComparer.Ordinal);
            string gone = string.Join(", ", saved.Except(now));
            string added = string.Join(", ", now.Except(saved));
            throw new CheckpointFormatException(
                $"analysis checkpoint: {type.Name} has another shape in this build (saved only: [{gone}]; this build only: [{added}]); the checkpoint is of another version");
        }
        _types.Add(type);
        return type;
    }

    private int ReadCount()
    {
        int n = _in.Read7BitEncodedInt();
        if (n < 0 || n > _in.BaseStream.Length)
            throw Damaged("a count of " + n.ToString(CultureInfo.InvariantCulture));
        return n;
    }

    private object Check(object value, Type declared) =>
        declared.IsInstanceOfType(value) ? value : throw Damaged($"a {value.GetType().Name} where a {declared.Name} was expected");

    private CheckpointFormatException Damaged(string what) =>
        new($"analysis checkpoint damaged at byte {_in.BaseStream.Position}: {what}");
}
