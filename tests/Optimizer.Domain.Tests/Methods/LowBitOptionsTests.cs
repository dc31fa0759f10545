using System.Text.Json;
using Optimizer.Domain.Methods;
using Optimizer.Domain.Methods.Evaluate.Standard;
using Optimizer.Domain.Methods.Quantize.BitStack;
using Optimizer.Domain.Methods.Quantize.Fp4;
using Optimizer.Domain.Methods.Quantize.Ptqtp;

namespace Optimizer.Domain.Tests.Methods;

public sealed class LowBitOptionsTests
{
    private static BindResult Bind(string method, string json) =>
        OptionsBinder.Bind(MethodCatalog.Find("quantize", method)!, JsonDocument.Parse(json).RootElement);

    [Fact]
    public void Bind_FillsCatalogDefaults_WhenParamsAreEmpty()
    {
        var fp4 = Assert.IsType<Fp4Options>(Bind("fp4", "{}").Options);
        Assert.Equal(new Fp4Options { GroupSize = 32, ScaleConstraint = "none", LorcRank = 0, Rounding = "rtn", Activations = "fp8" }, fp4);
        var ptqtp = Assert.IsType<PtqtpOptions>(Bind("ptqtp", "{}").Options);
        Assert.Equal(128, ptqtp.GroupSize);
        Assert.Equal(50, ptqtp.MaxIters);
        var bitstack = Assert.IsType<BitStackOptions>(Bind("bitstack", "{}").Options);
        Assert.Equal(new BitStackOptions { Blocks = 16, Rank = 16 }, bitstack);
    }

    [Fact]
    public void Bind_ReadsSnakeCaseParams()
    {
        var fp4 = Assert.IsType<Fp4Options>(Bind("fp4", """{"group_size":16,"scale_constraint":"row_pow2","lorc_rank":8,"activations":"none"}""").Options);
        Assert.Equal(new Fp4Options { GroupSize = 16, ScaleConstraint = "row_pow2", LorcRank = 8, Activations = "none" }, fp4);
        var gptq = Assert.IsType<Fp4Options>(Bind("fp4", """{"rounding":"gptq","act_order":false,"damp_percent":0.05,"calibration_samples":16,"seq_len":256}""").Options);
        Assert.Equal(new Fp4Options { Rounding = "gptq", ActOrder = false, DampPercent = 0.05, CalibrationSamples = 16, SeqLen = 256 }, gptq);
        var ptqtp = Assert.IsType<PtqtpOptions>(Bind("ptqtp", """{"group_size":-1,"max_iters":5,"ridge_lambda":0.5}""").Options);
        Assert.Equal(new PtqtpOptions { GroupSize = -1, MaxIters = 5, RidgeLambda = 0.5 }, ptqtp);
    }

    [Theory]
    [InlineData("fp4", """{"scale_constraint":"pow4"}""", "params.scale_constraint")]
    [InlineData("fp4", """{"group_size":24}""", "params.group_size")]
    [InlineData("fp4", """{"lorc_rank":-1}""", "params.lorc_rank")]
    [InlineData("fp4", """{"rounding":"awq"}""", "params.rounding")]
    [InlineData("fp4", """{"rounding":"gptq","calibration_samples":0}""", "params.calibration_samples")]
    [InlineData("ptqtp", """{"max_iters":0}""", "params.max_iters")]
    [InlineData("ptqtp", """{"group_size":100}""", "params.group_size")]
    [InlineData("bitstack", """{"blocks":0}""", "params.blocks")]
    [InlineData("bitstack", """{"rank":2000}""", "params.rank")]
    public void Bind_ReportsTheField_WhenValueIsInvalid(string method, string json, string field)
    {
        var result = Bind(method, json);
        Assert.False(result.IsValid);
        Assert.Contains(result.Errors.Keys, k => k.StartsWith(field, StringComparison.Ordinal));
    }

    [Fact]
    public void Catalog_ListsTheLowBitMethods_WithDefaultsInTheSchema()
    {
        var fp4 = MethodCatalog.Find("quantize", "fp4")!.ParamsSchema["properties"]!;
        Assert.Equal(32, fp4["group_size"]!["default"]!.GetValue<int>());
        Assert.Equal(["none", "pow2", "row_pow2"], fp4["scale_constraint"]!["enum"]!.AsArray().Select(v => v!.GetValue<string>()));
        Assert.NotNull(MethodCatalog.Find("quantize", "ptqtp"));
        Assert.Equal(16, MethodCatalog.Find("quantize", "bitstack")!.ParamsSchema["properties"]!["blocks"]!["default"]!.GetValue<int>());
    }

    [Fact]
    public void EvaluateOptions_AcceptABudget_AndRefuseANonPositiveOne()
    {
        var evaluate = MethodCatalog.Find("evaluate", "standard")!;
        var options = Assert.IsType<EvaluateStandardOptions>(OptionsBinder.Bind(evaluate, JsonDocument.Parse("""{"budget_mb":12.5}""").RootElement).Options);
        Assert.Equal(12.5, options.BudgetMb);
        Assert.False(OptionsBinder.Bind(evaluate, JsonDocument.Parse("""{"budget_mb":0}""").RootElement).IsValid);
    }
}
