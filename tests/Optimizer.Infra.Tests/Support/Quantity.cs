using System.Globalization;

namespace Optimizer.Infra.Tests.Support;

/// <summary>Kubernetes resource quantities ("8Gi", "500m", "2") as numbers.</summary>
internal static class Quantity
{
    private static readonly (string Suffix, double Factor)[] s_suffixes =
    [
        ("Ki", 1L << 10), ("Mi", 1L << 20), ("Gi", 1L << 30), ("Ti", 1L << 40),
        ("k", 1e3), ("M", 1e6), ("G", 1e9), ("T", 1e12), ("m", 1e-3),
    ];

    public static double Parse(string text)
    {
        foreach (var (suffix, factor) in s_suffixes)
        {
            if (text.EndsWith(suffix, StringComparison.Ordinal))
            {
                return double.Parse(text[..^suffix.Length], CultureInfo.InvariantCulture) * factor;
            }
        }
        return double.Parse(text, CultureInfo.InvariantCulture);
    }
}
