using System.Text.Json;
using Optimizer.Api.Contracts.Jobs;
using Optimizer.Api.Jobs;

namespace Optimizer.Api.Tests;

/// <summary>Each merge method's input rule (<c>models</c> count, base required or forbidden) is checked before queueing.</summary>
public sealed class MergeRequestValidationTests
{
    private static Dictionary<string, string[]> Errors(string method, int models, string? baseModel, string? parameters = null)
    {
        var request = new CreateJobRequest
        {
            Type = "merge",
            Method = method,
            Models = models == 0 ? null : [.. Enumerable.Range(0, models).Select(i => new MergeInput($"mdl_{i}", 1.0))],
            BaseModelId = baseModel,
            Params = parameters is null ? null : JsonDocument.Parse(parameters).RootElement,
        };
        return JobRequestValidator.Validate(request).Errors;
    }

    [Theory]
    [InlineData("linear", 2, null)]
    [InlineData("slerp", 2, null)]
    [InlineData("task_arithmetic", 1, "mdl_base")]
    [InlineData("ties", 3, "mdl_base")]
    [InlineData("dare_ties", 2, "mdl_base")]
    [InlineData("rws", 2, "mdl_clean")]
    public void Validate_AcceptsTheInputsTheMethodTakes(string method, int models, string? baseModel)
    {
        Assert.Empty(Errors(method, models, baseModel));
    }

    [Theory]
    [InlineData("linear", 1, null, "models")]
    [InlineData("linear", 2, "mdl_base", "base_model_id")]
    [InlineData("slerp", 3, null, "models")]
    [InlineData("ties", 2, null, "base_model_id")]
    [InlineData("dare_linear", 0, "mdl_base", "models")]
    [InlineData("mwa", 2, null, "models")]
    public void Validate_RefusesInputsTheMethodDoesNotTake(string method, int models, string? baseModel, string field)
    {
        var parameters = method == "mwa" ? """{"checkpoints":[{"model_id":"a","step":1,"loss":2},{"model_id":"b","step":2,"loss":1}]}""" : null;

        Assert.Contains(field, Errors(method, models, baseModel, parameters).Keys);
    }

    [Fact]
    public void Validate_TakesRwsExtractWithExactlyOneRobustModel()
    {
        Assert.Empty(Errors("rws", 1, "mdl_clean", """{"mode":"extract"}"""));
        Assert.Contains("models", Errors("rws", 2, "mdl_clean", """{"mode":"extract"}""").Keys);
    }

    [Fact]
    public void Validate_TakesMwaCheckpointsFromParams()
    {
        var errors = Errors("mwa", 0, null, """{"checkpoints":[{"model_id":"a","step":1,"loss":2},{"model_id":"b","step":2,"loss":1}]}""");

        Assert.Empty(errors);
    }

    [Fact]
    public void Validate_RefusesOverrideWeights_ThatDoNotMatchTheModels()
    {
        Assert.Empty(Errors("ties", 2, "mdl_base", """{"overrides":[{"filter":"mlp","weights":[1,0.5],"density":0.4}]}"""));
        Assert.Contains("params.overrides", Errors("ties", 2, "mdl_base", """{"overrides":[{"filter":"mlp","weights":[1]}]}""").Keys);
        Assert.Contains("params.overrides", Errors("linear", 2, null, """{"overrides":[{"filter":"","weights":[1,1]}]}""").Keys);
    }
}
