using System.Text;
using System.Text.Json;

namespace Vmtrace.InfluxDb;

/// <summary>
/// Dead letters kept on disk: one JSON object per line (<c>{"at":…,"reason":…,"line":…}</c>) appended to
/// <c>influx-rejected.jsonl</c> in <see cref="Directory"/> and flushed to the disk before the write that rejected them
/// completes (so a checkpoint after it never loses them). Bounded: once the file would pass <see cref="MaxBytes"/> it
/// becomes <c>influx-rejected.1.jsonl</c> (replacing the previous one) and a new file starts, so at most twice
/// <see cref="MaxBytes"/> is kept, the newest letters.
/// </summary>
public sealed class FileDeadLetterSink : IDeadLetterSink
{
    public const string FileName = "influx-rejected.jsonl";
    public const string RotatedFileName = "influx-rejected.1.jsonl";

    private readonly SemaphoreSlim _lock = new(1, 1);
    private readonly TimeProvider _time;

    public FileDeadLetterSink(string directory, long maxBytes, TimeProvider? time = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBytes, 1024);
        Directory = System.IO.Path.GetFullPath(directory);
        MaxBytes = maxBytes;
        _time = time ?? TimeProvider.System;
    }

    public string Directory { get; }

    public long MaxBytes { get; }

    public string FilePath => System.IO.Path.Combine(Directory, FileName);

    public async ValueTask WriteAsync(IReadOnlyList<DeadLetter> letters, CancellationToken cancellationToken)
    {
        if (letters.Count == 0)
            return;
        string at = _time.GetUtcNow().ToString("O", System.Globalization.CultureInfo.InvariantCulture);
        var text = new StringBuilder();
        foreach (var letter in letters)
            text.Append(JsonSerializer.Serialize(new Entry(at, letter.Reason, letter.Line), EntryContext.Default.Entry)).Append('\n');
        byte[] bytes = new UTF8Encoding(false).GetBytes(text.ToString());
        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            System.IO.Directory.CreateDirectory(Directory); // on the first letter: a worker with nothing rejected leaves no trace
            var current = new FileInfo(FilePath);
            if (current.Exists && current.Length > 0 && current.Length + bytes.Length > MaxBytes)
                File.Move(FilePath, System.IO.Path.Combine(Directory, RotatedFileName), overwrite: true);
            using var file = new FileStream(FilePath, FileMode.Append, FileAccess.Write, FileShare.Read);
            await file.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
            file.Flush(flushToDisk: true);
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>Every letter kept (rotated file first), oldest first.</summary>
    public IReadOnlyList<DeadLetter> ReadAll()
    {
        var letters = new List<DeadLetter>();
        foreach (string name in new[] { RotatedFileName, FileName })
        {
            string path = System.IO.Path.Combine(Directory, name);
            if (!File.Exists(path))
                continue;
            foreach (string json in File.ReadLines(path))
            {
                if (json.Length == 0)
                    continue;
                var entry = JsonSerializer.Deserialize(json, EntryContext.Default.Entry)!;
                letters.Add(new DeadLetter(entry.Line, entry.Reason));
            }
        }
        return letters;
    }

    internal sealed record Entry(
        [property: System.Text.Json.Serialization.JsonPropertyName("at")] string At,
        [property: System.Text.Json.Serialization.JsonPropertyName("reason")] string Reason,
        [property: System.Text.Json.Serialization.JsonPropertyName("line")] string Line);
}

[System.Text.Json.Serialization.JsonSerializable(typeof(FileDeadLetterSink.Entry))]
internal sealed partial class EntryContext : System.Text.Json.Serialization.JsonSerializerContext;
