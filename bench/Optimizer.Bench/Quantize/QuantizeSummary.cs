namespace Optimizer.Bench.Quantize;

/// <summary>The orderings issue 4 expects from the table, checked and printed (benchmark summary, not unit tests).</summary>
internal static class QuantizeSummary
{
    /// <returns>True when every expectation holds.</returns>
    public static bool Print(double fp32, IReadOnlyList<(string Method, int Bits, double Perplexity)> rows)
    {
        double? At(string method, int bits) => rows.Where(r => r.Method == method && r.Bits == bits).Select(r => (double?)r.Perplexity).FirstOrDefault();
        var checks = new List<(string Claim, bool? Holds)>
        {
            ("3-bit g128: GPTQ beats RTN", Less(At("gptq", 3), At("rtn", 3))),
            ("3-bit g128: AWQ beats RTN", Less(At("awq", 3), At("rtn", 3))),
            ("3-bit g128: GPTAQ no worse than GPTQ", Less(At("gptq+gptaq", 3), At("gptq", 3), orEqual: true)),
            ("3-bit g128: ResComp no worse than GPTQ", Less(At("gptq+rescomp", 3), At("gptq", 3), orEqual: true)),
            ("3-bit g128: D²Quant no worse than GPTQ (not an issue-4 expectation; reported)", Less(At("d2quant", 3), At("gptq", 3), orEqual: true)),
            ("FP8 within 1 % of fp32", At("fp8-e4m3", 8) is { } fp8 ? Math.Abs(fp8 / fp32 - 1) <= 0.01 : null),
        };
        Console.WriteLine("Expected orderings (issue 4):");
        foreach (var (claim, holds) in checks)
        {
            Console.WriteLine($"- {claim}: {(holds is null ? "no row" : holds.Value ? "holds" : "DOES NOT HOLD")}");
        }
        return checks.Where(c => !c.Claim.EndsWith("reported)", StringComparison.Ordinal)).All(c => c.Holds != false);
    }

    private static bool? Less(double? left, double? right, bool orEqual = false) =>
        left is null || right is null ? null : orEqual ? left <= right : left < right;
}
