using System.Text.Json;
using System.Text.Json.Nodes;

namespace Optimizer.EndToEnd.Tests.Support;

/// <summary>The JSON console lines of a service process (the default log format), in the order they were written.</summary>
internal static class JsonLogLines
{
    /// <summary>Every output line that is a JSON log entry; anything else a process printed (native libraries) is skipped.</summary>
    public static List<JsonObject> Parse(string output)
    {
        var lines = new List<JsonObject>();
        foreach (var line in output.Split('\n'))
        {
            var trimmed = line.Trim();
            if (!trimmed.StartsWith('{'))
            {
                continue;
            }
            try
            {
                if (JsonNode.Parse(trimmed) is JsonObject entry && entry.ContainsKey("Category"))
                {
                    lines.Add(entry);
                }
            }
            catch (JsonException)
            {
                // Not a log entry.
            }
        }
        return lines;
    }

    /// <summary>The value of <paramref name="key"/> in the entry's own state (the message's placeholders).</summary>
    public static string? State(JsonObject entry, string key) =>
        entry["State"] is JsonObject state && state[key] is JsonValue value ? value.ToString() : null;

    /// <summary>The value of <paramref name="key"/> in any scope the entry was written inside.</summary>
    public static string? Scope(JsonObject entry, string key) =>
        entry["Scopes"] is JsonArray scopes
            ? scopes.OfType<JsonObject>().Select(s => s[key] is JsonValue v ? v.ToString() : null).FirstOrDefault(v => v is not null)
            : null;
}
