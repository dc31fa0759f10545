using System.Text.Json;
using Optimizer.Domain.Methods;
using Optimizer.Domain.Methods.Prune;
using Optimizer.Domain.Methods.Prune.Magnitude;
using Optimizer.Domain.Methods.Prune.Monarch;
using Optimizer.Domain.Methods.Prune.Wanda;

namespace Optimizer.Domain.Tests.Methods;

public sealed class PruneOptionsTests
{
    private static BindResult Bind(string method, string json) =>
        OptionsBinder.Bind(MethodCatalog.Find("prune", method)!, JsonDocument.Parse(json).RootElement);

    [Theory]
    [InlineData("magnitude")]
    [InlineData("wanda")]
    [InlineData("sparsegpt")]
    public void Bind_FillsSharedDefaults_ForEveryPruneMethod(string method)
    {
        var options = Assert.IsAssignableFrom<PruneOptions>(Bind(method, "{}").Options);
        Assert.Equal(0.5, options.Sparsity);
        Assert.Equal("unstructured", options.Pattern);
        Assert.Equal("uniform", options.Allocation);
        Assert.Equal(0.3, options.Epsilon);
        Assert.Equal("both", options.Layout);
        Assert.Equal(0.5, options.TargetSparsity);
    }

    [Fact]
    public void Bind_ReadsWandaCalibrationFields()
    {
        var options = Assert.IsType<WandaOptions>(Bind("wanda", """{"pattern":"4:8","calibration_samples":16,"seq_len":128}""").Options);
        Assert.Equal(new WandaOptions { Pattern = "4:8", CalibrationSamples = 16, SeqLen = 128 }, options);
        Assert.Equal(0.5, options.TargetSparsity);
    }

    [Theory]
    [InlineData("2:4", 0.5)]
    [InlineData("4:8", 0.5)]
    [InlineData("1:4", 0.75)]
    [InlineData("3:64", 1 - 3.0 / 64)]
    public void TargetSparsity_IsOneMinusNOverM_ForNmPatterns(string pattern, double expected)
    {
        var options = Assert.IsType<MagnitudeOptions>(Bind("magnitude", $$"""{"pattern":"{{pattern}}"}""").Options);
        Assert.Equal(expected, options.TargetSparsity, 12);
    }

    [Theory]
    [InlineData("""{"pattern":"4:2"}""", "params.pattern")]
    [InlineData("""{"pattern":"4:4"}""", "params.pattern")]
    [InlineData("""{"pattern":"0:4"}""", "params.pattern")]
    [InlineData("""{"pattern":"2:128"}""", "params.pattern")]
    [InlineData("""{"pattern":"2-4"}""", "params.pattern")]
    [InlineData("""{"pattern":" 2:4"}""", "params.pattern")]
    [InlineData("""{"pattern":"structured"}""", "params.pattern")]
    [InlineData("""{"sparsity":0.995}""", "params.sparsity")]
    [InlineData("""{"sparsity":-0.1}""", "params.sparsity")]
    [InlineData("""{"allocation":"farms","pattern":"2:4"}""", "params.allocation")]
    [InlineData("""{"epsilon":1.0}""", "params.epsilon")]
    [InlineData("""{"layout":"sparse"}""", "params.layout")]
    [InlineData("""{"layout":"compact"}""", "params.layout")]
    [InlineData("""{"allocation":"owl"}""", "params.allocation")]
    public void Bind_ReportsTheField_WhenPruneParamsAreInvalid(string json, string field)
    {
        foreach (var method in new[] { "magnitude", "wanda", "sparsegpt" })
        {
            var result = Bind(method, json);
            Assert.False(result.IsValid);
            Assert.Contains(field, result.Errors.Keys);
        }
    }

    [Theory]
    [InlineData("magnitude")]
    [InlineData("wanda")]
    public void Bind_AcceptsFarmsWithEpsilon_ForUnstructuredPatterns(string method)
    {
        var result = Bind(method, """{"allocation":"farms","sparsity":0.7,"epsilon":0.2}""");

        Assert.True(result.IsValid, string.Join("; ", result.Errors.SelectMany(e => e.Value)));
        var options = Assert.IsAssignableFrom<PruneOptions>(result.Options);
        Assert.Equal(("farms", 0.7, 0.2), (options.Allocation, options.Sparsity, options.Epsilon));
    }

    [Fact]
    public void Bind_ExplainsThatNmFixesTheSparsity_WhenFarmsIsAskedWithNm()
    {
        var result = Bind("magnitude", """{"allocation":"farms","pattern":"2:4"}""");
        Assert.Contains("N:M", string.Join(" ", result.Errors["params.allocation"]));
    }

    [Fact]
    public void Bind_ReadsMonarchTargetsAndBlocks()
    {
        var options = Assert.IsType<MonarchOptions>(Bind("monarch", """{"nblocks":8,"targets":["self_attn.o_proj","mlp.down_proj"]}""").Options);

        Assert.Equal(8, options.Nblocks);
        Assert.Equal(["self_attn.o_proj", "mlp.down_proj"], options.Targets);
        Assert.Equal(["mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"], new MonarchOptions().Targets);
    }

    [Theory]
    [InlineData("""{"targets":["mlp.fc1"]}""", "params.targets")]
    [InlineData("""{"targets":[]}""", "params.targets")]
    [InlineData("""{"targets":["mlp.up_proj","mlp.up_proj"]}""", "params.targets")]
    [InlineData("""{"nblocks":1}""", "params.nblocks")]
    public void Bind_ReportsTheField_WhenMonarchParamsAreInvalid(string json, string field)
    {
        var result = Bind("monarch", json);

        Assert.False(result.IsValid);
        Assert.Contains(field, result.Errors.Keys);
    }
}
