using System.Text.RegularExpressions;

namespace Optimizer.Worker.Evaluation.Encoders;

/// <summary>Cuts evaluation text into sentences for the encoder metrics.</summary>
public static partial class SentenceSplitter
{
    public const int MinWords = 4;
    public const int MaxChars = 400;

    /// <summary>
    /// The first <paramref name="count"/> distinct sentences of <paramref name="text"/>: whitespace collapsed, split
    /// after <c>. ! ?</c> (closing quotes kept), keeping those of at least <see cref="MinWords"/> words and at most
    /// <see cref="MaxChars"/> characters (headings and run-ons say little about an encoder).
    /// </summary>
    public static IReadOnlyList<string> Split(string text, int count)
    {
        ArgumentNullException.ThrowIfNull(text);
        var flat = Whitespace().Replace(text, " ").Trim();
        return Boundary().Split(flat)
            .Select(s => s.Trim())
            .Where(s => s.Length <= MaxChars && s.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length >= MinWords)
            .Distinct(StringComparer.Ordinal)
            .Take(count)
            .ToList();
    }

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();

    [GeneratedRegex(@"(?<=[.!?][""'’”)]?)\s+(?=[""'‘“(]?[A-Z0-9])")]
    private static partial Regex Boundary();
}
