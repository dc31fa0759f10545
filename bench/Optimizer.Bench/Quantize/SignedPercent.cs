using System.Globalization;

namespace Optimizer.Bench.Quantize;

/// <summary>A relative change as a signed percentage with two decimals, e.g. <c>+0.05 %</c>.</summary>
internal static class SignedPercent
{
    /// <remarks>
    /// Rounds first: a custom format like <c>+0.00;-0.00</c> prints a tiny negative change as <c>-+0.00</c> on .NET
    /// (the number rounds to negative zero, which takes the positive section and keeps its minus sign). A change that
    /// rounds to zero prints <c>+0.00 %</c> whatever its sign.
    /// </remarks>
    public static string Format(double fraction)
    {
        var percent = Math.Round(fraction * 100, 2, MidpointRounding.AwayFromZero);
        var sign = percent < 0 ? "-" : "+";
        return sign + Math.Abs(percent).ToString("0.00", CultureInfo.InvariantCulture) + " %";
    }
}
