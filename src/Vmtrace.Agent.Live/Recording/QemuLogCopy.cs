using System.Globalization;
using System.Text;

namespace Vmtrace.Agent.Live.Recording;

/// <summary>Copies what a running qemu appended to its trace log while the host was recorded.</summary>
public static class QemuLogCopy
{
    /// <summary>
    /// Copies <paramref name="source"/> from <paramref name="startOffset"/> to its current end into
    /// <paramref name="destination"/>, starting at a line start (a line qemu was still writing at the start
    /// offset is left out) and ending after the last complete line. Returns the bytes copied. A log that was
    /// truncated or replaced (shorter than the start offset) is copied whole.
    /// </summary>
    public static long CopyAppended(string source, long startOffset, string destination)
    {
        using var input = new FileStream(source, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        long end = input.Length;
        if (startOffset > end)
            startOffset = 0;
        if (startOffset > 0)
        {
            input.Position = startOffset - 1;
            if (input.ReadByte() != '\n')
            {
                // Mid-line: skip to the next line start.
                int b;
                while ((b = input.ReadByte()) >= 0 && b != '\n')
                {
                }
            }
        }
        long from = input.Position;
        var buffer = new byte[1 << 16];
        long copied = 0, lastNewline = -1;
        using (var output = new FileStream(destination, FileMode.CreateNew, FileAccess.Write))
        {
            while (from + copied < end)
            {
                int n = input.Read(buffer, 0, (int)Math.Min(buffer.Length, end - from - copied));
                if (n <= 0)
                    break;
                int nl = Array.LastIndexOf(buffer, (byte)'\n', n - 1);
                if (nl >= 0)
                    lastNewline = copied + nl;
                output.Write(buffer, 0, n);
                copied += n;
            }
            // A line qemu was writing at the stop is cut off.
            output.SetLength(lastNewline + 1);
        }
        return lastNewline + 1;
    }

    /// <summary>"qemu-NAME.log" with NAME made file-safe; the pid is added when two VMs share a name.</summary>
    public static string FileName(string vmName, int pid, ISet<string> taken)
    {
        var safe = new StringBuilder(vmName.Length);
        foreach (char c in vmName)
            safe.Append(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' ? c : '_');
        string name = $"qemu-{safe}.log";
        if (!taken.Add(name))
        {
            name = $"qemu-{safe}-{pid.ToString(CultureInfo.InvariantCulture)}.log";
            taken.Add(name);
        }
        return name;
    }
}
