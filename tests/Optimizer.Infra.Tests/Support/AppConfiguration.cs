using System.Text.RegularExpressions;

namespace Optimizer.Infra.Tests.Support;

/// <summary>
/// The configuration keys an app reads, found in its source (and the Domain's), as environment variable names
/// (<c>Worker:Queues</c> → <c>Worker__Queues</c>): connection strings, options classes bound to a section (with their
/// nested options), and direct <c>configuration["…"]</c> reads. The manifests may set only these (plus the host's own).
/// </summary>
internal static partial class AppConfiguration
{
    /// <summary>Keys the .NET host itself reads (environment name, Kestrel's ports).</summary>
    private static readonly string[] s_hostKeys = ["DOTNET_ENVIRONMENT", "ASPNETCORE_ENVIRONMENT", "ASPNETCORE_HTTP_PORTS", "ASPNETCORE_URLS"];

    public static IReadOnlySet<string> Api { get; } = KeysOf("Api");

    public static IReadOnlySet<string> Worker { get; } = KeysOf("Worker");

    private static HashSet<string> KeysOf(string app)
    {
        var sources = new[] { app, "Domain" }
            .SelectMany(folder => Directory.EnumerateFiles(Repository.PathOf("src", folder), "*.cs", SearchOption.AllDirectories))
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}Migrations{Path.DirectorySeparatorChar}"))
            .ToDictionary(f => f, File.ReadAllText);
        var all = string.Join('\n', sources.Values);
        var keys = new HashSet<string>(s_hostKeys);
        foreach (Match match in ConnectionStringRead().Matches(all))
        {
            keys.Add("ConnectionStrings__" + match.Groups["name"].Value);
        }
        foreach (Match match in DirectRead().Matches(all))
        {
            keys.Add(match.Groups["key"].Value.Replace(":", "__"));
        }
        foreach (Match match in OptionsBinding().Matches(all))
        {
            var section = SectionOf(match.Groups["section"].Value, all);
            AddProperties(keys, section.Replace(":", "__"), match.Groups["type"].Value, all);
        }
        return keys;
    }

    /// <summary>A literal section name, or <c>X.Section</c> resolved to X's <c>const string Section</c>.</summary>
    private static string SectionOf(string argument, string all)
    {
        if (argument.StartsWith('"'))
        {
            return argument.Trim('"');
        }
        var type = argument.Split('.')[0];
        var body = ClassBody(type, all);
        return SectionConstant().Match(body) is { Success: true } constant
            ? constant.Groups["value"].Value
            : throw new InvalidDataException($"{type} has no const string Section");
    }

    private static void AddProperties(HashSet<string> keys, string prefix, string type, string all)
    {
        foreach (Match property in SettableProperty().Matches(ClassBody(type, all)))
        {
            var name = prefix + "__" + property.Groups["name"].Value;
            var propertyType = property.Groups["type"].Value;
            if (propertyType.EndsWith("Options", StringComparison.Ordinal))
            {
                AddProperties(keys, name, propertyType, all);
            }
            else
            {
                keys.Add(name);
            }
        }
    }

    /// <summary>The text between the braces of <c>class {type}</c>.</summary>
    private static string ClassBody(string type, string all)
    {
        var declaration = Regex.Match(all, $@"\bclass\s+{Regex.Escape(type)}\b[^{{]*\{{");
        if (!declaration.Success)
        {
            throw new InvalidDataException($"class {type} not found in the sources");
        }
        var depth = 1;
        var start = declaration.Index + declaration.Length;
        for (var i = start; i < all.Length; i++)
        {
            depth += all[i] switch { '{' => 1, '}' => -1, _ => 0 };
            if (depth == 0)
            {
                return all[start..i];
            }
        }
        throw new InvalidDataException($"class {type} has no closing brace");
    }

    [GeneratedRegex("""(?:GetConnectionString|RequiredConnectionString)\((?:\w+,\s*)?"(?<name>\w+)"\)""")]
    private static partial Regex ConnectionStringRead();

    [GeneratedRegex("""configuration\["(?<key>[\w:]+)"\]""")]
    private static partial Regex DirectRead();

    [GeneratedRegex("""AddOptions<(?<type>\w+)>\(\)\s*\.BindConfiguration\((?<section>"[\w:]+"|\w+\.Section)\)""")]
    private static partial Regex OptionsBinding();

    [GeneratedRegex("""const\s+string\s+Section\s*=\s*"(?<value>[\w:]+)"\s*;""")]
    private static partial Regex SectionConstant();

    [GeneratedRegex("""public\s+(?<type>[\w<>\[\],?.]+)\s+(?<name>\w+)\s*\{\s*get;\s*set;""")]
    private static partial Regex SettableProperty();
}
