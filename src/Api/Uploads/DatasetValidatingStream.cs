using System.Text;
using System.Text.Json;
using Optimizer.Domain.Datasets;
using Optimizer.Domain.Storage;

namespace Optimizer.Api.Uploads;

/// <summary>
/// Passes a dataset file through while checking it: UTF-8 throughout, and for <c>.jsonl</c> every non-empty
/// line one JSON object of the same form. Counts records (non-empty lines). Problems throw
/// <see cref="InvalidDataException"/> naming the line, also kept in <see cref="Failure"/>.
/// </summary>
public sealed class DatasetValidatingStream(Stream inner, bool jsonl) : ForwardReadStream
{
    /// <summary>A jsonl line is parsed whole, so its length is bounded.</summary>
    public const int MaxLineBytes = 16 * 1024 * 1024;

    private readonly Decoder _utf8 = new UTF8Encoding(false, throwOnInvalidBytes: true).GetDecoder();
    private readonly char[] _chars = new char[16384];
    private readonly MemoryStream _line = new();
    private bool _lineHasContent;
    private bool _finished;

    public long Records { get; private set; }
    public long Line { get; private set; } = 1;
    public DatasetFormat? Format { get; private set; } = jsonl ? null : DatasetFormat.Text;
    public InvalidDataException? Failure { get; private set; }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var read = await inner.ReadAsync(buffer, cancellationToken);
        try
        {
            if (read > 0)
            {
                Inspect(buffer.Span[..read]);
            }
            else if (buffer.Length > 0)
            {
                Finish();
            }
        }
        catch (InvalidDataException ex)
        {
            Failure ??= ex;
            throw;
        }
        return read;
    }

    private void Inspect(ReadOnlySpan<byte> data)
    {
        CheckUtf8(data, flush: false);
        while (!data.IsEmpty)
        {
            var newline = data.IndexOf((byte)'\n');
            var part = newline < 0 ? data : data[..newline];
            _lineHasContent |= part.IndexOfAnyExcept((byte)' ', (byte)'\r', (byte)'\t') >= 0;
            if (jsonl)
            {
                if (_line.Length + part.Length > MaxLineBytes)
                {
                    throw new InvalidDataException($"line {Line} is longer than {MaxLineBytes} bytes");
                }
                _line.Write(part);
            }
            if (newline < 0)
            {
                return;
            }
            EndLine();
            data = data[(newline + 1)..];
        }
    }

    private void EndLine()
    {
        if (_lineHasContent)
        {
            Records++;
            if (jsonl)
            {
                CheckJsonLine(_line.GetBuffer().AsSpan(0, (int)_line.Length));
            }
        }
        _line.SetLength(0);
        _lineHasContent = false;
        Line++;
    }

    private void Finish()
    {
        if (_finished)
        {
            return;
        }
        _finished = true;
        CheckUtf8([], flush: true);
        EndLine();
        if (Records == 0)
        {
            throw new InvalidDataException("the file has no records");
        }
    }

    private void CheckUtf8(ReadOnlySpan<byte> data, bool flush)
    {
        try
        {
            do
            {
                _utf8.Convert(data, _chars, flush, out var used, out _, out _);
                data = data[used..];
            }
            while (!data.IsEmpty);
        }
        catch (DecoderFallbackException)
        {
            throw new InvalidDataException($"line {Line} is not valid UTF-8");
        }
    }

    private void CheckJsonLine(ReadOnlySpan<byte> line)
    {
        DatasetFormat form;
        try
        {
            using var document = JsonDocument.Parse(line.ToArray());
            form = Classify(document.RootElement)
                ?? throw new InvalidDataException(
                    $"line {Line} is not one of {{\"text\"}}, {{\"prompt\",\"completion\"}}, {{\"prompt\",\"choices\",\"answer\"}} or {{\"prompt\",\"rubric\"}}");
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"line {Line} is not valid JSON: {ex.Message}");
        }
        Format ??= form;
        if (Format != form)
        {
            throw new InvalidDataException($"line {Line} has the form {Wire(form)} but earlier lines are {Wire(Format.Value)}");
        }
    }

    private static DatasetFormat? Classify(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            return null;
        }
        static bool IsString(JsonElement o, string name) => o.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String;
        if (IsString(root, "prompt") && root.TryGetProperty("choices", out var choices) && choices.ValueKind == JsonValueKind.Array)
        {
            var count = choices.GetArrayLength();
            return count > 0 && choices.EnumerateArray().All(c => c.ValueKind == JsonValueKind.String)
                && root.TryGetProperty("answer", out var answer) && answer.TryGetInt32(out var index) && index >= 0 && index < count
                ? DatasetFormat.JsonlChoices
                : null;
        }
        if (IsString(root, "prompt") && IsString(root, "completion"))
        {
            return DatasetFormat.JsonlPairs;
        }
        if (IsString(root, "prompt") && root.TryGetProperty("rubric", out var rubric) && rubric.ValueKind == JsonValueKind.Array)
        {
            return DatasetFormat.JsonlPrompts;
        }
        return IsString(root, "text") ? DatasetFormat.JsonlText : null;
    }

    private static string Wire(DatasetFormat format) => JsonNamingPolicy.SnakeCaseLower.ConvertName(format.ToString());

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _line.Dispose();
        }
        base.Dispose(disposing);
    }
}
