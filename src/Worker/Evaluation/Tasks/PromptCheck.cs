using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Optimizer.Worker.Evaluation.Tasks;

/// <summary>
/// A machine check of one per-prompt rubric item (ALGORITHMS.md Part B, point 4), applied to a generated response:
/// <c>contains</c>, <c>not_contains</c>, <c>equals</c> (whole response, trimmed), <c>regex</c> (.NET syntax, matched
/// anywhere) and <c>number_within</c> (the first number in the response is within <c>{value, tolerance}</c> or
/// <c>[min, max]</c>). String checks ignore case unless <c>"case_sensitive": true</c>.
/// </summary>
public sealed record PromptCheck(string Kind, string? Text, double Min, double Max, bool CaseSensitive)
{
    public static readonly IReadOnlyList<string> Kinds = ["contains", "not_contains", "equals", "regex", "number_within"];

    /// <summary>Regexes come from users: a bad pattern must not stall a worker.</summary>
    private static readonly TimeSpan s_regexTimeout = TimeSpan.FromSeconds(1);

    private static readonly Regex s_number = new(@"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?", RegexOptions.CultureInvariant);

    /// <summary>Reads <c>{"contains": "..."}</c> and the like; throws <see cref="FormatException"/> saying what is wrong.</summary>
    public static PromptCheck Parse(JsonElement check)
    {
        if (check.ValueKind != JsonValueKind.Object)
        {
            throw new FormatException("\"check\" must be an object such as {\"contains\": \"...\"}");
        }
        var kinds = check.EnumerateObject().Where(p => Kinds.Contains(p.Name)).ToList();
        if (kinds.Count != 1)
        {
            throw new FormatException($"\"check\" must have exactly one of: {string.Join(", ", Kinds)}");
        }
        var caseSensitive = check.TryGetProperty("case_sensitive", out var cs) && cs.ValueKind == JsonValueKind.True;
        var (kind, value) = (kinds[0].Name, kinds[0].Value);
        if (kind == "number_within")
        {
            var (min, max) = ParseRange(value);
            return new PromptCheck(kind, null, min, max, caseSensitive);
        }
        if (value.ValueKind != JsonValueKind.String)
        {
            throw new FormatException($"\"{kind}\" takes a string");
        }
        var text = value.GetString()!;
        if (kind == "regex")
        {
            try
            {
                _ = new Regex(text, RegexOptions.None, s_regexTimeout);
            }
            catch (ArgumentException ex)
            {
                throw new FormatException($"\"regex\" is not a valid pattern: {ex.Message}");
            }
        }
        return new PromptCheck(kind, text, 0, 0, caseSensitive);
    }

    /// <summary>The answer for <paramref name="response"/> and the evidence it rests on.</summary>
    public (bool Yes, IReadOnlyDictionary<string, object?> Evidence) Evaluate(string response)
    {
        var comparison = CaseSensitive ? StringComparison.Ordinal : StringComparison.OrdinalIgnoreCase;
        switch (Kind)
        {
            case "contains":
                return (response.Contains(Text!, comparison), Evidence(("contains", Text)));
            case "not_contains":
                return (!response.Contains(Text!, comparison), Evidence(("not_contains", Text)));
            case "equals":
                return (string.Equals(response.Trim(), Text!.Trim(), comparison), Evidence(("equals", Text)));
            case "regex":
                var options = CaseSensitive ? RegexOptions.None : RegexOptions.IgnoreCase;
                try
                {
                    var match = Regex.Match(response, Text!, options, s_regexTimeout);
                    return (match.Success, Evidence(("regex", Text), ("match", match.Success ? match.Value : null)));
                }
                catch (RegexMatchTimeoutException)
                {
                    return (false, Evidence(("regex", Text), ("error", "timed out")));
                }
            default:
                var found = s_number.Match(response);
                double? number = found.Success && double.TryParse(found.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var n) ? n : null;
                return (number is { } x && x >= Min && x <= Max, Evidence(("number", number), ("min", Min), ("max", Max)));
        }
    }

    /// <summary>The check as the user wrote it, for the item's evidence.</summary>
    public string Describe() => Kind == "number_within"
        ? $"number_within [{Min.ToString(CultureInfo.InvariantCulture)}, {Max.ToString(CultureInfo.InvariantCulture)}]"
        : $"{Kind} \"{Text}\"";

    private static (double Min, double Max) ParseRange(JsonElement value)
    {
        if (value.ValueKind == JsonValueKind.Array && value.GetArrayLength() == 2
            && value[0].TryGetDouble(out var lo) && value[1].TryGetDouble(out var hi) && lo <= hi)
        {
            return (lo, hi);
        }
        if (value.ValueKind == JsonValueKind.Object && value.TryGetProperty("value", out var v) && v.TryGetDouble(out var center))
        {
            var tolerance = value.TryGetProperty("tolerance", out var t) && t.TryGetDouble(out var tol) ? tol : 0;
            if (tolerance >= 0)
            {
                return (center - tolerance, center + tolerance);
            }
        }
        throw new FormatException("\"number_within\" takes {\"value\": x, \"tolerance\": t} (t ≥ 0) or [min, max]");
    }

    private static IReadOnlyDictionary<string, object?> Evidence(params (string Key, object? Value)[] pairs) =>
        pairs.ToDictionary(p => p.Key, p => p.Value);
}
