using System.Text.Json;
using Optimizer.Domain.Methods;
using Optimizer.Domain.Methods.FineTune;
using Optimizer.Domain.Methods.FineTune.Bone;
using Optimizer.Domain.Methods.FineTune.Lora;

namespace Optimizer.Domain.Tests.Methods;

public sealed class FineTuneOptionsTests
{
    private static BindResult Bind(string method, string json) =>
        OptionsBinder.Bind(MethodCatalog.Find("finetune", method)!, JsonDocument.Parse(json).RootElement);

    [Theory]
    [InlineData("lora")]
    [InlineData("pissa")]
    [InlineData("bone")]
    public void Bind_FillsSharedDefaults_ForEveryFineTuneMethod(string method)
    {
        var options = Assert.IsAssignableFrom<FineTuneOptions>(Bind(method, "{}").Options);
        Assert.Equal(["q_proj", "v_proj"], options.TargetModules);
        Assert.Equal("adamw", options.Optimizer);
        Assert.Equal("both", options.Output);
        Assert.False(options.WeightCompander);
    }

    [Fact]
    public void Bind_ReadsLoraAndSharedFields()
    {
        var options = Assert.IsType<LoraOptions>(Bind("lora",
            """{"rank":16,"alpha":32,"use_rslora":true,"target_modules":["q_proj","down_proj"],"optimizer":"adamp","checkpoint_every":5,"output":"adapter"}""").Options);
        Assert.Equal(16, options.Rank);
        Assert.True(options.UseRslora);
        Assert.Equal(["q_proj", "down_proj"], options.TargetModules);
        Assert.Equal("adamp", options.Optimizer);
        Assert.Equal(5, options.CheckpointEvery);
        Assert.Equal("adapter", options.Output);
    }

    [Theory]
    [InlineData("lora", """{"target_modules":["lm_head"]}""", "target_modules")]
    [InlineData("lora", """{"target_modules":[]}""", "target_modules")]
    [InlineData("lora", """{"optimizer":"sgd"}""", "optimizer")]
    [InlineData("lora", """{"output":"gguf"}""", "output")]
    [InlineData("bone", """{"mode":"mini"}""", "mode")]
    [InlineData("pissa", """{"rank":0}""", "rank")]
    public void Bind_RejectsInvalidParams_WithTheFieldNamed(string method, string json, string field)
    {
        var result = Bind(method, json);
        Assert.False(result.IsValid);
        Assert.Contains(result.Errors.Keys, k => k.Contains(field, StringComparison.Ordinal));
    }

    [Fact]
    public void BoneDefaults_AreBalanceWithBlockSize64()
    {
        var options = Assert.IsType<BoneOptions>(Bind("bone", "{}").Options);
        Assert.Equal(BoneOptions.Balance, options.Mode);
        Assert.Equal(64, options.Rank);
    }
}
