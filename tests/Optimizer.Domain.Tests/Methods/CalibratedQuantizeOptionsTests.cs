using System.Text.Json;
using Optimizer.Domain.Methods;
using Optimizer.Domain.Methods.Quantize.Awq;
using Optimizer.Domain.Methods.Quantize.Gptq;

namespace Optimizer.Domain.Tests.Methods;

/// <summary>GPTQ and AWQ params: Part A defaults, allowed values, field errors.</summary>
public sealed class CalibratedQuantizeOptionsTests
{
    private static BindResult Bind(string method, string json) =>
        OptionsBinder.Bind(MethodCatalog.Find("quantize", method)!, JsonDocument.Parse(json).RootElement);

    [Fact]
    public void Bind_FillsGptqDefaults_WhenParamsAreEmpty()
    {
        var options = Assert.IsType<GptqOptions>(Bind("gptq", "{}").Options);
        Assert.Equal(new GptqOptions
        {
            Bits = 4, GroupSize = 128, ActOrder = true, TrueSequential = true, StaticGroups = false, DampPercent = 0.01,
            BlockSize = 128, Correction = "none", CalibrationSamples = 128,
        }, options);
    }

    [Fact]
    public void Bind_ReadsSnakeCaseGptqParams()
    {
        var options = Assert.IsType<GptqOptions>(Bind("gptq",
            """{"bits":3,"act_order":false,"static_groups":true,"damp_percent":0.05,"correction":"rescomp","group_size":-1}""").Options);
        Assert.Equal((3, false, true, 0.05, "rescomp", -1),
            (options.Bits, options.ActOrder, options.StaticGroups, options.DampPercent, options.Correction, options.GroupSize));
    }

    [Fact]
    public void Bind_FillsAwqDefaults_WhenParamsAreEmpty()
    {
        var options = Assert.IsType<AwqOptions>(Bind("awq", "{}").Options);
        Assert.Equal(new AwqOptions { Bits = 4, GroupSize = 128, Grid = 20, ClipSearch = true, CalibrationSamples = 128, SeqLen = 512 }, options);
    }

    [Theory]
    [InlineData("gptq", """{"correction":"gptq2"}""", "params.correction")]
    [InlineData("gptq", """{"bits":9}""", "params.bits")]
    [InlineData("gptq", """{"group_size":100}""", "params.group_size")]
    [InlineData("gptq", """{"damp_percent":0}""", "params.damp_percent")]
    [InlineData("awq", """{"grid":0}""", "params.grid")]
    [InlineData("awq", """{"group_size":3}""", "params.group_size")]
    public void Bind_ReportsTheField_WhenValueIsInvalid(string method, string json, string field)
    {
        var result = Bind(method, json);
        Assert.False(result.IsValid);
        Assert.Contains(result.Errors.Keys, k => k.StartsWith(field, StringComparison.Ordinal));
    }
}
