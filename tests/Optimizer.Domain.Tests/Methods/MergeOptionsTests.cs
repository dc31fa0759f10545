using System.Text.Json;
using Optimizer.Domain.Methods;
using Optimizer.Domain.Methods.Merge;
using Optimizer.Domain.Methods.Merge.Dare;
using Optimizer.Domain.Methods.Merge.Mwa;
using Optimizer.Domain.Methods.Merge.Rws;
using Optimizer.Domain.Methods.Merge.TaskArithmetic;
using Optimizer.Domain.Methods.Merge.Ties;

namespace Optimizer.Domain.Tests.Methods;

public sealed class MergeOptionsTests
{
    private static BindResult Bind(string method, string json) =>
        OptionsBinder.Bind(MethodCatalog.Find("merge", method)!, JsonDocument.Parse(json).RootElement);

    [Fact]
    public void Catalog_ListsEveryMergeMethod_WithInputRules()
    {
        string[] expected = ["dare_linear", "dare_ties", "linear", "mwa", "rws", "slerp", "task_arithmetic", "ties"];

        var merges = MethodCatalog.All.Where(m => m.Type == "merge").ToList();

        Assert.Equal(expected, merges.Select(m => m.Method).Order());
        Assert.All(merges, m => Assert.IsAssignableFrom<IMergeOptions>(Activator.CreateInstance(m.OptionsType)));
    }

    [Fact]
    public void Bind_UsesMergekitNormalizeDefaults_PerMethod()
    {
        Assert.False(Assert.IsType<TaskArithmeticOptions>(Bind("task_arithmetic", "{}").Options).Normalize);
        var ties = Assert.IsType<TiesOptions>(Bind("ties", "{}").Options);
        Assert.True(ties.Normalize);
        Assert.Equal(0.2, ties.Density);
        Assert.False(Assert.IsType<DareTiesOptions>(Bind("dare_ties", "{}").Options).Normalize);
        Assert.Equal(MergeBase.Required, ties.Inputs.Base);
    }

    [Fact]
    public void Bind_TakesTheDropRateAsOneMinusDensity_AndRefusesBoth()
    {
        var dare = Assert.IsType<DareLinearOptions>(Bind("dare_linear", """{"drop_rate":0.9,"rescale":"expectation"}""").Options);
        Assert.Equal(0.1, dare.KeepProbability, 12);
        Assert.Equal(DareOptions.DefaultDensity, Assert.IsType<DareLinearOptions>(Bind("dare_linear", "{}").Options).KeepProbability);

        var both = Bind("dare_ties", """{"drop_rate":0.9,"density":0.2}""");
        Assert.False(both.IsValid);
        Assert.Contains("params.drop_rate", both.Errors.Keys);
        Assert.Contains("params.rescale", Bind("dare_ties", """{"rescale":"l2"}""").Errors.Keys);
    }

    [Fact]
    public void Bind_RequiresALossPerCheckpoint_ForLossWeightedMwa()
    {
        var missing = Bind("mwa", """{"checkpoints":[{"model_id":"mdl_a","step":10},{"model_id":"mdl_b","step":20,"loss":2.0}]}""");
        Assert.Contains("params.checkpoints", missing.Errors.Keys);

        var byStep = Assert.IsType<MwaOptions>(Bind("mwa",
            """{"metric":"step","penalty":2,"checkpoints":[{"model_id":"mdl_a","step":10},{"model_id":"mdl_b","step":20}]}""").Options);
        Assert.Equal([("params.checkpoints[0].model_id", "mdl_a"), ("params.checkpoints[1].model_id", "mdl_b")], byStep.ReferencedModels());
        Assert.Equal(0, byStep.Inputs.MaxModels);
        Assert.Contains("params.checkpoints", Bind("mwa", """{"checkpoints":[{"model_id":"mdl_a","step":10,"loss":1}]}""").Errors.Keys);
    }

    [Fact]
    public void Bind_TakesAJobIdInsteadOfCheckpoints_ForMwa()
    {
        var byJob = Assert.IsType<MwaOptions>(Bind("mwa", """{"job_id":"job_abc"}""").Options);
        Assert.Equal("job_abc", byJob.JobId);
        Assert.Empty(byJob.ReferencedModels());
        // Resolution fills the checkpoints; their rules still apply then.
        Assert.NotEmpty((byJob with { Checkpoints = [new MwaCheckpoint("mdl_a", 10)] }).CheckpointErrors());

        Assert.Contains("params.job_id", Bind("mwa", """{"job_id":"abc"}""").Errors.Keys);
        Assert.Contains("params.checkpoints", Bind("mwa",
            """{"job_id":"job_abc","checkpoints":[{"model_id":"mdl_a","step":10,"loss":1},{"model_id":"mdl_b","step":20,"loss":2}]}""").Errors.Keys);
    }

    [Fact]
    public void Inputs_DependOnTheRwsMode()
    {
        var extract = Assert.IsType<RwsOptions>(Bind("rws", """{"mode":"extract","layers":[0]}""").Options);
        var apply = Assert.IsType<RwsOptions>(Bind("rws", "{}").Options);

        Assert.Equal((1, 1, MergeBase.Required), (extract.Inputs.MinModels, extract.Inputs.MaxModels, extract.Inputs.Base));
        Assert.True(apply.Inputs.MaxModels > 1);
        Assert.Contains("params.layers", Bind("rws", """{"layers":[]}""").Errors.Keys);
        Assert.Contains("params.layers", Bind("rws", """{"layers":[1,1]}""").Errors.Keys);
    }

    [Fact]
    public void Schema_ShowsTheParams_ButNotTheInputRule()
    {
        var schema = OptionsSchema.For(typeof(TiesOptions));
        var properties = schema["properties"]!.AsObject();

        Assert.True(properties.ContainsKey("density"));
        Assert.True(properties.ContainsKey("lambda"));
        Assert.False(properties.ContainsKey("inputs"));
        Assert.Equal(0.2, properties["density"]!["default"]!.GetValue<double>());
    }
}
