using System.Text.RegularExpressions;

namespace Optimizer.Domain.Methods.Routing;

/// <summary>
/// Which Hangfire queue each method's jobs go on, as operators configure it (<c>Optimizer:MethodQueues</c>): a comma list of
/// <c>type/method=queue</c> (one method) and <c>type/*=queue</c> (every method of a type). A method no rule names keeps the
/// queue its <see cref="MethodAttribute"/> declares, so without the setting nothing moves.
/// </summary>
/// <remarks>
/// One string rather than a configuration dictionary: keys such as <c>finetune/*</c> are not valid environment variable
/// names, and environment variables are how containers and pods are configured. The one-method rule wins over the
/// type rule, so <c>finetune/*=gpu,finetune/lora=cpu</c> keeps LoRA on the CPU pool.
/// </remarks>
public sealed partial class MethodQueueRoutes
{
    public const string SettingName = "Optimizer:MethodQueues";

    private const string AnyMethod = "*";

    /// <summary>Queues a job may not be routed to: the webhook deliveries' own queue.</summary>
    private static readonly string[] s_reserved = ["webhooks"];

    private readonly Dictionary<string, string> _rules;

    private MethodQueueRoutes(Dictionary<string, string> rules) => _rules = rules;

    /// <summary>No routing: every method on its declared queue.</summary>
    public static MethodQueueRoutes None { get; } = new([]);

    /// <summary>The rules as configured (<c>type/method</c> or <c>type/*</c> → queue).</summary>
    public IReadOnlyDictionary<string, string> Rules => _rules;

    /// <summary>The queues some rule sends jobs to.</summary>
    public IReadOnlySet<string> RoutedQueues => _rules.Values.ToHashSet();

    /// <summary>The queue a job of <paramref name="method"/> goes on: its own rule, else its type's, else its declared queue.</summary>
    public string QueueFor(MethodDescriptor method) =>
        _rules.GetValueOrDefault(method.Key) ?? _rules.GetValueOrDefault($"{method.Type}/{AnyMethod}") ?? method.Queue;

    /// <summary>Parses the setting against the catalog; empty or null is <see cref="None"/>.</summary>
    /// <exception cref="FormatException">A rule is malformed, names no method or type of <paramref name="catalog"/>, names a
    /// pattern twice, or sends jobs to an invalid or reserved queue. The message names the rule and what is wrong.</exception>
    public static MethodQueueRoutes Parse(string? setting, IReadOnlyList<MethodDescriptor> catalog)
    {
        var rules = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var rule in (setting ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var parts = rule.Split('=', StringSplitOptions.TrimEntries);
            var pattern = parts[0].ToLowerInvariant();
            var slash = pattern.IndexOf('/');
            if (parts.Length != 2 || slash <= 0 || slash == pattern.Length - 1 || parts[1].Length == 0)
            {
                throw Invalid(rule, "expected 'type/method=queue' or 'type/*=queue' (e.g. 'finetune/*=gpu')");
            }
            var (type, method, queue) = (pattern[..slash], pattern[(slash + 1)..], parts[1]);
            if (method == AnyMethod ? !catalog.Any(m => m.Type == type) : !catalog.Any(m => m.Key == pattern))
            {
                var known = method == AnyMethod
                    ? string.Join(", ", catalog.Select(m => m.Type).Distinct())
                    : string.Join(", ", catalog.Select(m => m.Key));
                throw Invalid(rule, $"'{pattern}' names no {(method == AnyMethod ? "job type" : "method")}; known: {known}");
            }
            if (!QueueName().IsMatch(queue))
            {
                throw Invalid(rule, $"queue '{queue}' must be lowercase letters, digits, '_' or '-' (a Hangfire queue name)");
            }
            if (s_reserved.Contains(queue))
            {
                throw Invalid(rule, $"queue '{queue}' is reserved for webhook deliveries");
            }
            if (!rules.TryAdd(pattern, queue))
            {
                throw Invalid(rule, $"'{pattern}' is routed more than once");
            }
        }
        return rules.Count == 0 ? None : new MethodQueueRoutes(rules);
    }

    private static FormatException Invalid(string rule, string problem) => new($"{SettingName}: '{rule}': {problem}.");

    [GeneratedRegex("^[a-z0-9_-]+$")]
    private static partial Regex QueueName();
}
