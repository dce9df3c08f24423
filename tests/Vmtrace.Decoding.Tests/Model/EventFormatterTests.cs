using System.Text;

namespace Vmtrace.Decoding.Tests.Model;

public class EventFormatterTests
{
    [Theory]
    [InlineData("tcg_marker vm_start\n", "\"tcg_marker vm_start\\n\"")]
    [InlineData("a\r\tb", "\"a\\r\\tb\"")]
    [InlineData("bell\u0007del\u007f", "\"bell\\x07del\\x7f\"")]
    [InlineData("say \"hi\" c:\\x", "\"say \\\"hi\\\" c:\\\\x\"")]
    [InlineData("plain text", "\"plain text\"")]
    public void Format_StringField_EscapesSoTheEventStaysOnOneLine(string text, string expectedValue)
    {
        var type = new EventType("print", [new FieldDescriptor("buf", FieldKind.String)]);
        var record = new EventRecordBuffer();
        record.Reset(type);
        record.SetString(0, Encoding.UTF8.GetBytes(text));

        string line = EventFormatter.Format(record.View(1_000_000_001, 0, 7, type));

        Assert.Equal("1.000000001 [0] 7 print: buf=" + expectedValue, line);
        Assert.DoesNotContain('\n', line);
    }
}
