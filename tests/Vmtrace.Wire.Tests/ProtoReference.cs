using Vmtrace.Decoding;
using WireProto = Vmtrace.Wire.Proto;

namespace Vmtrace.Wire.Tests;

/// <summary>
/// Decodes an <c>EventBatch</c> parsed by the protoc-generated classes, following the rules written in
/// events.proto (not the hand reader's code), into plain event descriptions to compare with the hand reader.
/// </summary>
internal static class ProtoReference
{
    public static List<string> Events(WireProto.EventBatch batch)
    {
        var list = new List<string>();
        int n = (int)batch.EventCount;
        Assert.Equal(n, batch.TimestampDeltas.Count);
        Assert.Equal(n, batch.TypeIndexes.Count);
        Assert.Equal(n, batch.Cpus.Count);
        Assert.Equal(n, batch.TidDeltas.Count);
        var firstColumn = new int[batch.EventTypes.Count];
        int columns = 0;
        for (int i = 0; i < batch.EventTypes.Count; i++)
        {
            firstColumn[i] = columns;
            columns += batch.EventTypes[i].Fields.Count;
        }
        Assert.Equal(columns, batch.Columns.Count);
        var rows = new int[batch.EventTypes.Count];
        var previous = new long[columns];
        var lastTid = new Dictionary<int, long>();
        long ts = 0;
        for (int i = 0; i < n; i++)
        {
            ts += batch.TimestampDeltas[i];
            int typeIndex = (int)batch.TypeIndexes[i];
            int cpu = batch.Cpus[i];
            long tid = lastTid.GetValueOrDefault(cpu) + batch.TidDeltas[i];
            lastTid[cpu] = tid;
            var type = batch.EventTypes[typeIndex];
            int row = rows[typeIndex]++;
            var text = new System.Text.StringBuilder();
            text.Append(ts).Append(" [").Append(cpu).Append("] ").Append(tid).Append(' ')
                .Append(type.System.Length > 0 ? type.System + ":" : "").Append(type.Name).Append(':');
            for (int k = 0; k < type.Fields.Count; k++)
            {
                var f = type.Fields[k];
                var column = batch.Columns[firstColumn[typeIndex] + k];
                long v = column.Values[row];
                text.Append(' ').Append(f.Name).Append('=');
                if (column.AbsentRows.Contains((uint)row))
                {
                    text.Append("(absent)");
                    continue;
                }
                switch (f.Encoding)
                {
                    case WireProto.ColumnEncoding.StringIndex:
                        text.Append('"').Append(batch.Strings[(int)v].ToStringUtf8()).Append('"');
                        continue;
                    case WireProto.ColumnEncoding.MinusTid:
                        v += tid;
                        break;
                    case WireProto.ColumnEncoding.Delta:
                        v += previous[firstColumn[typeIndex] + k];
                        previous[firstColumn[typeIndex] + k] = v;
                        break;
                    default:
                        break;
                }
                text.Append(v);
            }
            list.Add(text.ToString());
        }
        return list;
    }

    /// <summary>The same description of an event as the hand reader hands it out.</summary>
    public static string Describe(in TraceEvent e)
    {
        var text = new System.Text.StringBuilder();
        text.Append(e.Timestamp).Append(" [").Append(e.Cpu).Append("] ").Append(e.Tid).Append(' ')
            .Append(e.Type.System is { } sys ? sys + ":" : "").Append(e.Type.Name).Append(':');
        for (int k = 0; k < e.FieldCount; k++)
        {
            text.Append(' ').Append(e.Type.Fields[k].Name).Append('=');
            if (!e.IsPresent(k))
                text.Append("(absent)");
            else if (e.Type.Fields[k].Kind == FieldKind.String)
                text.Append('"').Append(e.GetString(k)).Append('"');
            else
                text.Append(e.GetInt64(k));
        }
        return text.ToString();
    }
}
